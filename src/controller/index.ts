/** Controllers: the builder, requests and results, predicates, owners, finalizers, event recording. */
export { Controller, NO_METRICS, type ControllerOptions, type ControllerDeps, type ReconcileOutcome } from './controller.js';
export { Builder, type BuilderHost } from './builder.js';
export {
  TerminalError,
  isTerminalError,
  requestKey,
  type Request,
  type Result,
  type Reconciler,
  type ReconcileContext,
  type RetryInfo,
  type ErrorPolicy,
  type ErrorDecision,
} from './types.js';
export type { MapFunc, WatchOptions, OwnsOptions } from './watch.js';
export * from './predicates.js';
export * from './owners.js';
export * from './finalizer.js';
