/** Logical cluster names and paths, and the URL segment rules applied before anything reaches storage. */
import { badRequest } from '../http/errors.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
const SYSTEM_NAME = /^system:[a-z0-9]([a-z0-9:-]{0,61}[a-z0-9])?$/;
const SEGMENT = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `s` is a logical cluster name (16 base36 chars when generated; `root`; `system:*`). */
export function isClusterName(s: string): boolean {
  return NAME.test(s) || SYSTEM_NAME.test(s);
}

/** Whether `s` is a workspace path (`root:org:team`) or a name. */
export function isClusterPath(s: string): boolean {
  if (SYSTEM_NAME.test(s)) return true;
  if (s.length === 0 || s.length > 1024) return false;
  return s.split(':').every((seg) => SEGMENT.test(seg));
}

/** Validates the `<x>` of `/clusters/<x>`, answering 400 as kcp does. */
export function checkClusterSegment(x: string): void {
  if (x === '*') return;
  if (!isClusterPath(x)) throw badRequest(`invalid cluster: "${x}" does not match the regex`);
}

/**
 * Splits a request path into segments, percent-decoding each one exactly once. A segment that
 * decodes to something containing `/`, a NUL, or that is `.`/`..`, and empty inner segments, are
 * refused: none of them may reach a storage key.
 */
export function splitPath(rawPath: string): string[] {
  if (!rawPath.startsWith('/')) throw badRequest(`invalid request path "${rawPath}"`);
  const parts = rawPath.slice(1).split('/');
  // One trailing slash is tolerated (`/apis/`), as kube's mux does.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '') return [];
  return parts.map((p) => {
    let d = p;
    try {
      if (p.includes('%')) d = decodeURIComponent(p);
    } catch {
      throw badRequest(`invalid percent-encoding in request path segment "${p}"`);
    }
    if (d === '' || d === '.' || d === '..' || d.includes('/') || d.includes('\u0000')) {
      throw badRequest(`invalid request path segment "${p}"`);
    }
    return d;
  });
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5 random characters appended for `metadata.generateName`, from Kubernetes' alphabet. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}
