/**
 * What is wrong with a loaded kubeconfig, said about the file it came from: a kubeconfig without
 * clusters or without a current context loads silently, and only a request would fail later.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfigView } from '../client/kubeconfig.js';

/** Where `loadFromDefault` reads: `$KUBECONFIG`, else `~/.kube/config` when it exists; undefined when neither. */
export function defaultKubeconfigSource(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['KUBECONFIG']) return env['KUBECONFIG'];
  const home = path.join(os.homedir(), '.kube', 'config');
  return fs.existsSync(home) ? home : undefined;
}

function names(list: { name: string }[]): string {
  return list.map((c) => c.name).join(', ');
}

/**
 * Why `kc` cannot be used, as one line naming `source` (the file, or `$KUBECONFIG`); undefined when
 * its current context names a cluster with a server. `contextFlag`: the command has `--context`.
 */
export function kubeConfigProblem(kc: KubeConfigView, source: string | undefined, contextFlag = false): string | undefined {
  const server = kc.getCurrentCluster()?.server;
  // loadFromDefault falls back to localhost:8080 when it finds nothing.
  if (!source) return server && server !== 'http://localhost:8080' ? undefined : 'no kubeconfig found: pass --kubeconfig FILE or set KUBECONFIG';
  if (server) return undefined;
  const clusters = kc.getClusters();
  const contexts = kc.getContexts();
  if (clusters.length === 0) return `kubeconfig ${source} has no clusters${contexts.length === 0 ? ' and no contexts' : ''}`;
  const current = kc.getCurrentContext();
  if (!current) {
    return contexts.length === 0
      ? `kubeconfig ${source} has no contexts`
      : `kubeconfig ${source} has no current context: set current-context${contextFlag ? ' or pass --context NAME' : ''} (contexts: ${names(contexts)})`;
  }
  const ctx = kc.getContextObject(current);
  if (!ctx) return `kubeconfig ${source}: its current context ${JSON.stringify(current)} is not among its contexts (${names(contexts) || 'none'})`;
  if (!kc.getCluster(ctx.cluster)) return `kubeconfig ${source}: context ${JSON.stringify(current)} names cluster ${JSON.stringify(ctx.cluster)}, which it does not define (clusters: ${names(clusters)})`;
  return `kubeconfig ${source}: cluster ${JSON.stringify(ctx.cluster)} has no server`;
}
