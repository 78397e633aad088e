/**
 * `SharedInformer`: one list-watch per (base URL, resource, selectors), shared by every subscriber
 * and reference-counted by them. The first subscriber opens the connection, the last one to leave
 * closes it and empties the cache. A subscriber that arrives late first receives ADDED for every
 * cached object, then live changes, so that it sees the same state as the early ones.
 */
import { BehaviorSubject, Observable, Subject, defer, filter, finalize, from, interval, merge, share, switchMap, takeUntil, type Subscription } from './rx.js';
import { onAbort, type Transport } from '../client/index.js';
import { addedDelta, modifiedDelta } from './entry.js';
import { listWatch, type ListWatchOptions } from './listwatch.js';
import { jsonLineLog, logDecodeErrors, type Log } from './log.js';
import { ScopedReader } from './reader.js';
import { ClusterPartition } from './partition.js';
import { Store, type IndexFunc, type StoreReader } from './store.js';
import { resourcePath, type Cached, type Delta, type KubeObject, type ListWatchEvent } from './types.js';

/** Options of a shared informer. */
export interface InformerOptions<T extends KubeObject = KubeObject> extends Omit<ListWatchOptions<T>, 'store'> {
  /** Custom indexes of the cache (scoped by cluster). */
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Deep-freeze cached objects. Default: yes unless NODE_ENV=production. */
  freeze?: boolean;
  /** Applied to every object before it is cached; for objects held as text, when they are decoded. */
  transform?: (obj: T) => T;
  /** Re-deliver every cached object as MODIFIED (old === new) this often, once synced. Off by default. */
  resyncPeriodMs?: number;
  /** The resource's scope, when discovery told the caller: owner requests of a cluster-scoped kind carry no namespace. */
  namespaced?: boolean;
  /** With clusters kept selectively: how many admitted clusters' LISTs (fills) run at once. Default 8. */
  maxConcurrentFills?: number;
}

/** Callbacks for the changes an informer sees; each call is isolated, a throw is logged. */
export interface EventHandlers<T extends KubeObject = KubeObject> {
  /** An object appeared in logical cluster `cluster` (in the first list or later). */
  onAdd?(obj: Cached<T>, cluster: string): void;
  /** An object changed; `old === obj` on a periodic resync. */
  onUpdate?(old: Cached<T>, obj: Cached<T>, cluster: string): void;
  /** An object went; `obj` is its last known state. */
  onDelete?(obj: Cached<T>, cluster: string): void;
}

/** Hooks the factory uses to track informers that are in use. */
export interface InformerLifecycle {
  /** The first subscriber arrived: the informer starts its list and watch. */
  onStart?(): void;
  /** The last subscriber left: the watch ended and the cache was cleared. */
  onStop?(): void;
}

function isDelta<T extends KubeObject>(e: ListWatchEvent<T>): e is Delta<T> {
  return e.type !== 'SYNCED' && e.type !== 'BOOKMARK';
}

/** The identity of an informer: base URL, API path and selectors. */
export function informerKey(server: string, path: string, labelSelector = '', fieldSelector = ''): string {
  return JSON.stringify([server.replace(/\/+$/, ''), path, labelSelector, fieldSelector]);
}

/** One shared, reference-counted list-watch with its cache. */
export class SharedInformer<T extends KubeObject = KubeObject> {
  /** The API path watched under `server`. */
  readonly path: string;
  /** The base URL this informer watches. */
  readonly server: string;
  /** Whether the resource is namespaced; undefined when the informer was made from a path alone. */
  readonly namespaced: boolean | undefined;
  /** See `informerKey`. */
  readonly key: string;
  /**
   * Every change, for as long as the subscription lasts. Subscribing starts the informer (if it is
   * the first subscriber) and first replays the cache as ADDED.
   */
  readonly events$: Observable<Delta<T>>;
  /** Whether the cache holds a complete list; true from the first complete list until the informer stops. */
  readonly synced$: Observable<boolean>;

