/**
 * A structural scan of JSON bytes: enough to find the objects of a watch event or a list response,
 * their byte ranges and the few metadata fields a cache is keyed by, without building the objects.
 * Nothing is allocated except the key fields, so it runs several times faster than `JSON.parse` and
 * leaves no garbage behind. The objects themselves are decoded later, when (and if) someone reads
 * them.
 *
 * The scan reads compact JSON (no whitespace between tokens), which is what Kubernetes servers
 * write. Anything else (whitespace, a truncated value, a key field of the wrong type, no `metadata`)
 * makes a scan return undefined; callers then fall back to `JSON.parse`, which handles any valid
 * JSON and reports precisely what is wrong with the rest.
 */
import { CLUSTER_ANNOTATION } from './cluster.js';

/** An object found in a buffer: where it is, and what a cache needs to know about it. */
export interface ScannedObject {
  /** Byte offset of the object's `{`. */
  start: number;
  /** Byte offset just past its `}`. */
  end: number;
  /** `metadata.namespace`; empty when absent. */
  namespace: string;
  /** `metadata.name`; empty when absent. */
  name: string;
  /** `metadata.resourceVersion`; empty when absent. */
  resourceVersion: string;
  /** The `kcp.io/cluster` annotation, when present. */
  cluster: string | undefined;
  /** Whether `apiVersion` and `kind` come before `metadata` (list items usually have neither). */
  typed: boolean;
  /** Where `metadata.managedFields` (an array) begins, relative to `start`; 0 when absent. */
  managedFieldsStart: number;
  /** Where it ends, relative to `start`; 0 when absent. */
  managedFieldsEnd: number;
}

/** A watch event whose object was scanned. */
export interface ScannedEvent {
  /** The event's `type` as sent (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`). */
  type: string;
  /** Where its object is, and its key fields. */
  object: ScannedObject;
}

/** A list response: its metadata and the ranges of its items. */
export interface ScannedList {
  /** The list's `apiVersion`; empty when absent. */
  apiVersion: string;
  /** The list's `kind`, e.g. `ConfigMapList`; empty when absent. */
  kind: string;
  /** `metadata.resourceVersion` of the list. */
  resourceVersion: string;
  /** `metadata.continue`; empty on the last page. */
  continue: string;
  /** The items, in order. */
  items: ScannedObject[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const N_NULL = 0x6e;

const FAIL = -1;

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const K_TYPE = bytes('type');
const K_OBJECT = bytes('object');
const K_METADATA = bytes('metadata');
const K_NAME = bytes('name');
const K_NAMESPACE = bytes('namespace');
const K_RESOURCE_VERSION = bytes('resourceVersion');
const K_ANNOTATIONS = bytes('annotations');
const K_CLUSTER = bytes(CLUSTER_ANNOTATION);
const K_API_VERSION = bytes('apiVersion');
const K_KIND = bytes('kind');
const K_ITEMS = bytes('items');
const K_CONTINUE = bytes('continue');
const K_MANAGED_FIELDS = bytes('managedFields');
const K_FIELDS_V1 = bytes('fieldsV1');

interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}
const hasUtf8Slice = typeof (Buffer.prototype as unknown as Partial<Utf8Slicer>).utf8Slice === 'function';

/** UTF-8 text of [s, e): Buffer's own slicer where present (it skips `toString`'s argument handling). */
export function utf8(b: Buffer, s: number, e: number): string {
  return hasUtf8Slice ? (b as unknown as Utf8Slicer).utf8Slice(s, e) : b.toString('utf8', s, e);
}

/** `j` just inside a string (after its opening quote): the offset past its closing quote, or FAIL. */
function skipStringBody(b: Buffer, j: number, end: number): number {
  while (j < end) {
    const x = b[j++]!;
    if (x === QUOTE) return j;
    if (x === BACKSLASH) j++;
  }
  return FAIL;
}

// Byte classes for the container walk: one table load per byte instead of five comparisons.
const C_QUOTE = 1;
const C_OPEN = 2;
const C_CLOSE = 3;
const C_SPACE = 4;
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = C_QUOTE;
CLASS[LBRACE] = C_OPEN;
CLASS[LBRACKET] = C_OPEN;
CLASS[RBRACE] = C_CLOSE;
CLASS[RBRACKET] = C_CLOSE;
for (const c of [0x20, 0x09, 0x0a, 0x0d]) CLASS[c] = C_SPACE;

/**
 * Skips one value starting at `i`; returns the offset past it, or FAIL. Containers only have to
 * balance (the decoder checks that `{` meets `}`); whitespace is refused, as everywhere in the scan.
 */
function skipValue(b: Buffer, i: number, end: number): number {
  if (i >= end) return FAIL;
  const c = b[i]!;
  if (c === QUOTE) return skipStringBody(b, i + 1, end);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    let j = i;
    while (j < end) {
      const k = CLASS[b[j++]!]!;
      if (k === 0) continue;
      if (k === C_QUOTE) {
        j = skipStringBody(b, j, end);
        if (j === FAIL) return FAIL;
      } else if (k === C_OPEN) {
        depth++;
      } else if (k === C_CLOSE) {
        if (--depth === 0) return j;
      } else {
        return FAIL;
      }
    }
    return FAIL;
  }
  // A number or a literal: runs to the next delimiter.
  let j = i;
  while (j < end) {
    const x = b[j]!;
    if (x === COMMA || x === RBRACE || x === RBRACKET || CLASS[x] === C_SPACE) break;
    j++;
  }
  return j > i ? j : FAIL;
}

