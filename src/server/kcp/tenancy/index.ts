/**
 * kcp tenancy on the reference server: Workspaces, WorkspaceTypes and Shards, their admission, and
 * the controllers that schedule, initialize and delete logical clusters across shards.
 */
import { LOGICAL_CLUSTERS } from '../../api/objects.js';
import type { Topology } from '../../shards/topology.js';
import { isObject } from '../../json.js';
import { clusterKey } from '../loop.js';
import { TenancyAdmission } from './admission.js';
import { bootstrapTenancy } from './bootstrap.js';
import { LogicalClusterController } from './logicalclusters.js';
import { SHARDS, WORKSPACES, WORKSPACE_TYPES, tenancyResources } from './schemas.js';
import { WorkspaceController } from './workspaces.js';
import { WorkspaceTypeController } from './workspacetypes.js';
import { TypeResolver } from './wstypes.js';

/** The tenancy resource definitions and storage keys, for other layers. */
export { WORKSPACE_DEF, WORKSPACE_TYPE_DEF, SHARD_DEF, WORKSPACES, WORKSPACE_TYPES, SHARDS } from './schemas.js';
/** Label and annotation keys the virtual workspaces filter on. */
export {
  initializerLabel,
  terminatorLabel,
  PHASE_LABEL,
  INITIALIZER_LABEL_PREFIX,
  TERMINATOR_LABEL_PREFIX,
  TERMINATORS_FINALIZER,
  TYPE_ANNOTATION,
  APIBINDINGS_INITIALIZER,
} from './names.js';
/** The initializer name of a WorkspaceType (`<cluster name>:<type>`). */
export { initializerFor } from './wstypes.js';

/** The installed tenancy layer. */
export interface Tenancy {
  /** Creates or refreshes root's tenancy objects (after the shards listen and root exists). */
  bootstrap(): void;
  /** Stops the controllers. */
  stop(): void;
}

/** Installs the tenancy resources, admission and controllers on every shard of the topology. */
export function installTenancy(topo: Topology): Tenancy {
  topo.addResourceSource(tenancyResources);
  const types = new TypeResolver(topo);
  for (const plugin of new TenancyAdmission(topo, types).plugins()) topo.addAdmission(plugin);
  const workspaces = new WorkspaceController(topo, types);
  const clusters = new LogicalClusterController(topo, types);
  const wsTypes = new WorkspaceTypeController(topo);

  const enqueueEverything = (): void => {
    for (const s of topo.shards) {
      for (const ws of s.store.list(WORKSPACES, { cluster: '*', namespace: '' })) {
        workspaces.loop.enqueue(clusterKey(ws.metadata.annotations?.['kcp.io/cluster'] ?? '', ws.metadata.name ?? ''));
      }
      for (const c of s.clusters()) clusters.loop.enqueue(c);
    }
    wsTypes.enqueueAll();
  };

  const unsubscribe = topo.onCommit(({ event }) => {
    switch (event.storage) {
      case WORKSPACES:
        workspaces.loop.enqueue(clusterKey(event.cluster, event.name));
        return;
      case LOGICAL_CLUSTERS: {
        clusters.loop.enqueue(event.cluster);
        const owner = isObject(event.object['spec']) ? event.object['spec']['owner'] : undefined;
        if (isObject(owner) && typeof owner['cluster'] === 'string' && typeof owner['name'] === 'string') {
          workspaces.loop.enqueue(clusterKey(owner['cluster'], owner['name']));
        }
        return;
      }
      case WORKSPACE_TYPES:
        if (event.type !== 'DELETED') wsTypes.loop.enqueue(clusterKey(event.cluster, event.name));
        return;
      case SHARDS:
        enqueueEverything();
        return;
    }
    // Bindings move `system:apibindings` along; deletions move a cluster's content removal along.
    if (event.storage.endsWith('/apibindings') || event.type === 'DELETED') clusters.loop.enqueue(event.cluster);
  });

  return {
    bootstrap() {
      bootstrapTenancy(topo);
      enqueueEverything();
    },
    stop() {
      unsubscribe();
      workspaces.loop.stop();
      clusters.loop.stop();
      wsTypes.loop.stop();
    },
  };
}
