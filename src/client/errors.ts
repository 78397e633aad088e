/**
 * Typed API errors built from a Kubernetes `Status` (or from a bare HTTP code when the body is not
 * one), plus the `isX(err)` predicates controllers branch on, as in client-go's `apierrors`.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** A `details.causes[]` entry of a `Status`. */
export interface StatusCause {
  /** Machine-readable cause, e.g. `FieldValueInvalid`, `FieldValueRequired`. */
  reason?: string;
  /** Human-readable explanation of this cause. */
  message?: string;
  /** The offending field as a path, e.g. `spec.size`. */
  field?: string;
}

/** `details` of a failure `Status`. */
export interface StatusDetails {
  /** Name of the object the failure is about. */
  name?: string;
  /** API group of that object's resource (empty for the core group). */
  group?: string;
  /** Kind, or resource, of that object (e.g. `configmaps`). */
  kind?: string;
  /** UID of that object, when known. */
  uid?: string;
  /** Individual causes, one per invalid field for a 422. */
  causes?: StatusCause[];
  /** Seconds the server asks the client to wait before retrying (429, 503, some 500s). */
  retryAfterSeconds?: number;
}

/** The Kubernetes `Status` object (`kind: Status, apiVersion: v1`). */
export interface Status {
  /** Always `Status`. */
  kind?: 'Status';
  /** Always `v1`. */
  apiVersion?: string;
  /** List metadata; servers rarely set it on a `Status`. */
  metadata?: {
    /** Version the answer is consistent at, when given. */
    resourceVersion?: string;
    /** Paging token, when given. */
    continue?: string;
  };
  /** `Success` or `Failure`. */
  status?: 'Success' | 'Failure' | string;
  /** Human-readable description of the outcome. */
  message?: string;
  /** Machine-readable reason (see {@link StatusReason}); empty when the server gave none. */
  reason?: string;
  /** Extra data about the failure: which object, which fields. */
  details?: StatusDetails;
  /** HTTP status code the `Status` stands for. */
  code?: number;
}

/** The `reason` values Kubernetes uses (`metav1.StatusReason`); other strings pass through untouched. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'ServerTimeout'
  | 'Unknown';

// client-go's `reasonForError` fallback: what a code means when the body does not say.
const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The reason Kubernetes implies for an HTTP code when no `Status` body says otherwise. */
export function reasonForCode(code: number): StatusReason | string {
  return REASON_BY_CODE[code] ?? 'Unknown';
}

/** A non-2xx answer from the API server, decoded from its `Status`. */
export class ApiError extends Error {
  /** HTTP status code. */
  readonly code: number;
  /** `Status.reason`, or the reason implied by the code. */
  readonly reason: StatusReason | string;
  /** `Status.details`, empty when the server sent none. */
  readonly details: StatusDetails;
  /** From `Retry-After` or `details.retryAfterSeconds`; undefined when neither was sent. */
  readonly retryAfterSeconds: number | undefined;
  /** The decoded `Status` body; undefined when the body was not a Status. */
  readonly status: Status | undefined;
  /** Request method and URL path (no query, no credentials), for log context. */
  readonly request:
    | {
        /** HTTP method, e.g. `PUT`. */
        method: string;
        /** URL path without query, e.g. `/clusters/root:org/api/v1/namespaces/default/configmaps/a`. */
        path: string;
      }
    | undefined;

  constructor(init: {
    code: number;
    reason?: string;
    message?: string;
    details?: StatusDetails;
    retryAfterSeconds?: number;
    status?: Status;
    request?: { method: string; path: string };
  }) {
    const reason = init.reason || reasonForCode(init.code);
    super(init.message || `${reason} (HTTP ${init.code})`);
    this.name = 'ApiError';
    this.code = init.code;
    this.reason = reason;
    this.details = init.details ?? {};
    this.retryAfterSeconds = init.retryAfterSeconds ?? init.details?.retryAfterSeconds;
    this.status = init.status;
    this.request = init.request;
  }
}

/** A failure below HTTP: connection refused or reset, TLS failure, timeout before response headers. */
export class NetworkError extends Error {
  /** The Node error code when there is one (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`...). */
  readonly code: string | undefined;
  /** The request went out on a pooled keep-alive socket reused from an earlier request. */
  reusedSocket = false;

  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'NetworkError';
    this.code = options.code ?? (options.cause as { code?: unknown } | undefined)?.code?.toString();
  }
}

