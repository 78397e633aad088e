/**
 * The revisioned object store of one shard: one resourceVersion counter shared by every logical
 * cluster and resource (like etcd's revision), a bounded history window for watch resume, consistent
 * snapshots for `continue` and `resourceVersionMatch=Exact`, and synchronous watch fan-out so that a
 * write's event is queued to every watcher before the write is answered.
 */
import { shallowCopy } from '../json.js';
import type { KubeObject } from '../types.js';

/** Which objects a list or watch covers inside one storage bucket. */
export interface Scope {
  /** A logical cluster name, or '*' for every cluster of the shard. */
  cluster: string;
  /** '' for all namespaces. */
  namespace: string;
}

/** One committed change. */
export interface StoreEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  storage: string;
  cluster: string;
  namespace: string;
  name: string;
  /** The new state; for DELETED the last state carrying the deletion's resourceVersion. */
  object: KubeObject;
  /** The state before, for MODIFIED and DELETED. */
  prev?: KubeObject;
}

/** What a watcher receives; `object` is already the object to send. */
export interface WatchDelivery {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  rv: number;
  /** The shared serialized event line when the watcher sees the event as it was committed. */
  event: StoreEvent;
  /** True when the type or object differs from the committed event (selector transitions). */
  synthetic: boolean;
}

/** A registered watch. */
export interface Watcher {
  scope: Scope;
  /** Extra filter (label/field selectors, view filters). */
  matches: (obj: KubeObject) => boolean;
  deliver: (d: WatchDelivery) => void;
  /** Ends the watch (its stream closes cleanly and the client resumes elsewhere). */
  end?: () => void;
}

/** A durable log of commits, written before the commit is visible. */
export interface Journal {
  append(record: JournalRecord): void;
}

/** One journal line. */
export interface JournalRecord {
  rv: number;
  op: 'put' | 'del';
  storage: string;
  cluster: string;
  namespace: string;
  name: string;
  object?: KubeObject;
}

