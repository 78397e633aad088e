/**
 * The multi-cluster object cache: objects keyed by (cluster, namespace, name), with a cluster and a
 * cluster+namespace index for free (they are the nesting of the maps) and optional custom indexes,
 * always scoped by cluster. Objects are stored as received (or as their JSON text, decoded on first
 * read: see `Entry`), frozen unless configured otherwise, and never copied on read.
 */
import { ChunkTracker, type Chunk } from './chunks.js';
import { addedDelta, deletedDelta, Entry, modifiedDelta, type CachedEntry, type Codec, type EntryKey, type TypeMeta } from './entry.js';
import { freezeByDefault } from './freeze.js';
import { SharedFields } from './shared.js';
import type { Cached, Delta, KubeObject, ClusterObjectKey } from './types.js';

/** Values an object is indexed under (e.g. a field value, an owner UID). */
export type IndexFunc<T extends KubeObject = KubeObject> = (obj: Cached<T>) => readonly string[];

/** Options of a `Store`. */
export interface StoreOptions<T extends KubeObject = KubeObject> {
  /** Deep-freeze stored objects. Default: yes unless NODE_ENV=production. */
  freeze?: boolean;
  /** Custom indexes by name. */
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Applied to every object before it is cached; for objects held as text, when they are decoded. */
  transform?: (obj: T) => T;
  /** Told when a stored text fails to decode (a broken server); the object then has its key fields only. */
  onDecodeError?: (err: Error, key: EntryKey) => void;
}

/** The read side of a store, as informers hand it out. */
export interface StoreReader<T extends KubeObject = KubeObject> {
  /** Number of objects. */
  readonly size: number;
  /** One object, or undefined. */
  get(cluster: string, namespace: string, name: string): Cached<T> | undefined;
  /** Every object of every cluster. */
  list(): Cached<T>[];
  /** Every object of one cluster (optionally one namespace); O(objects returned). */
  listCluster(cluster: string, namespace?: string): Cached<T>[];
  /** Clusters holding at least one object. */
  clusters(): string[];
  /** Number of objects in one cluster. */
  clusterSize(cluster: string): number;
  /** Objects whose index `name` yields `value`, in one cluster or in all. */
  byIndex(name: string, value: string, cluster?: string): Cached<T>[];
  /** (cluster, object) pairs, for a full walk without building an array. */
  entries(): IterableIterator<[string, Cached<T>]>;
  /** One object's entry: its key fields, and the object decoded on first read. */
  getEntry(cluster: string, namespace: string, name: string): CachedEntry<T> | undefined;
  /** (cluster, entry) pairs: a walk that decodes nothing. */
  entryPairs(): IterableIterator<[string, CachedEntry<T>]>;
  /** One cluster's entries: a walk that decodes nothing, O(that cluster's objects). */
  clusterEntries(cluster: string): IterableIterator<CachedEntry<T>>;
}

/**
 * A string-keyed map that keeps its first entry in two fields and makes a `Map` only for a second
 * key. Most clusters of a store hold one namespace, and many (a provider's view of its bindings:
 * one per workspace) one object: two Maps for one object cost about 0.3 KB, at every replica, for
 * every workspace. Iterates in insertion order, as a Map does; once a Map, it stays one.
 */
export class SmallMap<V> {
  private key: string | undefined = undefined;
  private value: V | undefined = undefined;
  private map: Map<string, V> | undefined = undefined;

  /** Number of entries. */
  get size(): number {
    if (this.map) return this.map.size;
    return this.key === undefined ? 0 : 1;
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    if (this.map) return this.map.get(key);
    return key === this.key ? this.value : undefined;
  }

  /** Sets `key` to `value`. */
  set(key: string, value: V): void {
    if (this.map) {
      this.map.set(key, value);
    } else if (this.key === undefined || this.key === key) {
      this.key = key;
      this.value = value;
    } else {
      this.map = new Map([[this.key, this.value as V], [key, value]]);
      this.key = undefined;
      this.value = undefined;
    }
  }

  /** Removes `key`; whether it was there. */
  delete(key: string): boolean {
    if (this.map) return this.map.delete(key);
    if (this.key === undefined || this.key !== key) return false;
    this.key = undefined;
    this.value = undefined;
    return true;
  }

