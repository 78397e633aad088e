/**
 * The ownership gate between a provider and the cluster lifecycle, when replicas shard clusters.
 * Every replica's provider reports every cluster; this router passes on only those the coordinator
 * says this replica owns, each once its fence is held:
 *
 *   reported ──► should own? ──► acquire fence ──► engaged (lifecycle: sync, enqueue, reconcile)
 *                    │ no                              │ peers changed / fence lost / cluster left
 *                    ▼                                 ▼
 *                 (idle)          stop handing out its keys, drop its queue, abort in-flight,
 *                                 wait for them to settle, release the fence ──► re-evaluate
 *
 * Clusters whose fence another replica still holds are retried on one shared timer.
 *
 * Memory follows ownership: a cluster is admitted to the shared caches (`Cluster.admit`) before it
 * engages and evicted once its hand-off settled, so a replica caches only the clusters it owns
 * (with a provider whose clusters implement it; others keep every cluster cached).
 */
import { abortError } from '../client/index.js';
import type { Controller } from '../controller/controller.js';
import type { Logger } from '../log/index.js';
import { Engagement, reportEngagement } from '../provider/engagement.js';
import type { Aware, Cluster } from '../provider/types.js';
import type { ShardMetrics } from '../metrics/index.js';
import type { Coordinator, Fence } from '../sharding/index.js';

/** Hooks the router reports through (`RuntimeMetrics.shard`; the coordinator reports peers and fence waits). */
export type ShardHooks = Pick<ShardMetrics, 'ownedClusters' | 'handoff'>;

/** Options of the router. */
export interface ShardRouterOptions {
  /** Logger (hand-offs are logged at info). */
  log: Logger;
  /** The controllers whose in-flight reconciles a hand-off waits for. */
  controllers: () => readonly Controller[];
  /** How long a hand-off waits for aborted reconciles to settle before it releases the fence. */
  settleMs: number;
  /** How often clusters whose fence is held elsewhere are tried again; default 1000 ms. */
  retryMs?: number;
  /** Metric hooks. */
  hooks?: ShardHooks;
}

/** What a router keeps of a cluster while it acquires, owns or hands it off. */
class Owning {
  fence: Fence | undefined = undefined;
  engagement: Engagement | undefined = undefined;
  acquiring = false;
  admitted = false;
  leaving: Promise<void> | undefined = undefined;
}

/**
 * One reported cluster. Every replica keeps one per workspace, most of them owned elsewhere: the
 * ownership state lives in an `Owning` made only when needed, and the entry is its own engagement
 * listener (with the router's one `left` function) rather than holding a closure.
 */
class Entry {
  private state: Owning | undefined = undefined;

  constructor(
    readonly name: string,
    readonly cluster: Cluster,
    /** The provider's signal or engagement for this report (what a repeated report is compared by). */
    readonly source: AbortSignal | Engagement,
    private readonly left: (e: Entry) => void,
  ) {}

  private get owning(): Owning {
    return (this.state ??= new Owning());
  }

  /** The fence while held. */
  get fence(): Fence | undefined {
    return this.state?.fence;
  }
  set fence(v: Fence | undefined) {
    if (v || this.state) this.owning.fence = v;
  }

  /** The lifecycle engagement while the cluster is engaged here; ended on hand-off. */
  get engagement(): Engagement | undefined {
    return this.state?.engagement;
  }
  set engagement(v: Engagement | undefined) {
    if (v || this.state) this.owning.engagement = v;
  }

  /** A fence acquisition is under way. */
  get acquiring(): boolean {
    return this.state?.acquiring ?? false;
  }
  set acquiring(v: boolean) {
    if (v || this.state) this.owning.acquiring = v;
  }

  /** The cluster's objects are in the shared caches (admitted) until the hand-off evicts them. */
  get admitted(): boolean {
    return this.state?.admitted ?? false;
  }
  set admitted(v: boolean) {
    if (v || this.state) this.owning.admitted = v;
  }

  /** Set from the moment a hand-off begins until the fence is released. */
  get leaving(): Promise<void> | undefined {
    return this.state?.leaving;
  }
  set leaving(v: Promise<void> | undefined) {
    if (v || this.state) this.owning.leaving = v;
  }