/** Whether the key whose body is [ks, ks + len) is `k`. */
function keyIs(b: Buffer, ks: number, len: number, k: Uint8Array): boolean {
  if (len !== k.length) return false;
  for (let i = 0; i < len; i++) if (b[ks + i] !== k[i]) return false;
  return true;
}

/** The value of the string token [s, e) (quotes included), or undefined when it is not a string. */
function stringAt(b: Buffer, s: number, e: number): string | undefined {
  if (b[s] !== QUOTE) return undefined;
  for (let i = s + 1; i < e - 1; i++) {
    if (b[i] === BACKSLASH) {
      try {
        return JSON.parse(utf8(b, s, e)) as string;
      } catch {
        return undefined;
      }
    }
  }
  return utf8(b, s + 1, e - 1);
}

/**
 * A string value that tends to repeat from one object to the next (a namespace, a cluster name):
 * when the bytes match the last ones seen, the last string is returned instead of a new one, which
 * saves the allocation and lets maps reuse its cached hash.
 */
class RecentString {
  private last = Buffer.alloc(0);
  private value = '';

  at(b: Buffer, s: number, e: number): string | undefined {
    const n = e - s - 2;
    const last = this.last;
    if (n === last.length && n > 0) {
      let k = 0;
      while (k < n && b[s + 1 + k] === last[k]) k++;
      if (k === n) return this.value;
    }
    const v = stringAt(b, s, e);
    if (v !== undefined && n <= 253) {
      this.last = Buffer.from(b.subarray(s + 1, e - 1));
      this.value = v;
    }
    return v;
  }
}
const recentNamespace = new RecentString();
const recentCluster = new RecentString();

/**
 * Walks the members of the object at `i` (its `{`): for each, `cur` holds the key's body and the
 * value's start, `visit` consumes the value and returns the offset past it (or FAIL). Returns the
 * offset past the object's `}`, or FAIL. `visit` returning STOP ends the walk early with that
 * result in `cur.stopAt`.
 */
