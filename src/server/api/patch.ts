/**
 * Patches on plain JSON values: RFC 7386 merge patch, RFC 6902 JSON patch and Kubernetes strategic
 * merge patch. Inputs are never mutated; results may share unchanged subtrees with them.
 *
 * Error convention (mirrors the apiserver's patch handler):
 * - a patch document that is malformed in itself (not a list of operations, unknown op, bad JSON
 *   pointer, bad directive format) is 400 BadRequest;
 * - a well-formed patch that cannot be applied to this object (missing path, failed `test`, list
 *   item without its merge key, keys outside `$retainKeys`) is 422 Invalid, with the message kube
 *   uses for such failures followed by the specific reason.
 */
import { ApiError, badRequest } from '../http/errors.js';
import { deepEqual, getOwn, isObject, setOwn } from '../json.js';
import type { Json, JsonObject, Schema } from '../types.js';

// The JSON helpers patching needs live in json.ts; these names stay for apply.ts and the tests.
export { isObject as isJsonObject, deepEqual as jsonEqual, getOwn, setOwn };

/** 422 for a patch that is well-formed but does not apply to the object. */
function notApplicable(why: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// RFC 7386

/** Applies an RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, mergePatch(getOwn(out, k) ?? null, v));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RFC 6902

type OpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
interface Op {
  op: OpName;
  path: string[];
  pathText: string;
  from?: string[];
  fromText?: string;
  value?: Json;
}

/** Decodes a JSON pointer (RFC 6901) into its unescaped reference tokens. */
function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`invalid JSON pointer ${JSON.stringify(p)}: must be empty or start with '/'`);
  return p
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~(?![01])/.test(t)) throw badRequest(`invalid JSON pointer ${JSON.stringify(p)}: bad escape in ${JSON.stringify(t)}`);
      // ~1 first: "~01" must decode to "~1", not "/".
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function decodeOps(ops: Json): Op[] {
  if (!Array.isArray(ops)) throw badRequest('invalid JSON patch: the patch must be a JSON array of operations');
  return ops.map((raw, i) => {
    if (!isObject(raw)) throw badRequest(`invalid JSON patch: operation ${i} is not an object`);
    const op = getOwn(raw, 'op');
    const path = getOwn(raw, 'path');
    if (typeof op !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) {
      throw badRequest(`invalid JSON patch: operation ${i}: unexpected op ${JSON.stringify(op ?? null)}`);
    }
    if (typeof path !== 'string') throw badRequest(`invalid JSON patch: operation ${i} (${op}): missing "path"`);
    const out: Op = { op: op as OpName, path: parsePointer(path), pathText: path };
    if (op === 'add' || op === 'replace' || op === 'test') {
      if (!Object.hasOwn(raw, 'value')) throw badRequest(`invalid JSON patch: operation ${i} (${op}): missing "value"`);
      out.value = raw['value'];
    }
    if (op === 'move' || op === 'copy') {
      const from = getOwn(raw, 'from');
      if (typeof from !== 'string') throw badRequest(`invalid JSON patch: operation ${i} (${op}): missing "from"`);
      out.from = parsePointer(from);
      out.fromText = from;
    }
    return out;
  });
}

/** Array index token per RFC 6901: no sign, no leading zeros. */
function arrayIndex(tok: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(tok) ? Number(tok) : undefined;
}

function getAt(doc: Json, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const tok of path) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(tok);
      cur = i !== undefined && i < cur.length ? cur[i] : undefined;
    } else if (isObject(cur)) {
      cur = getOwn(cur, tok);
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * Rebuilds `doc` along `path`, letting `edit` return the replacement of the parent container of
 * the last token. Returns undefined when an intermediate container is missing.
 */
function editParent(doc: Json, path: readonly string[], edit: (parent: Json, last: string) => Json | undefined): Json | undefined {
  if (path.length === 1) return edit(doc, path[0]!);
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(doc)) {
    const i = arrayIndex(head);
    if (i === undefined || i >= doc.length) return undefined;
    const child = editParent(doc[i]!, rest, edit);
    if (child === undefined) return undefined;
    const copy = doc.slice();
    copy[i] = child;
    return copy;
  }
  if (isObject(doc)) {
    const cur = getOwn(doc, head);
    if (cur === undefined) return undefined;
    const child = editParent(cur, rest, edit);
    if (child === undefined) return undefined;
    const copy = { ...doc };
    setOwn(copy, head, child);
    return copy;
  }
  return undefined;
}

