/**
 * Moving a logical cluster to another shard of the same server, as a finished kcp
 * LogicalClusterMigration leaves it: its objects (same uids, new resource versions) on the target
 * shard, gone from the source, its URLs pointing at the target. Watchers of the source's wildcard
 * and virtual workspace see DELETED events, the target's see ADDED; resume points taken before the
 * move answer 410 on the target, so clients relist rather than misread another shard's counter.
 */
import { LOGICAL_CLUSTERS, NAMESPACES } from '../api/objects.js';
import type { Shard } from './shard.js';
import type { Topology } from './topology.js';
import type { KubeObject } from '../types.js';

/** The annotation naming the shard a LogicalCluster lives on. */
const SHARD_ANNOTATION = 'core.kcp.io/shard';

/** Lower sorts first: namespaces before what they contain, the LogicalCluster last. */
function deleteOrder(storage: string): number {
  return storage === NAMESPACES ? 0 : storage === LOGICAL_CLUSTERS ? 2 : 1;
}

/**
 * Moves `cluster` (a name or a workspace path) to the shard named `shardName`, in one synchronous
 * step: no request sees it half moved. Throws when either is unknown or the cluster is root.
 */
export function migrateCluster(topo: Topology, clusterOrPath: string, shardName: string): void {
  const cluster = topo.resolve(clusterOrPath);
  const source = cluster ? topo.shardOf(cluster) : undefined;
  if (!cluster || !source) throw new Error(`logical cluster "${clusterOrPath}" not found`);
  const target: Shard | undefined = topo.shards.find((s) => s.name === shardName);
  if (!target) throw new Error(`unknown shard "${shardName}" (shards: ${topo.shards.map((s) => s.name).join(', ')})`);
  if (cluster === 'root') throw new Error('the root logical cluster stays on the root shard');
  if (source === target) return;

  const entries = [...source.store.entries()].filter((e) => e.cluster === cluster);
  // Watches of this one cluster on the source would see its content vanish and then nothing more:
  // they end, and their clients come back through the front, which now routes to the target.
  source.store.endWatchers(cluster);
  // Indexes keyed by cluster (bindings by export, paths, GC) must see the removal before the
  // addition, or the source's DELETED would erase what the target's ADDED just recorded.
  for (const e of [...entries].sort((a, b) => deleteOrder(a.storage) - deleteOrder(b.storage))) {
    source.store.delete(e.storage, cluster, e.object.metadata.namespace ?? '', e.object.metadata.name ?? '');
  }
  target.store.advanceTo(source.store.resourceVersion);
  for (const e of [...entries].sort((a, b) => deleteOrder(b.storage) - deleteOrder(a.storage))) {
    target.store.put(e.storage, cluster, e.storage === LOGICAL_CLUSTERS ? moved(e.object, target, cluster) : e.object);
  }
  target.store.compact();
}

/** The LogicalCluster as it reads on its new shard (the tenancy controllers refine the URL). */
function moved(lc: KubeObject, target: Shard, cluster: string): KubeObject {
  const status = (lc as { status?: Record<string, unknown> }).status;
  return {
    ...lc,
    metadata: { ...lc.metadata, annotations: { ...lc.metadata.annotations, [SHARD_ANNOTATION]: target.name } },
    ...(status ? { status: { ...status, URL: `${target.url}/clusters/${cluster}` } } : {}),
  } as KubeObject;
}
