/**
 * `ClusterPartition`: which logical clusters a wildcard informer keeps, for replicas that shard
 * clusters among themselves. Unrestricted (the default) it keeps every cluster. Restricted, objects
 * of clusters not admitted are dropped at ingestion; admitting a cluster while the informer runs
 * fills that cluster's part with a LIST through `<vw>/clusters/<name>` merged with the events the
 * shared watch delivers meanwhile:
 *
 * - an object an event stored with a newer resourceVersion than the listed one stays;
 * - an object an event deleted stays deleted unless the list shows a newer version (a re-creation);
 * - an object the list does not mention goes, unless an event stored it after the list's version.
 *
 * resourceVersions of one shard are one etcd revision space: decimal integers, compared as such.
 * Where one is not a decimal integer, whatever an event wrote since the fill began wins: the
 * watch delivers every later change anyway, so the cache still converges.
 *
 * A (re)list of the shared watch while a fill runs leaves the filling cluster's objects to the fill,
 * and the fill completes only after the relist is done. The relist may follow a 410 gap whose
 * events (deletions among them) nobody saw, so a fill whose LIST is older than the relist's
 * resourceVersion runs again; one that listed at or after it already shows what the gap hid (with
 * opaque resourceVersions the order is unknown: it runs again).
 *
 * At most `maxConcurrentFills` fills LIST at a time (the rest wait their turn): a replica that
 * gains hundreds of clusters at once would otherwise send hundreds of LISTs together, each slowed
 * by all the others, and a relist in the middle would send every one of them again.
 */
import { Subject } from './rx.js';
import type { Transport } from '../client/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { Entry, TypeMeta } from './entry.js';
import { itemKind, sleep, type ClusterFilter } from './listwatch.js';
import type { Log } from './log.js';
import { scanList } from './scan.js';
import type { Store } from './store.js';
import { CLUSTER_ANNOTATION } from './cluster.js';
import type { Delta, DeltaKey, KubeObject } from './types.js';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Compares two resourceVersions as the decimal integers kcp and etcd make them (-1, 0, 1), or
 * undefined when either is something else (opaque, empty): then their order is unknown.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return undefined;
  // Without leading zeros a longer number is larger; equal lengths compare as text (no BigInt).
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a fill's LIST at `listRV` is at least as new as `target` (a relist's resourceVersion); unknown counts as no. */
function reached(listRV: string, target: string | undefined): boolean {
  if (target === undefined) return false;
  const c = compareResourceVersions(listRV, target);
  return c !== undefined && c >= 0;
}

/** What an event of the shared watch did to one key while its cluster was filling. */
interface Touch {
  rv: string;
  deleted: boolean;
}

/** One cluster's fill in progress. */
interface Fill {
  readonly ctl: AbortController;
  /** Keys (`namespace/name`) the shared stream wrote since this run of the fill began. */
  readonly touched: Map<string, Touch>;
  /** A (re)list of the shared watch overlapped this run: it completes only after that relist. */
  overlapped: boolean;
  /** resourceVersion of the latest relist this run overlapped: its LIST must be at least as new. */
  mustReach: string | undefined;
  /** Why the last run failed, until one succeeds (readiness names it). */
  error?: string;
}

/** What a partition needs of its informer. */
export interface PartitionDeps<T extends KubeObject> {
  /** The informer's cache. */
  store: Store<T>;
  /** The informer's transport; its server is the wildcard base URL (`<vw>/clusters/*`). */
  transport: Transport;
  /** The API path the informer watches. */
  path: string;
  /** The informer's label selector. */
  labelSelector?: string;
  /** The informer's field selector. */
  fieldSelector?: string;
  /** Items per list page (0: one response). */
  pageSize?: number;
  /** Timeout for each list page's response headers. */
  listTimeoutMs?: number;
  /** Retry delays after a failed fill. */
  backoff?: BackoffOptions;
  /** Fills that LIST at the same time; default 8. */
  maxConcurrentFills?: number;
  /** The informer's log. */
  log: Log;
  /** Hands a delta of a fill to the informer's subscribers. */
  emit(d: Delta<T>): void;
  /** Whether the informer's list-watch runs now (a fill runs only then). */
  running(): boolean;
}

