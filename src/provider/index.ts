/** The Provider contract, the Cluster handle, and the kcp providers. */
export {
  ClusterNotFoundError,
  NotWatchedError,
  isClusterNotFound,
  type Aware,
  type Provider,
  type ProviderReadiness,
  type Cluster,
  type ClusterCache,
  type CacheListOptions,
  type EventRecorder,
  type EventInput,
  type FieldIndexer,
} from './types.js';
export { Engagement, reportEngagement, type EngagementListener } from './engagement.js';
export { Endpoint, EndpointCluster, type EndpointOptions, type ClusterAPIs } from './endpoint.js';
export { FieldIndexes, typeKey, fieldIndexName, stripManagedFields } from './indexes.js';
export type { ClusterEndpoint } from './cluster.js';
export { EndpointSet, type EndpointChange } from './endpoint-set.js';
export { serverTarget, type ServerTarget, type ReportBackoff } from './source-report.js';
export { VirtualWorkspaceProvider, PATH_ANNOTATION, cleanURLs, type KcpProviderOptions, type VirtualWorkspaceKind, type ProviderHooks } from './machine.js';
export { APIExportProvider, PathAwareProvider, conditionReady, endpointURLs, type APIExportProviderOptions, type APIExportEndpointSlice } from './apiexport.js';
export {
  InitializingWorkspacesProvider,
  TerminatingWorkspacesProvider,
  workspaceTypeURLs,
  type WorkspaceTypeProviderOptions,
  type TerminatingWorkspacesProviderOptions,
} from './workspaces.js';
export {
  LOGICAL_CLUSTER,
  LOGICAL_CLUSTER_NAME,
  initializerForType,
  terminatorForType,
  hasInitializer,
  hasTerminator,
  terminating,
  removeInitializer,
  removeTerminator,
  type LogicalCluster,
  type WorkspaceType,
  type RemoveHookOptions,
  type RemoveHookResult,
} from './hooks.js';
export { CompositeProvider, LocalClusterProvider, CLUSTER_SEPARATOR, type LocalClusterOptions } from './composite.js';
export * from './aggregate.js';
export * from './recorder.js';
