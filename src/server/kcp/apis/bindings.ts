/**
 * The APIBinding controllers (kcp's apibinding and apibindingdeletion reconcilers): phase
 * `Binding` → `Bound`, `apiExportClusterName`, `boundResources`, `exportPermissionClaims`, the
 * conditions with kcp's reasons and `Ready` mirroring `InitialBindingCompleted`; naming conflicts;
 * and deletion: every object of the bound resources is deleted (their finalizers honoured) before
 * the binding's own finalizer is released.
 */
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { Json, JsonObject, KubeObject, ResourceDef } from '../../types.js';
import { isServing } from './tracking.js';
import { ReconcileLoop, splitClusterKey, type ReconcileResult } from '../loop.js';
import { isFalse, markFalse, markTrue, mirrorReady, readConditions, type Condition } from './conditions.js';
import { bindingRef, bindingsFor, defsFromSchema, exportedResources, findExport, findSchema, identityOf, resolveRefCluster } from './lookup.js';
import { BINDINGS, BINDING_FINALIZER, clone, isBoundStorage, obj, objs, specOf, statusOf, str, strs } from './names.js';
import { BINDING_DEF } from './resources.js';
import { boundResourcesOf, type BoundServing } from './served.js';

type Verdict = { status: JsonObject; conditions: Condition[] };

/** kcp's namesConflict: the incoming resource's names against one already served in the group. */
function namesConflict(existing: ResourceDef, incoming: ResourceDef): string | undefined {
  if (existing.group !== incoming.group) return undefined;
  const names = new Set([existing.resource, existing.singular, ...(existing.shortNames ?? [])]);
  if (names.has(incoming.resource)) return `spec.names.plural=${incoming.resource} is forbidden`;
  if (names.has(incoming.singular)) return `spec.names.singular=${incoming.singular} is forbidden`;
  if ((incoming.shortNames ?? []).some((s) => names.has(s))) return `spec.names.shortNames=[${(incoming.shortNames ?? []).join(' ')}] is forbidden`;
  if (existing.kind === incoming.kind) return `spec.names.kind=${incoming.kind} is forbidden`;
  if (existing.listKind === incoming.listKind) return `spec.names.listKind=${incoming.listKind} is forbidden`;
  return undefined;
}

/** Reconciles APIBindings, keyed `<cluster>|<name>`. */
export class BindingController {
  readonly loop: ReconcileLoop;

  constructor(
    private readonly topo: Topology,
    private readonly served: BoundServing,
  ) {
    this.loop = new ReconcileLoop('apibindings', (key) => this.reconcile(key));
  }

  private reconcile(key: string): ReconcileResult {
    if (!isServing(this.topo)) return;
    const [cluster, name] = splitClusterKey(key);
    const shard = this.topo.shardOf(cluster);
    const b = shard?.store.get(BINDINGS, cluster, '', name);
    if (!shard || !b) return;
    if (b.metadata.deletionTimestamp) return this.reconcileDeletion(shard, cluster, b);
    const v: Verdict = { status: { ...statusOf(b) }, conditions: readConditions(statusOf(b)) };
    if (!str(v.status['phase'])) {
      v.status['phase'] = 'Binding';
      markFalse(v.conditions, 'InitialBindingCompleted', 'WaitingForEstablished', 'Info', 'Waiting for API(s) to be established');
    } else {
      this.bind(shard, cluster, b, v);
    }
    // Ready summarises InitialBindingCompleted only, which never returns to False once True.
    mirrorReady(v.conditions, 'InitialBindingCompleted');
    v.status['conditions'] = v.conditions;
    shard.svc.writeUpdate(this.topo.systemContext(cluster), BINDING_DEF, b, { ...b, status: v.status }, 'status');
    return;
  }

  private failInitial(v: Verdict, reason: string, message: string): void {
    markFalse(v.conditions, 'BindingUpToDate', reason, 'Error', message);
    if (isFalse(v.conditions, 'InitialBindingCompleted')) markFalse(v.conditions, 'InitialBindingCompleted', reason, 'Error', message);
  }

