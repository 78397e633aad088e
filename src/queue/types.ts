/** The work queue's contract, as controllers use it. */

/** How an item enters the queue (controller-runtime's `AddOpts`). */
export interface AddOptions {
  /** Ready no earlier than this many ms from now. */
  after?: number;
  /** Delay by the rate limiter's backoff for this item (the smaller of this and `after` wins). */
  rateLimited?: boolean;
  /** Higher is handed out first; default 0. Initial-list events use `LOW_PRIORITY`. */
  priority?: number;
}

/** The priority of initial-list events and resyncs (controller-runtime's `LowPriority`). */
export const LOW_PRIORITY = -100;

/** What `get()` hands out. */
export type GetResult<K> =
  | {
      /** False: an item was handed out. */
      shutdown: false;
      /** The item; call `done(item)` when finished with it. */
      item: K;
      /** The priority it was queued at (higher runs first). */
      priority: number;
    }
  | {
      /** True: the queue shut down and is drained; stop the worker. */
      shutdown: true;
    };

/** Per-item retry delays. */
export interface RateLimiter<K> {
  /** Delay (ms) before the item's next retry; counts a failure. */
  when(item: K): number;
  /** Resets the item's failures. */
  forget(item: K): void;
  /** Failures counted for the item. */
  numRequeues(item: K): number;
}

/** Hooks through which a queue reports the `workqueue_*` metrics. */
export interface QueueMetrics {
  /** An add (workqueue_adds_total). */
  added(): void;
  /** Ready items at `priority` changed by `delta` (workqueue_depth{priority}). */
  depth(priority: number, delta: number): void;
  /** An add with a delay (workqueue_retries_total). */
  retried(): void;
  /** Seconds an item waited ready before a worker took it (workqueue_queue_duration_seconds). */
  queued(seconds: number): void;
  /** Seconds a worker held an item (workqueue_work_duration_seconds). */
  worked(seconds: number): void;
}

/** A work queue with client-go and controller-runtime priority-queue semantics. */
export interface WorkQueue<K> {
  /** Adds (or merges into) the item: highest priority and earliest ready time win. */
  add(item: K, opts?: AddOptions): void;
  /** `add(item, { after: ms })`. */
  addAfter(item: K, ms: number): void;
  /** `add(item, { rateLimited: true })`. */
  addRateLimited(item: K): void;
  /** Resets the item's backoff. */
  forget(item: K): void;
  /** Failures counted for the item. */
  numRequeues(item: K): number;
  /** The next ready item; resolves `{ shutdown: true }` at once after either shutdown call. */
  get(): Promise<GetResult<K>>;
  /** The worker is finished with the item; a re-add while processing makes it ready again now. */
  done(item: K): void;
  /** Ready items (not counting waiting or processing ones). */
  len(): number;
  /** Keeps the items of `cluster` back (stored, merged, never handed out) until `release(cluster)`. */
  hold(cluster: string): void;
  /** Ends a `hold`: the cluster's due items become ready. */
  release(cluster: string): void;
  /** Drops every waiting, held and ready item of `cluster`, and its timers; returns how many. */
  dropCluster(cluster: string): number;
  /** Stops handing out items; pending `get()` calls resolve `{ shutdown: true }`. */
  shutDown(): void;
  /** As `shutDown`, but resolves once every item handed out is `done`. */
  shutDownWithDrain(): Promise<void>;
  /** Whether shutDown was called. */
  readonly shuttingDown: boolean;
}
