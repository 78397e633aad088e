/** controller-runtime's Prometheus metrics and the hooks controllers, queues and the manager report through. */
export type { ControllerMetrics, HandoffDirection, QueueProbe, ReconcileResultLabel, ShardMetrics } from './types.js';
export {
  EXCEEDED_CARDINALITY_LIMIT,
  FENCE_WAIT_BUCKETS,
  MAX_PRIORITY_VALUES,
  RECONCILE_TIME_BUCKETS,
  RuntimeMetrics,
  WORKQUEUE_DURATION_BUCKETS,
  type ClusterMetrics,
  type EngagementOutcome,
  type RuntimeMetricsOptions,
} from './registry.js';
export { registerWebhookMetrics, type WebhookMetrics } from './webhook.js';
