/**
 * One virtual-workspace endpoint (for kcp: one shard's APIExport VW URL): one wildcard informer per
 * watched type at `<url>/clusters/*`, shared by every cluster behind it, one discovery, and the
 * cluster handles that are views on them. Engaging a cluster costs a handle and an index entry,
 * never a connection.
 */
import { Discovery, type ClusterClient, type KubernetesObject, type ObjectType, type Transport } from '../client/index.js';
import { EndpointCluster, type ClusterAPIs } from './cluster.js';
import { InformerFactory, type Log, type SharedInformer } from '../informer/index.js';
import { typeKey, type FieldIndexes } from './indexes.js';
import type { EventRecorder } from './types.js';

export { EndpointCluster, type ClusterAPIs } from './cluster.js';

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
  /** The endpoint's log sink, shared by its informers; default silent. */
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
  /** The endpoint's log sink (its clusters' own informers log there too). */
  readonly log: Log | undefined;
  private readonly factory: InformerFactory;
  private readonly informers = new Map<string, Promise<SharedInformer<KubernetesObject>>>();
  private readonly resolved = new Map<string, SharedInformer<KubernetesObject>>();
  private readonly provided = new Map<string, SharedInformer<KubernetesObject>>();
  /** Informers the provider itself reads (its view of which clusters exist): always complete. */
  private readonly complete = new Set<SharedInformer<KubernetesObject>>();
  /** Clusters admitted, with how many handles admitted each; undefined while every cluster is kept. */
  private admitted: Map<string, number> | undefined;
  private readonly unsubscribeIndexes: () => void;
  private closed = false;

  constructor(private readonly opts: EndpointOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.transport = opts.transport.withServer(`${this.url}/clusters/*`);
    this.discovery = new Discovery(this.transport, this.transport.server);
    this.log = opts.log;
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
          namespaced: info.namespaced,
          indexers: this.opts.indexes.of(key),
        });
        this.resolved.set(key, inf);
        this.partition(inf);
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
  informerAt<T extends KubernetesObject>(path: string, opts: { transform?: (obj: T) => T; own?: string } = {}): SharedInformer<T> {
    if (this.closed) throw new Error(`endpoint ${this.url} is closed`);
    const inf = this.factory.informer<T>({ path, transform: opts.transform, own: opts.own });
    this.complete.add(inf as unknown as SharedInformer<KubernetesObject>);
    return inf;
  }

  /**
   * Makes `informer` the endpoint's informer of `type` without discovery: the object a provider
   * watches anyway (LogicalClusters on the initializing VW), so controllers share its cache.
   */
  provide(type: ObjectType<KubernetesObject>, informer: SharedInformer<KubernetesObject>): void {
    const key = typeKey(type);
    this.complete.add(informer);
    this.provided.set(key, informer);
    this.resolved.set(key, informer);
    this.informers.set(key, Promise.resolve(informer));
    const indexes = this.opts.indexes.of(key);
    if (Object.keys(indexes).length > 0) informer.addIndexers(indexes);
  }

  /** The informer given for `type` with `provide`, if any. */
  providedInformer<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined {
    return this.provided.get(typeKey(type)) as unknown as SharedInformer<T> | undefined;
  }

  /** The informer of `type` if it is resolved and running, for synchronous cache reads. */
  watched<T extends KubernetesObject>(type: ObjectType<T>): SharedInformer<T> | undefined {
    const inf = this.resolved.get(typeKey(type));
    return inf && inf.subscribers > 0 ? (inf as unknown as SharedInformer<T>) : undefined;
  }

  /**
   * Keeps `cluster`'s objects in the endpoint's wildcard informers (those controllers use; the
   * provider's own stay complete). The first call switches the endpoint from keeping every cluster
   * to keeping only admitted ones; a running informer fills the cluster's part (see
   * `SharedInformer.admitCluster`). Counted: each `admit` is undone by one `evict`.
   */
  admit(cluster: string): void {
    if (this.closed) return;
    this.restrict();
    const n = this.admitted!.get(cluster) ?? 0;
    this.admitted!.set(cluster, n + 1);
    if (n > 0) return;
    for (const inf of this.resolved.values()) if (!this.complete.has(inf)) inf.admitCluster(cluster);
  }

  /** Keeps only admitted clusters' objects in the controllers' informers from now on (none yet); idempotent. */
  restrict(): void {
    if (this.closed || this.admitted) return;
    this.admitted = new Map();
    for (const inf of this.resolved.values()) this.partition(inf);
  }

  /** Undoes one `admit`; the last drops the cluster's objects from the informers (no DELETED deltas). */
  evict(cluster: string): void {
    const n = this.admitted?.get(cluster);
    if (n === undefined) return;
    if (n > 1) return void this.admitted!.set(cluster, n - 1);
    this.admitted!.delete(cluster);
    for (const inf of this.resolved.values()) if (!this.complete.has(inf)) inf.evictCluster(cluster);
  }

  /** Restricts a controllers' informer to the admitted clusters, once the endpoint keeps only those. */
  private partition(inf: SharedInformer<KubernetesObject>): void {
    if (!this.admitted || this.complete.has(inf) || inf.restricted) return;
    inf.restrictClusters();
    for (const c of this.admitted.keys()) inf.admitCluster(c);
  }

  /** A handle on one logical cluster behind this endpoint, reaching its APIs as `apis` says (default shared). */
  cluster(name: string, path?: string, apis: ClusterAPIs = { mode: 'shared' }): EndpointCluster {
    return new EndpointCluster(this, name, path, this.opts.recorder, apis, this.opts.indexes);
  }

  /** Stops every informer and releases the endpoint's connections. */
  close(): void {
    this.closed = true;
    this.unsubscribeIndexes();
    this.factory.close();
    this.informers.clear();
    this.resolved.clear();
    this.provided.clear();
  }
}