  /** Drops the ownership state once nothing is held or under way (after a hand-off). */
  idle(): void {
    const st = this.state;
    if (st && !st.fence && !st.engagement && !st.acquiring && !st.admitted && !st.leaving) this.state = undefined;
  }

  /** The provider ended the report: the cluster left. */
  engagementEnded(): void {
    this.left(this);
  }
}

/** Passes the clusters this replica owns on to `inner`, fenced, and hands them off when ownership moves. */
export class ShardRouter implements Aware {
  private readonly entries = new Map<string, Entry>();
  private readonly retry = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly stopCtl = new AbortController();
  private readonly unsubscribe: () => void;
  /** Clusters engaged here now (the kcp_mc_shard_owned_clusters gauge). */
  private owned = 0;
  /** What every entry calls when its cluster leaves (one function for all). */
  private readonly left = (e: Entry): void => this.forget(e, 'the cluster left');

  constructor(
    private readonly coordinator: Coordinator,
    private readonly inner: Aware,
    private readonly opts: ShardRouterOptions,
  ) {
    this.unsubscribe = coordinator.onPeersChanged(() => {
      for (const e of this.entries.values()) this.evaluate(e);
    });
  }

  /** Records a reported cluster and engages it if this replica owns it. */
  engage(name: string, cluster: Cluster, signal: AbortSignal): void {
    const e = this.record(name, cluster, signal, signal.aborted);
    if (!e) return;
    signal.addEventListener('abort', () => this.left(e), { once: true });
    this.evaluate(e);
  }

  /**
   * As `engage`, with the provider's `Engagement`: no AbortSignal per reported cluster (every
   * replica sees every cluster, and a signal with its listener is most of what one costs here).
   */
  engageWith(name: string, cluster: Cluster, engagement: Engagement): void {
    const e = this.record(name, cluster, engagement, engagement.ended);
    if (!e) return;
    engagement.onEnd(e);
    this.evaluate(e);
  }

  /** The new entry of a report, replacing an earlier one; undefined when it is a repeat or over already. */
  private record(name: string, cluster: Cluster, source: AbortSignal | Engagement, ended: boolean): Entry | undefined {
    const prev = this.entries.get(name);
    if (prev && prev.cluster === cluster && prev.source === source) return undefined;
    if (prev) this.forget(prev, 'the provider reported it anew');
    if (ended || this.stopCtl.signal.aborted) return undefined;
    const e = new Entry(name, cluster, source, this.left);
    this.entries.set(name, e);
    return e;
  }

  /** Whether this replica works on `name` now: engaged, fenced, not leaving, and still its owner. */
  owns(name: string): boolean {
    const e = this.entries.get(name);
    if (!e || !e.engagement || e.leaving) return false;
    if (e.cluster.unsharded) return true;
    return e.fence !== undefined && !e.fence.lost.aborted && this.coordinator.owner(name) === this.coordinator.id;
  }

  /** The replica that should own `name` (unsharded clusters: this one). */
  ownerOf(name: string): string {
    const e = this.entries.get(name);
    return e?.cluster.unsharded ? this.coordinator.id : this.coordinator.owner(name);
  }