  private readonly cache: Store<T>;
  private readonly syncedState = new BehaviorSubject(false);
  private readonly stopAll$ = new Subject<void>();
  private readonly shared$: Observable<Delta<T>>;
  private readonly log: Log;
  private readonly partition: ClusterPartition<T>;
  private readonly fillDeltas$ = new Subject<Delta<T>>();
  private running = false;
  private count = 0;
  /** Subscribers that read every object (event handlers): while any is there, decode on arrival. */
  private objectReaders = 0;
  private lastRV = '';
  private lastErr: Error | undefined;
  /** Waiters of `whenClusterSynced`, by cluster: a fill that completes wakes its own cluster's only. */
  private readonly clusterWaits = new Map<string, Set<() => void>>();

  constructor(
    transport: Transport,
    private readonly opts: InformerOptions<T>,
    private readonly lifecycle: InformerLifecycle = {},
  ) {
    const path = opts.path ?? (opts.resource ? resourcePath(opts.resource) : undefined);
    if (!path) throw new Error('an informer needs a path or a resource');
    this.path = path;
    this.server = transport.server;
    this.namespaced = opts.namespaced;
    this.key = informerKey(transport.server, path, opts.labelSelector, opts.fieldSelector);
    this.log = opts.log ?? jsonLineLog;
    this.cache = new Store<T>({
      freeze: opts.freeze,
      indexers: opts.indexers,
      transform: opts.transform,
      onDecodeError: logDecodeErrors(this.log, { server: this.server, path: this.path }),
    });
    this.synced$ = this.syncedState.asObservable();
    this.partition = new ClusterPartition<T>({
      store: this.cache,
      transport,
      path,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      pageSize: opts.pageSize,
      listTimeoutMs: opts.listTimeoutMs,
      backoff: opts.backoff,
      maxConcurrentFills: opts.maxConcurrentFills,
      log: this.log,
      emit: (d) => this.fillDeltas$.next(d),
      running: () => this.running,
    });
    // Internal subjects, as long-lived as the informer: no teardown needed.
    this.partition.changed$.subscribe((cluster) => this.wakeClusterWaits(cluster));
    this.syncedState.subscribe((synced) => {
      if (synced) this.wakeClusterWaits(undefined);
    });

    this.shared$ = defer(() => {
      this.lifecycle.onStart?.();
      this.running = true;
      const onError = (err: Error): void => {
        this.lastErr = err;
        opts.onError?.(err);
      };
      const partition = this.partition;
      const stream$ = listWatch<T>(transport, {
        ...opts,
        path,
        store: this.cache,
        onError,
        decodeEagerly: () => this.objectReaders > 0 || (opts.decodeEagerly?.() ?? false),
        clusterFilter: partition,
      }).pipe(
        filter((e): e is Delta<T> => {
          // Anything from the server shows the connection works again.
          this.lastErr = undefined;
          if (isDelta(e)) {
            if (e.resourceVersion) this.lastRV = e.resourceVersion;
            if (partition.filling > 0) partition.touch(e);
            return true;
          }
          this.lastRV = e.resourceVersion;
          if (e.type === 'SYNCED') {
            partition.listed(e.resourceVersion);
            if (!this.syncedState.value) this.syncedState.next(true);
          }
          return false;
        }),
      );
      const changes$ = merge(stream$, this.fillDeltas$);
      const period = opts.resyncPeriodMs ?? 0;
      if (period <= 0) return changes$;
      const resync$ = interval(period).pipe(
        filter(() => this.syncedState.value),
        switchMap(() => from(this.resyncDeltas())),
      );
      return merge(changes$, resync$);
    }).pipe(
      finalize(() => {
        this.running = false;
        this.partition.reset();
        this.cache.clear();
        this.lastRV = '';
        this.lastErr = undefined;
        if (this.syncedState.value) this.syncedState.next(false);
        this.lifecycle.onStop?.();
      }),
      share(),
    );

    this.events$ = new Observable<Delta<T>>((sub) => {
      this.count++;
      // Synchronous: nothing can change the cache between this replay and the subscription below.
      for (const [cluster, entry] of this.cache.entryPairs()) sub.next(addedDelta(cluster, entry));
      const inner = this.shared$.pipe(takeUntil(this.stopAll$)).subscribe(sub);
      return () => {
        this.count--;
        inner.unsubscribe();
      };
    });
  }

