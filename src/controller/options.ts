/** A controller's options, what the manager hands it, and what each reconcile reports. */
import type { Logger } from '../log/index.js';
import type { ControllerMetrics } from '../metrics/types.js';
import type { RateLimiter } from '../queue/index.js';
import type { ErrorPolicy, Request } from './types.js';

/** Options of a controller; unset ones come from the manager's defaults. */
export interface ControllerOptions {
  /** Reconciles running at once; default 1. */
  maxConcurrentReconciles?: number;
  /** Retry delays; default per-item exponential 5 ms doubling to 1000 s. */
  rateLimiter?: RateLimiter<Request>;
  /** Round-robin across clusters within a priority level; default true. */
  fairness?: boolean;
  /** A reconcile's signal aborts after this many ms (counted in reconcile_timeouts_total); default none. */
  reconcileTimeoutMs?: number;
  /** How long an engagement may wait for the informers to sync before it fails (and is retried); default 2 min. */
  cacheSyncTimeoutMs?: number;
  /** Decides what a failed reconcile does next; default backoff. */
  errorPolicy?: ErrorPolicy;
  /** Whether the controller waits for leadership when leader election is on; default true. */
  needLeaderElection?: boolean;
}

/** What the manager gives a controller. */
export interface ControllerDeps {
  /** Logger the controller's lines go to; it adds `controller` and per-reconcile fields. */
  log: Logger;
  /** Aborts when the manager shuts down. */
  signal: AbortSignal;
  /**
   * Whether this replica owns `cluster` now (sharding); asked at every dequeue. A request for a
   * cluster not owned is dropped, never reconciled. Absent: every cluster is owned.
   */
  owns?: (cluster: string) => boolean;
  /** Counts a request dropped because its cluster is not owned. */
  notOwnedDropped?: () => void;
}

const noop = (): void => undefined;
/** Metrics hooks that record nothing (a controller built without a manager's metrics). */
export const NO_METRICS: ControllerMetrics = {
  reconciled: noop,
  failed: noop,
  panicked: noop,
  timedOut: noop,
  active: noop,
  maxConcurrent: noop,
  queue: { added: noop, depth: noop, retried: noop, queued: noop, worked: noop },
};

/** What one reconcile of the controller produced (`results$`-style observation for tests and tools). */
export interface ReconcileOutcome {
  /** The request that was reconciled. */
  readonly request: Request;
  /** Unique ID of this reconcile, as in its log lines. */
  readonly reconcileID: string;
  /**
   * How it ended, as the `result` label of `controller_runtime_reconcile_total`, plus `dropped`
   * for work discarded because its cluster went or the error was terminal.
   */
  readonly result: 'success' | 'error' | 'requeue' | 'requeue_after' | 'dropped';
  /** The queue priority the request was handed out at. */
  readonly priority: number;
  /** What the reconciler threw, for `error` and `dropped` outcomes. */
  readonly error?: unknown;
  /** Wall-clock duration of the reconcile in milliseconds. */
  readonly ms: number;
}
