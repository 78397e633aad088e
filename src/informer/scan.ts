/**
 * A structural scan of JSON bytes: enough to find the objects of a watch event or a list response,
 * their byte ranges and the few metadata fields a cache is keyed by, without building the objects.
 * Every byte of a scanned value is visited once (strings and brackets must balance), but nothing is
 * allocated except the key fields, so it runs several times faster than `JSON.parse` and leaves no
 * garbage behind. The objects themselves are decoded later, when (and if) someone reads them.
 *
 * Anything unexpected (a truncated value, a value of the wrong type, no `metadata`) makes a scan
 * return undefined; callers then fall back to `JSON.parse`, which reports precisely what is wrong.
 */
import { CLUSTER_ANNOTATION } from './cluster.js';

/** An object found in a buffer: where it is, and what a cache needs to know about it. */
export interface ScannedObject {
  /** Byte offset of the object's `{`. */
  start: number;
  /** Byte offset just past its `}`. */
  end: number;
  namespace: string;
  name: string;
  resourceVersion: string;
  /** The `kcp.io/cluster` annotation, when present. */
  cluster: string | undefined;
  /** Whether the object carries `apiVersion` and `kind` (list items usually do not). */
  typed: boolean;
}

/** A watch event whose object was scanned. */
export interface ScannedEvent {
  type: string;
  object: ScannedObject;
}

/** A list response: its metadata and the ranges of its items. */
export interface ScannedList {
  apiVersion: string;
  kind: string;
  resourceVersion: string;
  continue: string;
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

const FAIL = -1;

function key(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}
const K_TYPE = key('type');
const K_OBJECT = key('object');
const K_METADATA = key('metadata');
const K_NAME = key('name');
const K_NAMESPACE = key('namespace');
const K_RESOURCE_VERSION = key('resourceVersion');
const K_ANNOTATIONS = key('annotations');
const K_CLUSTER = key(CLUSTER_ANNOTATION);
const K_API_VERSION = key('apiVersion');
const K_KIND = key('kind');
const K_ITEMS = key('items');
const K_CONTINUE = key('continue');

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number, end: number): number {
  while (i < end && isSpace(b[i]!)) i++;
  return i;
}

/** Strings up to this long are walked in JS; longer ones are searched natively. */
const SHORT_STRING = 32;

/**
 * `i` at an opening quote; returns the offset past the closing one, or FAIL. The closing quote is
 * the first one preceded by an even number of backslashes. (Control characters inside strings are
 * left for the decoder to refuse.)
 */
function skipString(b: Buffer, i: number, end: number): number {
  const stop = Math.min(end, i + 1 + SHORT_STRING);
  let j = i + 1;
  for (; j < stop; j++) {
    const c = b[j]!;
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  for (;;) {
    const q = b.indexOf(QUOTE, j);
    if (q < 0 || q >= end) return FAIL;
    let k = q - 1;
    while (k > i && b[k] === BACKSLASH) k--;
    if (((q - 1 - k) & 1) === 0) return q + 1;
    j = q + 1;
  }
}

// Byte classes for the container walk: one table load per byte instead of five comparisons.
const PLAIN = 0;
const C_QUOTE = 1;
const C_OPEN = 2;
const C_CLOSE = 3;
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = C_QUOTE;
CLASS[LBRACE] = C_OPEN;
CLASS[LBRACKET] = C_OPEN;
CLASS[RBRACE] = C_CLOSE;
CLASS[RBRACKET] = C_CLOSE;

/** Skips one value of any type starting at `i` (no leading space); returns the offset past it, or FAIL. */
function skipValue(b: Buffer, i: number, end: number): number {
  if (i >= end) return FAIL;
  const c = b[i]!;
  if (c === QUOTE) return skipString(b, i, end);
  if (c === LBRACE || c === LBRACKET) {
    // Brackets only have to balance: the decoder checks that `{` meets `}`.
    let depth = 0;
    let j = i;
    while (j < end) {
      const k = CLASS[b[j]!]!;
      j++;
      if (k === PLAIN) continue;
      if (k === C_QUOTE) {
        // The string's body, inline: most are short.
        for (;;) {
          if (j >= end) return FAIL;
          const x = b[j]!;
          j++;
          if (x === QUOTE) break;
          if (x === BACKSLASH) j++;
        }
      } else if (k === C_OPEN) {
        depth++;
      } else if (--depth === 0) {
        return j;
      }
    }
    return FAIL;
  }
  // A number or a literal: runs to the next delimiter.
  let j = i;
  while (j < end) {
    const x = b[j]!;
    if (x === COMMA || x === RBRACE || x === RBRACKET || isSpace(x)) break;
    j++;
  }
  return j > i ? j : FAIL;
}

interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}
const hasUtf8Slice = typeof (Buffer.prototype as unknown as Partial<Utf8Slicer>).utf8Slice === 'function';