function addAt(doc: Json, path: string[], value: Json, what: string, text: string): Json {
  if (path.length === 0) return value;
  const r = editParent(doc, path, (parent, last) => {
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : arrayIndex(last);
      if (i === undefined || i > parent.length) return undefined;
      const copy = parent.slice();
      copy.splice(i, 0, value);
      return copy;
    }
    if (isObject(parent)) {
      const copy = { ...parent };
      setOwn(copy, last, value);
      return copy;
    }
    return undefined;
  });
  if (r === undefined) throw notApplicable(`${what} operation does not apply: doc is missing path: ${JSON.stringify(text)}`);
  return r;
}

function removeAt(doc: Json, path: string[], what: string, text: string): Json {
  const fail = (): ApiError => notApplicable(`${what} operation does not apply: doc is missing path: ${JSON.stringify(text)}`);
  if (path.length === 0) throw notApplicable(`${what} operation does not apply: the whole document cannot be removed`);
  const r = editParent(doc, path, (parent, last) => {
    if (Array.isArray(parent)) {
      const i = arrayIndex(last);
      if (i === undefined || i >= parent.length) return undefined;
      const copy = parent.slice();
      copy.splice(i, 1);
      return copy;
    }
    if (isObject(parent) && Object.hasOwn(parent, last)) {
      const copy = { ...parent };
      delete copy[last];
      return copy;
    }
    return undefined;
  });
  if (r === undefined) throw fail();
  return r;
}

function replaceAt(doc: Json, path: string[], value: Json, text: string): Json {
  if (path.length === 0) return value;
  const r = editParent(doc, path, (parent, last) => {
    if (Array.isArray(parent)) {
      const i = arrayIndex(last);
      if (i === undefined || i >= parent.length) return undefined;
      const copy = parent.slice();
      copy[i] = value;
      return copy;
    }
    if (isObject(parent) && Object.hasOwn(parent, last)) {
      const copy = { ...parent };
      setOwn(copy, last, value);
      return copy;
    }
    return undefined;
  });
  if (r === undefined) throw notApplicable(`replace operation does not apply: doc is missing key: ${JSON.stringify(text)}`);
  return r;
}

/** Applies an RFC 6902 JSON patch; all operations apply or the call throws (see the error convention above). */
export function jsonPatch(target: Json, ops: Json): Json {
  let doc = target;
  for (const op of decodeOps(ops)) {
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, op.value!, 'add', op.pathText);
        break;
      case 'remove':
        doc = removeAt(doc, op.path, 'remove', op.pathText);
        break;
      case 'replace':
        doc = replaceAt(doc, op.path, op.value!, op.pathText);
        break;
      case 'move': {
        const from = op.from!;
        const value = getAt(doc, from);
        if (value === undefined) {
          throw notApplicable(`move operation does not apply: doc is missing from path: ${JSON.stringify(op.fromText)}`);
        }
        if (op.path.length > from.length && from.every((t, i) => op.path[i] === t)) {
          throw notApplicable(`move operation does not apply: cannot move ${JSON.stringify(op.fromText)} into its own child`);
        }
        if (op.pathText === op.fromText) break;
        doc = addAt(removeAt(doc, from, 'move', op.fromText!), op.path, value, 'move', op.pathText);
        break;
      }
      case 'copy': {
        const value = getAt(doc, op.from!);
        if (value === undefined) {
          throw notApplicable(`copy operation does not apply: doc is missing from path: ${JSON.stringify(op.fromText)}`);
        }
        doc = addAt(doc, op.path, value, 'copy', op.pathText);
        break;
      }
      case 'test': {
        const actual = getAt(doc, op.path);
        if (actual === undefined || !deepEqual(actual, op.value)) {
          throw notApplicable(`testing value ${JSON.stringify(op.pathText)} failed: test failed`);
        }
        break;
      }
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

type ObjectSchema = Extract<Schema, { type: 'object' }>;
type ArraySchema = Extract<Schema, { type: 'array' }>;

/** Whether a map key is a patch directive rather than data. Other `$` keys (e.g. `$ref`) are data. */
function isDirectiveKey(k: string): boolean {
  return k === PATCH || k === RETAIN_KEYS || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER);
}