  /** The cache (read-only); empty while the informer is not running. */
  get store(): StoreReader<T> {
    return this.cache;
  }

  /** Current subscribers (handlers included). */
  get subscribers(): number {
    return this.count;
  }

  /** The resourceVersion of the last list, event or bookmark seen: where a watch would resume. */
  get lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  /**
   * Why the last list or watch attempt failed (`connect ECONNREFUSED ...`, a 403...), until the
   * server answers again; undefined while all is well. Says why an informer has not synced.
   */
  get lastError(): Error | undefined {
    return this.lastErr;
  }

  /** Whether the cache holds a complete list now. */
  get synced(): boolean {
    return this.syncedState.value;
  }

  /** Resolves once synced; rejects if `signal` aborts first. It does not start the informer: subscribe for that. */
  whenSynced(signal?: AbortSignal): Promise<void> {
    return this.waitUntil(() => this.syncedState.value, this.syncedState, signal);
  }

  /**
   * Whether the cache holds `cluster`'s objects completely: synced, and (when restricted to some
   * clusters) `cluster` admitted and its fill done. Without a restriction, the same as `synced`.
   */
  clusterSynced(cluster: string): boolean {
    return this.syncedState.value && this.partition.complete(cluster);
  }

  /**
   * Why `cluster`'s part is not complete yet when its fill keeps failing (the last error, retried
   * with backoff); undefined while it is complete or still filling without a failure.
   */
  clusterSyncError(cluster: string): string | undefined {
    return this.partition.fillError(cluster);
  }

