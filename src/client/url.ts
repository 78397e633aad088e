/** Joining URL paths under a base that may itself carry a path (`/clusters/root:org`, `/services/apiexport/...`). */

/**
 * Joins `path` under `base`: exactly one `/` between them, whatever slashes either side carries,
 * so a base path is never lost (as `new URL('/api', base)` would) nor doubled into `//api`.
 */
export function joinURL(base: string, path: string): string {
  const b = base.replace(/\/+$/, '');
  const p = path.replace(/^\/+/, '');
  if (p === '') return b;
  // A bare query string attaches to the base itself.
  if (p.startsWith('?')) return b + p;
  return `${b}/${p}`;
}

/** True for `http://...` and `https://...`; anything else is a path relative to a base. */
export function isAbsoluteURL(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Appends query parameters, skipping undefined values; keeps a query the URL already has. */
export function withQuery(url: string, query: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const qs = params.toString();
  if (!qs) return url;
  return url + (url.includes('?') ? '&' : '?') + qs;
}
