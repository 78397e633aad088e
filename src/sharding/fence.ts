/**
 * Fences: one Lease per owned cluster, held by the replica that works on it.
 *
 * Taking a fence over from another holder follows one rule, safety first: the record must have been
 * seen by this replica, unchanged (same resourceVersion), for its full leaseDurationSeconds on this
 * replica's monotonic clock (client-go's rule, which needs no agreement between clocks), and its
 * renewTime + leaseDurationSeconds + the skew margin must have passed on this replica's wall clock,
 * where a renewTime later than the moment this replica first saw the record counts as that moment
 * (so a holder whose clock runs ahead cannot keep a dead fence forever). A released fence (empty
 * holder), a missing one and our own are taken at once. Every write carries the resourceVersion it
 * read, so of two racers exactly one wins.
 *
 * The holder renews about every third of the duration (jittered) and retries failures; it
 * measures the lease from the start of its last successful write (no later than the moment others
 * can see that write), and aborts `lost` a margin of max(2 s, duration/4) (at most half the
 * duration) before that runs out, so its work stops before anyone else may take over. Seeing
 * another holder (at a renewal, at most a third of the duration after it wrote) aborts `lost` at once.
 *
 * Every Lease write of the fences (renewals, acquisitions, releases) takes a slot among a bounded
 * number, renewals first: a replica holding 10,000 fences renews about a thousand a second, and
 * left unbounded, a slow moment of the server put hundreds of renewals in flight at once (a socket
 * each, torn down when one timed out) and let new acquisitions compete with them, until the
 * renewals missed their window and thousands of fences were lost together, and taken again, over
 * and over. Bounded and ordered, a server too slow for every renewal sees no new acquisitions
 * until the renewals catch up.
 */
import PQueue from 'p-queue';
import { isAlreadyExists, isConflict, isNotFound, sleep, type ClusterClient } from '../client/index.js';
import type { Logger } from '../log/index.js';
import { LEASE, type Lease, type LeaseSpec } from '../manager/leader.js';
import { parseStamp, stamp, wireSeconds, type WallClock } from './clock.js';
import { FENCE_CLUSTER_ANNOTATION, fenceLeaseName, SHARD_GROUP_LABEL, groupLabelValue, SHARD_ROLE_LABEL } from './names.js';
import type { Fence } from './types.js';

/** Options of `Fences`. */
export interface FencesOptions {
  /** Client of the workspace that holds the Leases. */
  client: ClusterClient;
  /** Namespace of the Leases. */
  namespace: string;
  /** The replica group. */
  group: string;
  /** This replica's shard id (the holder identity). */
  id: string;
  /** Duration of each fence. */
  durationMs: number;
  /** Clock skew allowed when judging another holder's renewTime. */
  skewMs: number;
  /** Wall clock for renewTime. */
  clock: WallClock;
  /** Logger. */
  log?: Logger;
  /** Told how long it took from first asking for a fence to holding it. */
  onWait?: (seconds: number) => void;
  /** Acquisitions and releases in flight at once; default 16 (see `ShardingOptions.maxConcurrentAcquires`). */
  maxConcurrentAcquires?: number;
  /** Lease writes of every kind in flight at once (renewals go first); default 32, at least `maxConcurrentAcquires` + 1. */
  maxConcurrentWrites?: number;
}

/** Priorities among the fence writes: a renewal keeps what is held, an acquisition or release can wait. */
const RENEWAL = 1;
const OTHER = 0;

/** What this replica saw of a fence another replica holds. */
interface Sighting {
  /** resourceVersion of the record. */
  version: string;
  /** Monotonic and wall time at which this replica first saw that version. */
  seenMono: number;
  seenWall: number;
  /** Monotonic time of the first acquire call since the fence was last held (for the wait metric). */
  wantedMono: number;
  /** Monotonic time of the latest acquire call (old sightings are forgotten). */
  triedMono: number;
}

/** How long before its own expiry the holder gives a fence up when renewals keep failing. */
export function lossMargin(durationMs: number): number {
  return Math.min(Math.max(2000, durationMs / 4), durationMs / 2);
}

