/** Test setup on a multi-shard reference server: an APIExport and tenant workspaces placed on given shards, bound to it. */
import type { TestEnvironment, TestWorkspace } from '../../src/testing/index.js';

/**
 * Creates `root:provider` with the APIExport `things` (claiming ConfigMaps), then each tenant
 * `root:<name>` on the shard named with it, bound to the export with its claims accepted.
 */
export async function exportWithTenants(env: TestEnvironment, tenants: ReadonlyArray<readonly [name: string, shard: string]>): Promise<TestWorkspace[]> {
  await env.createWorkspace('root:provider');
  await env.apply('root:provider', {
    apiVersion: 'apis.kcp.io/v1alpha2',
    kind: 'APIExport',
    metadata: { name: 'things' },
    spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }] },
  });
  const out: TestWorkspace[] = [];
  for (const [name, shard] of tenants) {
    await env.apply('root', { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: { location: { selector: { matchLabels: { name: shard } } } } });
    const ws = await env.createWorkspace(`root:${name}`);
    await env.bind(ws.path, { path: 'root:provider', name: 'things' });
    out.push(ws);
  }
  return out;
}
