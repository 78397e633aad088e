/**
 * Server-side apply and `metadata.managedFields` bookkeeping, in kube's FieldsV1 format.
 *
 * Simplifications (deliberate, documented for the integrator):
 * - field sets are version-agnostic: entries recorded under another apiVersion are compared as is;
 * - explicit `null`s in an applied configuration are ignored rather than owned-and-unset;
 * - map-list items are keyed by whichever merge keys they carry (no defaulting of missing keys);
 *   a list whose items cannot all be keyed uniquely is treated as atomic;
 * - maps are always granular (there is no `x-kubernetes-map-type: atomic` in `Schema`), and
 *   free-form parts (`any`, `anyValue`, unknown fields) are granular for maps, atomic for lists;
 * - Update entries mark every map or list a write created with `.`, where kube does so only for
 *   map-typed (not struct) fields.
 */
import { ApiError, cause, invalid, badRequest } from '../http/errors.js';
import { shallowCopy } from '../json.js';
import { getOwn, isJsonObject, jsonEqual, setOwn } from './patch.js';
import type { Json, JsonObject, KubeObject, ManagedFieldsEntry, Schema } from '../types.js';

/** Common inputs of both bookkeeping entry points. */
export interface ManagedWriteArgs {
  /** Schema of the whole object; drives list semantics. */
  schema: Schema;
  /** apiVersion the request was made in; recorded in the manager's entry. */
  apiVersion: string;
  /** Time of the write; normalized to RFC 3339 seconds. */
  now: string;
  /** Subresource written ('' or undefined for the main resource, e.g. 'status'). */
  subresource?: string | undefined;
  /**
   * Dotted field paths (e.g. 'status', 'metadata.labels') this write may not touch and that are
   * never tracked for it, like kube's reset fields: status for a main-resource write, everything
   * but status for a status write. Applied configurations lose them before merging.
   */
  ignoreFields?: readonly string[] | undefined;
}

/** Arguments of `serverSideApply`. */
export interface ApplyArgs extends ManagedWriteArgs {
  /** The stored object, or undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The applied configuration (the request body). */
  applied: KubeObject;
  /** The fieldManager of the request; required. */
  manager: string;
  /** `force=true`: take conflicting fields over instead of failing. */
  force: boolean;
}

/** Arguments of `recordUpdate`. */
export interface UpdateArgs extends ManagedWriteArgs {
  /** The stored object before the write, or undefined for a create. */
  before: KubeObject | undefined;
  /** The object about to be stored. */
  after: KubeObject;
  /** The fieldManager of the request; '' means 'unknown'. */
  manager: string;
}

// ---------------------------------------------------------------------------------------------
// Field sets

