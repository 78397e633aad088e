/**
 * kcp's APIs layer for the reference server: the apis.kcp.io kinds in every logical cluster, their
 * admission, the APIExport / endpoint slice / APIBinding / permission claim controllers, and bound
 * resources served in consumer workspaces. `installApis(topo)` wires it all onto a Topology; the
 * re-exports below are what the tenancy and virtual-workspace layers build on.
 */
import { LOGICAL_CLUSTERS } from '../../objects.js';
import type { Topology } from '../../topology.js';
import { clusterKey } from '../loop.js';
import { apisAdmission } from './admission.js';
import { BindingController } from './bindings.js';
import { acceptedClaimsOf, claimKeyOf, claimsAdmission } from './claims.js';
import { ClaimController } from './claimsync.js';
import { ExportController } from './exports.js';
import { bindingsFor } from './lookup.js';
import { BINDINGS, EXPORTS, IDENTITY_NAMESPACE, SCHEMAS, SLICES, exportHash, isBoundStorage } from './names.js';
import { APIS_DEFS } from './resources.js';
import { BoundServing } from './served.js';
import { SliceController } from './slices.js';
import { BindingTracker } from './tracking.js';

export * from './names.js';
export { allExports, bindingRef, bindingsFor, claimedResourceDef, claimedResourceDefs, defsFromSchema, exportedResources, findExport, findSchema, identityOf, resolveRefCluster, resourceDefsForExport } from './lookup.js';
export type { ExportRef } from './lookup.js';
export { acceptedClaimsOf, claimCovers, claimKeyOf, claimLabelsFor, effectiveClaims, exportOfBinding, intersectVerbs, sameClaim, selectorSelects } from './claims.js';
export type { EffectiveClaim } from './claims.js';
export { boundResourcesOf, webhookConfigurationCluster } from './served.js';
export type { BoundResource } from './served.js';
export { endpointURL } from './slices.js';
export { structuralSchemaErrors, type StructuralError } from './structural.js';
export { APIS_DEFS, BINDING_DEF, BINDING_V1_DEF, EXPORT_DEF, EXPORT_V1_DEF, SCHEMA_DEF, SLICE_DEF } from './resources.js';

/** What `installApis` started. */
export interface ApisLayer {
  /** The per-cluster source of bound resource definitions. */
  readonly served: BoundServing;
  /** Bindings by export, with per-shard counts. */
  readonly tracker: BindingTracker;
  /** Stops the controllers and commit subscriptions. */
  stop(): void;
}

/** Installs the apis.kcp.io resources, admission and controllers on every shard of `topo`. */
export function installApis(topo: Topology): ApisLayer {
  topo.addResourceSource(() => APIS_DEFS);
  const served = new BoundServing(topo);
  topo.addResourceSource(served.source);
  // Order matters: the binding plugin sets the export label the claim plugin reads.
  topo.addAdmission(apisAdmission(topo));
  topo.addAdmission(claimsAdmission(topo));

  const tracker = new BindingTracker(topo);
  const exportsCtl = new ExportController(topo);
  const slices = new SliceController(topo, tracker);
  const bindings = new BindingController(topo, served);
  const claims = new ClaimController(topo);

  const bindingChanged = (key: string): void => {
    bindings.loop.enqueue(key);
    claims.enqueueBinding(key);
  };
  const exportChanged = (cluster: string, name: string): void => {
    exportsCtl.loop.enqueue(clusterKey(cluster, name));
    slices.enqueueForExport(cluster, name);
    for (const k of tracker.bindings(exportHash(cluster, name))) bindingChanged(k);
  };

  const unsubscribe = topo.onCommit(({ shard, event }) => {
    const { storage, cluster, object } = event;
    const name = object.metadata.name ?? '';
    switch (storage) {
      case EXPORTS:
        return exportChanged(cluster, name);
      case SLICES:
        return slices.enqueue(clusterKey(cluster, name));
      case BINDINGS:
        bindingChanged(clusterKey(cluster, name));
        if (event.type === 'DELETED') claims.enqueueRelabel(cluster, acceptedClaimsOf(object).map(claimKeyOf));
        return;
      case SCHEMAS:
        for (const e of shard.store.list(EXPORTS, { cluster, namespace: '' })) exportChanged(cluster, e.metadata.name ?? '');
        return;
      case 'core/secrets':
        if (object.metadata.namespace === IDENTITY_NAMESPACE && shard.store.get(EXPORTS, cluster, '', name)) exportsCtl.loop.enqueue(clusterKey(cluster, name));
        return;
      case LOGICAL_CLUSTERS:
        // A workspace path appeared or moved: slices that name an export by path may resolve now.
        return slices.enqueueAll();
    }
    if (isBoundStorage(storage) && event.type !== 'ADDED') {
      for (const b of bindingsFor(topo, cluster)) if (b.metadata.deletionTimestamp) bindings.loop.enqueue(clusterKey(cluster, b.metadata.name ?? ''));
    }
  });

  // Objects that exist already (a restart from a data directory) are reconciled once.
  for (const shard of topo.shards) {
    for (const e of shard.store.entries()) {
      const key = clusterKey(e.cluster, e.object.metadata.name ?? '');
      if (e.storage === EXPORTS) exportsCtl.loop.enqueue(key);
      else if (e.storage === SLICES) slices.enqueue(key);
      else if (e.storage === BINDINGS) bindingChanged(key);
    }
  }

  return {
    served,
    tracker,
    stop() {
      unsubscribe();
      served.stop();
      tracker.stop();
      for (const l of [exportsCtl.loop, slices.loop, bindings.loop, claims.loop]) l.stop();
    },
  };
}
