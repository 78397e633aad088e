/**
 * A provider, clusters and informers in memory, for runtime unit tests without a server. The
 * informers are real `Store`s behind the `SharedInformer` surface controllers use (events$ with
 * replay, store, synced, whenSynced).
 */
import { BehaviorSubject, Observable, Subject, filter, firstValueFrom } from 'rxjs';
import type { ClusterClient, KubernetesObject, ObjectKey, ObjectType } from '../../src/client/index.js';
import { Store, type Cached, type Delta, type SharedInformer } from '../../src/informer/index.js';
import { ClusterNotFoundError, NotWatchedError, type Aware, type CacheListOptions, type Cluster, type ClusterCache, type EventInput, type EventRecorder, type FieldIndexer, type Provider } from '../../src/provider/index.js';

/** An informer over a store the test writes into. */
export class FakeInformer {
  readonly store = new Store<KubernetesObject>({ freeze: true });
  readonly path: string;
  private readonly changes = new Subject<Delta>();
  private readonly syncedState = new BehaviorSubject(false);
  subscribers = 0;
  readonly events$: Observable<Delta>;

  constructor(type: ObjectType<KubernetesObject>) {
    this.path = `/fake/${type.apiVersion}/${type.kind}`;
    this.events$ = new Observable<Delta>((sub) => {
      this.subscribers++;
      for (const [cluster, obj] of [...this.store.entries()]) {
        const d = this.store.getEntry(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '')!;
        sub.next({ type: 'ADDED', cluster, namespace: d.namespace, name: d.name, resourceVersion: d.resourceVersion, object: d.object });
      }
      const inner = this.changes.subscribe(sub);
      return () => {
        this.subscribers--;
        inner.unsubscribe();
      };
    });
  }

  get synced(): boolean {
    return this.syncedState.value;
  }

  /** Marks the informer synced (or not). */
  setSynced(v = true): void {
    this.syncedState.next(v);
  }

  async whenSynced(signal?: AbortSignal): Promise<void> {
    if (this.synced) return;
    const p = firstValueFrom(this.syncedState.pipe(filter(Boolean)));
    if (!signal) return void (await p);
    await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason as Error);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }),
    ]);
  }

  /** Every cluster's part is complete once the informer synced: a fake keeps every cluster. */
  clusterSynced(_cluster: string): boolean {
    return this.synced;
  }

  whenClusterSynced(_cluster: string, signal?: AbortSignal): Promise<void> {
    return this.whenSynced(signal);
  }

  /** Creates or updates an object (bumping its resourceVersion unless `sameRV`). */
  put(cluster: string, obj: KubernetesObject, opts: { sameRV?: boolean } = {}): void {
    const prev = this.store.get(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    const rv = opts.sameRV && prev ? prev.metadata?.resourceVersion : String(Number(prev?.metadata?.resourceVersion ?? 0) + 1);
    const d = this.store.upsert(cluster, { ...obj, metadata: { ...obj.metadata, resourceVersion: rv } });
    if (d) this.changes.next(d);
    else if (prev && opts.sameRV) {
      const e = this.store.getEntry(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '')!;
      this.changes.next({ type: 'MODIFIED', cluster, namespace: e.namespace, name: e.name, resourceVersion: e.resourceVersion, object: e.object, old: e.object, oldResourceVersion: e.resourceVersion });
    }
  }

  /** Deletes an object. */
  remove(cluster: string, namespace: string, name: string): void {
    const d = this.store.delete(cluster, namespace, name);
    if (d) this.changes.next(d);
  }

  /** As the `SharedInformer` controllers see. */
  asShared(): SharedInformer<KubernetesObject> {
    return this as unknown as SharedInformer<KubernetesObject>;
  }
}

/** Informers by type, shared by every fake cluster of one fake endpoint. */
export class FakeEndpoint {
  readonly informers = new Map<string, FakeInformer>();
  /** Types whose informer lookup fails (e.g. not served yet). */
  readonly failing = new Set<string>();