/** Canonical JSON: keys sorted, so equal keys and values always print to the same path element. */
function canon(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (isJsonObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Brings a path element read from stored FieldsV1 into canonical form. */
function canonElement(el: string): string {
  if (!el.startsWith('k:') && !el.startsWith('v:')) return el;
  try {
    return el.slice(0, 2) + canon(JSON.parse(el.slice(2)) as Json);
  } catch {
    return el;
  }
}

/** A set of field paths stored as a tree; `member` says the path ending at this node is in the set. */
class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  static fromFieldsV1(j: JsonObject): FieldSet {
    const s = new FieldSet();
    for (const [k, v] of Object.entries(j)) {
      if (k === '.') {
        s.member = true;
        continue;
      }
      const child = isJsonObject(v) ? FieldSet.fromFieldsV1(v) : new FieldSet();
      // An empty object is a leaf: the field itself is owned.
      if (child.children.size === 0) child.member = true;
      const el = canonElement(k);
      const prev = s.children.get(el);
      s.children.set(el, prev ? prev.union(child) : child);
    }
    return s;
  }

  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const k of [...this.children.keys()].sort()) setOwn(out, k, this.children.get(k)!.toFieldsV1());
    return out;
  }

  add(path: readonly string[]): void {
    let n: FieldSet = this;
    for (const el of path) {
      let c = n.children.get(el);
      if (!c) n.children.set(el, (c = new FieldSet()));
      n = c;
    }
    n.member = true;
  }

  private node(path: readonly string[]): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const el of path) {
      n = n.children.get(el);
      if (!n) return undefined;
    }
    return n;
  }

  has(path: readonly string[]): boolean {
    return this.node(path)?.member ?? false;
  }

  /** Whether the path or anything beneath it is in the set. */
  hasAtOrBelow(path: readonly string[]): boolean {
    const n = this.node(path);
    return n !== undefined && !n.isEmpty();
  }

  isEmpty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  /** Every member path, shallow ones first. */
  paths(prefix: string[] = []): string[][] {
    const out: string[][] = this.member && prefix.length > 0 ? [prefix] : [];
    for (const [el, c] of this.children) out.push(...c.paths([...prefix, el]));
    return out;
  }

  union(other: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member || other.member;
    for (const el of new Set([...this.children.keys(), ...other.children.keys()])) {
      const a = this.children.get(el);
      const b = other.children.get(el);
      s.children.set(el, a && b ? a.union(b) : (a ?? b)!.union(new FieldSet()));
    }
    return s;
  }

  /** This set without the members of `other` (descendants of those members stay). */
  minus(other: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && !other.member;
    for (const [el, c] of this.children) {
      const o = other.children.get(el);
      const d = o ? c.minus(o) : c.union(new FieldSet());
      if (!d.isEmpty()) s.children.set(el, d);
    }
    return s;
  }

  equals(other: FieldSet): boolean {
    return canon(this.toFieldsV1()) === canon(other.toFieldsV1()) && this.member === other.member;
  }

  /** The part of this set that still names something in `value`. */
  existingIn(value: Json): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [el, c] of this.children) {
      const loc = locate(value, el);
      if (!loc) continue;
      const sub = c.existingIn(loc.value);
      if (!sub.isEmpty()) s.children.set(el, sub);
    }
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Paths into objects

/** Finds the value a path element names inside `v`, with its position for removal. */
function locate(v: Json | undefined, el: string): { at: string | number; value: Json } | undefined {
  if (el.startsWith('f:')) {
    if (!isJsonObject(v)) return undefined;
    const name = el.slice(2);
    const x = getOwn(v, name);
    return x === undefined ? undefined : { at: name, value: x };
  }
  if (!Array.isArray(v)) return undefined;
  let want: Json;
  if (el.startsWith('i:')) {
    const i = Number(el.slice(2));
    return Number.isInteger(i) && i >= 0 && i < v.length ? { at: i, value: v[i]! } : undefined;
  }
  try {
    want = JSON.parse(el.slice(2)) as Json;
  } catch {
    return undefined;
  }
  let i = -1;
  if (el.startsWith('k:')) {
    if (!isJsonObject(want)) return undefined;
    const key = want;
    i = v.findIndex((item) => isJsonObject(item) && Object.keys(key).every((k) => jsonEqual(getOwn(item, k), key[k])));
  } else if (el.startsWith('v:')) {
    i = v.findIndex((item) => jsonEqual(item, want));
  }
  return i < 0 ? undefined : { at: i, value: v[i]! };
}

