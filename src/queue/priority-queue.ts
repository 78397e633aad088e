/**
 * A work queue with client-go's guarantees (a key is stored once and never handed to two workers
 * at a time) and controller-runtime's priority-queue ordering (priority, then FIFO), plus fairness
 * across clusters within a priority, a real drain on shutdown, and O(log n) operations throughout.
 */
import { Entry, HELD, PROCESSING, READY, WAITING, type ClusterIndex } from './entry.js';
import { Fifo, IndexedHeap } from './heap.js';
import { ItemExponentialRateLimiter } from './rate-limiter.js';
import { ReadyLevels } from './ready.js';
import type { AddOptions, GetResult, QueueMetrics, RateLimiter, WorkQueue } from './types.js';

/** Options of a `PriorityQueue`. */
export interface PriorityQueueOptions<K> {
  /** Identity of an item (items with equal keys are the same item). */
  keyOf: (item: K) => string;
  /** The cluster of an item, for fairness and dropCluster; default: everything in one cluster ''. */
  clusterOf?: (item: K) => string;
  /** Round-robin across clusters within a priority level; default true. */
  fairness?: boolean;
  /** Default: new ItemExponentialRateLimiter(5, 1_000_000, keyOf) (5 ms doubling, capped at 1000 s). */
  rateLimiter?: RateLimiter<K>;
  /** Hooks for the workqueue_* metrics. */
  metrics?: QueueMetrics;
  /** Clock in ms (tests); default performance.now. */
  now?: () => number;
  /** Starts a timer (tests may inject fakes); default setTimeout, unref'd. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** Cancels a timer made by `setTimer`; default clearTimeout. */
  clearTimer?: (t: unknown) => void;
}

