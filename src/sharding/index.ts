/** Sharding clusters across the replicas of a controller group: the coordinator contract and its errors. */
export type { Coordinator, Fence, ShardPeer, ShardingOptions } from './types.js';
export { ClusterNotOwnedError, isClusterNotOwned } from './errors.js';