function resolve(v: Json, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = v;
  for (const el of path) {
    cur = locate(cur, el)?.value;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** `v` without the value at `path` (unchanged when there is none); copies only along the path. */
function removePath(v: Json, path: readonly string[]): Json {
  const [el, ...rest] = path;
  if (el === undefined) return v;
  const loc = locate(v, el);
  if (!loc) return v;
  const child = rest.length === 0 ? undefined : removePath(loc.value, rest);
  if (child === loc.value) return v;
  if (Array.isArray(v)) {
    const copy = v.slice();
    if (child === undefined) copy.splice(loc.at as number, 1);
    else copy[loc.at as number] = child;
    return copy;
  }
  const copy = { ...(v as JsonObject) };
  if (child === undefined) delete copy[loc.at as string];
  else setOwn(copy, loc.at as string, child);
  return copy;
}

/** How the kube field path printer shows a path: `.spec.containers[name="x"].image`. */
function pathString(path: readonly string[]): string {
  return path
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('i:')) return `[${el.slice(2)}]`;
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      if (el.startsWith('k:')) {
        try {
          const key = JSON.parse(el.slice(2)) as JsonObject;
          return `[${Object.keys(key)
            .map((k) => `${k}=${canon(key[k]!)}`)
            .join(',')}]`;
        } catch {
          return `[${el.slice(2)}]`;
        }
      }
      return el;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Schema-driven list semantics

function fieldSchema(schema: Schema | undefined, key: string): Schema | undefined {
  if (schema?.type !== 'object' || schema.anyValue) return undefined;
  const s = (schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined) ?? schema.additionalProperties;
  return s?.type === 'any' ? undefined : s;
}

function itemSchema(schema: Schema | undefined): Schema | undefined {
  return schema?.type === 'array' ? schema.items : undefined;
}

/** The `k:` element of a map-list item: the merge keys it carries, canonically encoded. */
function keyElement(item: Json, keys: readonly string[]): string | undefined {
  if (!isJsonObject(item)) return undefined;
  const key: JsonObject = {};
  for (const k of keys) {
    const v = getOwn(item, k);
    if (v !== undefined && v !== null) setOwn(key, k, v);
  }
  return Object.keys(key).length === 0 ? undefined : `k:${canon(key)}`;
}

type ListKind = { kind: 'map'; keys: readonly string[] } | { kind: 'set' } | { kind: 'atomic' };

/** How lists under `schema` merge; a map list whose items cannot be keyed uniquely degrades to atomic. */
function listKind(schema: Schema | undefined, ...lists: Json[][]): ListKind {
  if (schema?.type !== 'array' || schema.listType === 'atomic') return { kind: 'atomic' };
  const keys = schema.mergeKeys ?? [];
  if (keys.length > 0) {
    for (const list of lists) {
      const seen = new Set<string>();
      for (const item of list) {
        const el = keyElement(item, keys);
        if (el === undefined || seen.has(el)) return { kind: 'atomic' };
        seen.add(el);
      }
    }
    return { kind: 'map', keys };
  }
  return schema.listType === 'set' ? { kind: 'set' } : { kind: 'atomic' };
}

/** Leaves and list items of a value: the fields an applied configuration claims. */
function collectApplied(v: Json, schema: Schema | undefined, path: string[], set: FieldSet): void {
  if (isJsonObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== null);
    // An empty map is owned as a value of its own; the root never is.
    if (entries.length === 0 && path.length > 0) set.add(path);
    for (const [k, x] of entries) collectApplied(x, fieldSchema(schema, k), [...path, `f:${k}`], set);
    return;
  }
  if (Array.isArray(v)) {
    const lk = listKind(schema, v);
    if (lk.kind === 'atomic' || v.length === 0) {
      set.add(path);
    } else if (lk.kind === 'set') {
      for (const item of v) set.add([...path, `v:${canon(item)}`]);
    } else {
      for (const item of v) {
        const at = [...path, keyElement(item, lk.keys)!];
        set.add(at);
        for (const [k, x] of Object.entries(item as JsonObject)) {
          if (x !== null) collectApplied(x, fieldSchema(itemSchema(schema), k), [...at, `f:${k}`], set);
        }
      }
    }
    return;
  }
  set.add(path);
}

/** Adds a newly created value: the node itself (kube's `.`) and everything beneath it. */
function collectAdded(v: Json, schema: Schema | undefined, path: string[], set: FieldSet): void {
  if (path.length > 0) set.add(path);
  if (isJsonObject(v)) {
    for (const [k, x] of Object.entries(v)) collectAdded(x, fieldSchema(schema, k), [...path, `f:${k}`], set);
  } else if (Array.isArray(v)) {
    const lk = listKind(schema, v);
    if (lk.kind === 'set') for (const item of v) set.add([...path, `v:${canon(item)}`]);
    if (lk.kind === 'map') for (const item of v) collectAdded(item, itemSchema(schema), [...path, keyElement(item, lk.keys)!], set);
  }
}

/** The paths an ordinary write added or changed, at the granularity the schema gives. */
function collectChanged(before: Json | undefined, after: Json, schema: Schema | undefined, path: string[], set: FieldSet): void {
  if (before === undefined) return collectAdded(after, schema, path, set);
  // The same value (shared by both sides, see definedOnly): nothing beneath it changed.
  if (before === after) return;
  if (isJsonObject(before) && isJsonObject(after)) {
    for (const [k, x] of Object.entries(after)) collectChanged(getOwn(before, k), x, fieldSchema(schema, k), [...path, `f:${k}`], set);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const lk = listKind(schema, before, after);
    if (lk.kind === 'map') {
      for (const item of after) {
        const el = keyElement(item, lk.keys)!;
        collectChanged(locate(before, el)?.value, item, itemSchema(schema), [...path, el], set);
      }
      return;
    }
    if (lk.kind === 'set') {
      for (const item of after) if (!before.some((b) => jsonEqual(b, item))) set.add([...path, `v:${canon(item)}`]);
      return;
    }
  }
  if (!jsonEqual(before, after)) collectAdded(after, schema, path, set);
}

// ---------------------------------------------------------------------------------------------
// Fields nobody owns

/** metadata fields the server sets; like kube, they never appear in managedFields. */
const SERVER_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
];