const WILDCARD = /\/clusters\/\*$/;

/** The clusters a wildcard informer keeps, and the fills of those admitted while it runs. */
export class ClusterPartition<T extends KubeObject = KubeObject> implements ClusterFilter {
  /** Admitted clusters; undefined while unrestricted (every cluster kept). */
  private admitted: Set<string> | undefined;
  private readonly fills = new Map<string, Fill>();
  private listingNow = false;
  private listWaiters: (() => void)[] = [];
  /** Fills LISTing now, and those waiting for a turn (FIFO). */
  private listingFills = 0;
  private readonly turnWaiters: (() => void)[] = [];
  /**
   * Fires with a cluster whose part became complete or stopped being admitted, and with undefined
   * when every cluster's may have changed (restricted, reset).
   */
  readonly changed$ = new Subject<string | undefined>();

  constructor(private readonly deps: PartitionDeps<T>) {}

  /** Whether only admitted clusters are kept. */
  get restricted(): boolean {
    return this.admitted !== undefined;
  }

  /** Number of fills in progress. */
  get filling(): number {
    return this.fills.size;
  }

  /** Clusters admitted (empty while unrestricted). */
  admittedClusters(): string[] {
    return [...(this.admitted ?? [])];
  }

  admits(cluster: string): boolean {
    return this.admitted === undefined || this.admitted.has(cluster);
  }

  admitsNone(): boolean {
    return this.admitted !== undefined && this.admitted.size === 0;
  }

  listing(): (cluster: string) => boolean {
    this.listingNow = true;
    for (const f of this.fills.values()) f.overlapped = true;
    return (cluster) => !this.fills.has(cluster);
  }