/** The schema of `key` inside an object schema; undefined where nothing is known (free-form). */
function fieldSchema(schema: Schema | undefined, key: string): Schema | undefined {
  if (schema?.type !== 'object' || schema.anyValue) return undefined;
  const s = (schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined) ?? schema.additionalProperties;
  return s?.type === 'any' ? undefined : s;
}

function patchDirective(m: JsonObject): 'replace' | 'delete' | 'merge' | undefined {
  const d = getOwn(m, PATCH);
  if (d === undefined) return undefined;
  if (d === 'replace' || d === 'delete' || d === 'merge') return d;
  throw badRequest(`unknown patch type: ${JSON.stringify(d)} in map: ${JSON.stringify(m)}`);
}

/** Applies a Kubernetes strategic merge patch guided by `schema`; free-form parts behave like a merge patch. */
export function strategicMergePatch(target: Json, patch: Json, schema: Schema): Json {
  if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  const s = schema.type === 'object' ? schema : undefined;
  return smpMap(isObject(target) ? target : undefined, patch, s) ?? {};
}

/** Merges a patch map into an original map; undefined means the map itself is deleted. */
function smpMap(original: JsonObject | undefined, patch: JsonObject, schema: ObjectSchema | undefined): JsonObject | undefined {
  const directive = patchDirective(patch);
  if (directive === 'delete') return undefined;
  // `$patch: replace` drops the original but still runs the patch through the merge so that its
  // own directives and nulls are processed, never stored.
  let base = directive === 'replace' ? undefined : original;

  const retain = getOwn(patch, RETAIN_KEYS);
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) {
      throw badRequest('invalid patch format of retainKeys: $retainKeys must be a list of strings');
    }
    const keep = new Set(retain as string[]);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || isDirectiveKey(k)) continue;
      if (!keep.has(k)) throw notApplicable(`the patch content does not match $retainKeys: ${JSON.stringify(k)} is not retained`);
    }
    if (base) base = Object.fromEntries(Object.entries(base).filter(([k]) => keep.has(k))) as JsonObject;
  }

  const out: JsonObject = base ? { ...base } : {};

  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const field = k.slice(DELETE_FROM_PRIMITIVE_LIST.length);
    if (!Array.isArray(v)) throw badRequest(`invalid patch format of primitive list: ${k} must be a list`);
    const cur = getOwn(out, field);
    if (Array.isArray(cur)) setOwn(out, field, cur.filter((x) => !v.some((d) => deepEqual(d, x))));
  }

  for (const [k, v] of Object.entries(patch)) {
    if (isDirectiveKey(k)) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = smpValue(getOwn(out, k), v, fieldSchema(schema, k));
    if (merged === undefined) delete out[k];
    else setOwn(out, k, merged);
  }

  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = k.slice(SET_ELEMENT_ORDER.length);
    if (!Array.isArray(v)) throw badRequest(`invalid patch format of setElementOrder list: ${k} must be a list`);
    const merged = getOwn(out, field);
    const before = base ? getOwn(base, field) : undefined;
    if (Array.isArray(merged)) {
      const fs = fieldSchema(schema, field);
      setOwn(out, field, applyElementOrder(merged, v, Array.isArray(before) ? before : [], fs?.type === 'array' ? fs.mergeKeys ?? [] : [], k));
    }
  }
  return out;
}

/** Merges one patch value into an original value; undefined means "delete this value". */
function smpValue(original: Json | undefined, patch: Json, schema: Schema | undefined): Json | undefined {
  if (isObject(patch)) {
    return smpMap(isObject(original) ? original : undefined, patch, schema?.type === 'object' ? schema : undefined);
  }
  if (Array.isArray(patch)) {
    if (schema?.type !== 'array' || schema.listType === 'atomic') return cleanList(patch, schema?.type === 'array' ? schema.items : undefined);
    const orig = Array.isArray(original) ? original : [];
    if (schema.mergeKeys && schema.mergeKeys.length > 0) return mergeKeyedList(orig, patch, schema);
    if (schema.listType === 'set') return mergeSetList(orig, patch, schema);
    return cleanList(patch, schema.items);
  }
  return patch;
}

/** A list value that replaces the original: its maps are still stripped of directives and nulls. */
function cleanList(list: Json[], itemSchema: Schema | undefined): Json[] {
  const out: Json[] = [];
  for (const item of list) {
    if (isObject(item) || Array.isArray(item)) {
      const v = smpValue(undefined, item, itemSchema);
      if (v !== undefined) out.push(v);
    } else {
      out.push(item);
    }
  }
  return out;
}

