/** Hooks through which controllers and the manager report controller-runtime's metrics. */
import type { QueueMetrics } from '../queue/types.js';

/** Result label values of `controller_runtime_reconcile_total`. */
export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

/** One controller's metrics. `cluster` is used only when the cluster label is enabled (and capped). */
export interface ControllerMetrics {
  /** A reconcile finished with `result` after `seconds` (reconcile_total, reconcile_time_seconds). */
  reconciled(result: ReconcileResultLabel, seconds: number, cluster: string): void;
  /** A reconcile failed (reconcile_errors_total); `terminal` also counts terminal_reconcile_errors_total. */
  failed(terminal: boolean, cluster: string): void;
  /** A reconcile threw something that is not an Error, or crashed synchronously (reconcile_panics_total). */
  panicked(): void;
  /** The per-reconcile timeout fired (reconcile_timeouts_total). */
  timedOut(): void;
  /** A worker started (+1) or finished (−1) a reconcile (active_workers). */
  active(delta: number): void;
  /** The worker count (max_concurrent_reconciles). */
  maxConcurrent(n: number): void;
  /** The work queue's metrics, labelled `name` and `controller`. */
  readonly queue: QueueMetrics;
}

/** A probe the queue metrics read at scrape time. */
export interface QueueProbe {
  /** Seconds of work in progress not yet observed (workqueue_unfinished_work_seconds). */
  unfinishedSeconds(): number;
  /** Seconds the longest running item has been held (workqueue_longest_running_processor_seconds). */
  longestRunningSeconds(): number;
}