  /** The values, in insertion order. */
  values(): IterableIterator<V> {
    if (this.map) return this.map.values();
    return (this.key === undefined ? [] : [this.value as V]).values();
  }
}

/** One cluster's objects by namespace, with their count (so that counting costs no extra map). */
class Namespaces<T extends KubeObject> extends SmallMap<Names<T>> {
  count = 0;
}
/** One namespace's objects by name, with the cluster map they belong to (for its count). */
class Names<T extends KubeObject> extends SmallMap<Entry<T>> {
  constructor(readonly cluster: Namespaces<T>) {
    super();
  }
}
// value → cluster → entries, one per index. Sets hold entry references, so no key strings are built.
type Index<T extends KubeObject> = Map<string, Map<string, Set<Entry<T>>>>;

// A throwing index function must not leave the maps half-updated: it indexes the object nowhere,
// both when adding and when removing, so the index stays consistent.
function valuesOf<T extends KubeObject>(fn: IndexFunc<T>, obj: Cached<T>): readonly string[] {
  try {
    return fn(obj);
  } catch {
    return [];
  }
}

/** The key of an object within its cluster. */
export function keyOf(cluster: string, obj: KubeObject | Cached<KubeObject>): ClusterObjectKey {
  return { cluster, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}

function objects<T extends KubeObject>(entries: Iterable<Entry<T>>, out: Cached<T>[] = []): Cached<T>[] {
  for (const e of entries) out.push(e.object);
  return out;
}

/** Whether storing resourceVersion `rv` over `old` replays what is already there. */
function isReplay(old: { resourceVersion: string } | undefined, rv: string): boolean {
  return old !== undefined && rv !== '' && old.resourceVersion === rv;
}

/** A multi-cluster object cache with indexes. */
export class Store<T extends KubeObject = KubeObject> implements StoreReader<T> {
  private readonly byCluster = new Map<string, Namespaces<T>>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Index<T>>();
  private readonly codec: Codec<T>;
  private count = 0;

  constructor(opts: StoreOptions<T> = {}) {
    this.codec = { freeze: opts.freeze ?? freezeByDefault(), transform: opts.transform, onDecodeError: opts.onDecodeError, chunks: new ChunkTracker(), shared: new SharedFields() };
    if (opts.indexers) this.addIndexers(opts.indexers);
  }

  /** Number of objects. */
  get size(): number {
    return this.count;
  }

  /** Adds indexes; existing objects are indexed at once. A name already in use is an error. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`index "${name}" already exists`);
      this.indexers.set(name, fn);
      const idx: Index<T> = new Map();
      this.indices.set(name, idx);
      for (const [cluster, entry] of this.entryPairs()) this.indexOne(idx, fn, cluster, entry);
    }
  }

  /** Names of the custom indexes. */
  indexNames(): string[] {
    return [...this.indexers.keys()];
  }

  /** One object, or undefined. */
  get(cluster: string, namespace: string, name: string): Cached<T> | undefined {
    return this.byCluster.get(cluster)?.get(namespace)?.get(name)?.object;
  }

  /** The entry of one object (key fields without decoding), or undefined. */
  getEntry(cluster: string, namespace: string, name: string): Entry<T> | undefined {
    return this.byCluster.get(cluster)?.get(namespace)?.get(name);
  }

  /** An entry for an object's JSON text, decoded with this store's settings on first read. */
  textEntry(key: EntryKey, text: string, typeMeta?: TypeMeta): Entry<T> {
    const b = Buffer.from(text, 'utf8');
    return Entry.ofBytes(this.codec, key, b, 0, b.length, typeMeta);
  }

  /**
   * An entry for the JSON text at [start, end) of `buf`, decoded on first read. The bytes are not
   * copied, so `buf` must never be written again (true of buffers Node's HTTP client hands over).
   */
  bytesEntry(key: EntryKey, buf: Buffer, start: number, end: number, typeMeta?: TypeMeta, chunk?: Chunk): Entry<T> {
    return Entry.ofBytes(this.codec, key, buf, start, end, typeMeta, chunk);
  }

  /**
   * The memory block `buf` lies in, for `bytesEntry` calls that put many entries in one buffer
   * (look it up once per buffer instead of once per entry).
   */
  chunkOf(buf: Buffer): Chunk {
    return this.codec.chunks.chunkOf(buf);
  }

  /** Bytes of undecoded object text the cache holds, and bytes of buffer memory that keeps in use. */
  textMemory(): {
    /** Bytes of object text still referenced by cached entries. */
    live: number;
    /** Bytes of the buffers those texts lie in; above 8 MiB and twice `live`, the store compacts. */
    held: number;
  } {
    return { live: this.codec.chunks.live, held: this.codec.chunks.held };
  }

  /** An entry for a decoded object (transformed and frozen now, as this store's settings say). */
  objectEntry(obj: T): Entry<T> {
    return Entry.ofObject(this.codec, obj);
  }

  /**
   * Stores `obj` in `cluster`. Returns the delta (ADDED, or MODIFIED with the previous object), or
   * undefined when the stored object already has this resourceVersion (a replayed event).
   */
  upsert(cluster: string, obj: T): Delta<T> | undefined {
    const m = obj.metadata;
    const names = this.namesOf(cluster, m?.namespace ?? '');
    const old = names.get(m?.name ?? '');
    // A replay is recognised before the object is transformed and frozen for nothing.
    if (isReplay(old, m?.resourceVersion ?? '')) return undefined;
    return this.put(cluster, names, old, this.objectEntry(obj));
  }

  /** As `upsert`, for an entry (see `textEntry`). */
  upsertEntry(cluster: string, entry: Entry<T>): Delta<T> | undefined {
    const names = this.namesOf(cluster, entry.namespace);
    const old = names.get(entry.name);
    if (isReplay(old, entry.resourceVersion)) return undefined;
    return this.put(cluster, names, old, entry);
  }

  /** The name map of (cluster, namespace), created with its parents if missing. */
  private namesOf(cluster: string, namespace: string): Names<T> {
    let nss = this.byCluster.get(cluster);
    if (!nss) {
      nss = new Namespaces();
      this.byCluster.set(cluster, nss);
    }
    let names = nss.get(namespace);
    if (!names) {
      names = new Names(nss);
      nss.set(namespace, names);
    }
    return names;
  }

  /** Stores `entry` in `names` (of `cluster`) in place of `old`, and says what changed. */
  private put(cluster: string, names: Names<T>, old: Entry<T> | undefined, entry: Entry<T>): Delta<T> {
    names.set(entry.name, entry);
    entry.hold();
    if (old) {
      old.release();
      this.unindex(cluster, old);
      this.index(cluster, entry);
      this.compactIfWasteful();
      return modifiedDelta(cluster, entry, old);
    }
    this.count++;
    names.cluster.count++;
    this.index(cluster, entry);
    return addedDelta(cluster, entry);
  }


  /**
   * Removes an object. The delta carries `last` (the state the server sent with the deletion, which
   * has the deletion's resourceVersion) when given, else the cached object; undefined if absent.
   */
  delete(cluster: string, namespace: string, name: string, last?: T | Entry<T>): Delta<T> | undefined {
    const nss = this.byCluster.get(cluster);
    const names = nss?.get(namespace);
    const old = names?.get(name);
    if (!old) return undefined;
    names!.delete(name);
    if (names!.size === 0) nss!.delete(namespace);
    this.count--;
    if (--nss!.count === 0) this.byCluster.delete(cluster);
    old.release();
    this.unindex(cluster, old);
    this.compactIfWasteful();
    const final = last === undefined ? old : last instanceof Entry ? last : this.objectEntry(last);
    return deletedDelta(cluster, final);
  }

  /**
   * Forgets every object of one cluster, with no delta: the objects were not deleted, this cache
   * just stops holding them (a sharded replica that no longer owns the cluster). Returns how many.
   */
  dropCluster(cluster: string): number {
    const nss = this.byCluster.get(cluster);
    if (!nss) return 0;
    this.byCluster.delete(cluster);
    for (const names of nss.values()) {
      for (const e of names.values()) {
        e.release();
        this.unindex(cluster, e);
      }
    }
    this.count -= nss.count;
    this.compactIfWasteful();
    return nss.count;
  }

  /**
   * Copies the texts still held in mostly-dead buffers into one new buffer, when the buffers in
   * memory hold more than twice the live text (see chunks.ts). Returns the bytes moved.
   */
  compact(): number {
    const movable: Entry<T>[] = [];
    let bytes = 0;
    for (const [, e] of this.entryPairs()) {
      if (e.movable) {
        movable.push(e);
        bytes += e.textBytes;
      }
    }
    if (bytes === 0) return 0;
    const target = this.codec.chunks.newChunk(bytes);
    let at = 0;
    for (const e of movable) at = e.moveTo(target, at);
    return bytes;
  }

  private compactIfWasteful(): void {
    if (this.codec.chunks.wantsCompaction()) this.compact();
  }

  /** Removes everything (indexes stay defined, empty). */
  clear(): void {
    for (const [, e] of this.entryPairs()) e.release();
    this.byCluster.clear();
    for (const idx of this.indices.values()) idx.clear();
    this.count = 0;
  }

  /** Every object of every cluster. */
  list(): Cached<T>[] {
    const out: Cached<T>[] = [];
    for (const nss of this.byCluster.values()) for (const names of nss.values()) objects(names.values(), out);
    return out;
  }

  /** Every object of one cluster (optionally one namespace); O(objects returned). */
  listCluster(cluster: string, namespace?: string): Cached<T>[] {
    const nss = this.byCluster.get(cluster);
    if (!nss) return [];
    if (namespace !== undefined) return objects(nss.get(namespace)?.values() ?? []);
    const out: Cached<T>[] = [];
    for (const names of nss.values()) objects(names.values(), out);
    return out;
  }

  /** Clusters holding at least one object. */
  clusters(): string[] {
    return [...this.byCluster.keys()];
  }

  /** Number of objects in one cluster. */
  clusterSize(cluster: string): number {
    return this.byCluster.get(cluster)?.count ?? 0;
  }

  /** Objects whose index `name` yields `value`, in one cluster or in all. */
  byIndex(name: string, value: string, cluster?: string): Cached<T>[] {
    const idx = this.indices.get(name);
    if (!idx) throw new Error(`no index "${name}" (have: ${this.indexNames().join(', ') || 'none'})`);
    const hit = idx.get(value);
    if (!hit) return [];
    if (cluster !== undefined) return objects(hit.get(cluster) ?? []);
    const out: Cached<T>[] = [];
    for (const set of hit.values()) objects(set, out);
    return out;
  }

  /** (cluster, object) pairs, for a full walk without building an array. */
  *entries(): IterableIterator<[string, Cached<T>]> {
    for (const [cluster, entry] of this.entryPairs()) yield [cluster, entry.object];
  }

  /** (cluster, entry) pairs: a walk that decodes nothing. */
  *entryPairs(): IterableIterator<[string, Entry<T>]> {
    for (const [cluster, nss] of this.byCluster) for (const names of nss.values()) for (const e of names.values()) yield [cluster, e];
  }

  /** One cluster's entries: a walk that decodes nothing, O(that cluster's objects). */
  *clusterEntries(cluster: string): IterableIterator<Entry<T>> {
    const nss = this.byCluster.get(cluster);
    if (!nss) return;
    for (const names of nss.values()) yield* names.values();
  }

  private index(cluster: string, entry: Entry<T>): void {
    if (this.indexers.size === 0) return;
    for (const [name, fn] of this.indexers) this.indexOne(this.indices.get(name)!, fn, cluster, entry);
  }

  private indexOne(idx: Index<T>, fn: IndexFunc<T>, cluster: string, entry: Entry<T>): void {
    for (const value of valuesOf(fn, entry.object)) {
      let byCluster = idx.get(value);
      if (!byCluster) {
        byCluster = new Map();
        idx.set(value, byCluster);
      }
      let set = byCluster.get(cluster);
      if (!set) {
        set = new Set();
        byCluster.set(cluster, set);
      }
      set.add(entry);
    }
  }

  private unindex(cluster: string, entry: Entry<T>): void {
    if (this.indexers.size === 0) return;
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name)!;
      for (const value of valuesOf(fn, entry.object)) {
        const byCluster = idx.get(value);
        const set = byCluster?.get(cluster);
        if (!set) continue;
        set.delete(entry);
        if (set.size === 0) {
          byCluster!.delete(cluster);
          if (byCluster!.size === 0) idx.delete(value);
        }
      }
    }
  }
}