/** The store's answer when the requested resourceVersion has left the history window. */
export class Compacted extends Error {
  constructor(readonly requested: number, readonly oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

type ClusterBucket = { objects: Map<string, KubeObject>; sorted?: string[] };

/** A past state of one list scope, in list order: what its continue pages are cut from. */
interface Snapshot {
  objects: KubeObject[];
  keys: string[];
}

/** Snapshots kept for lists being paged at an older resourceVersion (each a few references per object). */
const MAX_SNAPSHOTS = 8;

/** Namespace and name joined so that string order is (namespace, name) order. */
function innerKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

/** The position of an object in list order, used for continue tokens. */
export function orderKey(cluster: string, namespace: string, name: string): string {
  return `${cluster}\u0000${namespace}\u0000${name}`;
}

/** The revisioned store of one shard. */
export class Store {
  private rv = 0;
  private readonly buckets = new Map<string, Map<string, ClusterBucket>>();
  private readonly history: StoreEvent[] = [];
  private historyStart = 0;
  /** Events with rv ≤ compactedRV are no longer retained. */
  private compactedRV = 0;
  private readonly watchers = new Map<string, Set<Watcher>>();
  /** Older states being paged through (continue tokens), newest last. */
  private readonly snapshots = new Map<string, Snapshot>();
  /** The cluster names of each bucket, sorted; dropped when a cluster bucket comes or goes. */
  private readonly clusterOrder = new Map<string, string[]>();
  /** Per bucket, objects in its clusters from each position of `clusterOrder` on (see `objectsFrom`). */
  private readonly clusterSuffix = new Map<string, number[]>();
  journal: Journal | undefined;
  /** Told of every read refused because its resourceVersion was compacted (fault statistics). */
  onExpired: (() => void) | undefined;
  /** Called after every commit, after watchers; used by the server's controllers (never write from here). */
  readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(private historyLimit = 20_000) {}

  /** The current resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.compactedRV;
  }

  /** Throws `Compacted` when `rv` is older than the history window. */
  assertResumable(rv: number): void {
    if (rv < this.compactedRV) {
      this.onExpired?.();
      throw new Compacted(rv, this.compactedRV + 1);
    }
  }

  /** Number of open watchers, across all buckets (tests use it to prove watches close). */
  get watcherCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Number of events currently retained. */
  get historySize(): number {
    return this.history.length - this.historyStart;
  }

  /** One object, or undefined. */
  get(storage: string, cluster: string, namespace: string, name: string): KubeObject | undefined {
    return this.buckets.get(storage)?.get(cluster)?.objects.get(innerKey(namespace, name));
  }

  /** Logical clusters that hold at least one object in a bucket. */
  clustersOf(storage: string): string[] {
    const b = this.buckets.get(storage);
    if (!b) return [];
    return [...b.keys()].filter((c) => (b.get(c)?.objects.size ?? 0) > 0);
  }

  /** Count of objects in a bucket for one cluster (or all). */
  count(storage: string, cluster = '*'): number {
    const b = this.buckets.get(storage);
    if (!b) return 0;
    if (cluster !== '*') return b.get(cluster)?.objects.size ?? 0;
    let n = 0;
    for (const cb of b.values()) n += cb.objects.size;
    return n;
  }

  /**
   * Objects of a scope in list order, as of `atRV` (the current state when omitted or current).
   * Throws `Compacted` when `atRV` is older than the history window.
   */
  list(storage: string, scope: Scope, atRV?: number): KubeObject[] {
    if (atRV === undefined || atRV >= this.rv) return this.currentList(storage, scope);
    this.assertResumable(atRV);
    // Undo the changes made after atRV: the earliest later event's `prev` is the state at atRV.
    const overrides = new Map<string, KubeObject | null>();
    const from = this.firstIndexAfter(atRV);
    for (let i = this.history.length - 1; i >= from; i--) {
      const e = this.history[i]!;
      if (e.storage !== storage || !inScope(scope, e.cluster, e.namespace)) continue;
      overrides.set(orderKey(e.cluster, e.namespace, e.name), e.type === 'ADDED' ? null : (e.prev ?? null));
    }
    if (overrides.size === 0) return this.currentList(storage, scope);
    const merged = new Map<string, KubeObject>();
    for (const obj of this.currentList(storage, scope)) {
      merged.set(orderKey(clusterOf(obj), obj.metadata.namespace ?? '', obj.metadata.name ?? ''), obj);
    }
    for (const [k, v] of overrides) {
      if (v === null) merged.delete(k);
      else merged.set(k, v);
    }
    return [...merged.keys()].sort().map((k) => merged.get(k)!);
  }

  /**
   * One page of a list in list order: up to `limit` (0 = all) objects after `startAfter` that pass
   * `filter`, as of `atRV`; `more` tells whether any further object passes, and `remaining` counts
   * the objects after the page (before filtering). On the current state this seeks with binary
   * search, so paging through N objects costs O(N), not O(N²/limit).
   */
  page(
    storage: string,
    scope: Scope,
    atRV: number | undefined,
    startAfter: string,
    limit: number,
    filter: (o: KubeObject) => boolean,
  ): { items: KubeObject[]; more: boolean; remaining: number; lastKey: string } {
    const items: KubeObject[] = [];
    let lastKey = '';
    // A snapshot older than now differs from the current state only where this scope changed
    // since: when nothing did (other resources were written, e.g. Lease renewals), the current
    // state is the snapshot and the seek below serves it.
    if (atRV !== undefined && atRV < this.rv && this.changedSince(storage, scope, atRV)) {
      // Built once per list, not once per page: a snapshot never changes.
      const snap = this.snapshot(storage, scope, atRV);
      let i = startAfter ? lowerBound(snap.keys, startAfter + '\u0000') : 0;
      for (; i < snap.objects.length; i++) {
        if (limit && items.length >= limit) break;
        const o = snap.objects[i]!;
        if (!filter(o)) continue;
        items.push(o);
        lastKey = snap.keys[i]!;
      }
      let more = false;
      for (let j = i; j < snap.objects.length && !more; j++) more = filter(snap.objects[j]!);
      return { items, more, remaining: snap.objects.length - i, lastKey };
    }
    const b = this.buckets.get(storage);
    if (!b) return { items, more: false, remaining: 0, lastKey };
    const [startCluster, startNs, startName] = startAfter ? startAfter.split('\u0000') : ['', '', ''];
    const clusters = scope.cluster === '*' ? this.sortedClusters(storage, b) : [scope.cluster];
    const nsPrefix = scope.namespace ? `${scope.namespace}\u0000` : '';
    let more = false;
    let remaining = 0;
    // Seek to the continue point's cluster: a wildcard list pages through every cluster in order.
    for (let ci = startAfter && scope.cluster === '*' ? lowerBound(clusters, startCluster!) : 0; ci < clusters.length; ci++) {
      const c = clusters[ci]!;
      if (startAfter && c < startCluster!) continue;
      const cb = b.get(c);
      if (!cb) continue;
      if (!cb.sorted) cb.sorted = [...cb.objects.keys()].sort();
      const keys = cb.sorted;
      // Seek to the first key after the continue point (same cluster) and inside the namespace.
      let from = nsPrefix;
      if (startAfter && c === startCluster) {
        const inner = innerKey(startNs ?? '', startName ?? '');
        if (inner >= from) from = inner + '\u0000';
      }
      let i = lowerBound(keys, from);
      for (; i < keys.length; i++) {
        const k = keys[i]!;
        if (nsPrefix && !k.startsWith(nsPrefix)) break;
        const o = cb.objects.get(k)!;
        if (limit && items.length >= limit) {
          remaining++;
          if (!more && filter(o)) more = true;
          // Once a further match is known, the rest is counted by position, not visited.
          if (more) {
            const end = nsPrefix ? lowerBound(keys, nsPrefix.slice(0, -1) + '\u0001') : keys.length;
            remaining += end - i - 1;
            break;
          }
          continue;
        }
        if (!filter(o)) continue;
        items.push(o);
        lastKey = orderKey(c, k.slice(0, k.indexOf('\u0000')), k.slice(k.indexOf('\u0000') + 1));
      }
      if (more && limit && items.length >= limit && scope.cluster !== '*') break;
      if (more) {
        // Later clusters only add to the count of remaining objects (a wildcard scope's: `clusters`
        // is then the bucket's list order, which `objectsFrom` counts by position).
        if (nsPrefix || scope.cluster !== '*') for (let j = ci + 1; j < clusters.length; j++) remaining += this.countIn(b.get(clusters[j]!), nsPrefix);
        else remaining += this.objectsFrom(storage, b, ci + 1);
        break;
      }
    }
    return { items, more, remaining, lastKey };
  }

  /** The objects of `scope` as of `atRV` in list order with their order keys, from a small cache. */
  private snapshot(storage: string, scope: Scope, atRV: number): Snapshot {
    const key = `${storage}\n${scope.cluster}\n${scope.namespace}\n${atRV}`;
    let snap = this.snapshots.get(key);
    if (!snap) {
      const objects = this.list(storage, scope, atRV);
      snap = { objects, keys: objects.map((o) => orderKey(clusterOf(o), o.metadata.namespace ?? '', o.metadata.name ?? '')) };
      if (this.snapshots.size >= MAX_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!);
      this.snapshots.set(key, snap);
    }
    return snap;
  }

  /** The clusters of a bucket in list order (every page of a wildcard list walks them). */
  private sortedClusters(storage: string, b: Map<string, ClusterBucket>): string[] {
    let sorted = this.clusterOrder.get(storage);
    if (!sorted) this.clusterOrder.set(storage, (sorted = [...b.keys()].sort()));
    return sorted;
  }

  /**
   * Objects in the clusters from position `from` of the bucket's list order on; from a suffix sum
   * kept until an object comes or goes, so that each page of a wildcard list counts what is left in
   * O(1) instead of visiting every later cluster.
   */
  private objectsFrom(storage: string, b: Map<string, ClusterBucket>, from: number): number {
    let suffix = this.clusterSuffix.get(storage);
    if (!suffix) {
      const clusters = this.sortedClusters(storage, b);
      suffix = new Array<number>(clusters.length + 1);
      suffix[clusters.length] = 0;
      for (let i = clusters.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + (b.get(clusters[i]!)?.objects.size ?? 0);
      this.clusterSuffix.set(storage, suffix);
    }
    return suffix[Math.min(from, suffix.length - 1)]!;
  }

  /** Whether any object of `scope` in `storage` changed after `atRV`; throws `Compacted` when `atRV` left the window. */
  private changedSince(storage: string, scope: Scope, atRV: number): boolean {
    this.assertResumable(atRV);
    for (let i = this.firstIndexAfter(atRV); i < this.history.length; i++) {
      const e = this.history[i]!;
      if (e.storage === storage && inScope(scope, e.cluster, e.namespace)) return true;
    }
    return false;
  }

  /** Objects of one cluster bucket, in one namespace when `nsPrefix` is set. */
  private countIn(cb: ClusterBucket | undefined, nsPrefix: string): number {
    if (!cb) return 0;
    if (!nsPrefix) return cb.objects.size;
    if (!cb.sorted) cb.sorted = [...cb.objects.keys()].sort();
    const upper = nsPrefix.slice(0, -1) + '\u0001';
    return lowerBound(cb.sorted, upper) - lowerBound(cb.sorted, nsPrefix);
  }

  private currentList(storage: string, scope: Scope): KubeObject[] {
    const b = this.buckets.get(storage);
    if (!b) return [];
    const clusters = scope.cluster === '*' ? this.sortedClusters(storage, b) : [scope.cluster];
    const out: KubeObject[] = [];
    for (const c of clusters) {
      const cb = b.get(c);
      if (!cb) continue;
      if (!cb.sorted) cb.sorted = [...cb.objects.keys()].sort();
      if (scope.namespace) {
        const prefix = `${scope.namespace}\u0000`;
        for (const k of cb.sorted) if (k.startsWith(prefix)) out.push(cb.objects.get(k)!);
      } else {
        for (const k of cb.sorted) out.push(cb.objects.get(k)!);
      }
    }
    return out;
  }

  /**
   * Writes an object (create or update). The caller has already set every field except
   * `metadata.resourceVersion`, which the store assigns. Returns the stored object.
   */
  put(storage: string, cluster: string, object: KubeObject): KubeObject {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name ?? '';
    const rv = this.rv + 1;
    const stored = withResourceVersion(object, rv);
    this.journal?.append({ rv, op: 'put', storage, cluster, namespace, name, object: stored });
    this.apply(rv, 'put', storage, cluster, namespace, name, stored);
    return stored;
  }

  /**
   * Removes an object. `last` is the final state to report (an update that removes the last
   * finalizer deletes with its own content); by default the stored state. Returns the DELETED
   * event's object, which carries the deletion's resourceVersion.
   */
  delete(storage: string, cluster: string, namespace: string, name: string, last?: KubeObject): KubeObject | undefined {
    if (!this.get(storage, cluster, namespace, name)) return undefined;
    const rv = this.rv + 1;
    this.journal?.append({ rv, op: 'del', storage, cluster, namespace, name });
    return this.apply(rv, 'del', storage, cluster, namespace, name, last);
  }

  /** Re-applies a journal record at start-up (no journal write, same history and events). */
  replay(r: JournalRecord): void {
    if (r.rv <= this.rv) return;
    this.apply(r.rv, r.op, r.storage, r.cluster, r.namespace, r.name, r.object);
  }

  /** Loads a snapshot object without history (start-up only). */
  load(storage: string, cluster: string, object: KubeObject): void {
    this.clusterSuffix.delete(storage);
    this.bucket(storage, cluster).objects.set(innerKey(object.metadata.namespace ?? '', object.metadata.name ?? ''), object);
  }

  /** Sets the counter after loading a snapshot; history before it is gone. */
  restoreCounter(rv: number): void {
    this.rv = Math.max(this.rv, rv);
    this.compactedRV = this.rv;
  }

  /** Every object of every bucket (snapshots). */
  *entries(): Generator<{ storage: string; cluster: string; object: KubeObject }> {
    for (const [storage, b] of this.buckets) {
      for (const [cluster, cb] of b) for (const object of cb.objects.values()) yield { storage, cluster, object };
    }
  }

  private bucket(storage: string, cluster: string): ClusterBucket {
    let b = this.buckets.get(storage);
    if (!b) this.buckets.set(storage, (b = new Map()));
    let cb = b.get(cluster);
    if (!cb) {
      b.set(cluster, (cb = { objects: new Map() }));
      this.clusterOrder.delete(storage);
      this.clusterSuffix.delete(storage);
    }
    return cb;
  }

  private apply(
    rv: number,
    op: 'put' | 'del',
    storage: string,
    cluster: string,
    namespace: string,
    name: string,
    object: KubeObject | undefined,
  ): KubeObject | undefined {
    this.rv = rv;
    const cb = this.bucket(storage, cluster);
    const k = innerKey(namespace, name);
    const prev = cb.objects.get(k);
    let event: StoreEvent;
    if (op === 'put') {
      if (!prev) {
        cb.sorted = undefined;
        this.clusterSuffix.delete(storage);
      }
      cb.objects.set(k, object!);
      event = { rv, type: prev ? 'MODIFIED' : 'ADDED', storage, cluster, namespace, name, object: object!, prev };
    } else {
      if (!prev) return undefined;
      cb.objects.delete(k);
      cb.sorted = undefined;
      this.clusterSuffix.delete(storage);
      if (cb.objects.size === 0 && this.buckets.get(storage)?.delete(cluster)) this.clusterOrder.delete(storage);
      const base = object ?? prev;
      const last = withResourceVersion(base, rv);
      event = { rv, type: 'DELETED', storage, cluster, namespace, name, object: last, prev };
    }
    this.record(event);
    this.dispatch(event);
    return event.object;
  }

  private record(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length - this.historyStart > this.historyLimit) {
      this.compactedRV = this.history[this.historyStart]!.rv;
      this.historyStart++;
      // Shift the array occasionally, not on every event.
      if (this.historyStart > this.historyLimit) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
  }

  /**
   * Moves the counter forward to `rv` without a commit: the next commit gets a higher one. Used
   * before taking over objects from another shard's counter, so that no resource version a client
   * saw there reads as an older point here.
   */
  advanceTo(rv: number): void {
    if (rv > this.rv) this.rv = rv;
  }

  /** Ends every watch scoped to one logical cluster (wildcard watches go on). */
  endWatchers(cluster: string): void {
    for (const set of this.watchers.values()) for (const w of [...set]) if (w.scope.cluster === cluster) w.end?.();
  }

  /** Drops the whole history window: every resume point before now answers 410 (test hook). */
  compact(): void {
    this.history.length = 0;
    this.historyStart = 0;
    this.compactedRV = this.rv;
  }

  /** Index of the first retained event with rv > after. */
  private firstIndexAfter(after: number): number {
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.rv <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Registers a watcher and replays retained events after `fromRV` to it, synchronously, so that no
   * commit can fall between the replay and the registration. Throws `Compacted` when `fromRV` is
   * older than the window. Returns the function that unregisters it.
   */
  watch(storage: string, watcher: Watcher, fromRV: number): () => void {
    this.assertResumable(fromRV);
    const from = this.firstIndexAfter(fromRV);
    for (let i = from; i < this.history.length; i++) {
      const e = this.history[i]!;
      if (e.storage === storage) deliverTo(watcher, e);
    }
    // A resume point ahead of the counter sees only what comes after it, once it comes.
    const registered: Watcher =
      fromRV > this.rv ? { ...watcher, deliver: (d) => d.rv > fromRV && watcher.deliver(d) } : watcher;
    let set = this.watchers.get(storage);
    if (!set) this.watchers.set(storage, (set = new Set()));
    set.add(registered);
    return () => {
      const s = this.watchers.get(storage);
      s?.delete(registered);
      if (s && s.size === 0) this.watchers.delete(storage);
    };
  }

  private dispatch(e: StoreEvent): void {
    const set = this.watchers.get(e.storage);
    if (set) for (const w of set) deliverTo(w, e);
    for (const l of this.listeners) l(e);
  }
}

/** Index of the first key ≥ `key` in a sorted array. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `{ ...o, metadata: { ...o.metadata, resourceVersion } }`, without spread (see shallowCopy). */
function withResourceVersion(o: KubeObject, rv: number): KubeObject {
  const metadata = shallowCopy(o.metadata);
  metadata.resourceVersion = String(rv);
  const out = shallowCopy(o);
  out.metadata = metadata;
  return out;
}

/** The logical cluster an object was stored under (stamped by the API layer). */
function clusterOf(obj: KubeObject): string {
  return obj.metadata.annotations?.['kcp.io/cluster'] ?? '';
}

function inScope(scope: Scope, cluster: string, namespace: string): boolean {
  return (scope.cluster === '*' || scope.cluster === cluster) && (!scope.namespace || scope.namespace === namespace);
}

/** Turns a committed event into what one watcher sees, with selector transitions. */
function deliverTo(w: Watcher, e: StoreEvent): void {
  if (!inScope(w.scope, e.cluster, e.namespace)) return;
  const now = e.type !== 'DELETED' && w.matches(e.object);
  const before = e.prev !== undefined && w.matches(e.prev);
  if (e.type === 'DELETED') {
    if (before) w.deliver({ type: 'DELETED', object: e.object, rv: e.rv, event: e, synthetic: false });
    return;
  }
  if (now && (before || e.type === 'ADDED')) {
    w.deliver({ type: e.type, object: e.object, rv: e.rv, event: e, synthetic: false });
  } else if (now) {
    w.deliver({ type: 'ADDED', object: e.object, rv: e.rv, event: e, synthetic: true });
  } else if (before) {
    // Stops matching: the previous content, at the new resourceVersion, as the watch cache does.
    const last: KubeObject = { ...e.prev!, metadata: { ...e.prev!.metadata, resourceVersion: String(e.rv) } };
    w.deliver({ type: 'DELETED', object: last, rv: e.rv, event: e, synthetic: true });
  }
}
