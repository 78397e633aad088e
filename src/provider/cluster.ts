/**
 * The handle a controller gets for one logical cluster behind an endpoint, and its cache view.
 * How it reaches its APIs depends on the virtual workspace: on an APIExport VW every cluster serves
 * the same APIs, so clusters share the endpoint's wildcard informers and discovery; on the
 * initializing and terminating VWs each cluster serves its own set (Go provider #17), so such a
 * cluster has discovery (live, or a static table where the VW answers none) and informers of its
 * own, started on demand and stopped when it leaves. Client and recorder are built on first use,
 * so engaging stays cheap.
 */
import { ClusterClient, Discovery, StaticDiscovery, clusterURL, type KubernetesObject, type ObjectKey, type ObjectType, type StaticResource, type Transport } from '../client/index.js';
import { InformerFactory, type Cached, type Log, type SharedInformer } from '../informer/index.js';
import { fieldIndexName, typeKey, type FieldIndexes } from './indexes.js';
import { NotWatchedError, type CacheListOptions, type Cluster, type ClusterCache, type EventRecorder } from './types.js';

/**
 * How a cluster reaches its APIs: `shared` through the endpoint's wildcard informers and discovery;
 * `own` through `<endpoint>/clusters/<name>` with its own informers, and discovery live or, when
 * `resources` is given, from the static table (built-ins plus those resources). Types the endpoint
 * was given with `provide` (the object the provider watches) are read from the endpoint in both.
 */
export type ClusterAPIs =
  | {
      /** Through the endpoint's wildcard informers and discovery. */
      mode: 'shared';
    }
  | {
      /** Through `<endpoint>/clusters/<name>` with the cluster's own informers. */
      mode: 'own';
      /** Static discovery: the built-ins plus these resources; absent for live discovery. */
      resources?: readonly StaticResource[];
    };

/** Where a cache view finds the running informer of a type (an endpoint, or a cluster's own APIs). */
export interface InformerLookup {
  watched<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined;
}

/** One cluster's read-only view of the caches that hold its objects. */
export class ScopedCache implements ClusterCache {
  /** `name` is the cluster name the informers' deltas carry (a function when it is learnt later). */
  constructor(
    // An object, not a closure: one view per engaged cluster, and a closure with its context would be ~0.1 KB more each.
    private readonly lookup: InformerLookup,
    private readonly clusterName: string | (() => string),
  ) {}

  private get name(): string {
    return typeof this.clusterName === 'string' ? this.clusterName : this.clusterName();
  }

  get<T extends KubernetesObject>(type: ObjectType<T>, key: ObjectKey): Cached<T> | undefined {
    return this.informerOf(type).store.get(this.name, key.namespace ?? '', key.name);
  }

  list<T extends KubernetesObject>(type: ObjectType<T>, opts: CacheListOptions = {}): Cached<T>[] {
    const reader = this.informerOf(type).reader(this.name);
    const fields = Object.entries(opts.fields ?? {});
    if (fields.length === 0) return reader.list({ namespace: opts.namespace, labelSelector: opts.labelSelector });
    const [first, ...rest] = fields;
    let items = reader.list({ namespace: opts.namespace, labelSelector: opts.labelSelector, index: { name: fieldIndexName(first![0]), value: first![1] } });
    // Several fields intersect, as controller-runtime's MatchingFields do.
    for (const [field, value] of rest) {
      const ok = new Set(reader.list({ index: { name: fieldIndexName(field), value } }));
      items = items.filter((o) => ok.has(o));
    }
    return items;
  }

  has(type: ObjectType<KubernetesObject>): boolean {
    return this.lookup.watched(type)?.clusterSynced(this.name) ?? false;
  }

  private informerOf<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> {
    const inf = this.lookup.watched(type);
    if (!inf) throw new NotWatchedError(type, this.name);
    return inf;
  }
}

/** One cluster's own transport, discovery and informers (started on demand, all stopped by `close`). */
export class OwnAPIs {
  readonly discovery: Discovery;
  private readonly factory: InformerFactory;
  private readonly informers = new Map<string, Promise<SharedInformer<KubernetesObject>>>();
  private readonly resolved = new Map<string, SharedInformer<KubernetesObject>>();
  private readonly unsubscribeIndexes: () => void;
  private closed = false;

  /** The APIs of `<endpoint>/clusters/<name>` (clusterURL validates the name: a hostile one never reaches a URL). */
  static behind(endpoint: ClusterEndpoint, name: string, resources: readonly StaticResource[] | undefined, indexes: FieldIndexes): OwnAPIs {
    const transport = endpoint.transport.withServer(clusterURL(endpoint.url, name));
    const discovery = resources ? new StaticDiscovery(transport.server, resources) : new Discovery(transport, transport.server);
    return new OwnAPIs(transport, discovery, indexes, endpoint.log);
  }

  constructor(
    /** Transport whose server is the cluster's base URL. */
    readonly transport: Transport,
    discovery: Discovery | undefined,
    private readonly indexes: FieldIndexes,
    log?: Log,
  ) {
    this.discovery = discovery ?? new Discovery(transport, transport.server);
    this.factory = new InformerFactory(transport, { log });
    this.unsubscribeIndexes = indexes.onAdd((key, index, fn) => this.resolved.get(key)?.addIndexers({ [index]: fn }));
  }

