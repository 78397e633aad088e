/** REST access to kcp over client-node's KubeConfig: transport, typed errors, names, discovery, ClusterClient. */
export { Transport, joinURL, type RequestOptions, type RawResponse, type TransportOptions } from './transport.js';
export type { SocketStats } from './agents.js';
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