const cur = { keyStart: 0, keyLength: 0, stopAt: 0 };
const STOP = -2;
function walkMembers(b: Buffer, i: number, end: number, visit: (b: Buffer, vs: number, end: number) => number): number {
  if (b[i] !== LBRACE) return FAIL;
  let j = i + 1;
  if (b[j] === RBRACE) return j + 1;
  for (;;) {
    if (b[j] !== QUOTE) return FAIL;
    const ks = j + 1;
    const kq = skipStringBody(b, ks, end);
    if (kq === FAIL || b[kq] !== COLON) return FAIL;
    cur.keyStart = ks;
    cur.keyLength = kq - 1 - ks;
    const ve = visit(b, kq + 1, end);
    if (ve < 0) return ve;
    const c = b[ve];
    if (c === COMMA) j = ve + 1;
    else if (c === RBRACE) return ve + 1;
    else return FAIL;
  }
}

// The key fields of the object being scanned (one scan at a time: the scan is synchronous).
const meta = { namespace: '', name: '', resourceVersion: '', cluster: undefined as string | undefined, objectStart: 0, managedFieldsStart: 0, managedFieldsEnd: 0 };

// The walk of `findFieldsV1` (synchronous too): where to write, how much so far, which entry.
const managed = { out: [] as number[], length: 0, base: 0, entry: 0 };

function visitManagedEntry(b: Buffer, vs: number, end: number): number {
  const ve = skipValue(b, vs, end);
  if (ve !== FAIL && b[vs] === LBRACE && keyIs(b, cur.keyStart, cur.keyLength, K_FIELDS_V1)) {
    const { out, length: n } = managed;
    // A duplicate key (JSON.parse keeps the last) is left to the decoder whole.
    if (n > 0 && out[n - 3] === managed.entry) return FAIL;
    out[n] = managed.entry;
    out[n + 1] = vs - managed.base;
    out[n + 2] = ve - managed.base;
    managed.length = n + 3;
  }
  return ve;
}

/**
 * Where the `fieldsV1` object values are in the managedFields array at [start, end) of `b`:
 * written to `out` as triples (entry index, start, end), offsets relative to `base`. Returns how
 * many numbers were written, or -1 when the array is not what the scan vouches for.
 */
export function findFieldsV1(b: Buffer, start: number, end: number, base: number, out: number[]): number {
  managed.out = out;
  managed.length = 0;
  managed.base = base;
  if (b[start] !== LBRACKET) return FAIL;
  let j = start + 1;
  if (b[j] === RBRACKET) return j + 1 === end ? 0 : FAIL;
  for (managed.entry = 0; ; managed.entry++) {
    const e = b[j] === LBRACE ? walkMembers(b, j, end, visitManagedEntry) : skipValue(b, j, end);
    if (e < 0) return FAIL;
    if (b[e] === COMMA) j = e + 1;
    else if (b[e] === RBRACKET) return e + 1 === end ? managed.length : FAIL;
    else return FAIL;
  }
}

function visitAnnotation(b: Buffer, vs: number, end: number): number {
  const ve = skipValue(b, vs, end);
  if (ve !== FAIL && keyIs(b, cur.keyStart, cur.keyLength, K_CLUSTER)) meta.cluster = recentCluster.at(b, vs, ve);
  return ve;
}

function visitMeta(b: Buffer, vs: number, end: number): number {
  const ks = cur.keyStart;
  const len = cur.keyLength;
  if (len === 11 && b[vs] === LBRACE && keyIs(b, ks, len, K_ANNOTATIONS)) return walkMembers(b, vs, end, visitAnnotation);
  if (len === 13 && b[vs] === LBRACKET && keyIs(b, ks, len, K_MANAGED_FIELDS)) {
    // Only its place is noted (a decode looks inside); a second one is left to JSON.parse.
    if (meta.managedFieldsEnd > 0) return FAIL;
    const ve = skipValue(b, vs, end);
    if (ve === FAIL) return FAIL;
    meta.managedFieldsStart = vs - meta.objectStart;
    meta.managedFieldsEnd = ve - meta.objectStart;
    return ve;
  }
  const ve = skipValue(b, vs, end);
  if (ve === FAIL) return FAIL;
  const field = len === 4 && keyIs(b, ks, len, K_NAME) ? 1 : len === 9 && keyIs(b, ks, len, K_NAMESPACE) ? 2 : len === 15 && keyIs(b, ks, len, K_RESOURCE_VERSION) ? 3 : 0;
  if (field === 0 || b[vs] === N_NULL) return ve;
  // A key field that is not a string: leave the object to the decoder, which will say so.
  if (b[vs] !== QUOTE) return FAIL;
  const s = field === 2 ? recentNamespace.at(b, vs, ve) : stringAt(b, vs, ve);
  if (s === undefined) return FAIL;
  if (field === 1) meta.name = s;
  else if (field === 2) meta.namespace = s;
  else meta.resourceVersion = s;
  return ve;
}