  /**
   * Resolves once `clusterSynced(cluster)`; rejects if `signal` aborts first. A replica gaining
   * thousands of clusters waits on all of them at once: each wait is woken by its own cluster's
   * fill (or by the informer's sync), never by every other cluster's.
   */
  whenClusterSynced(cluster: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      if (this.clusterSynced(cluster)) return resolve();
      let waits = this.clusterWaits.get(cluster);
      if (!waits) this.clusterWaits.set(cluster, (waits = new Set()));
      let off: (() => void) | undefined;
      const wake = (): void => {
        off?.();
        resolve();
      };
      waits.add(wake);
      if (!signal) return;
      // Many waits share one signal (a manager's, a controller's): one listener for all of them.
      off = onAbort(signal, () => {
        const set = this.clusterWaits.get(cluster);
        if (set?.delete(wake) && set.size === 0) this.clusterWaits.delete(cluster);
        reject(signal.reason as Error);
      });
    });
  }

  /** Resolves the waits of `cluster` (of every cluster when undefined) whose part is complete now. */
  private wakeClusterWaits(cluster: string | undefined): void {
    const clusters = cluster === undefined ? [...this.clusterWaits.keys()] : [cluster];
    for (const c of clusters) {
      const waits = this.clusterWaits.get(c);
      if (!waits || !this.clusterSynced(c)) continue;
      this.clusterWaits.delete(c);
      for (const wake of waits) wake();
    }
  }

  /** Whether the cache keeps only admitted clusters (see `restrictClusters`). */
  get restricted(): boolean {
    return this.partition.restricted;
  }

  /** Clusters admitted while restricted (empty when not restricted). */
  admittedClusters(): string[] {
    return this.partition.admittedClusters();
  }

  /**
   * Keeps only the objects of clusters admitted with `admitCluster` from now on (a replica that
   * shards clusters with others); objects cached so far go, with no delta. Only for an informer
   * on a `/clusters/*` URL. Idempotent.
   */
  restrictClusters(): void {
    this.partition.restrict();
  }

  /**
   * Starts keeping `cluster`'s objects (restricted informers only; a no-op otherwise). While the
   * informer runs, its part is filled with a LIST of `<base>/clusters/<cluster><path>` merged with
   * the watch's events meanwhile; its deltas reach subscribers as those of a first list do, and
   * `clusterSynced(cluster)` turns true once it is complete.
   */
  admitCluster(cluster: string): void {
    this.partition.admit(cluster);
  }

  /**
   * Stops keeping `cluster`'s objects and forgets those cached, without a DELETED delta: the
   * objects still exist, this replica just no longer holds them (restricted informers only).
   */
  evictCluster(cluster: string): void {
    this.partition.evict(cluster);
  }

  private waitUntil(ready: () => boolean, changes$: Observable<unknown>, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      let sub: Subscription | undefined;
      let off: (() => void) | undefined;
      let synced = false;
      sub = changes$.pipe(filter(() => ready())).subscribe(() => {
        synced = true;
        off?.();
        sub?.unsubscribe();
        resolve();
      });
      // Already synced: the callback ran before `sub` was assigned.
      if (synced) return sub.unsubscribe();
      if (!signal) return;
      // Many waits share one signal (a manager's, a controller's): one listener for all of them.
      off = onAbort(signal, () => {
        sub?.unsubscribe();
        reject(signal.reason as Error);
      });
    });
  }

  /**
   * Subscribes callbacks; unsubscribe the result to remove them (and to release the informer).
   * Handlers receive every object decoded, so while any are subscribed the informer decodes
   * objects as they arrive instead of keeping their text (see `ListWatchOptions.decodeEagerly`).
   */
  addEventHandler(handlers: EventHandlers<T>): Subscription {
    this.objectReaders++;
    const sub = this.events$.subscribe({
      next: (d) => {
        try {
          if (d.type === 'ADDED') handlers.onAdd?.(d.object, d.cluster);
          else if (d.type === 'MODIFIED') handlers.onUpdate?.(d.old, d.object, d.cluster);
          else handlers.onDelete?.(d.object, d.cluster);
        } catch (e) {
          this.log({ level: 'error', msg: `event handler threw: ${(e as Error).message}`, event: 'handler-error', server: this.server, path: this.path, cluster: d.cluster, name: d.name, namespace: d.namespace || undefined });
        }
      },
      // listWatch retries what it can; an error here is a bug, logged rather than thrown uncaught.
      error: (e: unknown) => this.log({ level: 'error', msg: `informer stream failed: ${(e as Error)?.message ?? String(e)}`, event: 'stream-error', server: this.server, path: this.path }),
    });
    sub.add(() => this.objectReaders--);
    return sub;
  }

  /** Adds cache indexes; indexes already present under the same name are kept as they are. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    const have = new Set(this.cache.indexNames());
    const missing = Object.fromEntries(Object.entries(indexers).filter(([name]) => !have.has(name)));
    if (Object.keys(missing).length > 0) this.cache.addIndexers(missing);
  }

  /** A view of one logical cluster's objects in this informer's cache. */
  reader(cluster: string): ScopedReader<T> {
    return new ScopedReader(this.cache, cluster);
  }

  /** Ends every subscription (they complete) and so the connection; the informer can be started again. */
  stop(): void {
    this.stopAll$.next();
  }

  private *resyncDeltas(): Generator<Delta<T>> {
    for (const [cluster, entry] of this.cache.entryPairs()) yield modifiedDelta(cluster, entry, entry);
  }
}

/** Narrow a delta stream to one cluster (convenience for per-cluster consumers). */
export function forCluster<T extends KubeObject>(cluster: string): (source: Observable<Delta<T>>) => Observable<Delta<T>> {
  return (source) => source.pipe(filter((d) => d.cluster === cluster));
}
