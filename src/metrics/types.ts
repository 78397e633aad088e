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

/** Direction label value of `kcp_mc_shard_handoffs_total`. */
export type HandoffDirection = 'gained' | 'lost';

/** The sharding hooks: membership, ownership and hand-offs of clusters between replicas. */
export interface ShardMetrics {
  /** The number of live peers, this replica included (kcp_mc_shard_peers). */
  peers(n: number): void;
  /** A fence was held `seconds` after this replica first asked for it (kcp_mc_shard_fence_wait_seconds). */
  fenceWait(seconds: number): void;
  /** The number of clusters this replica owns and holds the fence of (kcp_mc_shard_owned_clusters). */
  ownedClusters(n: number): void;
  /** A cluster was handed to (`gained`) or away from (`lost`) this replica (kcp_mc_shard_handoffs_total). */
  handoff(direction: HandoffDirection): void;
  /** A queued request for a cluster this replica does not own was dropped (kcp_mc_shard_not_owned_dropped_total). */
  notOwnedDropped(): void;
}