// Per object: whether metadata was seen, apiVersion/kind before it, and whether to stop after it.
const obj = { hasMeta: false, apiVersion: false, kind: false, framed: false };

function visitObject(b: Buffer, vs: number, end: number): number {
  const ks = cur.keyStart;
  const len = cur.keyLength;
  if (len === 8 && keyIs(b, ks, len, K_METADATA)) {
    if (obj.hasMeta) return FAIL;
    const ve = walkMembers(b, vs, end, visitMeta);
    if (ve < 0) return ve;
    obj.hasMeta = true;
    if (obj.framed) {
      cur.stopAt = ve;
      return STOP;
    }
    return ve;
  }
  if (len === 10 && keyIs(b, ks, len, K_API_VERSION)) obj.apiVersion = true;
  else if (len === 4 && keyIs(b, ks, len, K_KIND)) obj.kind = true;
  return skipValue(b, vs, end);
}

/**
 * Where the object of a watch line `{"type":…,"object":{…}}` ends, read from the line's tail: just
 * past the `}` before the final `}`; FAIL when the tail is not two closing braces.
 */
function framedObjectEnd(b: Buffer, from: number, end: number): number {
  return end - from >= 2 && b[end - 1] === RBRACE && b[end - 2] === RBRACE ? end - 1 : FAIL;
}

/**
 * Scans the object at `i` for its key fields; undefined unless it has a metadata object. With
 * `framed` (the object is the last member of a one-line watch event) the scan stops after the
 * metadata and takes the object's end from the line's tail: the rest of the object (its spec, status
 * or data, usually the bulk of it) is only checked by the decoder, when it is read.
 */
export function scanObject(b: Buffer, i: number, end: number, framed = false): ScannedObject | undefined {
  meta.namespace = meta.name = meta.resourceVersion = '';
  meta.cluster = undefined;
  meta.managedFieldsStart = meta.managedFieldsEnd = 0;
  meta.objectStart = i;
  obj.hasMeta = obj.apiVersion = obj.kind = false;
  obj.framed = framed;
  let e = walkMembers(b, i, end, visitObject);
  if (e === STOP) e = framedObjectEnd(b, cur.stopAt, end);
  if (e < 0 || !obj.hasMeta) return undefined;
  return {
    start: i,
    end: e,
    namespace: meta.namespace,
    name: meta.name,
    resourceVersion: meta.resourceVersion,
    cluster: meta.cluster,
    typed: obj.apiVersion && obj.kind,
    managedFieldsStart: meta.managedFieldsStart,
    managedFieldsEnd: meta.managedFieldsEnd,
  };
}

const EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'].map((t) => ({ text: t, bytes: bytes(`"${t}"`) }));

/** The event type of the string token [s, e), without allocating for the usual ones. */
function eventType(b: Buffer, s: number, e: number): string | undefined {
  for (const t of EVENT_TYPES) if (keyIs(b, s, e - s, t.bytes)) return t.text;
  return stringAt(b, s, e);
}

/**
 * Scans one watch line; undefined when it is not `{"type":<string>,"object":<object with
 * metadata>}`. When `type` comes first, as Kubernetes servers send it, the object is the line's last
 * member and is scanned only up to its metadata (see `scanObject`).
 */