/** UTF-8 text of [s, e): Buffer's own slicer where present (it skips `toString`'s argument handling). */
export function utf8(b: Buffer, s: number, e: number): string {
  return hasUtf8Slice ? (b as unknown as Utf8Slicer).utf8Slice(s, e) : b.toString('utf8', s, e);
}

/** Whether the string token [s, e) (quotes included) is exactly `k`. */
function keyIs(b: Buffer, s: number, e: number, k: Uint8Array): boolean {
  if (e - s - 2 !== k.length) return false;
  for (let i = 0; i < k.length; i++) if (b[s + 1 + i] !== k[i]) return false;
  return true;
}

/** The value of the string token [s, e), or undefined when the token is not a string. */
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
  private bytes = Buffer.alloc(0);
  private value = '';

  at(b: Buffer, s: number, e: number): string | undefined {
    const n = e - s - 2;
    const last = this.bytes;
    if (n === last.length && n > 0) {
      let k = 0;
      while (k < n && b[s + 1 + k] === last[k]) k++;
      if (k === n) return this.value;
    }
    const v = stringAt(b, s, e);
    if (v !== undefined && n <= 253) {
      this.bytes = Buffer.from(b.subarray(s + 1, e - 1));
      this.value = v;
    }
    return v;
  }
}
const recentNamespace = new RecentString();
const recentCluster = new RecentString();

// The member cursor: `nextMember` leaves the key token's range here, so that walking an object
// allocates nothing (no closures, no result objects).
// (One object with fields: module-level `let`s would cost a hole check on every access.)
const cur = { keyStart: 0, keyEnd: 0, closedAt: 0 };

/**
 * At `j` (after space) inside an object: reads a member's key and colon, sets cur.keyStart/cur.keyEnd and
 * returns the value's offset (after space); returns END when `j` is at the object's `}` (the offset
 * past it is then in `cur.closedAt`), or FAIL.
 */
const END = -2;
function nextMember(b: Buffer, j: number, end: number): number {
  const c = b[j];
  if (c === RBRACE) {
    cur.closedAt = j + 1;
    return END;
  }
  if (c !== QUOTE) return FAIL;
  const ke = skipString(b, j, end);
  if (ke === FAIL) return FAIL;
  cur.keyStart = j;
  cur.keyEnd = ke;
  let v = skipSpace(b, ke, end);
  if (b[v] !== COLON) return FAIL;
  v = skipSpace(b, v + 1, end);
  return v < end ? v : FAIL;
}

/** After a member's value (ending at `ve`): the next member's offset, or END (see `cur.closedAt`), or FAIL. */
function afterMember(b: Buffer, ve: number, end: number): number {
  if (ve === FAIL) return FAIL;
  const j = skipSpace(b, ve, end);
  const c = b[j];
  if (c === COMMA) {
    const k = skipSpace(b, j + 1, end);
    return b[k] === QUOTE ? k : FAIL;
  }
  if (c === RBRACE) {
    cur.closedAt = j + 1;
    return END;
  }
  return FAIL;
}

/** Offset just inside the object at `i` (after `{` and space), or FAIL. */
function openObject(b: Buffer, i: number, end: number): number {
  return b[i] === LBRACE ? skipSpace(b, i + 1, end) : FAIL;
}

