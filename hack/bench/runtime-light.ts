/**
 * What a controller process of the runtime sections needs, without the reference server or
 * client-node: the names the server child sets up, the provider's kubeconfig as `kcp-mc run` reads
 * it (a `PlainKubeConfig`), a quiet logger and memory after a full collection. A replica process
 * (shard-replica.ts) imports this and not runtime-fixture.ts, so that its heap holds what a
 * `kcp-mc run` replica holds.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { PlainKubeConfig } from '../../src/client/kubeconfig.js';
import { Logger } from '../../src/log/index.js';

/** Where the provider's export lives. */
export const PROVIDER_PATH = 'root:rt-provider';
/** The APIExport (and its endpoint slice). */
export const EXPORT = 'rt';
/** The WorkspaceType with the default binding. */
export const TYPE = 'rt-bound';
/** The ConfigMap each workspace gets for the writers (namespace `default`). */
export const LOAD_CM = 'rt-load';

/** What the server child answers to `start`. */
export interface Started {
  url: string;
  token: string;
  ca?: string;
  port: number;
}

// Memory figures are only meaningful after a full collection; expose gc without a command-line flag.
v8.setFlagsFromString('--expose-gc');
const gcFn = vm.runInNewContext('gc') as () => void;

/** JS heap plus ArrayBuffer memory after two full collections, bytes. */
export function memoryAfterGC(): number {
  gcFn();
  gcFn();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * A logger that prints errors only (to stderr), so that a failing run says why;
 * `KCP_BENCH_LOG_LEVEL` (e.g. `info`) shows more when a run is being looked into.
 */
export function quietLogger(): Logger {
  const level = process.env['KCP_BENCH_LOG_LEVEL'];
  return new Logger({ level: level === 'debug' || level === 'info' || level === 'warn' ? level : 'error' });
}

/** The provider workspace's kubeconfig without client-node, as `kcp-mc run` loads a kubeconfig file. */
export function plainKubeConfigOf(info: Started, server = `${info.url}/clusters/${PROVIDER_PATH}`): PlainKubeConfig {
  return PlainKubeConfig.forServer(server, { token: info.token, ca: info.ca, skipTLSVerify: !info.ca });
}
