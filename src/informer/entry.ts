/**
 * One cached object: the key fields a cache and its consumers need, and the object itself, held as
 * the JSON bytes it arrived as (see chunks.ts) until someone reads it. Decoding happens once, on
 * first read; the bytes are then let go. A cache of objects nobody reads costs a byte range each,
 * not a tree of objects, and an event stream nobody inspects is never parsed.
 */
import type { Chunk, ChunkTracker } from './chunks.js';
import { deepFreeze } from './freeze.js';
import { findFieldsV1, utf8 } from './scan.js';
import type { SharedFields } from './shared.js';
import type { Cached, Delta, DeltaKey, KubeObject } from './types.js';

/** How a store turns objects and wire text into cached objects; shared by all its entries. */
export interface Codec<T extends KubeObject = KubeObject> {
  freeze: boolean;
  transform: ((obj: T) => T) | undefined;
  /** Told when an entry's text does not parse; the entry then holds an object with its key fields only. */
  onDecodeError: ((err: Error, entry: Entry<T>) => void) | undefined;
  /** The memory accounting of the store's entries. */
  chunks: ChunkTracker;
  /** The `fieldsV1` values the store's objects share. */
  shared: SharedFields;
}

/** apiVersion and kind for objects that arrive without them (list items). */
export interface TypeMeta {
  /** `apiVersion` to give the object, e.g. `v1`. */
  apiVersion: string;
  /** `kind` to give the object, e.g. `ConfigMap` (a list's kind without `List`). */
  kind: string;
}

/** The key fields of an object, as a scan of its text found them. */
export interface EntryKey {
  /** `metadata.namespace`; empty for cluster-scoped objects. */
  namespace: string;
  /** `metadata.name`. */
  name: string;
  /** `metadata.resourceVersion`; empty when the object has none. */
  resourceVersion: string;
  /**
   * Where the text's `metadata.managedFields` array begins, relative to the object's start (with
   * `managedFieldsEnd`): its `fieldsV1` values are then decoded once and shared. 0 or absent: none.
   */
  managedFieldsStart?: number;
  /** Where that array ends, relative to the object's start. */
  managedFieldsEnd?: number;
}

/** What readers of a store see of an entry: its key fields, and the object (decoded on first read). */
export interface CachedEntry<T extends KubeObject = KubeObject> {
  /** `metadata.namespace`; empty for cluster-scoped objects. */
  readonly namespace: string;
  /** `metadata.name`. */
  readonly name: string;
  /** `metadata.resourceVersion`, readable without decoding the object. */
  readonly resourceVersion: string;
  /** The object; decoded on the first read, the same object afterwards. */
  readonly object: Cached<T>;
  /** Whether the object has been decoded yet. */
  readonly decoded: boolean;
}

/**
 * A cached object, decoded on first read. `hold`, `release` and `moveTo` are the owning store's
 * bookkeeping; readers get the `CachedEntry` view.
 */
export class Entry<T extends KubeObject = KubeObject> implements EntryKey, CachedEntry<T> {
  private value: Cached<T> | undefined;
  // The undecoded text: `length` bytes at `offset` of `chunk`; counted in the tracker while held.
  private chunk: Chunk | undefined;
  private offset = 0;
  private length = 0;
  private counted = false;
  // Where metadata.managedFields is, relative to `offset` (0, 0: none).
  private managedStart = 0;
  private managedEnd = 0;

  private constructor(
    /** `metadata.namespace`; empty for cluster-scoped objects. */
    readonly namespace: string,
    /** `metadata.name`. */
    readonly name: string,
    /** `metadata.resourceVersion`, readable without decoding the object. */
    readonly resourceVersion: string,
    private readonly codec: Codec<T>,
    private readonly typeMeta: TypeMeta | undefined,
  ) {}

  /**
   * An entry for an object already decoded (transformed and frozen now, as the codec says).
   * @internal Stores build entries; use `Store.objectEntry`.
   */
  static ofObject<T extends KubeObject>(codec: Codec<T>, obj: T): Entry<T> {
    const m = obj.metadata;
    const e = new Entry<T>(m?.namespace ?? '', m?.name ?? '', m?.resourceVersion ?? '', codec, undefined);
    e.value = prepare(codec, obj, true);
    return e;
  }

  /**
   * An entry for the JSON text at [start, end) of `buf`, decoded on first read; `chunk` is
   * `codec.chunks.chunkOf(buf)` (callers with many entries in one buffer look it up once). The
   * bytes are not copied: `buf` must not be written afterwards.
   * @internal Stores build entries; use `Store.bytesEntry`.
   */
  static ofBytes<T extends KubeObject>(codec: Codec<T>, key: EntryKey, buf: Buffer, start: number, end: number, typeMeta?: TypeMeta, chunk?: Chunk): Entry<T> {
    const e = new Entry<T>(key.namespace, key.name, key.resourceVersion, codec, typeMeta);
    e.chunk = chunk ?? codec.chunks.chunkOf(buf);
    e.offset = buf.byteOffset + start;
    e.length = end - start;
    e.managedStart = key.managedFieldsStart ?? 0;
    e.managedEnd = key.managedFieldsEnd ?? 0;
    return e;
  }

  /** Whether the object has been decoded (or was given decoded). */
  get decoded(): boolean {
    return this.value !== undefined;
  }

  /** Bytes of undecoded text this entry holds (0 once decoded). */
  get textBytes(): number {
    return this.chunk ? this.length : 0;
  }

  /** The object; decodes it on the first call. */
  get object(): Cached<T> {
    if (this.value === undefined) {
      this.value = prepare(this.codec, this.decode());
      this.release();
      this.chunk = undefined;
    }
    return this.value;
  }