/** The `kcp.io/cluster` value of the annotations object at `i`; sets `cur.closedAt` past it. FAIL-safe: returns null on a broken object. */
function scanAnnotations(b: Buffer, i: number, end: number): string | undefined | null {
  let cluster: string | undefined;
  let j = openObject(b, i, end);
  while (j >= 0) {
    const vs = nextMember(b, j, end);
    if (vs < 0) {
      j = vs;
      break;
    }
    const ks = cur.keyStart;
    const ke = cur.keyEnd;
    const ve = skipValue(b, vs, end);
    if (ve !== FAIL && keyIs(b, ks, ke, K_CLUSTER)) cluster = recentCluster.at(b, vs, ve);
    j = afterMember(b, ve, end);
  }
  return j === END ? cluster : null;
}

/** Scans the object at `i` (after any space) for its key fields; undefined unless it has a metadata object. */
export function scanObject(b: Buffer, i: number, end: number): ScannedObject | undefined {
  const start = skipSpace(b, i, end);
  let namespace = '';
  let name = '';
  let resourceVersion = '';
  let cluster: string | undefined;
  let hasMeta = false;
  let apiVersion = false;
  let kind = false;
  let j = openObject(b, start, end);
  while (j >= 0) {
    const vs = nextMember(b, j, end);
    if (vs < 0) {
      j = vs;
      break;
    }
    let ve: number;
    const klen = cur.keyEnd - cur.keyStart - 2;
    if (klen === 8 && keyIs(b, cur.keyStart, cur.keyEnd, K_METADATA)) {
      if (b[vs] !== LBRACE) return undefined;
      hasMeta = true;
      let m = openObject(b, vs, end);
      while (m >= 0) {
        const mvs = nextMember(b, m, end);
        if (mvs < 0) {
          m = mvs;
          break;
        }
        const ks = cur.keyStart;
        const ke = cur.keyEnd;
        const len = ke - ks - 2;
        if (len === 11 && b[mvs] === LBRACE && keyIs(b, ks, ke, K_ANNOTATIONS)) {
          const c = scanAnnotations(b, mvs, end);
          if (c === null) return undefined;
          cluster = c;
          m = afterMember(b, cur.closedAt, end);
          continue;
        }
        const mve = skipValue(b, mvs, end);
        if (mve === FAIL) return undefined;
        if (b[mvs] === QUOTE) {
          if (len === 4 && keyIs(b, ks, ke, K_NAME)) name = stringAt(b, mvs, mve) ?? '';
          else if (len === 9 && keyIs(b, ks, ke, K_NAMESPACE)) namespace = recentNamespace.at(b, mvs, mve) ?? '';
          else if (len === 15 && keyIs(b, ks, ke, K_RESOURCE_VERSION)) resourceVersion = stringAt(b, mvs, mve) ?? '';
        } else if (b[mvs] !== 0x6e /* null */ && ((len === 4 && keyIs(b, ks, ke, K_NAME)) || (len === 9 && keyIs(b, ks, ke, K_NAMESPACE)) || (len === 15 && keyIs(b, ks, ke, K_RESOURCE_VERSION)))) {
          // A key field of the wrong type: let the full decoder report it.
          return undefined;
        }
        m = afterMember(b, mve, end);
      }
      if (m !== END) return undefined;
      ve = cur.closedAt;
    } else {
      if (klen === 10 && keyIs(b, cur.keyStart, cur.keyEnd, K_API_VERSION)) apiVersion = true;
      else if (klen === 4 && keyIs(b, cur.keyStart, cur.keyEnd, K_KIND)) kind = true;
      ve = skipValue(b, vs, end);
    }
    j = afterMember(b, ve, end);
  }
  if (j !== END || !hasMeta) return undefined;
  return { start, end: cur.closedAt, namespace, name, resourceVersion, cluster, typed: apiVersion && kind };
}

const EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'].map((t) => ({ text: t, bytes: key(`"${t}"`) }));

/** The event type of the string token [s, e), without allocating for the usual ones. */
function eventType(b: Buffer, s: number, e: number): string | undefined {
  for (const t of EVENT_TYPES) {
    if (e - s !== t.bytes.length) continue;
    let k = 0;
    while (k < t.bytes.length && b[s + k] === t.bytes[k]) k++;
    if (k === t.bytes.length) return t.text;
  }
  return stringAt(b, s, e);
}

