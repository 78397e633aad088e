/** The contract of a controller module as `kcp-mc run` loads it: its exports and what they are handed. */
export type { ControllerModule, ControllerSetup, ControllerInstall, ProviderFactory, ProviderContext } from './types.js';
