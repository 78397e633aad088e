/**
 * The Lease-based `Coordinator`: membership from one Lease per replica, ownership by weighted
 * rendezvous hashing over the live peers, and one fence Lease per owned cluster, all in one
 * namespace of the provider's workspace (kcp serves coordination.k8s.io in every workspace).
 */
import { hostname } from 'node:os';
import { untilAborted, type ClusterClient } from '../client/index.js';
import type { Logger } from '../log/index.js';
import type { ShardMetrics } from '../metrics/index.js';
import { checkDuration, type WallClock } from './clock.js';
import { Fences } from './fence.js';
import { checkWeight, rendezvousOwner } from './hash.js';
import { isDNSLabel, shardIdFromHostname } from './names.js';
import { PeerMembership } from './peers.js';
import type { Coordinator, Fence, ShardingOptions, ShardPeer } from './types.js';

/** The hooks the coordinator reports through (`RuntimeMetrics.shard` provides them). */
export type CoordinatorMetrics = Pick<ShardMetrics, 'peers' | 'fenceWait'>;

/** Options of `LeaseCoordinator`. */
export interface LeaseCoordinatorOptions extends ShardingOptions {
  /** A client for the provider's workspace, where the Leases live. */
  client: ClusterClient;
  /** Logger; default silent. */
  log?: Logger;
  /** Metric hooks; default none. */
  metrics?: CoordinatorMetrics;
  /** Wall clock for Lease timestamps; default `Date.now` (tests skew it). */
  clock?: WallClock;
  /** Interval between reads of the peer Leases; default a third of the peer duration, at most 2 s. */
  peerRefreshMs?: number;
  /** Fence Lease writes in flight at once, renewals first; default 32 (at least `maxConcurrentAcquires` + 1). */
  maxConcurrentWrites?: number;
}

/** The default shard id: this host's name cleaned to a DNS label. */
export function defaultShardId(): string {
  return shardIdFromHostname(hostname());
}

/** This replica's clusters, remembered as such until the peers change (owner() runs at every dequeue). */
const OWNER_CACHE_MAX = 100_000;

/** A `Coordinator` on `coordination.k8s.io/v1` Leases. */
export class LeaseCoordinator implements Coordinator {
  /** This replica's shard id. */
  readonly id: string;
  /** The replica group. */
  readonly group: string;
  private readonly membership: PeerMembership;
  private readonly fences: Fences;
  private readonly listeners = new Set<() => void>();
  /** Clusters this replica owns under the current peers (owner() is asked at every dequeue). */
  private readonly mine = new Set<string>();
  private readonly log: Logger | undefined;
  private readonly metrics: CoordinatorMetrics | undefined;
  private started = false;
  private readonly leaving = new AbortController();
  /** Settles once the membership loop ended (left the group). */
  private left: Promise<void> | undefined;

  constructor(opts: LeaseCoordinatorOptions) {
    this.id = opts.id ?? defaultShardId();
    if (!isDNSLabel(this.id)) throw new Error(`shard id ${JSON.stringify(this.id)} is not a DNS label (lowercase a-z, 0-9 and '-', at most 63)`);
    this.group = opts.group ?? 'kcp-mc';
    if (!this.group) throw new Error('the shard group must not be empty');
    const weight = opts.weight ?? 1;
    checkWeight(weight, 'shard weight');
    const peerMs = opts.peerLeaseDuration ?? 30_000;
    const fenceMs = opts.fenceLeaseDuration ?? 20_000;
    checkDuration(peerMs, 'peer lease duration');
    checkDuration(fenceMs, 'fence lease duration');
    const skewMs = opts.clockSkewMs ?? 2000;
    if (!Number.isFinite(skewMs) || skewMs < 0) throw new RangeError(`clock skew must be a finite number ≥ 0, got ${skewMs}`);
    const refreshMs = opts.peerRefreshMs ?? Math.min(peerMs / 3, 2000);
    if (!Number.isFinite(refreshMs) || refreshMs <= 0) throw new RangeError(`peer refresh interval must be > 0, got ${refreshMs}`);
    const namespace = opts.namespace ?? 'default';
    const clock = opts.clock ?? Date.now;
    this.log = opts.log?.with({ component: 'sharding', shard: this.id, group: this.group });
    this.metrics = opts.metrics;
    this.membership = new PeerMembership({
      client: opts.client,
      namespace,
      group: this.group,
      id: this.id,
      weight,
      durationMs: peerMs,
      skewMs,
      refreshMs,
      clock,
      log: this.log,
      onChange: (peers) => this.peersChanged(peers),
    });
    this.fences = new Fences({
      client: opts.client,
      namespace,
      group: this.group,
      id: this.id,
      durationMs: fenceMs,
      skewMs,
      clock,
      log: this.log,
      onWait: (s) => this.metrics?.fenceWait(s),
      maxConcurrentAcquires: opts.maxConcurrentAcquires,
      maxConcurrentWrites: opts.maxConcurrentWrites,
    });
    this.metrics?.peers(1);
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error('the shard coordinator runs once');
    this.started = true;
    this.log?.info('joining the shard group', { lease: this.membership.leaseName });
    try {
      this.left = this.membership.run(AbortSignal.any([signal, this.leaving.signal]));
      await this.left;
      // Left early (leave()): the fences stay renewed until they are released or this stops.
      await untilAborted(signal);
    } finally {
      // Fences still held now are not renewed any more: whoever holds them is told through `lost`.
      this.fences.close('the shard coordinator stopped');
    }
  }

  /** Leaves the group (its peer Lease deleted) and keeps the fences held until released; see `Coordinator.leave`. */
  leave(): Promise<void> {
    this.leaving.abort();
    return this.left ?? Promise.resolve();
  }

  ready(signal?: AbortSignal): Promise<void> {
    return this.membership.ready(signal);
  }

  peers(): readonly ShardPeer[] {
    return this.membership.peers();
  }

  owner(cluster: string): string {
    if (this.mine.has(cluster)) return this.id;
    const o = rendezvousOwner(cluster, this.membership.peers());
    // Only this replica's clusters are asked about at every dequeue; the others (most of them,
    // with many replicas) are asked when reported or when the peers change, and not kept.
    if (o === this.id) {
      if (this.mine.size >= OWNER_CACHE_MAX) this.mine.clear();
      this.mine.add(cluster);
    }
    return o;
  }

  onPeersChanged(fn: () => void): () => void {
    const entry = (): void => fn();
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  acquire(cluster: string, signal: AbortSignal): Promise<Fence | undefined> {
    return this.fences.acquire(cluster, signal);
  }

  /** The name of the fence Lease of `cluster` (for operators and tests). */
  fenceLeaseName(cluster: string): string {
    return this.fences.leaseName(cluster);
  }

  /** The name of this replica's membership Lease. */
  get peerLeaseName(): string {
    return this.membership.leaseName;
  }

  private peersChanged(peers: readonly ShardPeer[]): void {
    this.mine.clear();
    this.metrics?.peers(peers.length);
    for (const fn of [...this.listeners]) {
      try {
        fn();
      } catch (e) {
        this.log?.error('a peers-changed listener threw', { err: e });
      }
    }
  }
}