  /** Hands every cluster off (reconciles settle, fences released) and stops; for shutdown. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    this.unsubscribe();
    clearTimeout(this.timer);
    this.retry.clear();
    await Promise.all([...this.entries.values()].map((e) => this.handOff(e, 'shutting down')));
    this.entries.clear();
  }

  private evaluate(e: Entry): void {
    if (this.stopCtl.signal.aborted || this.entries.get(e.name) !== e || e.leaving) return;
    const owner = this.ownerOf(e.name);
    if (owner !== this.coordinator.id) {
      this.retry.delete(e);
      if (e.engagement || e.fence) void this.handOff(e, `replica ${owner} owns it now`);
      else e.idle();
      return;
    }
    if (e.engagement || e.acquiring) return;
    if (e.cluster.unsharded) return this.gain(e, undefined);
    e.acquiring = true;
    this.coordinator.acquire(e.name, this.stopCtl.signal).then(
      (fence) => {
        e.acquiring = false;
        if (!fence) return this.later(e);
        if (this.entries.get(e.name) !== e || this.stopCtl.signal.aborted || this.ownerOf(e.name) !== this.coordinator.id) {
          // Ownership moved (or the cluster left) while acquiring: give it straight back.
          void fence.release().catch((err: unknown) => this.opts.log.warn('releasing a fence failed', { cluster: e.name, err }));
          return this.evaluate(e);
        }
        this.gain(e, fence);
      },
      (err: unknown) => {
        e.acquiring = false;
        if (this.stopCtl.signal.aborted) return;
        this.opts.log.warn('acquiring a cluster fence failed; will retry', { cluster: e.name, err });
        this.later(e);
      },
    );
  }

  private gain(e: Entry, fence: Fence | undefined): void {
    e.fence = fence;
    const engagement = new Engagement();
    e.engagement = engagement;
    if (fence) {
      const lost = (): void => void this.handOff(e, `fence lost: ${abortError(fence.lost).message}`);
      if (fence.lost.aborted) queueMicrotask(lost);
      else fence.lost.addEventListener('abort', lost, { once: true });
    }
    this.owned++;
    this.opts.hooks?.ownedClusters(this.owned);
    this.opts.hooks?.handoff('gained');
    this.opts.log.info('cluster gained', { cluster: e.name, ...(fence ? {} : { unsharded: true }), peers: this.coordinator.peers().length });
    // Before the engagement: its controllers wait until the cluster's part of each cache is filled.
    e.admitted = true;
    e.cluster.admit?.();
    // The provider ending the report (the cluster left) ends this engagement too, through forget().
    reportEngagement(this.inner, e.name, e.cluster, engagement);
  }

  /**
   * Lets a cluster go: its engagement ends (the controllers drop its queued keys and abort its
   * reconciles), the hand-off waits until those reconciles settled (bounded by `settleMs`), and
   * only then releases the fence, so the next owner never overlaps this one.
   */
  private handOff(e: Entry, reason: string): Promise<void> {
    if (e.leaving) return e.leaving;
    const engagement = e.engagement;
    const fence = e.fence;
    if (!engagement && !fence) return Promise.resolve();
    const leaving = (async () => {
      if (engagement) {
        engagement.end();
        this.owned--;
        this.opts.hooks?.ownedClusters(this.owned);
        this.opts.hooks?.handoff('lost');
      }
      const settled = await this.settle(e.name);
      // Only now: a reconcile still settling may read the cache. Nothing reconciles the eviction.
      if (e.admitted) {
        e.admitted = false;
        e.cluster.evict?.();
      }
      if (fence) {
        await fence.release().catch((err: unknown) => this.opts.log.warn('releasing a fence failed; it expires on its own', { cluster: e.name, err }));
      }
      this.opts.log.info('cluster handed off', { cluster: e.name, reason, ...(settled ? {} : { settleTimedOutMs: this.opts.settleMs }) });
    })();
    e.leaving = leaving;
    return leaving.finally(() => {
      e.fence = undefined;
      e.engagement = undefined;
      e.leaving = undefined;
      e.idle();
      this.evaluate(e);
    });
  }

  /** Waits for every controller's reconciles of `name` to settle; false when `settleMs` ran out first. */
  private async settle(name: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, this.opts.settleMs))));
    try {
      return await Promise.race([Promise.all(this.opts.controllers().map((c) => c.settled(name))).then(() => true), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private forget(e: Entry, reason: string): void {
    if (this.entries.get(e.name) === e) this.entries.delete(e.name);
    this.retry.delete(e);
    void this.handOff(e, reason);
  }

  /** Tries `e` again on the shared timer (one timer, however many clusters wait for a fence). */
  private later(e: Entry): void {
    if (this.entries.get(e.name) !== e || this.stopCtl.signal.aborted) return;
    this.retry.add(e);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const due = [...this.retry];
      this.retry.clear();
      for (const d of due) this.evaluate(d);
    }, this.opts.retryMs ?? 1_000);
    this.timer.unref();
  }
}