/** setTimeout's largest delay; longer waits are re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const defaultSetTimer = (fn: () => void, ms: number): unknown => {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
};
const defaultClearTimer = (t: unknown): void => clearTimeout(t as ReturnType<typeof setTimeout>);

/** The work queue controllers use: priorities, delays, per-cluster fairness, one timer. */
export class PriorityQueue<K> implements WorkQueue<K> {
  private readonly keyOf: (item: K) => string;
  private readonly clusterOf: (item: K) => string;
  private readonly fairness: boolean;
  private readonly rateLimiter: RateLimiter<K>;
  private readonly metrics: QueueMetrics | undefined;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  private readonly entries = new Map<string, Entry<K>>();
  private readonly clusters = new Map<string, ClusterIndex<K>>();
  /** Clusters whose due items are kept back (`hold`) until `release`. */
  private readonly heldClusters = new Set<string>();
  private readonly ready = new ReadyLevels<Entry<K>>();
  private readonly waiting = new IndexedHeap<Entry<K>>((a, b) => a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq));
  private readonly getters = new Fifo<(r: GetResult<K>) => void>();
  /** Processing entries, oldest hand-out first. */
  private procHead: Entry<K> | undefined = undefined;
  private procTail: Entry<K> | undefined = undefined;
  private procCount = 0;
  private drainers: (() => void)[] = [];
  private seq = 0;
  private timer: unknown = undefined;
  private timerAt = 0;
  private stopped = false;

  constructor(opts: PriorityQueueOptions<K>) {
    this.keyOf = opts.keyOf;
    this.clusterOf = opts.clusterOf ?? (() => '');
    this.fairness = opts.fairness ?? true;
    this.rateLimiter = opts.rateLimiter ?? new ItemExponentialRateLimiter<K>(5, 1_000_000, opts.keyOf);
    this.metrics = opts.metrics;
    this.now = opts.now ?? (() => performance.now());
    this.setTimer = opts.setTimer ?? defaultSetTimer;
    this.clearTimer = opts.clearTimer ?? defaultClearTimer;
  }

  /** Whether shutDown was called. */
  get shuttingDown(): boolean {
    return this.stopped;
  }

  /** Adds (or merges into) the item: highest priority and earliest ready time win. */
  add(item: K, opts: AddOptions = {}): void {
    if (this.stopped) return;
    this.metrics?.added();
    const key = this.keyOf(item);
    const priority = opts.priority === undefined || Number.isNaN(opts.priority) ? 0 : opts.priority;
    const after = opts.after !== undefined && opts.after > 0 ? opts.after : 0;
    let delay = after;
    if (opts.rateLimited) {
      const backoff = this.rateLimiter.when(item);
      delay = after > 0 ? Math.min(after, backoff) : backoff;
    }
    if (!(delay > 0)) delay = 0;
    if (delay > 0) this.metrics?.retried();
    const now = this.now();
    const readyAt = now + delay;

    const e = this.entries.get(key);
    if (e === undefined) {
      const cluster = this.clusterOf(item);
      const created = new Entry(key, item, cluster, this.fairness ? cluster : '', priority, readyAt, this.seq++);
      this.entries.set(key, created);
      this.linkCluster(created);
      this.enqueue(created, now);
    } else if (e.state === PROCESSING) {
      // A processing key is never handed out twice; the add waits for done, merged with any earlier one.
      const f = e.followUp;
      if (f === undefined) e.followUp = { item, priority, readyAt };
      else {
        f.priority = Math.max(f.priority, priority);
        f.readyAt = Math.min(f.readyAt, readyAt);
      }
      return;
    } else if (e.state === READY || e.state === HELD) {
      if (priority > e.priority) {
        if (e.state === READY) this.ready.remove(e);
        this.metrics?.depth(e.priority, -1);
        e.priority = priority;
        if (e.state === READY) this.ready.push(e);
        this.metrics?.depth(e.priority, 1);
      }
    } else {
      e.priority = Math.max(e.priority, priority);
      if (readyAt <= now) {
        this.waiting.remove(e);
        this.makeReady(e, now);
      } else if (readyAt < e.readyAt) {
        e.readyAt = readyAt;
        this.waiting.update(e);
      }
    }
    this.arm();
    this.dispatch();
  }

  /** `add(item, { after: ms })`. */
  addAfter(item: K, ms: number): void {
    this.add(item, { after: ms });
  }

  /** `add(item, { rateLimited: true })`. */
  addRateLimited(item: K): void {
    this.add(item, { rateLimited: true });
  }

  /** Resets the item's backoff. */
  forget(item: K): void {
    this.rateLimiter.forget(item);
  }

  /** Failures counted for the item. */
  numRequeues(item: K): number {
    return this.rateLimiter.numRequeues(item);
  }

  /**
   * The next ready item, waiting for one if none is; callers are served in call order. Resolves
   * `{ shutdown: true }` at once after shutDown or shutDownWithDrain, and for calls still waiting then.
   */
  get(): Promise<GetResult<K>> {
    if (this.stopped) return Promise.resolve({ shutdown: true });
    // Items may be due before the timer has run; earlier callers still go first.
    this.promoteDue();
    this.dispatch();
    if (this.ready.size > 0) return Promise.resolve(this.handOut());
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The worker is finished with the item; an add recorded meanwhile now takes effect. */
  done(item: K): void {
    const e = this.entries.get(this.keyOf(item));
    if (e === undefined || e.state !== PROCESSING) return;
    this.unlinkProcessing(e);
    const now = this.now();
    this.metrics?.worked(Math.max(0, now - e.since) / 1000);
    const f = e.followUp;
    e.followUp = undefined;
    if (f !== undefined && !this.stopped) {
      e.item = f.item;
      e.priority = f.priority;
      e.readyAt = f.readyAt;
      e.seq = this.seq++;
      this.enqueue(e, now);
      this.arm();
      this.dispatch();
    } else this.forgetEntry(e);
    if (this.stopped && this.procCount === 0) this.finishDrain();
  }

  /** Ready items (not counting waiting or processing ones). */
  len(): number {
    return this.ready.size;
  }

  /**
   * Keeps back the items of `cluster` from now on: they are stored, merged and delayed as usual,
   * but none is handed out until `release(cluster)` (a cluster whose caches are still syncing).
   * Items already handed out are not affected. Costs nothing per item until release.
   */
  hold(cluster: string): void {
    if (this.heldClusters.has(cluster)) return;
    this.heldClusters.add(cluster);
    for (let e = this.clusters.get(cluster)?.head; e !== undefined; e = e.cNext) {
      if (e.state !== READY) continue;
      this.ready.remove(e);
      e.state = HELD;
    }
  }

  /** Ends a `hold`: the cluster's due items become ready, in their priority and arrival order. */
  release(cluster: string): void {
    if (!this.heldClusters.delete(cluster)) return;
    const due: Entry<K>[] = [];
    for (let e = this.clusters.get(cluster)?.head; e !== undefined; e = e.cNext) if (e.state === HELD) due.push(e);
    // The cluster list is newest first; the ready levels keep arrival order within a priority.
    due.sort((a, b) => a.seq - b.seq);
    for (const e of due) {
      e.state = READY;
      this.ready.push(e);
    }
    this.dispatch();
  }

  /** Whether `cluster` is held. */
  isHeld(cluster: string): boolean {
    return this.heldClusters.has(cluster);
  }

  /**
   * Drops every waiting, held and ready item of `cluster` and discards the adds recorded for its items
   * being processed (their `done` still works and re-adds nothing); forgets their backoff. Returns
   * how many items were dropped, discarded follow-up adds included.
   */
  dropCluster(cluster: string): number {
    const idx = this.clusters.get(cluster);
    if (idx === undefined) return 0;
    let dropped = 0;
    for (let e = idx.head; e !== undefined; ) {
      const next = e.cNext;
      this.rateLimiter.forget(e.item);
      if (e.state === PROCESSING) {
        if (e.followUp !== undefined) dropped++;
        e.followUp = undefined;
      } else {
        if (e.state === READY || e.state === HELD) {
          if (e.state === READY) this.ready.remove(e);
          this.metrics?.depth(e.priority, -1);
        } else this.waiting.remove(e);
        this.forgetEntry(e);
        dropped++;
      }
      e = next;
    }
    this.arm();
    return dropped;
  }

  /** Stops handing out items; pending and later `get()` calls resolve `{ shutdown: true }`. Adds are ignored from now on. */
  shutDown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.arm();
    for (let g = this.getters.shift(); g !== undefined; g = this.getters.shift()) g({ shutdown: true });
  }

  /** As `shutDown`, but resolves once every item handed out is `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.procCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  /** Seconds the items now being processed have been held, summed (workqueue_unfinished_work_seconds). */
  unfinishedSeconds(): number {
    const now = this.now();
    let ms = 0;
    for (let e = this.procHead; e !== undefined; e = e.pNext) ms += Math.max(0, now - e.since);
    return ms / 1000;
  }

  /** Seconds the longest-held item being processed has been held (workqueue_longest_running_processor_seconds). */
  longestRunningSeconds(): number {
    const now = this.now();
    let ms = 0;
    // The list is in hand-out order, but an injected clock need not be monotonic: look at all.
    for (let e = this.procHead; e !== undefined; e = e.pNext) ms = Math.max(ms, now - e.since);
    return ms / 1000;
  }

  /** Puts an entry that is in no structure into the ready levels or the waiting heap. */
  private enqueue(e: Entry<K>, now: number): void {
    if (e.readyAt <= now) this.makeReady(e, now);
    else {
      e.state = WAITING;
      this.waiting.push(e);
    }
  }

  private makeReady(e: Entry<K>, now: number): void {
    e.since = now;
    this.metrics?.depth(e.priority, 1);
    if (this.heldClusters.has(e.cluster)) {
      e.state = HELD;
      return;
    }
    e.state = READY;
    this.ready.push(e);
  }

  private handOut(): GetResult<K> {
    const e = this.ready.shift()!;
    const now = this.now();
    this.metrics?.depth(e.priority, -1);
    this.metrics?.queued(Math.max(0, now - e.since) / 1000);
    e.state = PROCESSING;
    e.since = now;
    e.pPrev = this.procTail;
    e.pNext = undefined;
    if (this.procTail === undefined) this.procHead = e;
    else this.procTail.pNext = e;
    this.procTail = e;
    this.procCount++;
    return { shutdown: false, item: e.item, priority: e.priority };
  }

  private unlinkProcessing(e: Entry<K>): void {
    if (e.pPrev === undefined) this.procHead = e.pNext;
    else e.pPrev.pNext = e.pNext;
    if (e.pNext === undefined) this.procTail = e.pPrev;
    else e.pNext.pPrev = e.pPrev;
    e.pPrev = undefined;
    e.pNext = undefined;
    this.procCount--;
  }

  /** Hands ready items to waiting callers, oldest caller first. */
  private dispatch(): void {
    if (this.stopped) return;
    while (this.getters.length > 0 && this.ready.size > 0) this.getters.shift()!(this.handOut());
  }

  private promoteDue(): void {
    const now = this.now();
    for (let e = this.waiting.peek(); e !== undefined && e.readyAt <= now; e = this.waiting.peek()) {
      this.waiting.pop();
      this.makeReady(e, now);
    }
  }

  /** Keeps exactly one timer, for the earliest waiting item (none when nothing waits or after shutdown). */
  private arm(): void {
    const top = this.waiting.peek();
    if (this.stopped || top === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && this.timerAt === top.readyAt) return;
    this.disarm();
    this.timerAt = top.readyAt;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, top.readyAt - this.now()));
    this.timer = this.setTimer(() => this.fire(), delay);
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.clearTimer(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.promoteDue();
    this.arm();
    this.dispatch();
  }

  private linkCluster(e: Entry<K>): void {
    let idx = this.clusters.get(e.cluster);
    if (idx === undefined) {
      idx = { head: undefined };
      this.clusters.set(e.cluster, idx);
    }
    e.cNext = idx.head;
    if (idx.head !== undefined) idx.head.cPrev = e;
    idx.head = e;
  }

  /** Removes an entry that is in no structure from the key map and its cluster's list. */
  private forgetEntry(e: Entry<K>): void {
    this.entries.delete(e.key);
    if (e.cPrev !== undefined) e.cPrev.cNext = e.cNext;
    else {
      const idx = this.clusters.get(e.cluster)!;
      idx.head = e.cNext;
      if (idx.head === undefined) this.clusters.delete(e.cluster);
    }
    if (e.cNext !== undefined) e.cNext.cPrev = e.cPrev;
    e.cPrev = undefined;
    e.cNext = undefined;
  }

  private finishDrain(): void {
    const drainers = this.drainers;
    this.drainers = [];
    for (const d of drainers) d();
  }
}
