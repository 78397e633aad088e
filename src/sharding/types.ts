/**
 * The sharding contract: which replica of a controller group owns which cluster. A `Coordinator`
 * answers ownership from the live peers (membership) and guards each owned cluster with a fence,
 * so that two replicas never work on one cluster at the same time. The manager asks it before it
 * engages a cluster, at every dequeue, and hands a cluster off when ownership moves.
 */

/** A live member of the replica group. */
export interface ShardPeer {
  /** The replica's shard id (a DNS label, unique in the group). */
  readonly id: string;
  /** Its share of the clusters relative to the others; > 0, default 1. */
  readonly weight: number;
}

/** The fence of one owned cluster: held while this replica works on it. */
export interface Fence {
  /** The cluster it guards. */
  readonly cluster: string;
  /**
   * Aborts when the fence can no longer be trusted: another holder took it, or renewals failed
   * until it was about to expire (fired early enough that the work stops before the lease lapses).
   */
  readonly lost: AbortSignal;
  /** Stops renewing and gives the fence up (clears the holder) so the next owner takes it at once. */
  release(): Promise<void>;
}

/** Decides cluster ownership across the replicas of one controller group. */
export interface Coordinator {
  /** This replica's shard id. */
  readonly id: string;
  /**
   * Runs membership (announce this replica, watch the others) until `signal` aborts, then leaves
   * the group (so the others take over at once). Resolves after leaving.
   */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once a view of the peers is known and stable (before it, `owner` counts only itself). */
  ready(signal?: AbortSignal): Promise<void>;
  /** The live peers now, this replica always among them. */
  peers(): readonly ShardPeer[];
  /** The peer that should own `cluster` given the live peers now. */
  owner(cluster: string): string;
  /** Calls `fn` whenever the set of live peers (or a weight) changes; returns the function that stops it. */
  onPeersChanged(fn: () => void): () => void;
  /**
   * Tries once to take the fence of `cluster`: resolves the held fence, or undefined when another
   * holder has it (free, expired or already ours is taken). Renewal runs until release or loss.
   */
  acquire(cluster: string, signal: AbortSignal): Promise<Fence | undefined>;
  /**
   * Optional: leaves the group now (the others stop counting this replica) while the fences held
   * stay held and renewed until released. A replica that stops calls it first, so that the others
   * start taking its clusters over as each fence is released, not only after the last one.
   */
  leave?(): Promise<void>;
}

/** Options of the Lease-based coordinator (`new Manager({ sharding })`). */
export interface ShardingOptions {
  /** This replica's shard id; default the hostname, cleaned to a DNS label. */
  id?: string;
  /** The replica group (peer Lease names and label); default `kcp-mc` (`kcp-mc run` names it as its leader-election Lease would be, `kcp-mc-<name>`). */
  group?: string;
  /** Namespace of the peer and fence Leases in the provider's workspace; default `default`. */
  namespace?: string;
  /** This replica's weight; default 1. */
  weight?: number;
  /** Milliseconds: a peer is live while its renewTime + this is in the future; default 30 s. */
  peerLeaseDuration?: number;
  /** Milliseconds: duration of each cluster's fence Lease; default 20 s. */
  fenceLeaseDuration?: number;
  /** Clock skew allowed between replicas when judging a peer's renewTime; default 2 s. */
  clockSkewMs?: number;
  /**
   * Fence acquisitions and releases in flight at once (each a read and a write, or a write); default
   * 16. The others wait their turn, so that the renewals of fences already held never queue behind
   * thousands of them (a replica starting, or taking over from a stopped peer).
   */
  maxConcurrentAcquires?: number;
}