  informer(type: ObjectType<KubernetesObject>): FakeInformer {
    const key = `${type.apiVersion}/${type.kind}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new FakeInformer(type);
      inf.setSynced(true);
      this.informers.set(key, inf);
    }
    return inf;
  }
}

/** Events a fake recorder was asked to publish. */
export interface Published {
  regarding: Cached<KubernetesObject>;
  event: EventInput;
}

/** A cluster over a fake endpoint. */
export class FakeCluster implements Cluster {
  readonly published: Published[] = [];
  /** Set to have every replica of a sharded group work on it. */
  unsharded?: boolean;
  readonly events: EventRecorder;
  readonly cache: ClusterCache;

  constructor(
    readonly name: string,
    readonly endpoint: FakeEndpoint,
  ) {
    this.events = { publish: async (regarding, event) => void this.published.push({ regarding, event }), stop: () => undefined };
    const ep = endpoint;
    const cluster = name;
    this.cache = {
      get<T extends KubernetesObject>(type: ObjectType<T>, key: ObjectKey): Cached<T> | undefined {
        const inf = ep.informers.get(`${type.apiVersion}/${type.kind}`);
        if (!inf) throw new NotWatchedError(type, cluster);
        return inf.store.get(cluster, key.namespace ?? '', key.name) as Cached<T> | undefined;
      },
      list<T extends KubernetesObject>(type: ObjectType<T>, opts: CacheListOptions = {}): Cached<T>[] {
        const inf = ep.informers.get(`${type.apiVersion}/${type.kind}`);
        if (!inf) throw new NotWatchedError(type, cluster);
        return inf.store.listCluster(cluster, opts.namespace) as Cached<T>[];
      },
      has: (type) => ep.informers.has(`${type.apiVersion}/${type.kind}`),
    };
  }

  get client(): ClusterClient {
    throw new Error('the fake cluster has no client');
  }

  async informer<T extends KubernetesObject>(type: ObjectType<T>): Promise<SharedInformer<T>> {
    if (this.endpoint.failing.has(`${type.apiVersion}/${type.kind}`)) throw new Error(`${type.kind} is not served`);
    return this.endpoint.informer(type).asShared() as unknown as SharedInformer<T>;
  }
}

/** A provider whose clusters the test adds and removes. */
export class FakeProvider implements Provider {
  /** @param endpoint the endpoint its clusters are on (replicas of one group share one) */
  constructor(readonly endpoint: FakeEndpoint = new FakeEndpoint()) {}

  private aware: Aware | undefined;
  private readonly clusters = new Map<string, { cluster: FakeCluster; ctl: AbortController }>();
  private readonly pending: string[] = [];

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    this.aware = aware;
    for (const n of this.pending.splice(0)) this.report(n);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    for (const n of [...this.clusters.keys()]) this.remove(n);
    this.aware = undefined;
  }

  /**
   * Adds (or re-adds, with a new handle) a cluster, on `endpoint` (another one: the cluster moved
   * to another URL); before start it is reported at start.
   */
  add(name: string, endpoint: FakeEndpoint = this.endpoint): FakeCluster {
    const cluster = new FakeCluster(name, endpoint);
    this.clusters.get(name)?.ctl.abort();
    const ctl = new AbortController();
    this.clusters.set(name, { cluster, ctl });
    if (this.aware) this.aware.engage(name, cluster, ctl.signal);
    else this.pending.push(name);
    return cluster;
  }

  /** The abort controller of a cluster's current engagement (to test stale aborts). */
  engagementOf(name: string): AbortController | undefined {
    return this.clusters.get(name)?.ctl;
  }

  remove(name: string): void {
    const e = this.clusters.get(name);
    if (!e) return;
    this.clusters.delete(name);
    e.ctl.abort();
  }

  private report(name: string): void {
    const e = this.clusters.get(name);
    if (e) this.aware?.engage(name, e.cluster, e.ctl.signal);
  }

  get(name: string): Cluster {
    const e = this.clusters.get(name);
    if (!e) throw new ClusterNotFoundError(name);
    return e.cluster;
  }

  indexField<T extends KubernetesObject>(_type: ObjectType<T>, _field: string, _fn: FieldIndexer<T>): void {
    // the fake stores index nothing
  }

  clusterNames(): string[] {
    return [...this.clusters.keys()];
  }
}
