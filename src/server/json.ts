/** Small helpers over plain JSON values. */
import type { Json, JsonObject } from './types.js';

/** Structural equality of two JSON values (key order ignored; undefined members ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  // Own properties only: a key like `constructor` must not match something inherited.
  for (const k of ak) if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  return true;
}

/**
 * `{ ...o }` for a JSON value, built key by key (own enumerable keys, `__proto__` kept as data).
 * Use it for copies that get new keys afterwards: on Node 20's V8 every object made by spread
 * that then receives a key it did not have gets a hidden class of its own (about 0.8 µs per key,
 * and megamorphic property access wherever the object goes later), which the server used to do
 * to the metadata of every object it stored.
 */
export function shallowCopy<T extends object>(o: T | null | undefined): T {
  const out: Record<string, unknown> = {};
  if (o === null || o === undefined) return out as T;
  const src = o as Record<string, unknown>;
  for (const k of Object.keys(src)) setOwn(out, k, src[k]);
  return out as T;
}

/** Reads an own property only, so keys such as `__proto__` never reach the prototype chain. */
export function getOwn(o: JsonObject, k: string): Json | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** Sets an own property; plain assignment of `__proto__` would replace the prototype instead. */
export function setOwn<V>(o: Record<string, V>, k: string, v: V): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/**
 * A deep copy of a JSON value (objects, arrays, primitives; `undefined` members kept): several
 * times faster than `structuredClone`, which serves any value and pays for it on every binding a
 * list converts. Shared subtrees are copied once per reference.
 */
export function jsonCopy<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = jsonCopy(v[i] as unknown);
    return out as T;
  }
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in src) if (Object.hasOwn(src, k)) setOwn(out, k, jsonCopy(src[k]));
  return out as T;
}

/** Whether a JSON value is a non-array object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON value with every `undefined` member removed (what JSON.stringify would send). */
export function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

/**
 * Deepest nesting of objects and arrays a request body or a patched object may have. Go's
 * encoding/json (and so kube) stops at 10,000 levels; this server stops much earlier because
 * validation, patching, managedFields and JSON.stringify all recurse, and V8 overflows its stack
 * at a few thousand levels. No real object comes near 1,000.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Whether a decoded value nests deeper than MAX_JSON_DEPTH (`depth`) or holds more than
 * `maxValues` values counted as if written out (`values`: a YAML alias graph, or JSON patch
 * `copy` operations that share subtrees, can expand exponentially or loop). Walks without
 * recursion and stops at the first excess, so a hostile value costs at most `maxValues` steps.
 */
export function jsonShapeExcess(v: unknown, maxValues: number): 'depth' | 'values' | undefined {
  const stack: [unknown, number][] = [[v, 1]];
  let values = 0;
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (++values > maxValues) return 'values';
    if (typeof x !== 'object' || x === null) continue;
    if (depth > MAX_JSON_DEPTH) return 'depth';
    for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push([c, depth + 1]);
  }
  return undefined;
}