/** Acquires fences and keeps the ones held. */
export class Fences {
  private readonly o: FencesOptions;
  private readonly sightings = new Map<string, Sighting>();
  private readonly held = new Map<string, LeaseFence>();
  private lastSweep = performance.now();
  private closed = false;
  /** Acquisitions and releases (bounded by `maxConcurrentAcquires`). */
  private readonly turns: PQueue;
  /** Every Lease write, renewals first (bounded by `maxConcurrentWrites`). */
  private readonly writes: PQueue;

  constructor(opts: FencesOptions) {
    this.o = opts;
    const acquires = Math.max(1, opts.maxConcurrentAcquires ?? 16);
    this.turns = new PQueue({ concurrency: acquires });
    // More write slots than turns: however many acquisitions and releases run, a renewal finds a slot.
    this.writes = new PQueue({ concurrency: Math.max(acquires + 1, opts.maxConcurrentWrites ?? 32) });
  }

  /** Runs an acquisition's requests in their turn, behind any waiting renewal. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    return this.turns.add(() => this.writes.add(work, { priority: OTHER }));
  }

  /**
   * A release in its turn: `stop` (the fence's renewals end, its last one settled) before its
   * writes take a slot, so that a release never holds a slot its own renewal waits for.
   */
  private releaseTurn(stop: () => Promise<void>, write: () => Promise<void>): Promise<void> {
    return this.turns.add(async () => {
      await stop();
      await this.writes.add(write, { priority: OTHER });
    });
  }

  /** Runs a renewal's request as soon as a write slot is free, ahead of acquisitions and releases. */
  private renewal<T>(work: () => Promise<T>): Promise<T> {
    return this.writes.add(work, { priority: RENEWAL });
  }

  /** The Lease name of `cluster`'s fence. */
  leaseName(cluster: string): string {
    return fenceLeaseName(this.o.group, cluster);
  }

  /** One attempt at `cluster`'s fence: the held fence, or undefined while another replica holds it. */
  async acquire(cluster: string, signal: AbortSignal): Promise<Fence | undefined> {
    if (this.closed) throw new Error('the shard coordinator has stopped');
    const mine = this.held.get(cluster);
    if (mine?.releasing) {
      // Taking it again before the release has landed would race our own release write.
      await mine.releasing.catch(() => undefined);
    } else if (mine && !mine.lost.aborted) {
      return mine;
    }
    const now = performance.now();
    this.sweep(now);
    let s = this.sightings.get(cluster);
    if (!s) {
      s = { version: '', seenMono: now, seenWall: this.o.clock(), wantedMono: now, triedMono: now };
      this.sightings.set(cluster, s);
    }
    s.triedMono = now;
    const sighting = s;
    // The signal is checked when the turn comes, not handed to the queue: that would add one
    // abort listener per waiting acquisition to the (shared) signal.
    return this.inTurn(() => {
      signal.throwIfAborted();
      return this.take(cluster, sighting, signal);
    });
  }

