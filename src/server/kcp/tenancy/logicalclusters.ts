/**
 * The LogicalCluster controller: runs the built-in initializers (`root:universal`,
 * `system:apibindings`), moves a cluster whose initializers are all gone to Ready, keeps
 * `status.URL` current, and on deletion removes everything stored in the cluster while its
 * terminators run, releasing the LogicalCluster once both are done.
 */
import { ApiError } from '../../http/errors.js';
import { isObject } from '../../json.js';
import { LOGICAL_CLUSTERS, NAMESPACES } from '../../api/objects.js';
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { JsonObject, KubeObject } from '../../types.js';
import { ReconcileLoop, type ReconcileResult } from '../loop.js';
import { conditionsOf, sameConditions, setCondition } from './conditions.js';
import { APIBindingsInitializer } from './apibindings.js';
import { APIBINDINGS_INITIALIZER, LOGICAL_CLUSTER_FINALIZER, TERMINATORS_FINALIZER, UNIVERSAL_INITIALIZER } from './names.js';
import type { TypeResolver } from './wstypes.js';
import { placedShards } from './workspaces.js';

function statusOf(obj: KubeObject): JsonObject {
  return isObject(obj['status']) ? obj['status'] : {};
}

function stringsAt(obj: KubeObject, key: 'initializers' | 'terminators'): string[] {
  const i = statusOf(obj)[key];
  return Array.isArray(i) ? i.filter((x): x is string => typeof x === 'string') : [];
}

function initializersOf(obj: KubeObject): string[] {
  return stringsAt(obj, 'initializers');
}

/** `status.terminators`: the terminators still to run (listed from Initializing on). */
export function terminatorsOf(obj: KubeObject): string[] {
  return stringsAt(obj, 'terminators');
}

/** Reconciles LogicalClusters; keys are logical cluster names. */
export class LogicalClusterController {
  readonly loop: ReconcileLoop;
  private readonly apibindings: APIBindingsInitializer;

  constructor(
    private readonly topo: Topology,
    types: TypeResolver,
  ) {
    this.loop = new ReconcileLoop('logicalclusters', (key) => this.reconcile(key));
    this.apibindings = new APIBindingsInitializer(topo, types);
  }

  private reconcile(cluster: string): ReconcileResult {
    const shard = this.topo.shardOf(cluster);
    let lc = shard?.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
    if (!shard || !lc) return;
    if (lc.metadata.deletionTimestamp) return this.deleteContent(shard, cluster, lc);
    // The finalizer goes once no terminator is listed, in its own write after the labels went.
    if (terminatorsOf(lc).length === 0 && (lc.metadata.finalizers ?? []).includes(TERMINATORS_FINALIZER)) lc = this.dropFinalizer(shard, cluster, lc, TERMINATORS_FINALIZER);
    const status = statusOf(lc);
    const placed = placedShards(this.topo).find((p) => p.shard === shard);
    const url = placed ? `${placed.externalURL}/clusters/${cluster}` : undefined;
    // Shard ports can change across restarts of this server; kcp's external URLs do not.
    if (url && status['URL'] !== undefined && status['URL'] !== url) lc = this.writeStatus(shard, cluster, lc, { ...status, URL: url });
    if (statusOf(lc)['phase'] !== 'Initializing') return;
    let result: ReconcileResult = undefined;
    if (initializersOf(lc).includes(UNIVERSAL_INITIALIZER)) lc = this.universal(shard, cluster, lc);
    if (initializersOf(lc).includes(APIBINDINGS_INITIALIZER)) {
      const done = this.apibindings.reconcile(shard, cluster, lc);
      if (done) lc = this.removeInitializer(shard, cluster, lc, APIBINDINGS_INITIALIZER);
      // Bindings report through their own commits; the delay only covers exports that appear later.
      else result = { requeueAfterMs: 1000 };
    }
    if (initializersOf(lc).length === 0) {
      const st = statusOf(lc);
      const conditions = setCondition(conditionsOf(st), { type: 'WorkspaceInitialized', status: 'True' });
      const next: JsonObject = { ...st, phase: 'Ready', conditions };
      delete next['initializers'];
      this.writeStatus(shard, cluster, lc, next);
    }
    return result;
  }

  private writeStatus(shard: Shard, cluster: string, lc: KubeObject, status: JsonObject): KubeObject {
    return shard.svc.writeUpdate(this.topo.systemContext(cluster), shard.svc.registry.builtin(LOGICAL_CLUSTERS), lc, { ...lc, status }, 'status');
  }

  /** Removes one initializer from `status.initializers`, as an initializer does when it is done. */
  private removeInitializer(shard: Shard, cluster: string, lc: KubeObject, initializer: string): KubeObject {
    const rest = initializersOf(lc).filter((i) => i !== initializer);
    return this.writeStatus(shard, cluster, lc, { ...statusOf(lc), initializers: rest });
  }

