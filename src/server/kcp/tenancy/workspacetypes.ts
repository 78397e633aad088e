/**
 * The WorkspaceType controller: publishes `status.virtualWorkspaces`, one initializing and one
 * terminating URL per shard (from `Shard.spec.virtualWorkspaceURL`), and the conditions
 * `VirtualWorkspaceURLsReady` and `Ready`.
 */
import { isObject } from '../../json.js';
import type { Topology } from '../../shards/topology.js';
import type { JsonObject } from '../../types.js';
import { ReconcileLoop, clusterKey, splitClusterKey, type ReconcileResult } from '../loop.js';
import { conditionsOf, sameConditions, setCondition } from './conditions.js';
import { SHARDS, WORKSPACE_TYPES, WORKSPACE_TYPE_DEF } from './schemas.js';

/** Reconciles WorkspaceType status; keys are `<cluster>|<type name>`. */
export class WorkspaceTypeController {
  readonly loop: ReconcileLoop;

  constructor(private readonly topo: Topology) {
    this.loop = new ReconcileLoop('workspacetypes', (key) => this.reconcile(key));
  }

  /** Queues every WorkspaceType of every shard (the shard set or its URLs changed). */
  enqueueAll(): void {
    for (const s of this.topo.shards) {
      for (const t of s.store.list(WORKSPACE_TYPES, { cluster: '*', namespace: '' })) {
        this.loop.enqueue(clusterKey(t.metadata.annotations?.['kcp.io/cluster'] ?? '', t.metadata.name ?? ''));
      }
    }
  }

  private reconcile(key: string): ReconcileResult {
    const [cluster, name] = splitClusterKey(key);
    const shard = this.topo.shardOf(cluster);
    const wt = shard?.store.get(WORKSPACE_TYPES, cluster, '', name);
    if (!shard || !wt) return;
    const hook = `${cluster}:${name}`;
    const urls: JsonObject[] = [];
    for (const s of this.topo.root.store.list(SHARDS, { cluster: 'root', namespace: '' })) {
      const base = isObject(s['spec']) ? String(s['spec']['virtualWorkspaceURL'] ?? '') : '';
      if (!base) continue;
      const root = base.replace(/\/+$/, '');
      urls.push({ url: `${root}/services/initializingworkspaces/${hook}`, type: 'initializing' });
      urls.push({ url: `${root}/services/terminatingworkspaces/${hook}`, type: 'terminating' });
    }
    urls.sort((a, b) => String(a['url']).localeCompare(String(b['url'])));
    const status = isObject(wt['status']) ? wt['status'] : {};
    let conditions = setCondition(conditionsOf(status), { type: 'VirtualWorkspaceURLsReady', status: 'True' });
    conditions = setCondition(conditions, { type: 'Ready', status: 'True' });
    if (JSON.stringify(status['virtualWorkspaces'] ?? []) === JSON.stringify(urls) && sameConditions(status['conditions'], conditions)) return;
    shard.svc.writeUpdate(this.topo.systemContext(cluster), WORKSPACE_TYPE_DEF, wt, { ...wt, status: { ...status, virtualWorkspaces: urls, conditions } }, 'status');
  }
}