  /** The shared watch finished a (re)list at `resourceVersion`: fills waiting for it may run. */
  listed(resourceVersion?: string): void {
    if (this.listingNow) for (const f of this.fills.values()) if (f.overlapped) f.mustReach = resourceVersion ?? '';
    this.listingNow = false;
    const waiters = this.listWaiters;
    this.listWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * From now on keep only admitted clusters (none yet); objects already cached go, with no delta.
   * Only a wildcard informer (`.../clusters/*`) can be restricted: it is the one that holds many.
   */
  restrict(): void {
    if (this.admitted) return;
    if (!WILDCARD.test(this.deps.transport.server)) throw new Error(`only an informer on a /clusters/* URL keeps clusters selectively, not ${this.deps.transport.server}`);
    this.admitted = new Set();
    for (const c of this.deps.store.clusters()) this.deps.store.dropCluster(c);
    this.changed$.next(undefined);
  }

  /** Starts keeping `cluster`; while the informer runs, fills its part (see the file comment). */
  admit(cluster: string): void {
    if (!this.admitted || this.admitted.has(cluster)) return;
    this.admitted.add(cluster);
    // Not running: the first list of the next start takes the cluster with the rest.
    if (this.deps.running()) this.startFill(cluster);
    this.changed$.next(cluster);
  }

  /** Stops keeping `cluster`: its objects go without a delta (nothing was deleted). */
  evict(cluster: string): void {
    if (!this.admitted?.delete(cluster)) return;
    const f = this.fills.get(cluster);
    if (f) {
      this.fills.delete(cluster);
      f.ctl.abort();
    }
    this.deps.store.dropCluster(cluster);
    this.changed$.next(cluster);
  }

  /** Whether `cluster`'s part is complete (the informer's own sync aside). */
  complete(cluster: string): boolean {
    return this.admitted === undefined || (this.admitted.has(cluster) && !this.fills.has(cluster));
  }

  /** Why `cluster`'s fill is failing (its last error), or undefined when it is not failing. */
  fillError(cluster: string): string | undefined {
    return this.fills.get(cluster)?.error;
  }

  /** Records what a delta of the shared stream did, when its cluster is filling. */
  touch(d: DeltaKey & { readonly type: string }): void {
    this.fills.get(d.cluster)?.touched.set(`${d.namespace}/${d.name}`, { rv: d.resourceVersion, deleted: d.type === 'DELETED' });
  }

  deletedAbsent(cluster: string, namespace: string, name: string, resourceVersion: string): void {
    this.fills.get(cluster)?.touched.set(`${namespace}/${name}`, { rv: resourceVersion, deleted: true });
  }

  /** The informer stopped (its cache is cleared): fills end; admitted clusters come with the next list. */
  reset(): void {
    for (const f of this.fills.values()) f.ctl.abort();
    this.fills.clear();
    this.listed();
    this.changed$.next(undefined);
  }

  private startFill(cluster: string): void {
    const f: Fill = { ctl: new AbortController(), touched: new Map(), overlapped: false, mustReach: undefined };
    this.fills.set(cluster, f);
    void this.run(cluster, f);
  }

  private async run(cluster: string, f: Fill): Promise<void> {
    const signal = f.ctl.signal;
    const backoff = new Backoff(this.deps.backoff);
    while (!signal.aborted) {
      await this.notListing(signal);
      if (signal.aborted) return;
      f.overlapped = false;
      f.mustReach = undefined;
      f.touched.clear();
      let listRV: string | undefined;
      try {
        listRV = await this.withTurn(signal, () => this.fillOnce(cluster, f));
      } catch (e) {
        if (signal.aborted) return;
        f.error = (e as Error).message;
        const delay = backoff.next();
        this.deps.log({ level: 'warn', msg: `filling a cluster's cache failed, retrying in ${Math.round(delay)} ms`, event: 'fill-retry', server: this.deps.transport.server, path: this.deps.path, cluster, error: (e as Error).message });
        await sleep(delay, signal);
        continue;
      }
      f.error = undefined;
      if (signal.aborted || listRV === undefined) return;
      // Completing while a relist runs would let its later pages and its replace touch this cluster.
      await this.notListing(signal);
      if (signal.aborted) return;
      if (f.overlapped && !reached(listRV, f.mustReach)) continue;
      this.fills.delete(cluster);
      this.changed$.next(cluster);
      return;
    }
  }

  /** Runs `fn` once fewer than `maxConcurrentFills` fills are LISTing; the turn passes on in order. */
  private async withTurn<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R | undefined> {
    let granted = this.listingFills < Math.max(1, this.deps.maxConcurrentFills ?? 8);
    if (granted) this.listingFills++;
    else {
      granted = await new Promise<boolean>((resolve) => {
        const go = (): void => {
          signal.removeEventListener('abort', cancel);
          resolve(true);
        };
        const cancel = (): void => {
          const i = this.turnWaiters.indexOf(go);
          if (i >= 0) this.turnWaiters.splice(i, 1);
          resolve(false);
        };
        this.turnWaiters.push(go);
        signal.addEventListener('abort', cancel, { once: true });
      });
    }
    if (!granted) return undefined;
    try {
      return signal.aborted ? undefined : await fn();
    } finally {
      // The turn passes straight to the next waiter, so the count stays as it is.
      const next = this.turnWaiters.shift();
      if (next) next();
      else this.listingFills--;
    }
  }

  private notListing(signal: AbortSignal): Promise<void> {
    if (!this.listingNow) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.listWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One LIST of the cluster through its own URL, merged into the store page by page; its resourceVersion. */
  private async fillOnce(cluster: string, f: Fill): Promise<string | undefined> {
    const { store, transport } = this.deps;
    const url = `${transport.server.replace(WILDCARD, '')}/clusters/${encodeURIComponent(cluster)}${this.deps.path}`;
    const pageSize = this.deps.pageSize ?? 500;
    const seen = new Set<string>();
    let listRV: string | undefined;
    let cont: string | undefined;
    let items = 0;
    do {
      const body = await transport.requestBytes({
        url,
        query: { labelSelector: this.deps.labelSelector || undefined, fieldSelector: this.deps.fieldSelector || undefined, limit: pageSize > 0 ? pageSize : undefined, continue: cont },
        signal: f.ctl.signal,
        timeoutMs: this.deps.listTimeoutMs ?? 60_000,
      });
      if (f.ctl.signal.aborted) return undefined;
      const scanned = scanList(body);
      if (scanned) {
        listRV ??= scanned.resourceVersion;
        cont = scanned.continue || undefined;
        const kind = itemKind(scanned.kind);
        const typeMeta: TypeMeta | undefined = scanned.apiVersion && kind ? { apiVersion: scanned.apiVersion, kind } : undefined;
        const chunk = store.chunkOf(body);
        for (const item of scanned.items) {
          if (item.cluster !== undefined && item.cluster !== '' && item.cluster !== cluster) continue;
          items++;
          this.merge(cluster, f, seen, item, () => store.bytesEntry(item, body, item.start, item.end, item.typed ? undefined : typeMeta, chunk));
        }
      } else {
        const page = JSON.parse(body.toString('utf8')) as { apiVersion?: string; kind?: string; metadata?: { resourceVersion?: string; continue?: string }; items?: T[] | null };
        listRV ??= page.metadata?.resourceVersion ?? '';
        cont = page.metadata?.continue || undefined;
        const kind = itemKind(page.kind);
        for (const item of page.items ?? []) {
          if (item === null || typeof item !== 'object') continue;
          const c = item.metadata?.annotations?.[CLUSTER_ANNOTATION];
          if (c && c !== cluster) continue;
          if (item.apiVersion === undefined && page.apiVersion) item.apiVersion = page.apiVersion;
          if (item.kind === undefined && kind) item.kind = kind;
          items++;
          const m = item.metadata;
          this.merge(cluster, f, seen, { namespace: m?.namespace ?? '', name: m?.name ?? '', resourceVersion: m?.resourceVersion ?? '' }, () => store.objectEntry(item));
        }
      }
    } while (cont !== undefined && !f.ctl.signal.aborted);
    if (f.ctl.signal.aborted) return undefined;
    this.prune(cluster, f, seen, listRV ?? '');
    this.deps.log({ level: 'debug', msg: "filled a cluster's cache", event: 'filled', server: transport.server, path: this.deps.path, cluster, resourceVersion: listRV, items });
    return listRV ?? '';
  }

  /** Stores one listed object unless an event of the shared watch already has something newer. */
  private merge(cluster: string, f: Fill, seen: Set<string>, item: { namespace: string; name: string; resourceVersion: string }, entry: () => Entry<T>): void {
    const key = `${item.namespace}/${item.name}`;
    seen.add(key);
    const touch = f.touched.get(key);
    if (touch?.deleted) {
      const c = compareResourceVersions(touch.rv, item.resourceVersion);
      if (c === undefined || c >= 0) return;
    }
    const stored = this.deps.store.getEntry(cluster, item.namespace, item.name);
    if (stored) {
      const c = compareResourceVersions(stored.resourceVersion, item.resourceVersion);
      if (c === undefined ? touch !== undefined : c >= 0) return;
    }
    const d = this.deps.store.upsertEntry(cluster, entry());
    if (d) this.deps.emit(d);
  }

  /** Removes the cluster's objects the list did not show, unless an event stored them after it. */
  private prune(cluster: string, f: Fill, seen: Set<string>, listRV: string): void {
    const gone: Entry<T>[] = [];
    for (const e of this.deps.store.clusterEntries(cluster)) {
      const key = `${e.namespace}/${e.name}`;
      if (seen.has(key)) continue;
      const c = compareResourceVersions(e.resourceVersion, listRV);
      if (c === undefined ? f.touched.has(key) : c > 0) continue;
      gone.push(e);
    }
    for (const e of gone) {
      const d = this.deps.store.delete(cluster, e.namespace, e.name);
      if (d) this.deps.emit(d);
    }
  }
}
