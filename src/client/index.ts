/** REST access to kcp over a kubeconfig (client-node's KubeConfig, or PlainKubeConfig without client-node): transport, typed errors, names, discovery, ClusterClient. */
export { Transport, joinURL, type RequestOptions, type RawResponse, type TransportOptions } from './transport.js';
export type { SocketStats } from './agents.js';
export {
  PlainKubeConfig,
  loadKubeConfig,
  parseKubeConfig,
  mergeKubeConfigs,
  toClientNodeKubeConfig,
  type KubeConfigLike,
  type KubeConfigView,
  type KubeConfigContents,
  UnknownContextError,
  type LoadKubeConfigOptions,
  type LoadedKubeConfig,
} from './kubeconfig.js';
export {
  ApiError,
  NetworkError,
  apiErrorFromResponse,
  apiErrorFromStatus,
  parseRetryAfter,
  reasonForCode,
  isNotFound,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isForbidden,
  isUnauthorized,
  isGone,
  isTooManyRequests,
  isServerTimeout,
  isResourceVersionTooLarge,
  isNetworkError,
  type Status,
  type StatusCause,
  type StatusDetails,
  type StatusReason,
} from './errors.js';
export {
  WILDCARD_CLUSTER,
  InvalidClusterNameError,
  InvalidObjectNameError,
  isLogicalClusterName,
  isLogicalClusterPath,
  validateCluster,
  validateNamespace,
  validateObjectName,
  clusterURL,
  clusterOfURL,
  nameSegment,
  namespaceSegment,
} from './names.js';
export { Discovery, UnknownKindError, UnknownResourceError, parseAPIVersion, type JSONRequester, type ResourceInfo } from './discovery.js';
export { StaticDiscovery, builtinResources, type StaticResource } from './static-discovery.js';
export {
  ClusterClient,
  PatchType,
  type ApplyOptions,
  type CallOptions,
  type ClusterClientOptions,
  type DeleteOptions,
  type JSONPatchOperation,
  type ListOptions,
  type PatchOptions,
  type WriteOptions,
} from './cluster-client.js';
export type { KubernetesObject, ObjectKey, ObjectList, ObjectMeta, ObjectType } from './types.js';
export { microTime, rfc3339 } from './time.js';
export { abortError, onAbort, sleep, untilAborted } from './abort.js';
