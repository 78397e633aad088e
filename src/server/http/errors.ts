/** Kubernetes `Status` failures, raised anywhere in the server and written once by the HTTP front. */
import type { JsonObject } from '../types.js';

/** A `details.causes[]` entry. */
export interface StatusCause extends JsonObject {
  reason: string;
  message: string;
  field: string;
}

/** Optional `details` of a failure Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error that is answered as a Kubernetes `Status` with the given HTTP code and reason. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: StatusDetails = {},
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The wire form of this error. */
  toStatus(): JsonObject {
    const details: JsonObject = {};
    for (const [k, v] of Object.entries(this.details)) if (v !== undefined) details[k] = v;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details,
      code: this.code,
    };
  }
}

/** `<resource>[.<group>]`, the way Kubernetes names a resource in messages. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

/** 404 NotFound for one object. */
export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });
}

/** 409 AlreadyExists. */
export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, {
    name,
    group,
    kind: resource,
  });
}

/** 409 Conflict for a failed resourceVersion or uid precondition. */
export function conflict(resource: string, group: string, name: string, why?: string): ApiError {
  const detail = why ?? 'the object has been modified; please apply your changes to the latest version and try again';
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${detail}`,
    { name, group, kind: resource },
  );
}

/** 422 Invalid with field causes. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const what = group ? `${kind}.${group}` : kind;
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const msg =
    summary.length === 1 ? `${what} "${name}" is invalid: ${summary[0]}` : `${what} "${name}" is invalid: [${summary.join(', ')}]`;
  return new ApiError(422, 'Invalid', msg, { name, group, kind, causes });
}

/** A field cause for `invalid`. */
export function cause(reason: string, field: string, message: string): StatusCause {
  return { reason, field, message };
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** 403 Forbidden. */
export function forbidden(resource: string, group: string, name: string, why: string): ApiError {
  const subject = name ? `${qualifiedResource(resource, group)} "${name}"` : qualifiedResource(resource, group);
  return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${why}`, { name: name || undefined, group, kind: resource });
}

/** kcp's 403 for a non-resource path the caller may not use (e.g. one that resolves to no virtual workspace). */
export function forbiddenPath(user: { name: string }, verb: string, path: string, reason: string): ApiError {
  return new ApiError(403, 'Forbidden', `forbidden: User "${user.name}" cannot ${verb} path "${path}"${reason ? `: ${reason}` : ''}`);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(suffix = ''): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource${suffix}`);
}

/** 404 for a path that names no API. */
export function noSuchPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

/** 410 Expired. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnsupportedMediaType', message: contentType, field: '' }] },
  );
}