  /** `root:universal`: namespace `default` (kube-root-ca.crt follows from the shard's publisher). */
  private universal(shard: Shard, cluster: string, lc: KubeObject): KubeObject {
    if (!shard.store.get(NAMESPACES, cluster, '', 'default')) {
      shard.svc.create(this.topo.systemContext(cluster), shard.svc.registry.builtin(NAMESPACES), '', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'default' },
      });
    }
    return this.removeInitializer(shard, cluster, lc, UNIVERSAL_INITIALIZER);
  }

  private dropFinalizer(shard: Shard, cluster: string, lc: KubeObject, finalizer: string): KubeObject {
    const finalizers = (lc.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    return shard.svc.writeUpdate(this.topo.systemContext(cluster), shard.svc.registry.builtin(LOGICAL_CLUSTERS), lc, { ...lc, metadata: { ...lc.metadata, finalizers } });
  }

  /**
   * A deleted cluster: phase Terminating while terminators are listed, then Deleting (never back);
   * its content is removed at once, not held back by terminators (namespaces first, so that nothing
   * refills them), with `WorkspaceContentDeleted` False while some remains and True after, which
   * releases `core.kcp.io/logicalcluster-deletion`. `kcp.io/has-terminators` goes once the last
   * terminator removed itself; the object goes with its last finalizer.
   */
  private deleteContent(shard: Shard, cluster: string, lc: KubeObject): ReconcileResult {
    const terminators = terminatorsOf(lc);
    const status = statusOf(lc);
    const phase = terminators.length && status['phase'] !== 'Deleting' ? 'Terminating' : 'Deleting';
    if (status['phase'] !== phase) lc = this.writeStatus(shard, cluster, lc, { ...status, phase });
    // The last terminator's removal releases kcp.io/has-terminators at once (its labels went in the
    // removal's own write), whatever content deletion still has to do.
    if (terminators.length === 0 && (lc.metadata.finalizers ?? []).includes(TERMINATORS_FINALIZER)) {
      lc = this.dropFinalizer(shard, cluster, lc, TERMINATORS_FINALIZER);
      // It was the last finalizer (content was gone already): so is the LogicalCluster.
      if (!shard.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster')) return;
    }
    const ctx = this.topo.systemContext(cluster);
    const defs = shard.svc.registry.resourcesFor(cluster);
    const content: { storage: string; object: KubeObject }[] = [];
    // What the cluster serves is found by key; a scan of the whole shard only runs at the end, for
    // objects of resources no longer served there (a binding that went first).
    for (const storage of new Set(defs.map((d) => d.storage))) {
      if (storage === LOGICAL_CLUSTERS) continue;
      for (const object of shard.store.list(storage, { cluster, namespace: '' })) content.push({ storage, object });
    }
    if (content.length === 0) {
      for (const e of shard.store.entries()) if (e.cluster === cluster && e.storage !== LOGICAL_CLUSTERS) content.push({ storage: e.storage, object: e.object });
    }
    lc = this.contentDeleted(shard, cluster, lc, content.length === 0);
    content.sort((a, b) => Number(b.storage === NAMESPACES) - Number(a.storage === NAMESPACES));
    for (const { storage, object } of content) {
      if (object.metadata.deletionTimestamp) continue;
      const namespace = object.metadata.namespace ?? '';
      const name = object.metadata.name ?? '';
      // Prefer a version without conversion: any version deletes the same stored object.
      const def = defs.find((d) => d.storage === storage && !d.conversion) ?? defs.find((d) => d.storage === storage);
      try {
        if (def) shard.svc.delete(ctx, def, namespace, name);
        // Nothing serves it any more (a binding went first): drop it from storage directly.
        else shard.store.delete(storage, cluster, namespace, name);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
      }
    }
    if (content.length > 0) return { requeueAfterMs: 200 };
    if ((lc.metadata.finalizers ?? []).includes(LOGICAL_CLUSTER_FINALIZER)) this.dropFinalizer(shard, cluster, lc, LOGICAL_CLUSTER_FINALIZER);
  }

  /** `WorkspaceContentDeleted`: False (`SomeResourcesRemain`) while content remains, then True. */
  private contentDeleted(shard: Shard, cluster: string, lc: KubeObject, done: boolean): KubeObject {
    const st = statusOf(lc);
    const conditions = setCondition(
      conditionsOf(st),
      done
        ? { type: 'WorkspaceContentDeleted', status: 'True' }
        : { type: 'WorkspaceContentDeleted', status: 'False', severity: 'Info', reason: 'SomeResourcesRemain', message: 'Some resources are remaining' },
    );
    return sameConditions(st['conditions'], conditions) ? lc : this.writeStatus(shard, cluster, lc, { ...st, conditions });
  }
}