function removeFieldPath(v: JsonObject, fields: readonly string[]): JsonObject {
  const [head, ...rest] = fields;
  if (head === undefined || !Object.hasOwn(v, head)) return v;
  const copy = { ...v };
  if (rest.length === 0) delete copy[head];
  else {
    const child = getOwn(v, head);
    if (!isJsonObject(child)) return v;
    setOwn(copy, head, removeFieldPath(child, rest));
  }
  return copy;
}

const SERVER_METADATA_KEYS = new Set(SERVER_METADATA);

/**
 * `v` without `undefined` members, which TypeScript-built objects may carry but JSON never does.
 * Subtrees that hold none are returned as they are, not copied (callers only read the result).
 */
function definedOnly(v: Json): Json {
  if (Array.isArray(v)) {
    let out: Json[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = definedOnly(v[i]!);
      if (out) out.push(x);
      else if (x !== v[i]) {
        out = v.slice(0, i);
        out.push(x);
      }
    }
    return out ?? v;
  }
  if (!isJsonObject(v)) return v;
  let out: JsonObject | undefined;
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const x = v[keys[i]!];
    const d = x === undefined ? undefined : definedOnly(x);
    if (!out && d !== x) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, v[keys[j]!]!);
    }
    if (out && d !== undefined) setOwn(out, keys[i]!, d);
  }
  return out ?? v;
}

/**
 * The object without the fields that are not tracked for this write (a new top level and
 * metadata; untouched subtrees are shared with `obj`).
 */
function tracked(obj: JsonObject, ignore: readonly string[][]): JsonObject {
  let out: JsonObject = {};
  for (const k of Object.keys(obj)) {
    const x = obj[k];
    if (x === undefined || k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata' && isJsonObject(x)) {
      const m: JsonObject = {};
      for (const mk of Object.keys(x)) {
        const mx = x[mk];
        if (mx !== undefined && !SERVER_METADATA_KEYS.has(mk)) setOwn(m, mk, definedOnly(mx));
      }
      out['metadata'] = m;
    } else setOwn(out, k, definedOnly(x));
  }
  for (const p of ignore) out = removeFieldPath(out, p);
  return out;
}

function dropNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) setOwn(out, k, dropNulls(x));
  return out;
}

