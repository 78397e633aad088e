/** JSON values compared and diffed as they go on the wire (RFC 7386 merge patches). */
import { isDeepStrictEqual } from 'node:util';

type JsonObject = { [key: string]: unknown };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `value` as JSON would carry it: `undefined` fields gone, Dates as strings. */
export function toJSONValue(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** Whether `a` and `b` are the same JSON document (fields set to `undefined` count as absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(toJSONValue(a), toJSONValue(b));
}

const SAME = Symbol('same');

function diff(a: unknown, b: unknown): unknown {
  if (isObject(a) && isObject(b)) {
    const patch: JsonObject = {};
    for (const [k, v] of Object.entries(b)) {
      const d = k in a ? diff(a[k], v) : v;
      if (d !== SAME) patch[k] = d;
    }
    for (const k of Object.keys(a)) if (!(k in b)) patch[k] = null;
    return Object.keys(patch).length > 0 ? patch : SAME;
  }
  return isDeepStrictEqual(a, b) ? SAME : b;
}

/**
 * The RFC 7386 merge patch that turns `before` into `after` (both objects), or undefined when they
 * are the same document. Lists are replaced whole, as merge patches do.
 */
export function createMergePatch(before: object, after: object): JsonObject | undefined {
  const d = diff(toJSONValue(before), toJSONValue(after));
  return d === SAME ? undefined : (d as JsonObject);
}

/** Whether `value` holds a list anywhere (a merge patch replaces lists whole). */
export function containsList(value: unknown): boolean {
  if (Array.isArray(value)) return true;
  return isObject(value) && Object.values(value).some(containsList);
}