/** Scans one watch line; undefined when it is not `{"type": <string>, "object": <object with metadata>}`. */
export function scanWatchEvent(b: Buffer, start: number, end: number): ScannedEvent | undefined {
  let type: string | undefined;
  let object: ScannedObject | undefined;
  let j = openObject(b, skipSpace(b, start, end), end);
  while (j >= 0) {
    const vs = nextMember(b, j, end);
    if (vs < 0) {
      j = vs;
      break;
    }
    let ve: number;
    if (keyIs(b, cur.keyStart, cur.keyEnd, K_OBJECT)) {
      object = scanObject(b, vs, end);
      if (!object) return undefined;
      ve = object.end;
    } else {
      const isType = keyIs(b, cur.keyStart, cur.keyEnd, K_TYPE);
      ve = skipValue(b, vs, end);
      if (isType && ve !== FAIL) type = eventType(b, vs, ve);
    }
    j = afterMember(b, ve, end);
  }
  if (j !== END || type === undefined || object === undefined) return undefined;
  if (skipSpace(b, cur.closedAt, end) !== end) return undefined;
  return { type, object };
}

/** Scans the items array at `i`; returns the offset past it, or FAIL. */
function scanItems(b: Buffer, i: number, end: number, out: ScannedObject[]): number {
  if (b[i] === 0x6e /* null */) return skipValue(b, i, end);
  if (b[i] !== LBRACKET) return FAIL;
  let j = skipSpace(b, i + 1, end);
  if (b[j] === RBRACKET) return j + 1;
  for (;;) {
    const item = scanObject(b, j, end);
    if (!item) return FAIL;
    out.push(item);
    j = skipSpace(b, item.end, end);
    if (b[j] === COMMA) j = skipSpace(b, j + 1, end);
    else if (b[j] === RBRACKET) return j + 1;
    else return FAIL;
  }
}

/** Scans a whole list response; undefined when it is not a list of objects with metadata. */
export function scanList(b: Buffer, start = 0, end = b.length): ScannedList | undefined {
  const out: ScannedList = { apiVersion: '', kind: '', resourceVersion: '', continue: '', items: [] };
  let j = openObject(b, skipSpace(b, start, end), end);
  while (j >= 0) {
    const vs = nextMember(b, j, end);
    if (vs < 0) {
      j = vs;
      break;
    }
    const ks = cur.keyStart;
    const ke = cur.keyEnd;
    let ve: number;
    if (keyIs(b, ks, ke, K_ITEMS)) {
      ve = scanItems(b, vs, end, out.items);
    } else if (keyIs(b, ks, ke, K_METADATA) && b[vs] === LBRACE) {
      let m = openObject(b, vs, end);
      while (m >= 0) {
        const mvs = nextMember(b, m, end);
        if (mvs < 0) {
          m = mvs;
          break;
        }
        const mks = cur.keyStart;
        const mke = cur.keyEnd;
        const mve = skipValue(b, mvs, end);
        if (mve !== FAIL && b[mvs] === QUOTE) {
          if (keyIs(b, mks, mke, K_RESOURCE_VERSION)) out.resourceVersion = stringAt(b, mvs, mve) ?? '';
          else if (keyIs(b, mks, mke, K_CONTINUE)) out.continue = stringAt(b, mvs, mve) ?? '';
        }
        m = afterMember(b, mve, end);
      }
      if (m !== END) return undefined;
      ve = cur.closedAt;
    } else {
      ve = skipValue(b, vs, end);
      if (ve !== FAIL && b[vs] === QUOTE) {
        if (keyIs(b, ks, ke, K_API_VERSION)) out.apiVersion = stringAt(b, vs, ve) ?? '';
        else if (keyIs(b, ks, ke, K_KIND)) out.kind = stringAt(b, vs, ve) ?? '';
      }
    }
    j = afterMember(b, ve, end);
  }
  if (j !== END || skipSpace(b, cur.closedAt, end) !== end) return undefined;
  return out;
}
