/**
 * Validation of everything that becomes a URL path segment: logical cluster names and paths (kcp's
 * `logicalcluster` rules), namespaces and object names. Checking before the URL is built means a
 * hostile or mistaken value (`../..`, `a/b`, `x?watch=1`) fails here and never reaches the wire.
 */
import { joinURL } from './url.js';

const SEGMENT = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
const PATH_RE = new RegExp(`^${SEGMENT}(?::${SEGMENT})*$`);
// kcp accepts any `system:` name; we only accept the URL-safe ones kcp actually uses (system:admin, system:shard...).
const SYSTEM_RE = new RegExp(`^system(?::${SEGMENT})+$`);
const DNS_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The wildcard cluster, `/clusters/*`: list and watch across all logical clusters of an endpoint. */
export const WILDCARD_CLUSTER = '*';

/** A logical cluster name or path that may not be put into a URL. */
export class InvalidClusterNameError extends Error {
  /** The rejected value. */
  readonly value: string;

  constructor(value: string, why: string) {
    super(`invalid logical cluster ${JSON.stringify(value.slice(0, 100))}: ${why}`);
    this.name = 'InvalidClusterNameError';
    this.value = value;
  }
}

/** A namespace, object name, resource or subresource that may not be put into a URL path. */
export class InvalidObjectNameError extends Error {
  /** Which part of the URL it was meant for. */
  readonly field: 'namespace' | 'name' | 'resource' | 'subresource';
  /** The rejected value. */
  readonly value: string;

  constructor(field: InvalidObjectNameError['field'], value: string, why: string) {
    super(`invalid ${field} ${JSON.stringify(value.slice(0, 100))}: ${why}`);
    this.name = 'InvalidObjectNameError';
    this.field = field;
    this.value = value;
  }
}

/** A logical cluster name: `^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$`, or `system:`-prefixed. */
export function isLogicalClusterName(s: string): boolean {
  return NAME_RE.test(s) || SYSTEM_RE.test(s);
}

/** A logical cluster path: `:`-joined segments `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`, e.g. `root:org:team`. */
export function isLogicalClusterPath(s: string): boolean {
  return PATH_RE.test(s);
}

/** Throws `InvalidClusterNameError` unless `cluster` is a name, a path, or (when allowed) `*`. */
export function validateCluster(cluster: string, opts: { allowWildcard?: boolean } = {}): void {
  if (typeof cluster !== 'string' || cluster === '') throw new InvalidClusterNameError(String(cluster), 'must not be empty');
  if (cluster === WILDCARD_CLUSTER) {
    if (opts.allowWildcard) return;
    throw new InvalidClusterNameError(cluster, 'the wildcard is only allowed for list and watch');
  }
  if (!isLogicalClusterName(cluster) && !isLogicalClusterPath(cluster)) {
    throw new InvalidClusterNameError(cluster, 'must be a logical cluster name or a path of ":"-joined DNS labels');
  }
}

/** `<base>/clusters/<cluster>` after validating `cluster`. */
export function clusterURL(base: string, cluster: string, opts: { allowWildcard?: boolean } = {}): string {
  validateCluster(cluster, opts);
  // Validated names contain only [a-z0-9:-] or are "*", all safe in a path segment as they are.
  return joinURL(base, `clusters/${cluster}`);
}

/** The `<x>` of a URL that ends in `/clusters/<x>` (optionally with a trailing slash); undefined otherwise. */
export function clusterOfURL(url: string): string | undefined {
  const m = /\/clusters\/([^/?#]+)\/*$/.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** Throws unless `ns` is a namespace name (a DNS label). */
export function validateNamespace(ns: string): void {
  if (typeof ns !== 'string' || ns === '') throw new InvalidObjectNameError('namespace', String(ns), 'must not be empty');
  if (!DNS_LABEL_RE.test(ns)) throw new InvalidObjectNameError('namespace', ns, 'must be a DNS label ([a-z0-9-], at most 63)');
}

/**
 * Throws unless `name` can be one path segment, with apimachinery's `IsValidPathSegmentName` rules:
 * not empty, not `.` or `..`, no `/` or `%`. Names like `system:controller:x` are legal and get encoded.
 */
export function validateObjectName(name: string, field: 'name' | 'resource' | 'subresource' = 'name'): void {
  if (typeof name !== 'string' || name === '') throw new InvalidObjectNameError(field, String(name), 'must not be empty');
  if (name === '.' || name === '..') throw new InvalidObjectNameError(field, name, 'may not be "." or ".."');
  if (name.includes('/') || name.includes('%')) throw new InvalidObjectNameError(field, name, 'may not contain "/" or "%"');
  if (name.length > 253) throw new InvalidObjectNameError(field, name, 'must be at most 253 characters');
  // Control characters have no business in a name and would be invisible in logs.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidObjectNameError(field, name, 'may not contain control characters');
}

/** Validates and percent-encodes an object name for use as one URL path segment. */
export function nameSegment(name: string): string {
  validateObjectName(name);
  return encodeURIComponent(name);
}

/** Validates and returns a namespace for use as one URL path segment (DNS labels need no encoding). */
export function namespaceSegment(ns: string): string {
  validateNamespace(ns);
  return ns;
}
