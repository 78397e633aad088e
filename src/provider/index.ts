/** The Provider contract, the Cluster handle, and the kcp providers. */
export {
  ClusterNotFoundError,
  NotWatchedError,
  isClusterNotFound,
  type Aware,
  type Provider,
  type Cluster,
  type ClusterCache,
  type CacheListOptions,
  type EventRecorder,
  type EventInput,
  type FieldIndexer,
} from './types.js';
export { Endpoint, EndpointCluster, FieldIndexes, typeKey, fieldIndexName, stripManagedFields, type EndpointOptions } from './endpoint.js';
export {
  APIExportProvider,
  PATH_ANNOTATION,
  conditionReady,
  endpointURLs,
  type APIExportProviderOptions,
  type APIExportEndpointSlice,
  type ProviderHooks,
} from './apiexport.js';
