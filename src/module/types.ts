/**
 * The contract between a controller module and `kcp-mc run`: what the module exports and what the
 * runner hands its functions. The runner imports the module, builds its provider (the module's own
 * `provider`, else an APIExportProvider on `--endpointslice` or `endpointSlice`) and a Manager, calls
 * the default export with that manager, and runs it until SIGINT/SIGTERM.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { DefinedAPI } from '../api/index.js';
import type { Logger } from '../log/index.js';
import type { Manager } from '../manager/index.js';
import type { Provider } from '../provider/index.js';

/** What `kcp-mc run` hands a module's `provider` function. */
export interface ProviderContext {
  /** The run's logger. */
  log: Logger;
  /**
   * The Events' reporting controller: the module's `name` export, else its file's name (a
   * provider is built before setup, so the first controller's name is not known yet).
   */
  eventSource: string;
  /** `--endpointslice`, else the module's `endpointSlice`; undefined when neither is given. */
  endpointSlice?: string;
}

/** A module's default export: registers the module's controllers on the manager `kcp-mc run` built. */
export type ControllerSetup = (manager: Manager) => void | Promise<void>;

/**
 * A module's `provider` export: builds the provider the manager runs, instead of the default
 * APIExportProvider on the endpoint slice (which is then optional).
 */
export type ProviderFactory = (kubeconfig: KubeConfig, ctx: ProviderContext) => Provider | Promise<Provider>;

/** A module's `install` export: what `--install` applies in the kubeconfig's workspace before starting (schemas, exports…); idempotent. */
export type ControllerInstall = (kubeconfig: KubeConfig, log: Logger) => void | Promise<void>;

/**
 * What a controller module exports, as `kcp-mc run` reads it. Check a module against it with
 * `import * as mod from './my-controller.js'; mod satisfies ControllerModule;`, or type each export
 * (`const setup: ControllerSetup = (manager) => …`).
 */
export interface ControllerModule {
  /** Registers the module's controllers on the manager. */
  default: ControllerSetup;
  /** The module's name, for the Events' reporting controller and the default leader-election Lease id (`kcp-mc-<name>`). */
  name?: string;
  /** The endpoint slice to use when no `--endpointslice` is given. */
  endpointSlice?: string;
  /**
   * The module's APIs (each from `defineAPI`): `kcp-mc apigen <module>` prints their manifests and
   * `--install` installs them (before the module's own `install`, if any). With one export and no
   * `endpointSlice`, that export's name is the endpoint slice.
   */
  apis?: readonly DefinedAPI[];
  /** What `--install` applies before starting, after the module's `apis`. */
  install?: ControllerInstall;
  /** Builds the module's provider (default: an APIExportProvider on the endpoint slice, which is then required). */
  provider?: ProviderFactory;
}