function isReplaceMarker(item: Json): boolean {
  return isObject(item) && getOwn(item, PATCH) === 'replace';
}

function mergeKeyedList(original: Json[], patch: Json[], schema: ArraySchema): Json[] {
  const keys = schema.mergeKeys!;
  const itemSchema = schema.items.type === 'object' ? schema.items : undefined;
  if (patch.some(isReplaceMarker)) return cleanList(patch.filter((i) => !isReplaceMarker(i)), schema.items);
  const out = original.slice();
  for (const item of patch) {
    if (!isObject(item)) {
      // Primitives in a keyed list have no key; keep them set-like rather than fail.
      if (!out.some((o) => deepEqual(o, item))) out.push(item);
      continue;
    }
    const directive = patchDirective(item);
    // The first merge key is the one strategic merge patch declares (patchMergeKey); the others
    // (server-side apply's extra listMapKeys) only narrow the match when the patch names them.
    if (getOwn(item, keys[0]!) === undefined) {
      throw notApplicable(`map: ${JSON.stringify(item)} does not contain declared merge key: ${keys[0]}`);
    }
    const present = keys.filter((k) => getOwn(item, k) !== undefined);
    const matches = (o: Json): boolean => isObject(o) && present.every((k) => deepEqual(getOwn(o, k), getOwn(item, k)));
    if (directive === 'delete') {
      for (let i = out.length - 1; i >= 0; i--) if (matches(out[i]!)) out.splice(i, 1);
      continue;
    }
    const at = out.findIndex(matches);
    const merged = smpMap(at >= 0 ? (out[at] as JsonObject) : undefined, item, itemSchema);
    if (at >= 0) {
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else if (merged !== undefined) {
      out.push(merged);
    }
  }
  return out;
}

function mergeSetList(original: Json[], patch: Json[], schema: ArraySchema): Json[] {
  if (patch.some(isReplaceMarker)) return cleanList(patch.filter((i) => !isReplaceMarker(i)), schema.items);
  const out = original.slice();
  for (const item of cleanList(patch, schema.items)) if (!out.some((o) => deepEqual(o, item))) out.push(item);
  return out;
}

/**
 * Honours `$setElementOrder/<field>`: items named by the order list follow its order; items only
 * the server has keep their place relative to those, judged by the original list, the way kube
 * interleaves them (a server-only item goes first only if it preceded the other in the original).
 */
function applyElementOrder(merged: Json[], order: Json[], original: Json[], keys: readonly string[], directive: string): Json[] {
  let same: (a: Json, b: Json) => boolean;
  if (keys.length > 0) {
    for (const o of order) {
      if (!isObject(o) || getOwn(o, keys[0]!) === undefined) {
        throw badRequest(`invalid patch format of setElementOrder list: ${directive} entries must name the merge key ${keys[0]}`);
      }
    }
    same = (ord, item) =>
      isObject(ord) && isObject(item) && keys.every((k) => getOwn(ord, k) === undefined || deepEqual(getOwn(ord, k), getOwn(item, k)));
  } else {
    same = (ord, item) => deepEqual(ord, item);
  }
  const orderIndex = (item: Json): number => order.findIndex((o) => same(o, item));
  const originalIndex = (item: Json): number => original.findIndex((o) => (keys.length > 0 ? keyedEqual(o, item, keys) : deepEqual(o, item)));

  const patchSide = merged.filter((i) => orderIndex(i) >= 0).sort((a, b) => orderIndex(a) - orderIndex(b));
  const serverOnly = merged.filter((i) => orderIndex(i) < 0);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchSide.length) {
    if (j >= patchSide.length) out.push(serverOnly[i++]!);
    else if (i >= serverOnly.length) out.push(patchSide[j++]!);
    else {
      const si = originalIndex(serverOnly[i]!);
      const pi = originalIndex(patchSide[j]!);
      if (si >= 0 && pi >= 0 && si < pi) out.push(serverOnly[i++]!);
      else out.push(patchSide[j++]!);
    }
  }
  return out;
}

function keyedEqual(a: Json, b: Json, keys: readonly string[]): boolean {
  return isObject(a) && isObject(b) && keys.every((k) => deepEqual(getOwn(a, k), getOwn(b, k)));
}