/** Parses `Retry-After` (delta seconds or an HTTP date) into whole seconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const trimmed = v.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Date.parse is lenient ('-1' is a year); an HTTP date always names a weekday and month.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function asStatus(body: string): Status | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && (parsed as { kind?: unknown }).kind === 'Status') return parsed as Status;
  } catch {
    // Proxies and load balancers answer with HTML or plain text; the code alone must do.
  }
  return undefined;
}

/**
 * Builds the `ApiError` for a non-2xx response. A body that is not a `Status` still yields an
 * error whose reason comes from the code, with a short excerpt of the body as message.
 */
export function apiErrorFromResponse(
  code: number,
  body: string,
  headers: IncomingHttpHeaders = {},
  request?: { method: string; path: string },
): ApiError {
  const status = asStatus(body);
  const retryAfterSeconds = parseRetryAfter(headers['retry-after']) ?? status?.details?.retryAfterSeconds;
  if (status) {
    return new ApiError({
      // Trust the HTTP code over Status.code: they agree on real servers, and the code is what was sent.
      code,
      reason: status.reason,
      message: status.message,
      details: status.details,
      retryAfterSeconds,
      status,
      request,
    });
  }
  const excerpt = body.trim().slice(0, 200);
  const reason = reasonForCode(code);
  return new ApiError({
    code,
    reason,
    message: excerpt ? `${reason} (HTTP ${code}): ${excerpt}` : undefined,
    retryAfterSeconds,
    request,
  });
}

/** Builds an `ApiError` from a `Status` carried inside a watch stream (an `ERROR` event). */
export function apiErrorFromStatus(status: Status): ApiError {
  return new ApiError({
    code: status.code ?? 500,
    reason: status.reason,
    message: status.message,
    details: status.details,
    status,
  });
}

function reasonOf(err: unknown): { code: number; reason: string } | undefined {
  return err instanceof ApiError ? { code: err.code, reason: err.reason } : undefined;
}

/** 404 NotFound (the object, or the resource path, does not exist). */
export function isNotFound(err: unknown): boolean {
  const r = reasonOf(err);
  return !!r && (r.reason === 'NotFound' || (r.code === 404 && r.reason === 'Unknown'));
}

/** 409 AlreadyExists on create. */
export function isAlreadyExists(err: unknown): boolean {
  return reasonOf(err)?.reason === 'AlreadyExists';
}

/** 409 Conflict: stale resourceVersion or failed precondition. */
export function isConflict(err: unknown): boolean {
  return reasonOf(err)?.reason === 'Conflict';
}

/** 422 Invalid: the object failed validation. */
export function isInvalid(err: unknown): boolean {
  return reasonOf(err)?.reason === 'Invalid';
}

/** 403 Forbidden: authorization or admission refused the request. */
export function isForbidden(err: unknown): boolean {
  return reasonOf(err)?.reason === 'Forbidden';
}

/** 401 Unauthorized: the credentials were not accepted. */
export function isUnauthorized(err: unknown): boolean {
  return reasonOf(err)?.reason === 'Unauthorized';
}

/** 410 Gone or Expired: the resourceVersion or continue token is too old; relist. */
export function isGone(err: unknown): boolean {
  const r = reasonOf(err);
  return !!r && (r.reason === 'Gone' || r.reason === 'Expired' || r.code === 410);
}

/** 429 TooManyRequests: back off for `retryAfterSeconds`. */
export function isTooManyRequests(err: unknown): boolean {
  const r = reasonOf(err);
  return !!r && (r.reason === 'TooManyRequests' || r.code === 429);
}

/** ServerTimeout (the server could not finish in time) or 504 Timeout; safe to retry. */
export function isServerTimeout(err: unknown): boolean {
  const r = reasonOf(err);
  return !!r && (r.reason === 'ServerTimeout' || r.reason === 'Timeout');
}

/** 504 Timeout whose cause is `ResourceVersionTooLarge`: the server has not caught up with the requested RV yet. */
export function isResourceVersionTooLarge(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.code !== 504) return false;
  return (err.details.causes ?? []).some((c) => c.reason === 'ResourceVersionTooLarge');
}

// Node's socket-level codes that mean "the request never got an HTTP answer".
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** The request failed below HTTP (refused, reset, DNS, TLS, header timeout); not an abort by the caller. */
export function isNetworkError(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}