  /** The cluster's informer of `type`, resolved through its discovery. */
  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>> {
    if (this.closed) return Promise.reject(new Error(`cluster ${this.transport.server} has left`));
    const key = typeKey(type);
    let p = this.informers.get(key);
    if (!p) {
      p = this.discovery.resourceFor(type, { signal }).then((info) => {
        if (this.closed) throw new Error(`cluster ${this.transport.server} has left`);
        const inf = this.factory.informer<KubernetesObject>({
          resource: { group: info.group, version: info.version, resource: info.resource },
          namespaced: info.namespaced,
          indexers: this.indexes.of(key),
        });
        this.resolved.set(key, inf);
        return inf;
      });
      this.informers.set(key, p);
      p.catch(() => {
        if (this.informers.get(key) === p) this.informers.delete(key);
      });
    }
    return p as unknown as Promise<SharedInformer<T>>;
  }

  /** The informer of `type` if resolved and running, for synchronous cache reads. */
  watched<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined {
    const inf = this.resolved.get(typeKey(type));
    return inf && inf.subscribers > 0 ? (inf as unknown as SharedInformer<T>) : undefined;
  }

  /** Stops every informer. */
  close(): void {
    this.closed = true;
    this.unsubscribeIndexes();
    this.factory.close();
    this.informers.clear();
    this.resolved.clear();
  }
}

/**
 * What a cluster handle uses of its endpoint. `Endpoint` implements it; an interface of its own so
 * that endpoint.ts (which builds handles) and this module do not import each other.
 */
export interface ClusterEndpoint {
  /** The endpoint's base URL, without `/clusters/...`. */
  readonly url: string;
  /** Transport to `<url>/clusters/*`. */
  readonly transport: Transport;
  /** Kind → resource mapping of the endpoint. */
  readonly discovery: Discovery;
  /** The endpoint's log sink. */
  readonly log: Log | undefined;
  /** The shared informer of `type`, started on first use. */
  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>>;
  /** An informer a provider placed on the endpoint for `type`, if any. */
  providedInformer<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined;
  /** The informer of `type` if one is watched already. */
  watched<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined;
  /** Keeps `cluster`'s objects in the shared caches. */
  admit(cluster: string): void;
  /** Drops `cluster`'s objects from the shared caches. */
  evict(cluster: string): void;
}

/** A cluster behind an endpoint. */
export class EndpointCluster implements Cluster {
  private cacheValue: ClusterCache | undefined = undefined;
  private pathValue: string | undefined;
  private clientValue: ClusterClient | undefined;
  private recorderValue: EventRecorder | undefined;
  private readonly own: OwnAPIs | undefined;
  private stopped = false;
  private admitted = false;

  constructor(
    /** The endpoint the cluster is reached through. */
    readonly endpoint: ClusterEndpoint,
    readonly name: string,
    path: string | undefined,
    private readonly makeRecorder: (client: ClusterClient) => EventRecorder,
    apis: ClusterAPIs,
    indexes: FieldIndexes,
  ) {
    this.pathValue = path || undefined;
    this.own = apis.mode === 'own' ? OwnAPIs.behind(endpoint, name, apis.resources, indexes) : undefined;
  }

  /** The cache view (made on first use: a sharded replica never reads the clusters it does not own). */
  get cache(): ClusterCache {
    if (!this.cacheValue) {
      const own = this.own;
      const endpoint = this.endpoint;
      const lookup: InformerLookup = own
        ? { watched: <T extends KubernetesObject>(type: ObjectType<T>) => (endpoint.providedInformer(type) ? endpoint.watched(type) : own.watched(type)) }
        : endpoint;
      this.cacheValue = new ScopedCache(lookup, this.name);
    }
    return this.cacheValue;
  }

  /** The workspace path, when known (it may appear or change while engaged). */
  get path(): string | undefined {
    return this.pathValue;
  }

  /** Records a new workspace path (the provider saw it on a watched object). */
  setPath(path: string | undefined): void {
    this.pathValue = path || undefined;
  }

  get client(): ClusterClient {
    if (!this.clientValue) {
      this.clientValue = this.own
        ? new ClusterClient(this.own.transport, { discovery: this.own.discovery })
        : new ClusterClient(this.endpoint.transport, { cluster: this.name, discovery: this.endpoint.discovery });
    }
    return this.clientValue;
  }

  get events(): EventRecorder {
    if (!this.recorderValue) {
      this.recorderValue = this.makeRecorder(this.client);
      if (this.stopped) this.recorderValue.stop();
    }
    return this.recorderValue;
  }

  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>> {
    if (!this.own || this.endpoint.providedInformer(type)) return this.endpoint.informer(type, signal);
    return this.own.informer(type, signal);
  }

  /**
   * Keeps this cluster's objects in the endpoint's shared informers, which from then on keep only
   * admitted clusters (a sharded replica owns it). A cluster with its own informers (`own` APIs)
   * has them only while engaged anyway. Idempotent per handle.
   */
  admit(): void {
    if (this.admitted) return;
    this.admitted = true;
    this.endpoint.admit(this.name);
  }

  /** Undoes `admit`: the shared informers drop this cluster's objects (no DELETED deltas). */
  evict(): void {
    if (!this.admitted) return;
    this.admitted = false;
    this.endpoint.evict(this.name);
  }

  /** Stops the cluster's recorder and its own informers (on disengage). */
  stop(): void {
    this.stopped = true;
    this.recorderValue?.stop();
    this.own?.close();
  }
}