  private bind(shard: Shard, cluster: string, b: KubeObject, v: Verdict): void {
    const ref = bindingRef(b);
    const exportCluster = resolveRefCluster(this.topo, cluster, ref);
    const exp = exportCluster ? findExport(this.topo, exportCluster, ref.name) : undefined;
    const shown = `${ref.path || cluster}|${ref.name}`;
    if (!exp || !exportCluster) {
      markFalse(v.conditions, 'APIExportValid', 'APIExportNotFound', 'Error', `APIExport ${shown} not found`);
      return;
    }
    v.status['apiExportClusterName'] = exportCluster;
    const claims = specOf(exp)['permissionClaims'];
    if (claims !== undefined) v.status['exportPermissionClaims'] = clone(claims);
    else delete v.status['exportPermissionClaims'];
    const identity = identityOf(exp);
    if (!identity) {
      markFalse(v.conditions, 'APIExportValid', 'MissingIdentityHash', 'Warning', `APIExport ${shown} is missing status.identityHash`);
      return;
    }
    const bound = objs(v.status['boundResources']).map((r) => ({ ...r }));
    for (const r of exportedResources(exp)) {
      const schema = findSchema(this.topo, exportCluster, r.schema);
      if (!schema) {
        markFalse(v.conditions, 'APIExportValid', 'InternalError', 'Error', 'Invalid APIExport. Please contact the APIExport owner to resolve');
        return;
      }
      const sspec = specOf(schema);
      const group = str(sspec['group']);
      const resource = str(obj(sspec['names'])['plural']);
      const conflict = this.conflict(shard, cluster, b, schema);
      if (conflict) {
        v.status['boundResources'] = bound as Json[];
        this.failInitial(v, 'NamingConflicts', `Unable to bind APIs: ${conflict}`);
        return;
      }
      const storageVersion = str(objs(sspec['versions']).find((x) => x['storage'] === true)?.['name']);
      const i = bound.findIndex((x) => str(x['group']) === group && str(x['resource']) === resource);
      const versions = new Set([...(i >= 0 ? strs(bound[i]!['storageVersions']) : []), ...(storageVersion ? [storageVersion] : [])]);
      const entry: JsonObject = {
        group,
        resource,
        schema: { name: schema.metadata.name ?? '', UID: schema.metadata.uid ?? '', identityHash: identity },
        storageVersions: [...versions].sort(),
      };
      if (i >= 0) bound[i] = entry;
      else bound.push(entry);
    }
    if (bound.length) v.status['boundResources'] = bound as Json[];
    markTrue(v.conditions, 'APIExportValid');
    markTrue(v.conditions, 'InitialBindingCompleted');
    markTrue(v.conditions, 'BindingUpToDate');
    v.status['phase'] = 'Bound';
  }

  /** A naming conflict of the schema with what the cluster already serves, or undefined. */
  private conflict(shard: Shard, cluster: string, b: KubeObject, schema: KubeObject): string | undefined {
    const incoming = defsFromSchema(schema, 'incoming')[0];
    if (!incoming) return undefined;
    for (const other of bindingsFor(this.topo, cluster)) {
      if (other.metadata.name === b.metadata.name) continue;
      for (const d of this.served.defsOfBinding(other)) {
        const details = namesConflict(d, incoming);
        if (details) return `naming conflict with a bound API ${other.metadata.name ?? ''}, ${details}`;
      }
    }
    for (const d of shard.svc.registry.resourcesFor(cluster)) {
      if (isBoundStorage(d.storage) || d.group !== incoming.group || d.resource !== incoming.resource) continue;
      return `cannot create CustomResourceDefinition with "${incoming.group}" group and "${incoming.resource}" resource because it overlaps with a resource served in "${cluster}" logical cluster`;
    }
    return undefined;
  }

  /** Deletes the bound objects, then releases the finalizer; reports what remains meanwhile. */
  private reconcileDeletion(shard: Shard, cluster: string, b: KubeObject): ReconcileResult {
    if (!(b.metadata.finalizers ?? []).includes(BINDING_FINALIZER)) return;
    const ctx = this.topo.systemContext(cluster);
    const byStorage = new Map<string, ResourceDef>();
    for (const d of this.served.defsOfBinding(b)) if (!byStorage.has(d.storage) || !d.conversion) byStorage.set(d.storage, d);
    const remaining = new Map<string, number>();
    const finalizers = new Map<string, number>();
    for (const [storage, def] of byStorage) {
      for (const o of shard.store.list(storage, { cluster, namespace: '' })) {
        if (!o.metadata.deletionTimestamp) shard.svc.delete(ctx, def, o.metadata.namespace ?? '', o.metadata.name ?? '');
      }
      const left = shard.store.list(storage, { cluster, namespace: '' });
      if (left.length) remaining.set(`${def.resource}${def.group ? '.' + def.group : ''}`, left.length);
      for (const o of left) for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    const current = shard.store.get(BINDINGS, cluster, '', b.metadata.name ?? '') ?? b;
    if (remaining.size === 0) {
      const next = clone(current);
      next.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== BINDING_FINALIZER);
      shard.svc.writeUpdate(ctx, BINDING_DEF, current, next);
      return;
    }
    const status: JsonObject = { ...statusOf(current) };
    const conditions = readConditions(status);
    if (finalizers.size) {
      const list = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      markFalse(conditions, 'BindingResourceDeleteSuccess', 'SomeFinalizersRemain', 'Error', `Some content in the workspace has finalizers remaining: ${list.join(', ')}`);
    } else {
      const list = [...remaining].map(([r, n]) => `${r} has ${n} resource instances`).sort();
      markFalse(conditions, 'BindingResourceDeleteSuccess', 'SomeResourcesRemain', 'Error', `Some resources are remaining: ${list.join(', ')}`);
    }
    status['conditions'] = conditions;
    shard.svc.writeUpdate(ctx, BINDING_DEF, current, { ...current, status }, 'status');
    // Bound-object commits requeue the binding; this is the safety net kcp's 5 s estimate is.
    return { requeueAfterMs: 5000 };
  }
}
