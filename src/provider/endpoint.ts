/**
 * One virtual-workspace endpoint (for kcp: one shard's APIExport VW URL): one wildcard informer per
 * watched type at `<url>/clusters/*`, shared by every cluster behind it, one discovery, and the
 * cluster handles that are views on them. Engaging a cluster costs a handle and an index entry,
 * never a connection.
 */
import { ClusterClient, Discovery, type KubernetesObject, type ObjectKey, type ObjectType, type Transport } from '../client/index.js';
import { InformerFactory, type Cached, type IndexFunc, type Log, type SharedInformer } from '../informer/index.js';
import { NotWatchedError, type CacheListOptions, type Cluster, type ClusterCache, type EventRecorder, type FieldIndexer } from './types.js';

/** The key of a type in the endpoint's tables. */
export function typeKey(type: ObjectType<KubernetesObject>): string {
  return `${type.apiVersion}/${type.kind}`;
}

/**
 * Drops `metadata.managedFields` (controller-runtime's `TransformStripManagedFields`): most of a
 * cached APIBinding's bytes, read by nobody.
 */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata && 'managedFields' in obj.metadata) delete obj.metadata['managedFields'];
  return obj;
}

/** The name of the store index behind a field index. */
export function fieldIndexName(field: string): string {
  return `field:${field}`;
}

/** Field indexes registered on a provider, replayed onto every informer of their type. */
export class FieldIndexes {
  private readonly byType = new Map<string, Map<string, IndexFunc>>();
  private readonly listeners = new Set<(type: string, name: string, fn: IndexFunc) => void>();

  /** Registers an index; idempotent per (type, field). */
  add<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void {
    const key = typeKey(type);
    let m = this.byType.get(key);
    if (!m) this.byType.set(key, (m = new Map()));
    const name = fieldIndexName(field);
    if (m.has(name)) return;
    m.set(name, fn as IndexFunc);
    for (const l of this.listeners) l(key, name, fn as IndexFunc);
  }

  /** Indexes of one type, as store indexers. */
  of(key: string): Record<string, IndexFunc> {
    return Object.fromEntries(this.byType.get(key) ?? []);
  }

  /** Told of indexes added later; returns the unsubscribe function. */
  onAdd(fn: (type: string, name: string, index: IndexFunc) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Options of an `Endpoint`. */
export interface EndpointOptions {
  /** Credentials and TLS; its server is replaced by `url`. */
  transport: Transport;
  /** The endpoint's base URL, without `/clusters/...` (e.g. a VW URL from an endpoint slice). */
  url: string;
  /** Field indexes of the provider. */
  indexes: FieldIndexes;
  /** Builds a cluster's event recorder on first use. */
  recorder: (client: ClusterClient) => EventRecorder;
  log?: Log;
}

/** The shared caches and clients of one endpoint. */
export class Endpoint {
  /** The endpoint's base URL. */
  readonly url: string;
  /** Transport on `<url>/clusters/*`. */
  readonly transport: Transport;
  /** Kind → resource mapping (the same for `/clusters/*` and every `/clusters/<name>` of a VW). */
  readonly discovery: Discovery;
  private readonly factory: InformerFactory;
  private readonly informers = new Map<string, Promise<SharedInformer<KubernetesObject>>>();
  private readonly resolved = new Map<string, SharedInformer<KubernetesObject>>();
  private readonly unsubscribeIndexes: () => void;
  private closed = false;

  constructor(private readonly opts: EndpointOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.transport = opts.transport.withServer(`${this.url}/clusters/*`);
    this.discovery = new Discovery(this.transport, this.transport.server);
    this.factory = new InformerFactory(this.transport, { log: opts.log });
    this.unsubscribeIndexes = opts.indexes.onAdd((key, name, fn) => this.resolved.get(key)?.addIndexers({ [name]: fn }));
  }

  /** The wildcard informer of `type` (resolved through discovery once; a failure is retried on the next call). */
  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>> {
    if (this.closed) return Promise.reject(new Error(`endpoint ${this.url} is closed`));
    const key = typeKey(type);
    let p = this.informers.get(key);
    if (!p) {
      p = this.discovery.resourceFor(type, { signal }).then((info) => {
        const inf = this.factory.informer<KubernetesObject>({
          resource: { group: info.group, version: info.version, resource: info.resource },
          indexers: this.opts.indexes.of(key),
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

  /** The wildcard informer of an API path (no discovery), shared with controllers that watch the same resource. */
  informerAt<T extends KubernetesObject>(path: string, opts: { transform?: (obj: T) => T } = {}): SharedInformer<T> {
    if (this.closed) throw new Error(`endpoint ${this.url} is closed`);
    return this.factory.informer<T>({ path, transform: opts.transform });
  }

  /** The informer of `type` if it is resolved and running, for synchronous cache reads. */
  watched<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined {
    const inf = this.resolved.get(typeKey(type));
    return inf && inf.subscribers > 0 ? (inf as unknown as SharedInformer<T>) : undefined;
  }

  /** A handle on one logical cluster behind this endpoint. */
  cluster(name: string, path?: string): EndpointCluster {
    return new EndpointCluster(this, name, path, this.opts.recorder);
  }

  /** Stops every informer and releases the endpoint's connections. */
  close(): void {
    this.closed = true;
    this.unsubscribeIndexes();
    this.factory.close();
    this.informers.clear();
    this.resolved.clear();
  }
}

/** One cluster's read-only view of an endpoint's caches. */
class ScopedCache implements ClusterCache {
  constructor(
    private readonly endpoint: Endpoint,
    private readonly name: string,
  ) {}

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
    return this.endpoint.watched(type)?.synced ?? false;
  }

  private informerOf<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> {
    const inf = this.endpoint.watched(type);
    if (!inf) throw new NotWatchedError(type, this.name);
    return inf;
  }
}

/** A cluster behind an endpoint: client and recorder are built on first use, so engaging is cheap. */
export class EndpointCluster implements Cluster {
  /** The cache view. */
  readonly cache: ClusterCache;
  private clientValue: ClusterClient | undefined;
  private recorderValue: EventRecorder | undefined;
  private stopped = false;

  constructor(
    /** The endpoint the cluster is reached through. */
    readonly endpoint: Endpoint,
    readonly name: string,
    readonly path: string | undefined,
    private readonly makeRecorder: (client: ClusterClient) => EventRecorder,
  ) {
    this.cache = new ScopedCache(endpoint, name);
  }

  get client(): ClusterClient {
    return (this.clientValue ??= new ClusterClient(this.endpoint.transport, { cluster: this.name, discovery: this.endpoint.discovery }));
  }

  get events(): EventRecorder {
    if (!this.recorderValue) {
      this.recorderValue = this.makeRecorder(this.client);
      if (this.stopped) this.recorderValue.stop();
    }
    return this.recorderValue;
  }

  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>> {
    return this.endpoint.informer(type, signal);
  }

  /** Stops the cluster's recorder (on disengage). */
  stop(): void {
    this.stopped = true;
    this.recorderValue?.stop();
  }
}
