/**
 * The JSON patch a defaulting webhook answers with: an RFC 6902 diff between the object the API
 * server sent and the handler's changed copy, as controller-runtime computes it (jsonpatch.CreatePatch).
 */

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  /** `add`, `remove` or `replace` (a diff needs no other). */
  op: 'add' | 'remove' | 'replace';
  /** RFC 6901 pointer (`~` as `~0`, `/` as `~1`: `/metadata/annotations/kcp.io~1cluster`). */
  path: string;
  /** The new value (`add`, `replace`). */
  value?: unknown;
}

/** Escapes one RFC 6901 reference token. */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The operations that turn `from` into `to`. Objects are compared key by key; arrays element by
 * element, extra elements removed from the end backwards (so each index is valid when applied)
 * or appended. `undefined` members count as absent, as JSON.stringify drops them.
 */
export function createJsonPatch(from: unknown, to: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(a: unknown, b: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (jsonEqual(a, b)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of Object.keys(a)) {
      if (a[k] === undefined) continue;
      const p = `${path}/${escapePointerToken(k)}`;
      if (b[k] === undefined) ops.push({ op: 'remove', path: p });
      else diff(a[k], b[k], p, ops);
    }
    for (const k of Object.keys(b)) {
      if (b[k] !== undefined && a[k] === undefined) ops.push({ op: 'add', path: `${path}/${escapePointerToken(k)}`, value: b[k] });
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) diff(a[i], b[i], `${path}/${i}`, ops);
    for (let i = a.length - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    for (let i = common; i < b.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: b[i] });
    return;
  }
  ops.push({ op: 'replace', path, value: b });
}
