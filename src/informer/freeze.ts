/** Deep freezing of cached objects, so that a reader that mutates one fails loudly in tests. */

/**
 * Whether caches freeze their objects by default: yes, unless NODE_ENV is `production`, where the
 * walk over every object is a cost without a benefit.
 */
export function freezeByDefault(): boolean {
  return process.env['NODE_ENV'] !== 'production';
}

/**
 * Freezes `value` and everything reachable from it; returns it, typed read-only. A frozen object is
 * taken as frozen all the way down (this function is how things get frozen here), so shared
 * subtrees are walked once, not once per object that holds them.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) freezeTree(value);
  return value;
}

// `for…in` and an index loop instead of Object.keys: no key array is allocated per object.
function freezeTree(o: object): void {
  Object.freeze(o);
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const v: unknown = o[i];
      if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) freezeTree(v);
    }
    return;
  }
  const r = o as Record<string, unknown>;
  for (const k in r) {
    const v = r[k];
    if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) freezeTree(v);
  }
}
