/**
 * Equality and ordering of CEL runtime values as the CEL engine hands them to library functions:
 * bigint (int), number (double), string, boolean, null, Date (timestamp), Uint8Array (bytes),
 * arrays (lists), Maps (maps and schema objects) and the Kubernetes library types.
 */
import { Quantity } from './quantity.js';

/** A CEL runtime value, as far as the Kubernetes library functions look into it. */
export type CelValue = unknown;

function isDuration(v: unknown): v is { seconds: bigint; nanos: number } {
  return typeof v === 'object' && v !== null && v.constructor?.name === 'Duration' && 'seconds' in v && 'nanos' in v;
}

/** CEL equality, heterogeneous numbers included (`1 == 1.0`), deep for lists, maps and objects. */
export function celEqual(a: CelValue, b: CelValue): boolean {
  if (a === b) return true;
  const na = typeof a === 'bigint' || typeof a === 'number';
  const nb = typeof b === 'bigint' || typeof b === 'number';
  if (na || nb) return na && nb && Number(a) === Number(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (a instanceof Quantity && b instanceof Quantity) return a.compareTo(b) === 0n;
  if (isDuration(a) && isDuration(b)) return a.seconds === b.seconds && a.nanos === b.nanos;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => celEqual(x, b[i]));
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !celEqual(v, b.get(k))) return false;
    return true;
  }
  return String(a) === String(b) && a.constructor === b.constructor;
}

/** CEL ordering of two comparable values (-1, 0, 1); throws for types without an order. */
export function celCompare(a: CelValue, b: CelValue): number {
  const na = typeof a === 'bigint' || typeof a === 'number';
  const nb = typeof b === 'bigint' || typeof b === 'number';
  if (na && nb) {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (isDuration(a) && isDuration(b)) {
    if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
    return Math.sign(a.nanos - b.nanos);
  }
  throw new Error('no such overload');
}

/** Whether `fn` accepts `s` without throwing: the `isX(string)` companions of `x(string)`. */
export function parses(fn: (s: string) => unknown, s: string): boolean {
  try {
    fn(s);
    return true;
  } catch {
    return false;
  }
}