  /** The read and the write of one acquisition (the rule in this file's comment). */
  private async take(cluster: string, s: Sighting, signal: AbortSignal): Promise<Fence | undefined> {
    if (this.closed) throw new Error('the shard coordinator has stopped');
    // Asked for twice while waiting for a turn: the first turn may have taken it.
    const mine = this.held.get(cluster);
    if (mine && !mine.releasing && !mine.lost.aborted) return mine;
    const key = { namespace: this.o.namespace, name: this.leaseName(cluster) };
    const record: LeaseSpec = { holderIdentity: this.o.id, leaseDurationSeconds: wireSeconds(this.o.durationMs) };

    let current: Lease | undefined;
    try {
      current = await this.o.client.get(LEASE, key, { signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const start = performance.now();
    let written: Lease;
    if (!current) {
      const at = stamp(this.o.clock);
      const lease: Lease = {
        ...LEASE,
        metadata: {
          ...key,
          labels: { [SHARD_GROUP_LABEL]: groupLabelValue(this.o.group), [SHARD_ROLE_LABEL]: 'fence' },
          annotations: { [FENCE_CLUSTER_ANNOTATION]: cluster },
        },
        spec: { ...record, acquireTime: at, renewTime: at, leaseTransitions: 0 },
      };
      try {
        written = await this.o.client.create(lease, { signal });
      } catch (e) {
        if (isAlreadyExists(e)) return undefined;
        throw e;
      }
    } else {
      const guarded = current.metadata?.annotations?.[FENCE_CLUSTER_ANNOTATION];
      if (guarded !== undefined && guarded !== cluster) {
        throw new Error(`fence lease ${key.name} guards cluster ${guarded}, not ${cluster}`);
      }
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      if (holder && holder !== this.o.id && !this.expired(current, s)) {
        this.o.log?.debug('the fence is held by another replica', { cluster, holder });
        return undefined;
      }
      const at = stamp(this.o.clock);
      const ours = holder === this.o.id;
      const next: LeaseSpec = {
        ...record,
        acquireTime: ours ? spec.acquireTime ?? at : at,
        renewTime: at,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      };
      const metadata = { ...current.metadata, annotations: { ...current.metadata?.annotations, [FENCE_CLUSTER_ANNOTATION]: cluster } };
      try {
        written = await this.o.client.update({ ...current, metadata, spec: next }, { signal });
      } catch (e) {
        // Another replica wrote in between (it took or renewed the fence): not ours this time.
        if (isConflict(e) || isNotFound(e)) return undefined;
        throw e;
      }
      if (holder && !ours) this.o.log?.info('took over an expired fence', { cluster, from: holder });
    }
    this.sightings.delete(cluster);
    this.o.onWait?.((performance.now() - s.wantedMono) / 1000);
    const fence = new LeaseFence(this.o, cluster, written, start, () => {
      if (this.held.get(cluster) === fence) this.held.delete(cluster);
    }, { release: (stop, write) => this.releaseTurn(stop, write), renewal: (write) => this.renewal(write) });
    this.held.set(cluster, fence);
    return fence;
  }

  /** Stops renewing every held fence and aborts its `lost` (they expire on their own; nothing is released). */
  close(reason: string): void {
    this.closed = true;
    for (const f of [...this.held.values()]) f.abandon(reason);
    this.held.clear();
    this.sightings.clear();
  }

  /** Whether another holder's record counts as expired (the rule in this file's comment). */
  private expired(current: Lease, s: Sighting): boolean {
    const nowMono = performance.now();
    const nowWall = this.o.clock();
    const version = current.metadata?.resourceVersion ?? JSON.stringify(current.spec ?? {});
    if (version !== s.version) {
      s.version = version;
      s.seenMono = nowMono;
      s.seenWall = nowWall;
      return false;
    }
    const seconds = current.spec?.leaseDurationSeconds;
    const durationMs = seconds && seconds > 0 ? seconds * 1000 : this.o.durationMs;
    if (nowMono - s.seenMono < durationMs) return false;
    const renewed = Math.min(parseStamp(current.spec?.renewTime) ?? s.seenWall, s.seenWall);
    return renewed + durationMs + this.o.skewMs < nowWall;
  }

  /** Forgets sightings of fences nobody asked about for a while (clusters this replica stopped wanting). */
  private sweep(now: number): void {
    const idle = 3 * this.o.durationMs;
    if (now - this.lastSweep < idle) return;
    this.lastSweep = now;
    for (const [cluster, s] of this.sightings) if (now - s.triedMono > idle) this.sightings.delete(cluster);
  }
}

/** How a held fence's writes wait for a slot. */
interface FenceSlots {
  /** A release: in turn with the acquisitions, `stop` first, then `write` in a slot. */
  release(stop: () => Promise<void>, write: () => Promise<void>): Promise<void>;
  /** A renewal: first. */
  renewal<T>(write: () => Promise<T>): Promise<T>;
}

/** A held fence: renewed until released or lost. */
class LeaseFence implements Fence {
  readonly lost: AbortSignal;
  private readonly lostCtrl = new AbortController();
  private readonly stopCtrl = new AbortController();
  private readonly key: { namespace: string; name: string };
  private readonly renewing: Promise<void>;
  /** Set by `release()`: settles once the release is written (or failed). */
  releasing: Promise<void> | undefined;

  constructor(
    private readonly o: FencesOptions,
    readonly cluster: string,
    private lease: Lease,
    /** Monotonic start of the last successful write. */
    private renewedAt: number,
    private readonly onEnd: () => void,
    /** How its writes wait for a slot (the rule in this file's comment). */
    private readonly slots: FenceSlots,
  ) {
    this.lost = this.lostCtrl.signal;
    this.key = { namespace: o.namespace, name: lease.metadata!.name! };
    this.renewing = this.renewLoop().catch((e: unknown) => this.lose(`renewing failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  release(): Promise<void> {
    // In its turn among the acquisitions: a stopping replica releases thousands at once.
    this.releasing ??= this.slots.release(() => this.stopRenewing(), () => this.clear()).finally(() => this.onEnd());
    return this.releasing;
  }

  /** Ends the renewals; settles once the last one did (the fence is still held, unless lost). */
  private async stopRenewing(): Promise<void> {
    this.stopCtrl.abort();
    await this.renewing;
  }

  private async clear(): Promise<void> {
    if (this.lost.aborted) return;
    const signal = AbortSignal.timeout(Math.ceil(this.o.durationMs));
    const cleared = (l: Lease): Lease => ({ ...l, spec: { ...l.spec, holderIdentity: '', renewTime: stamp(this.o.clock) } });
    try {
      await this.o.client.update(cleared(this.lease), { signal });
    } catch (e) {
      if (!isConflict(e)) throw e;
      // A renewal cut short by release() may still have landed and moved the resourceVersion on.
      const current = await this.o.client.get(LEASE, this.key, { signal });
      if (current.spec?.holderIdentity !== this.o.id) return;
      await this.o.client.update(cleared(current), { signal });
    }
    this.o.log?.debug('released the fence', { cluster: this.cluster });
  }

  /** Stops renewing and aborts `lost` without writing: the fence expires on its own. */
  abandon(reason: string): void {
    this.stopCtrl.abort();
    this.lose(reason);
  }

  private lose(reason: string): void {
    if (this.lost.aborted) return;
    this.stopCtrl.abort();
    this.onEnd();
    this.o.log?.info('lost the fence', { cluster: this.cluster, reason });
    this.lostCtrl.abort(new Error(`fence of cluster ${this.cluster} lost: ${reason}`));
  }

  private async renewLoop(): Promise<void> {
    const stop = this.stopCtrl.signal;
    const d = this.o.durationMs;
    // Fences acquired together would otherwise renew together forever: a burst of writes every
    // third of the duration instead of a steady rate. Each interval is jittered by ±10 %.
    const every = (): number => (d / 3) * (0.9 + 0.2 * Math.random());
    const retry = Math.min(1000, Math.max(50, d / 20));
    const margin = lossMargin(d);
    for (;;) {
      if (!(await sleep(Math.max(0, this.renewedAt + every() - performance.now()), stop).then(() => true, () => false))) return;
      for (;;) {
        const start = performance.now();
        const deadline = this.renewedAt + d - margin;
        if (start >= deadline) return this.lose(`renewals failed for ${Math.round(d - margin)} ms`);
        const signal = AbortSignal.any([stop, AbortSignal.timeout(Math.max(1, Math.ceil(deadline - start)))]);
        const next: LeaseSpec = { ...this.lease.spec, holderIdentity: this.o.id, leaseDurationSeconds: wireSeconds(d), renewTime: stamp(this.o.clock) };
        try {
          this.lease = await this.slots.renewal(() => {
            signal.throwIfAborted();
            return this.o.client.update({ ...this.lease, spec: next }, { signal });
          });
          this.renewedAt = start;
          break;
        } catch (e) {
          if (stop.aborted) return;
          if (isNotFound(e)) return this.lose('the fence lease was deleted');
          if (isConflict(e)) {
            const holder = await this.reread(signal);
            if (holder !== undefined && holder !== this.o.id) return this.lose(`the fence is held by ${holder || 'nobody'}`);
            if (holder !== undefined) continue;
          } else {
            this.o.log?.warn('renewing the fence failed; retrying', { cluster: this.cluster, err: e });
          }
        }
        if (!(await sleep(Math.min(retry, Math.max(0, this.renewedAt + d - margin - performance.now())), stop).then(() => true, () => false))) return;
      }
    }
  }

  /** Reads the fence after a conflict: its holder ('' when released), or undefined when the read failed. */
  private async reread(signal: AbortSignal): Promise<string | undefined> {
    try {
      this.lease = await this.o.client.get(LEASE, this.key, { signal });
      return this.lease.spec?.holderIdentity ?? '';
    } catch (e) {
      if (isNotFound(e)) return 'nobody (deleted)';
      this.o.log?.warn('reading the fence after a conflict failed', { cluster: this.cluster, err: e });
      return undefined;
    }
  }
}
