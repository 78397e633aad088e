/**
 * The APIExportEndpointSlice controllers (kcp's apiexportendpointslice and
 * apiexportendpointsliceurls): `APIExportValid` and `PartitionValid`, and one endpoint per shard
 * that holds at least one APIBinding to the export, `<shard URL>/services/apiexport/<export cluster
 * NAME>/<export>`, added with the shard's first binding and removed with its last. Bindings may live
 * on any shard; the slice lives with whoever created it.
 */
import type { Topology } from '../../shards/topology.js';
import type { Json, JsonObject } from '../../types.js';
import { ReconcileLoop, splitClusterKey, type ReconcileResult } from '../loop.js';
import { markFalse, markTrue, readConditions } from './conditions.js';
import { findExport, resolveRefCluster } from './lookup.js';
import { SLICES, exportHash, obj, objs, specOf, statusOf, str } from './names.js';
import { SLICE_DEF } from './resources.js';
import { isServing, type BindingTracker } from './tracking.js';

/** The VW URL of an export on a shard. */
export function endpointURL(shardURL: string, exportCluster: string, exportName: string): string {
  return `${shardURL.replace(/\/+$/, '')}/services/apiexport/${exportCluster}/${exportName}`;
}

/** Reconciles endpoint slices, keyed `<cluster>|<name>`. */
export class SliceController {
  readonly loop: ReconcileLoop;
  /** slice key → hash of the export it resolved to (undefined while unresolved) */
  private readonly target = new Map<string, string | undefined>();
  /** Shards whose URL is kept out of every slice (fault injection), by name. */
  private readonly withdrawn = new Set<string>();

  constructor(
    private readonly topo: Topology,
    private readonly tracker: BindingTracker,
  ) {
    this.loop = new ReconcileLoop('apiexportendpointslices', (key) => this.reconcile(key));
    tracker.onChange((hash) => this.enqueueForHash(hash, false));
  }

  /** Queues a slice (seen in a commit). */
  enqueue(key: string): void {
    if (!this.target.has(key)) this.target.set(key, undefined);
    this.loop.enqueue(key);
  }

  /** Queues the slices of an export, and every slice whose export did not resolve yet. */
  enqueueForExport(cluster: string, name: string): void {
    this.enqueueForHash(exportHash(cluster, name), true);
  }

  /** Queues every known slice (workspace paths changed). */
  enqueueAll(): void {
    for (const key of this.target.keys()) this.loop.enqueue(key);
  }

  /** Keeps a shard's URL out of every slice, or lets it back in. */
  setWithdrawn(shardName: string, withdrawn: boolean): void {
    if (withdrawn) this.withdrawn.add(shardName);
    else this.withdrawn.delete(shardName);
    this.enqueueAll();
  }

  private enqueueForHash(hash: string, unresolvedToo: boolean): void {
    for (const [key, h] of this.target) if (h === hash || (unresolvedToo && h === undefined)) this.loop.enqueue(key);
  }

  private reconcile(key: string): ReconcileResult {
    if (!isServing(this.topo)) return;
    const [cluster, name] = splitClusterKey(key);
    const shard = this.topo.shardOf(cluster);
    const slice = shard?.store.get(SLICES, cluster, '', name);
    if (!shard || !slice) {
      this.target.delete(key);
      return;
    }
    // Endpoint URLs need every shard's address; a restart replays slices before the ports listen.
    if (this.topo.shards.some((s) => !s.url)) return { requeueAfterMs: 50 };
    const ref = obj(specOf(slice)['export']);
    const exportName = str(ref['name']);
    const exportCluster = resolveRefCluster(this.topo, cluster, { path: str(ref['path']), name: exportName });
    const hash = exportCluster ? exportHash(exportCluster, exportName) : undefined;
    const exp = exportCluster ? findExport(this.topo, exportCluster, exportName) : undefined;
    this.target.set(key, exp ? hash : undefined);

    const status: JsonObject = { ...statusOf(slice) };
    const conditions = readConditions(status);
    if (!exp || !exportCluster || !hash) {
      markFalse(conditions, 'APIExportValid', 'APIExportNotFound', 'Error', `APIExport ${str(ref['path']) || cluster}|${exportName} not found`);
      delete status['endpoints'];
    } else {
      markTrue(conditions, 'APIExportValid');
      const partition = str(specOf(slice)['partition']);
      // Partitions (topology.kcp.io) are not served here, so a named one can never be found.
      if (partition) markFalse(conditions, 'PartitionValid', 'PartitionInvalidReference', 'Error', `partitions.topology.kcp.io "${partition}" not found`);
      else markTrue(conditions, 'PartitionValid');
      delete status['shardSelector'];
      // Each shard maintains only its own URL, and only while every condition is True.
      if (conditions.every((c) => c.status === 'True')) {
        // A URL no current shard serves for this export is left over from a previous run (shard
        // ports change across restarts) or from another export: no shard would ever remove it.
        const current = new Set(this.topo.shards.map((s) => endpointURL(s.url, exportCluster, exportName)));
        const endpoints = objs(status['endpoints']).filter((e) => current.has(str(e['url']))).map((e) => ({ ...e }));
        for (const s of this.topo.shards) {
          const url = endpointURL(s.url, exportCluster, exportName);
          const i = endpoints.findIndex((e) => str(e['url']) === url);
          const has = this.tracker.shardHasBinding(hash, s) && !this.withdrawn.has(s.name);
          if (has && i < 0) endpoints.push({ url });
          else if (!has && i >= 0) endpoints.splice(i, 1);
        }
        if (endpoints.length) status['endpoints'] = endpoints as Json[];
        else delete status['endpoints'];
      }
    }
    status['conditions'] = conditions;
    shard.svc.writeUpdate(this.topo.systemContext(cluster), SLICE_DEF, slice, { ...slice, status }, 'status');
    return;
  }
}
