/**
 * `installAPIs`: what `kcp-mc run --install` does with a module's `apis`. Schemas are immutable
 * and named by content, so the workspace's own schemas decide the names: an equal one is reused,
 * new content is created under a new name, and the export is applied to point at the newest.
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { ClusterClient, Transport, isAlreadyExists, isNotFound } from '../client/index.js';
import type { Logger } from '../log/index.js';
import type { DefinedAPI } from './define.js';
import { apiManifests } from './manifests.js';
import type { APIExport, APIResourceSchema } from './types.js';

const SCHEMA = { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIResourceSchema' } as const;
const SLICE = { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExportEndpointSlice' } as const;

/** Options of {@link installAPIs}. */
export interface InstallOptions {
  /** Field manager of the export's server-side apply (default `kcp-mc-apis`). */
  fieldManager?: string;
  /** Aborts the install. */
  signal?: AbortSignal;
}

/** The workspace path the kubeconfig's server URL names (`…/clusters/<path>`), as an endpoint slice references its export. */
function workspacePath(server: string): string {
  return decodeURIComponent(/\/clusters\/([^/]+)/.exec(server)?.[1] ?? '');
}

/** Creates the export's endpoint slice unless it is there (kcp makes one for a new export; older kcp does not). */
async function ensureEndpointSlice(client: ClusterClient, path: string, name: string, log: Logger, signal?: AbortSignal): Promise<void> {
  try {
    await client.get(SLICE, { name }, { signal });
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await client.create({ ...SLICE, metadata: { name }, spec: { export: { path, name } } }, { signal });
    log.info('installed', { kind: SLICE.kind, name });
  } catch (e) {
    // kcp's own controller may have been first.
    if (!isAlreadyExists(e)) throw e;
  }
}

/**
 * Installs `apis` in the kubeconfig's workspace: missing APIResourceSchemas created, each APIExport
 * applied (server-side, forced), each export's endpoint slice made sure of. Safe to run again;
 * resolves with the manifests as installed.
 */
export async function installAPIs(kubeconfig: KubeConfigLike, apis: readonly DefinedAPI[], log: Logger, opts: InstallOptions = {}): Promise<(APIResourceSchema | APIExport)[]> {
  const transport = Transport.fromKubeConfig(kubeconfig);
  const client = new ClusterClient(transport, { fieldManager: opts.fieldManager ?? 'kcp-mc-apis' });
  const { signal } = opts;
  try {
    const existing = (await client.listAll<APIResourceSchema>(SCHEMA, { signal })).items;
    const manifests = apiManifests(apis, { existing });
    for (const m of manifests) {
      if (m.kind === 'APIResourceSchema') {
        if (existing.some((s) => s.metadata.name === m.metadata.name)) {
          log.info('schema unchanged', { name: m.metadata.name });
          continue;
        }
        try {
          await client.create(m, { signal });
          log.info('installed', { kind: m.kind, name: m.metadata.name });
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
        }
      } else {
        await client.apply(m, { force: true, signal });
        log.info('installed', { kind: m.kind, name: m.metadata.name, resources: m.spec.resources.map((r) => r.schema) });
        await ensureEndpointSlice(client, workspacePath(transport.server), m.metadata.name, log, signal);
      }
    }
    return manifests;
  } finally {
    transport.close();
  }
}