export function scanWatchEvent(b: Buffer, start: number, end: number): ScannedEvent | undefined {
  if (b[start] !== LBRACE || b[start + 1] !== QUOTE) return undefined;
  const ks = start + 2;
  const kq = skipStringBody(b, ks, end);
  if (kq === FAIL || b[kq] !== COLON) return undefined;
  if (keyIs(b, ks, kq - 1 - ks, K_TYPE)) {
    // The usual order: "type", then "object" to the end of the line.
    const te = skipValue(b, kq + 1, end);
    if (te === FAIL || b[te] !== COMMA || b[te + 1] !== QUOTE) return undefined;
    const type = eventType(b, kq + 1, te);
    const os = te + 2;
    const oq = skipStringBody(b, os, end);
    if (type === undefined || oq === FAIL || b[oq] !== COLON || !keyIs(b, os, oq - 1 - os, K_OBJECT)) return undefined;
    const object = scanObject(b, oq + 1, end, true);
    return object ? { type, object } : undefined;
  }
  // Any other order: walk the event's members.
  let type: string | undefined;
  let object: ScannedObject | undefined;
  const e = walkMembers(b, start, end, (bb, vs, en) => {
    if (keyIs(bb, cur.keyStart, cur.keyLength, K_OBJECT)) {
      object = scanObject(bb, vs, en);
      return object ? object.end : FAIL;
    }
    const isType = keyIs(bb, cur.keyStart, cur.keyLength, K_TYPE);
    const ve = skipValue(bb, vs, en);
    if (isType && ve !== FAIL) type = eventType(bb, vs, ve);
    return ve;
  });
  if (e !== end || type === undefined || object === undefined) return undefined;
  return { type, object };
}

/** Scans the items array at `i` into `out`; returns the offset past it, or FAIL. */
function scanItems(b: Buffer, i: number, end: number, out: ScannedObject[]): number {
  if (b[i] === N_NULL) return skipValue(b, i, end);
  if (b[i] !== LBRACKET) return FAIL;
  let j = i + 1;
  if (b[j] === RBRACKET) return j + 1;
  for (;;) {
    const item = scanObject(b, j, end);
    if (!item) return FAIL;
    out.push(item);
    const c = b[item.end];
    if (c === COMMA) j = item.end + 1;
    else if (c === RBRACKET) return item.end + 1;
    else return FAIL;
  }
}

/** Scans a whole list response; undefined when it is not a list of objects with metadata. */
export function scanList(b: Buffer, start = 0, end = b.length): ScannedList | undefined {
  const out: ScannedList = { apiVersion: '', kind: '', resourceVersion: '', continue: '', items: [] };
  const str = (vs: number, ve: number): string => (b[vs] === QUOTE ? (stringAt(b, vs, ve) ?? '') : '');
  const listMeta = (bb: Buffer, vs: number, en: number): number => {
    const ve = skipValue(bb, vs, en);
    if (ve === FAIL) return FAIL;
    if (keyIs(bb, cur.keyStart, cur.keyLength, K_RESOURCE_VERSION)) out.resourceVersion = str(vs, ve);
    else if (keyIs(bb, cur.keyStart, cur.keyLength, K_CONTINUE)) out.continue = str(vs, ve);
    return ve;
  };
  const e = walkMembers(b, start, end, (bb, vs, en) => {
    const ks = cur.keyStart;
    const len = cur.keyLength;
    if (keyIs(bb, ks, len, K_ITEMS)) return scanItems(bb, vs, en, out.items);
    if (keyIs(bb, ks, len, K_METADATA) && bb[vs] === LBRACE) return walkMembers(bb, vs, en, listMeta);
    const ve = skipValue(bb, vs, en);
    if (ve === FAIL) return FAIL;
    if (keyIs(bb, ks, len, K_API_VERSION)) out.apiVersion = str(vs, ve);
    else if (keyIs(bb, ks, len, K_KIND)) out.kind = str(vs, ve);
    return ve;
  });
  // A body may end with a newline (Go's encoder writes one).
  let tail = end;
  while (tail > e && CLASS[b[tail - 1]!] === C_SPACE) tail--;
  return e > 0 && e === tail ? out : undefined;
}
