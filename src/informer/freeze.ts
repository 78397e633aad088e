/** Deep freezing of cached objects, so that a reader that mutates one fails loudly in tests. */

/**
 * Whether caches freeze their objects by default: yes, unless NODE_ENV is `production`, where the
 * walk over every object is a cost without a benefit.
 */
export function freezeByDefault(): boolean {
  return process.env['NODE_ENV'] !== 'production';
}

/** Freezes `value` and everything reachable from it; returns it, typed read-only. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