/** kube never tracks the metadata map itself, only what is inside it. */
function finishSet(set: FieldSet): FieldSet {
  const md = set.children.get('f:metadata');
  if (md) {
    md.member = false;
    if (md.isEmpty()) set.children.delete('f:metadata');
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// managedFields entries

interface Entry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource: string;
  set: FieldSet;
}

/** Entry identity as kube builds it: appliers are one manager whatever apiVersion they used. */
function identity(e: Pick<Entry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([e.manager, e.operation, e.operation === 'Apply' ? '' : e.apiVersion, e.subresource]);
}

/**
 * Decodes managedFields, merging duplicate identities. Malformed entries are skipped, or make the
 * whole list undefined when `strict`.
 */
function decodeEntries(raw: Json | undefined, strict: true): Entry[] | undefined;
function decodeEntries(raw: Json | undefined): Entry[];
function decodeEntries(raw: Json | undefined, strict = false): Entry[] | undefined {
  if (!Array.isArray(raw)) return [];
  const byId = new Map<string, Entry>();
  for (const r of raw) {
    if (!isJsonObject(r)) {
      if (strict) return undefined;
      continue;
    }
    const manager = getOwn(r, 'manager');
    const operation = getOwn(r, 'operation');
    const fields = getOwn(r, 'fieldsV1') ?? {};
    if (typeof manager !== 'string' || (operation !== 'Apply' && operation !== 'Update') || !isJsonObject(fields)) {
      if (strict) return undefined;
      continue;
    }
    const apiVersion = getOwn(r, 'apiVersion');
    const time = getOwn(r, 'time');
    const subresource = getOwn(r, 'subresource');
    const e: Entry = {
      manager,
      operation,
      apiVersion: typeof apiVersion === 'string' ? apiVersion : '',
      time: typeof time === 'string' ? time : '',
      subresource: typeof subresource === 'string' ? subresource : '',
      set: FieldSet.fromFieldsV1(fields),
    };
    const id = identity(e);
    const prev = byId.get(id);
    if (prev) {
      prev.set = prev.set.union(e.set);
      if (e.time > prev.time) prev.time = e.time;
    } else {
      byId.set(id, e);
    }
  }
  return [...byId.values()];
}

/** Non-empty entries in kube's order: operation, time, manager, apiVersion, subresource. */
function encodeEntries(entries: Entry[]): ManagedFieldsEntry[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return entries
    .filter((e) => !e.set.isEmpty())
    .sort(
      (a, b) =>
        cmp(a.operation, b.operation) ||
        cmp(a.time, b.time) ||
        cmp(a.manager, b.manager) ||
        cmp(a.apiVersion, b.apiVersion) ||
        cmp(a.subresource, b.subresource),
    )
    .map((e) => {
      const out: ManagedFieldsEntry = {
        manager: e.manager,
        operation: e.operation,
        apiVersion: e.apiVersion,
        time: e.time,
        fieldsType: 'FieldsV1',
        fieldsV1: e.set.toFieldsV1(),
      };
      if (e.subresource) out['subresource'] = e.subresource;
      return out;
    });
}

/** The object with `entries` as its managedFields (the key is dropped when there are none). */
function withManagedFields(obj: JsonObject, entries: Entry[]): KubeObject {
  const encoded = encodeEntries(entries);
  const md = shallowCopy(getOwn(obj, 'metadata') as JsonObject);
  if (encoded.length > 0) md['managedFields'] = encoded;
  else delete md['managedFields'];
  return { ...obj, metadata: md } as unknown as KubeObject;
}

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
function rfc3339(now: string): string {
  // Every write of the same second passes the same string: remember the last answer.
  if (lastStamp.in === now) return lastStamp.out;
  const d = new Date(now);
  const out = Number.isNaN(d.getTime()) ? now : d.toISOString().replace(/\.\d+Z$/, 'Z');
  lastStamp = { in: now, out };
  return out;
}
let lastStamp = { in: '', out: '' };

function ignoreList(fields: readonly string[] | undefined): string[][] {
  return (fields ?? []).filter((f) => f !== '').map((f) => f.split('.'));
}

function asJson(o: KubeObject): JsonObject {
  return o as unknown as JsonObject;
}

/** How a conflicting manager is named in messages, like the apiserver prints manager identities. */
function describeManager(e: Entry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

function conflictError(conflicts: { entry: Entry; path: string[] }[]): ApiError {
  const rows = conflicts
    .map((c) => ({ who: describeManager(c.entry), field: pathString(c.path) }))
    .sort((a, b) => (a.who < b.who ? -1 : a.who > b.who ? 1 : a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  const causes = rows.map((r) => cause('FieldManagerConflict', r.field, `conflict with ${r.who}`));
  let message: string;
  if (rows.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${rows[0]!.who}: ${rows[0]!.field}`;
  } else {
    const lines: string[] = [];
    let last = '';
    for (const r of rows) {
      if (r.who !== last) lines.push(`conflicts with ${r.who}:`);
      last = r.who;
      lines.push(`- ${r.field}`);
    }
    message = `Apply failed with ${rows.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

// ---------------------------------------------------------------------------------------------
// Apply

/** Merges an applied configuration into the live value: maps by key, map lists by merge keys, sets by value. */
function applyMerge(live: Json | undefined, cfg: Json, schema: Schema | undefined): Json {
  if (isJsonObject(cfg)) {
    const out: JsonObject = isJsonObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(cfg)) setOwn(out, k, applyMerge(getOwn(out, k), v, fieldSchema(schema, k)));
    return out;
  }
  if (Array.isArray(cfg) && Array.isArray(live)) {
    const lk = listKind(schema, live, cfg);
    if (lk.kind === 'map') {
      const out = live.slice();
      const index = new Map(out.map((item, i) => [keyElement(item, lk.keys)!, i]));
      for (const item of cfg) {
        const el = keyElement(item, lk.keys)!;
        const i = index.get(el);
        if (i === undefined) {
          index.set(el, out.length);
          out.push(item);
        } else {
          out[i] = applyMerge(out[i], item, itemSchema(schema));
        }
      }
      return out;
    }
    if (lk.kind === 'set') {
      const out = live.slice();
      for (const item of cfg) if (!out.some((x) => jsonEqual(x, item))) out.push(item);
      return out;
    }
  }
  return cfg;
}

/**
 * Server-side apply: merges `applied` into `live`, removes what this manager applied before and
 * no longer applies (unless someone else owns it), and records the manager's Apply entry. A
 * changed field owned by another manager is a 409 Conflict unless `force` takes it over.
 */
export function serverSideApply(args: ApplyArgs): KubeObject {
  const { live, applied, force, schema, apiVersion } = args;
  const now = rfc3339(args.now);
  const subresource = args.subresource ?? '';
  if (!args.manager) {
    throw invalid('PatchOptions', 'meta.k8s.io', '', [cause('FieldValueRequired', 'fieldManager', 'Required value: is required for apply patch')]);
  }
  if (!isJsonObject(asJson(applied)) || !isJsonObject(asJson(applied)['metadata'])) {
    throw badRequest('the applied configuration must be an object with metadata');
  }
  const appliedMf = applied.metadata.managedFields as Json | undefined;
  if (appliedMf !== undefined && appliedMf !== null && !(Array.isArray(appliedMf) && appliedMf.length === 0)) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const ignore = ignoreList(args.ignoreFields);

  // What the applier states: untracked fields and nulls removed.
  const config = dropNulls(tracked(asJson(applied), ignore)) as JsonObject;
  const configMd = getOwn(config, 'metadata');
  if (isJsonObject(configMd) && Object.keys(configMd).length === 0) delete config['metadata'];
  const appliedSet = new FieldSet();
  collectApplied(config, schema, [], appliedSet);
  finishSet(appliedSet);

  const base: JsonObject = live ? asJson(live) : createBase(applied);
  const merged = applyMerge(base, config, schema) as JsonObject;

  const entries = decodeEntries(live?.metadata.managedFields as Json | undefined);
  const myId = identity({ manager: args.manager, operation: 'Apply', apiVersion, subresource });
  const prev = entries.find((e) => identity(e) === myId);
  const others = entries.filter((e) => e !== prev);

  const conflicts: { entry: Entry; path: string[] }[] = [];
  for (const p of appliedSet.paths()) {
    const before = resolve(base, p);
    const last = p[p.length - 1]!;
    const changed =
      before === undefined || (!last.startsWith('k:') && !last.startsWith('v:') && !jsonEqual(before, resolve(merged, p)));
    if (!changed) continue;
    for (const e of others) if (e.set.has(p)) conflicts.push({ entry: e, path: p });
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const c of conflicts) {
    const drop = new FieldSet();
    drop.add(c.path);
    c.entry.set = c.entry.set.minus(drop);
  }

  // Fields the manager stopped applying go away unless another manager still has a stake in them.
  let result: Json = merged;
  const dropped = (prev?.set.paths() ?? []).filter((p) => !appliedSet.hasAtOrBelow(p)).sort((a, b) => b.length - a.length);
  const ownedElsewhere = (p: string[]): boolean => others.some((e) => e.set.hasAtOrBelow(p));
  for (const p of dropped) {
    if (ownedElsewhere(p) || isKeyField(p)) continue;
    result = removePath(result, p);
    // Containers left empty by the removal go too, unless somebody owns them as such.
    for (let up = p.slice(0, -1); up.length > 0 && !(up.length === 1 && up[0] === 'f:metadata'); up = up.slice(0, -1)) {
      const node = resolve(result, up);
      const empty = Array.isArray(node) ? node.length === 0 : isJsonObject(node) && Object.keys(node).length === 0;
      if (!empty || appliedSet.has(up) || others.some((e) => e.set.has(up))) break;
      result = removePath(result, up);
    }
  }

  const out = result as JsonObject;
  const mine: Entry = {
    manager: args.manager,
    operation: 'Apply',
    apiVersion,
    subresource,
    set: appliedSet,
    time: now,
  };
  if (prev && prev.set.equals(appliedSet) && live && jsonEqual(stripManaged(base), stripManaged(out))) mine.time = prev.time;
  const all = [...others, mine];
  for (const e of all) e.set = e.set.existingIn(out);
  return withManagedFields(out, all);
}

/** Whether a path names a merge-key field of a map-list item; those live and die with the item. */
function isKeyField(p: readonly string[]): boolean {
  const last = p[p.length - 1];
  const parent = p[p.length - 2];
  if (!last?.startsWith('f:') || !parent?.startsWith('k:')) return false;
  try {
    return Object.hasOwn(JSON.parse(parent.slice(2)) as object, last.slice(2));
  } catch {
    return false;
  }
}

function stripManaged(o: JsonObject): JsonObject {
  return removeFieldPath(o, ['metadata', 'managedFields']);
}

/** The skeleton of an object an apply creates: identity fields from the configuration. */
function createBase(applied: KubeObject): JsonObject {
  const md: JsonObject = {};
  for (const k of ['name', 'namespace', 'generateName']) {
    const v = applied.metadata[k];
    if (typeof v === 'string') md[k] = v;
  }
  const out: JsonObject = {};
  if (applied.apiVersion !== undefined) out['apiVersion'] = applied.apiVersion;
  if (applied.kind !== undefined) out['kind'] = applied.kind;
  out['metadata'] = md;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Update

/**
 * Which managedFields an ordinary write starts from, following kube: the incoming object's own
 * non-empty list (clients may edit it), `[{}]` to reset, otherwise the stored object's.
 */
function startingEntries(before: KubeObject | undefined, after: KubeObject): Entry[] {
  const incoming = after.metadata.managedFields as Json | undefined;
  if (Array.isArray(incoming) && incoming.length === 1 && isJsonObject(incoming[0]) && Object.keys(incoming[0]).length === 0) {
    return [];
  }
  if (Array.isArray(incoming) && incoming.length > 0) {
    const decoded = decodeEntries(incoming, true);
    if (decoded) return decoded;
  }
  return decodeEntries(before?.metadata.managedFields as Json | undefined);
}

/**
 * Records an ordinary create/update/patch by `manager` (Update operation): fields it added or
 * changed become its own and leave other managers' sets; fields that no longer exist leave every
 * set. Returns `after` with the resulting managedFields.
 */
export function recordUpdate(args: UpdateArgs): KubeObject {
  const { before, after, schema, apiVersion } = args;
  const manager = args.manager || 'unknown';
  const subresource = args.subresource ?? '';
  const now = rfc3339(args.now);
  const ignore = ignoreList(args.ignoreFields);

  const entries = startingEntries(before, after);
  const b = before ? tracked(asJson(before), ignore) : {};
  const a = tracked(asJson(after), ignore);
  const changed = new FieldSet();
  collectChanged(b, a, schema, [], changed);
  finishSet(changed);

  const myId = identity({ manager, operation: 'Update', apiVersion, subresource });
  let mine = entries.find((e) => identity(e) === myId);
  for (const e of entries) if (e !== mine) e.set = e.set.minus(changed);
  if (!mine) {
    mine = { manager, operation: 'Update', apiVersion, subresource, time: now, set: new FieldSet() };
    entries.push(mine);
  }
  mine.set = mine.set.union(changed);
  if (!changed.isEmpty() || !jsonEqual(b, a)) mine.time = now;

  const out = asJson(after);
  for (const e of entries) e.set = e.set.existingIn(out);
  return withManagedFields(out, entries);
}