  /** The store now holds this entry: count its bytes. */
  hold(): void {
    if (this.chunk && !this.counted) {
      this.codec.chunks.hold(this.chunk, this.length);
      this.counted = true;
    }
  }

  /** The store let go of this entry: stop counting its bytes (they stay readable for whoever still has it). */
  release(): void {
    if (this.counted) {
      this.codec.chunks.release(this.chunk!, this.length);
      this.counted = false;
    }
  }

  /** Whether a compaction should move this entry's bytes. */
  get movable(): boolean {
    return this.counted && this.codec.chunks.isSparse(this.chunk!);
  }

  /** Copies the bytes to `target` at `offset` (a compaction) and points there; returns the offset past them. */
  moveTo(target: Chunk, offset: number): number {
    const from = this.chunk!;
    from.buf.copy(target.buf, offset, this.offset, this.offset + this.length);
    this.release();
    this.chunk = target;
    this.offset = offset;
    this.hold();
    return offset + this.length;
  }

  private decodeSharing(): T | undefined {
    const buf = this.chunk!.buf;
    const n = findFieldsV1(buf, this.offset + this.managedStart, this.offset + this.managedEnd, this.offset, ranges);
    return n > 0 ? decodeSharing<T>(buf, this.offset, this.offset + this.length, ranges, n, this.codec.shared) : undefined;
  }

  private decode(): T {
    let obj: T;
    try {
      obj = (this.managedEnd > 0 && this.decodeSharing()) || (JSON.parse(utf8(this.chunk!.buf, this.offset, this.offset + this.length)) as T);
    } catch (e) {
      // The text was scanned as a balanced JSON object, so this takes a broken server; keep the key.
      obj = { metadata: { name: this.name, namespace: this.namespace || undefined, resourceVersion: this.resourceVersion } } as T;
      this.codec.onDecodeError?.(e as Error, this);
    }
    if (this.typeMeta) {
      if (obj.apiVersion === undefined) obj.apiVersion = this.typeMeta.apiVersion;
      if (obj.kind === undefined) obj.kind = this.typeMeta.kind;
    }
    return obj;
  }
}

// The fieldsV1 ranges of the object being decoded (decoding is synchronous and never nested).
const ranges: number[] = [];

/**
 * Decodes `text` without its fieldsV1 values (each replaced by `0`), then puts in the shared value
 * of each; undefined when the result is not what a plain parse would give (which then happens).
 */
function decodeSharing<T extends KubeObject>(buf: Buffer, start: number, end: number, fields: readonly number[], n: number, shared: SharedFields): T | undefined {
  let text = '';
  let at = start;
  for (let k = 0; k < n; k += 3) {
    text += utf8(buf, at, start + fields[k + 1]!) + '0';
    at = start + fields[k + 2]!;
  }
  let obj: T;
  try {
    obj = JSON.parse(text + utf8(buf, at, end)) as T;
  } catch {
    return undefined;
  }
  const managed = (obj.metadata as { managedFields?: unknown } | undefined)?.managedFields;
  if (!Array.isArray(managed)) return undefined;
  for (let k = 0; k < n; k += 3) {
    const m = managed[fields[k]!] as { fieldsV1?: unknown } | null | undefined;
    if (m === null || typeof m !== 'object' || m.fieldsV1 !== 0) return undefined;
    m.fieldsV1 = shared.get(utf8(buf, start + fields[k + 1]!, start + fields[k + 2]!));
  }
  return obj;
}

function prepare<T extends KubeObject>(codec: Codec<T>, obj: T, decodedWhole = false): Cached<T> {
  const o = codec.transform ? codec.transform(obj) : obj;
  // Text decoded here shares its fieldsV1 values already (decodeSharing); an object decoded
  // whole shares them by comparison (after the transform, which may drop managedFields).
  if (decodedWhole) codec.shared.shareManaged(o);
  return (codec.freeze ? deepFreeze(o) : o) as Cached<T>;
}

/** A delta over entries: key fields at hand, objects decoded when read. */
class EntryDelta<T extends KubeObject> implements DeltaKey {
  constructor(
    readonly type: 'ADDED' | 'MODIFIED' | 'DELETED',
    readonly cluster: string,
    private readonly entry: Entry<T>,
    private readonly prev: Entry<T> | undefined,
  ) {}

  get namespace(): string {
    return this.entry.namespace;
  }

  get name(): string {
    return this.entry.name;
  }

  get resourceVersion(): string {
    return this.entry.resourceVersion;
  }

  get object(): Cached<T> {
    return this.entry.object;
  }

  get old(): Cached<T> | undefined {
    return this.prev?.object;
  }

  /** The resourceVersion of `old`, without decoding it ('' for other deltas). */
  get oldResourceVersion(): string {
    return this.prev?.resourceVersion ?? '';
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { type: this.type, cluster: this.cluster, object: this.object };
    if (this.prev) out['old'] = this.prev.object;
    return out;
  }
}

/** ADDED for `entry`. */
export function addedDelta<T extends KubeObject>(cluster: string, entry: Entry<T>): Delta<T> {
  return new EntryDelta('ADDED', cluster, entry, undefined) as Delta<T>;
}

/** MODIFIED from `prev` to `entry` (the same entry twice for a resync). */
export function modifiedDelta<T extends KubeObject>(cluster: string, entry: Entry<T>, prev: Entry<T>): Delta<T> {
  return new EntryDelta('MODIFIED', cluster, entry, prev) as Delta<T>;
}

/** DELETED of `entry`. */
export function deletedDelta<T extends KubeObject>(cluster: string, entry: Entry<T>): Delta<T> {
  return new EntryDelta('DELETED', cluster, entry, undefined) as Delta<T>;
}
