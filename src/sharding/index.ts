/** Sharding clusters across the replicas of a controller group: the Coordinator contract and its Lease-based implementation. */
export type { Coordinator, Fence, ShardPeer, ShardingOptions } from './types.js';
export { LeaseCoordinator, defaultShardId, type CoordinatorMetrics, type LeaseCoordinatorOptions } from './lease-coordinator.js';
export { hash64, unitHash, toUnit, rendezvousScore, rendezvousOwner } from './hash.js';
export { fenceLeaseName, peerLeaseName, shardIdFromHostname, SHARD_GROUP_LABEL, SHARD_ROLE_LABEL, SHARD_WEIGHT_ANNOTATION, FENCE_CLUSTER_ANNOTATION } from './names.js';
export type { WallClock } from './clock.js';
export { ClusterNotOwnedError, isClusterNotOwned } from './errors.js';
