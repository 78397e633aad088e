/** Kubernetes timestamp formats on the wire. */

/** `metav1.MicroTime`: RFC 3339 in UTC with six fractional digits, e.g. `2026-12-02T17:00:00.123000Z`. */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** `metav1.Time`: RFC 3339 in UTC, whole seconds. */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
