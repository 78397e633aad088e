/**
 * What kcp bootstraps in root for tenancy: root's LogicalCluster metadata, one `Shard` per shard,
 * and the WorkspaceTypes `root`, `universal`, `organization` and `team`. Idempotent: a restart
 * with the same data directory only refreshes what changed (shard URLs).
 */
import { isObject } from '../../json.js';
import { LOGICAL_CLUSTERS } from '../../api/objects.js';
import type { Topology } from '../../shards/topology.js';
import type { JsonObject, KubeObject } from '../../types.js';
import { SHARD_ANNOTATION, TYPE_ANNOTATION } from './names.js';
import { SHARDS, SHARD_DEF, WORKSPACE_TYPES, WORKSPACE_TYPE_DEF } from './schemas.js';

const root = (name: string): JsonObject => ({ name, path: 'root' });

/**
 * kcp's `config/root/workspacetype-*.yaml`. `universal` has no default APIBindings here: this
 * server has no `tenancy.kcp.io` or `topology.kcp.io` APIExports to bind (its tenancy resources
 * are served directly), so its workspaces carry only the `root:universal` initializer.
 */
export const BUILTIN_TYPES: Record<string, JsonObject> = {
  root: { defaultChildWorkspaceType: root('organization'), limitAllowedParents: { none: true }, extend: { with: [root('universal')] } },
  universal: { initializer: true, defaultChildWorkspaceType: root('universal') },
  organization: {
    extend: { with: [root('universal')] },
    defaultChildWorkspaceType: root('universal'),
    limitAllowedChildren: { types: [root('universal')] },
    limitAllowedParents: { types: [root('root')] },
  },
  team: {
    extend: { with: [root('universal')] },
    defaultChildWorkspaceType: root('universal'),
    limitAllowedParents: { types: [root('organization'), root('team')] },
  },
};

/** Creates or refreshes root's tenancy objects. */
export function bootstrapTenancy(topo: Topology): void {
  const shard = topo.root;
  const svc = shard.svc;
  const ctx = topo.systemContext('root');
  const lcDef = svc.registry.builtin(LOGICAL_CLUSTERS);
  let lc = shard.store.get(LOGICAL_CLUSTERS, 'root', '', 'cluster');
  if (lc) {
    const ann = lc.metadata.annotations ?? {};
    if (ann[TYPE_ANNOTATION] !== 'root:root' || ann[SHARD_ANNOTATION] !== shard.name) {
      lc = svc.writeUpdate(ctx, lcDef, lc, { ...lc, metadata: { ...lc.metadata, annotations: { ...ann, [TYPE_ANNOTATION]: 'root:root', [SHARD_ANNOTATION]: shard.name } } });
    }
    const st = isObject(lc['status']) ? lc['status'] : {};
    const url = `${shard.url}/clusters/root`;
    if (st['URL'] !== url || st['phase'] !== 'Ready') svc.writeUpdate(ctx, lcDef, lc, { ...lc, status: { ...st, URL: url, phase: 'Ready' } }, 'status');
  }
  for (const s of topo.shards) {
    const spec = { baseURL: s.url, externalURL: s.url, virtualWorkspaceURL: s.url };
    const cur = shard.store.get(SHARDS, 'root', '', s.name);
    if (!cur) {
      svc.create(ctx, SHARD_DEF, '', { apiVersion: 'core.kcp.io/v1alpha1', kind: 'Shard', metadata: { name: s.name, labels: { name: s.name } }, spec });
    } else if (JSON.stringify(cur['spec']) !== JSON.stringify(spec) || cur.metadata.labels?.['name'] !== s.name) {
      const next: KubeObject = { ...cur, metadata: { ...cur.metadata, labels: { ...(cur.metadata.labels ?? {}), name: s.name } }, spec };
      svc.writeUpdate(ctx, SHARD_DEF, cur, next);
    }
  }
  // A restart with fewer shards: their logical clusters are not served any more, so neither are they.
  for (const obj of shard.store.list(SHARDS, { cluster: 'root', namespace: '' })) {
    if (!topo.shards.some((s) => s.name === obj.metadata.name)) svc.delete(ctx, SHARD_DEF, '', obj.metadata.name ?? '');
  }
  for (const [name, spec] of Object.entries(BUILTIN_TYPES)) {
    if (shard.store.get(WORKSPACE_TYPES, 'root', '', name)) continue;
    svc.create(ctx, WORKSPACE_TYPE_DEF, '', { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'WorkspaceType', metadata: { name }, spec });
  }
}
