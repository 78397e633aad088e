/**
 * The one machine behind every kcp provider. A kcp provider watches one object in the kubeconfig's
 * workspace that lists virtual-workspace URLs (an APIExportEndpointSlice, a WorkspaceType), one URL
 * per shard; through each URL's `/clusters/*` it watches one kind of object (APIBindings,
 * LogicalClusters), and a logical cluster engages when one of its objects passes the engage rule,
 * stays while any remains, and leaves with the last. The providers differ only in configuration
 * (`VirtualWorkspaceKind`): which source, which URLs of it, which object, how clusters reach their
 * APIs, which default rule, and whether paths are looked up.
 *
 * Beyond the Go original: a URL that leaves takes its clusters (recorders, hooks, paths) with it,
 * except those another URL also serves, which move there; a deleted source stops everything until
 * it is recreated; a path that appears late or changes is re-registered; optional disengage when
 * no object passes the filter any more; cross-shard views over the endpoints. A source that is
 * missing (a wrong name, a kubeconfig on the wrong workspace or on a virtual workspace) is a
 * warning repeated with backoff and a readiness failure that says what to check, not a ready
 * provider that does nothing (see `source-report.ts`).
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { Subscription } from '../informer/rx.js';
import { Transport, type KubernetesObject, type ObjectType } from '../client/index.js';
import { ClusterEventRecorder } from './recorder.js';
import { InformerFactory, type Cached, type SharedInformer } from '../informer/index.js';
import { StringInterner } from '../informer/intern.js';
import { Logger } from '../log/index.js';
import { AggregateInformer, AggregateLister } from './aggregate.js';
import { Endpoint, type EndpointCluster } from './endpoint.js';
import { FieldIndexes, stripManagedFields } from './indexes.js';
import { EndpointSet } from './endpoint-set.js';
import { Engagement, reportEngagement } from './engagement.js';
import type { KcpProviderOptions, VirtualWorkspaceKind } from './kind.js';
import { SourceReport } from './source-report.js';
import { ClusterNotFoundError, type Aware, type Cluster, type FieldIndexer, type Provider, type ProviderReadiness } from './types.js';

export { cleanURLs, type KcpProviderOptions, type ProviderHooks, type VirtualWorkspaceKind } from './kind.js';

/** The annotation kcp puts on objects with their workspace path. */
export const PATH_ANNOTATION = 'kcp.io/path';

/** An engaged cluster: its engagement, with its handle and endpoint (one object per workspace, not two). */
class Engaged extends Engagement {
  constructor(
    readonly handle: EndpointCluster,
    readonly endpoint: WatchedEndpoint,
  ) {
    super();
  }
}

/** One endpoint URL under watch: its caches and its informer of watched objects. */
interface WatchedEndpoint {
  readonly url: string;
  readonly endpoint: Endpoint;
  readonly informer: SharedInformer<KubernetesObject>;
  subscription?: Subscription;
}

/** The shared machine; providers extend it with their configuration. */
export class VirtualWorkspaceProvider implements Provider {
  /** The endpoints watched now (one per shard URL), for cross-shard views. */
  readonly endpointSet = new EndpointSet();
  /** The provider's logger, tagged with its component and source name. */
  protected readonly log: Logger;
  /** The HTTP transport built from the kubeconfig, shared by every endpoint and cluster client. */
  protected readonly transport: Transport;
  private readonly indexes = new FieldIndexes();
  private readonly clusters = new Map<string, Engaged>();
  private readonly paths = new Map<string, string>();
  private readonly endpoints = new Map<string, WatchedEndpoint>();
  private readonly filter: (obj: Cached<KubernetesObject>) => boolean;
  /** The kind's slim view of watched objects, when nothing but the machine and the default filter reads them. */
  private readonly slim: ((obj: KubernetesObject) => KubernetesObject) | undefined;
  private readonly views = new Map<string, AggregateInformer<KubernetesObject>>();
  /** Shares equal strings among the watched objects (one per workspace: their values repeat). */
  private readonly interner = new StringInterner();
  private listerValue: AggregateLister | undefined;
  /** Sharding: endpoints keep only admitted clusters' objects (`restrictCaches`). */
  private cachesRestricted = false;
  private sourceInformer: SharedInformer<KubernetesObject> | undefined;
  private sourceSeen: Cached<KubernetesObject> | undefined;
  private aware: Aware | undefined;
  private readonly report: SourceReport;
  private lastURLs: string[] = [];

  /**
   * @param kubeconfig where the source object (and through it the virtual workspaces) is reached
   * @param kind the configuration that makes this machine one provider or another
   * @param opts what every kcp provider accepts
   */
  constructor(
    kubeconfig: KubeConfigLike,
    /** The configuration that makes this machine one provider or another. */
    protected readonly kind: VirtualWorkspaceKind,
    private readonly opts: KcpProviderOptions,
  ) {
    if (!kind.sourceName || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(kind.sourceName) || kind.sourceName.length > 253) {
      throw new Error(`invalid ${kind.sourceKind} name ${JSON.stringify(kind.sourceName)}`);
    }
    this.transport = Transport.fromKubeConfig(kubeconfig);
    this.log = (opts.log ?? new Logger()).with({ component: kind.component, [kind.sourceField]: kind.sourceName });
    this.filter = opts.filter ?? ((o) => kind.defaultFilter(o));
    this.slim = kind.slim && !opts.filter && !opts.hooks && !kind.watchType ? kind.slim : undefined;
    this.report = new SourceReport(
      {
        sourceKind: kind.sourceKind,
        sourceName: kind.sourceName,
        noEndpointsCause: kind.noEndpointsCause,
        server: this.transport.server,
        noEndpointsAfterMs: opts.noEndpointsAfterMs,
        reportBackoff: opts.reportBackoff,
      },
      this.log,
    );
  }

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    if (this.aware) throw new Error('provider already started');
    this.aware = aware;
    const factory = new InformerFactory(this.transport, { log: this.log.sink() });
    const sub = new Subscription();
    // A virtual workspace holds no source object: watching there would only fail, less clearly.
    if (this.report.misplaced()) this.report.reportMisplaced();
    else {
      const source = factory.informer<KubernetesObject>({ path: this.kind.sourcePath, fieldSelector: `metadata.name=${this.kind.sourceName}` });
      this.sourceInformer = source;
      // A complete list that holds no source emits no event: only the sync says it is missing.
      // Added first so that it ends first: the informer's stop is no news about the source.
      sub.add(source.synced$.subscribe(() => this.sourceChanged(source)));
      sub.add(
        source.events$.subscribe({
          next: () => this.sourceChanged(source),
          error: (e: unknown) => this.log.error(`${this.kind.sourceKind} watch failed`, { err: e }),
        }),
      );
    }
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      sub.unsubscribe();
      this.report.stop();
      this.lastURLs = [];
      this.sync([]);
      for (const v of this.views.values()) v.close();
      this.views.clear();
      this.listerValue?.close();
      this.listerValue = undefined;
      factory.close();
      this.sourceInformer = undefined;
      this.aware = undefined;
    }
  }

  get(name: string): Cluster {
    const e = this.clusters.get(name) ?? (this.kind.byPath ? this.clusters.get(this.paths.get(name) ?? '') : undefined);
    if (!e) throw new ClusterNotFoundError(name);
    return e.handle;
  }

  indexField<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void {
    this.indexes.add(type, field, fn);
  }

  clusterNames(): string[] {
    return [...this.clusters.keys()];
  }

  /** The endpoint URLs watched now. */
  endpointURLs(): string[] {
    return [...this.endpoints.keys()];
  }

  /** The source object as last seen (undefined before it is seen, or once deleted). */
  protected source(): Cached<KubernetesObject> | undefined {
    return this.sourceSeen;
  }

  /** See `Provider.restrictCaches`: every endpoint, current and future, keeps only admitted clusters. */
  restrictCaches(): void {
    this.cachesRestricted = true;
    for (const ep of this.endpoints.values()) ep.endpoint.restrict();
  }

  /** Lists one type across every shard's wildcard cache at once, errors per shard. */
  lister(): AggregateLister {
    if (!this.aware) throw new Error('provider not started');
    return (this.listerValue ??= new AggregateLister(this.endpointSet, { log: this.log }));
  }

  /** One informer of `type` over every shard, current and future (one instance per type). */
  aggregateInformer<T extends KubernetesObject>(type: ObjectType<T>): AggregateInformer<T> {
    if (!this.aware) throw new Error('provider not started');
    const key = `${type.apiVersion}/${type.kind}`;
    let v = this.views.get(key);
    if (!v) this.views.set(key, (v = new AggregateInformer<KubernetesObject>(this.endpointSet, type, { log: this.log })));
    return v as unknown as AggregateInformer<T>;
  }

  /**
   * Ready once the source object has been listed and exists and every endpoint it lists has
   * synced. Otherwise the reason says what to fix: a kubeconfig on a virtual workspace, a source
   * missing from the kubeconfig's workspace, or the error that keeps a list from succeeding.
   */
  ready(): ProviderReadiness {
    if (!this.aware) return { ready: false, reason: 'provider not started' };
    const misplaced = this.report.misplaced();
    if (misplaced) return { ready: false, reason: misplaced };
    const source = this.sourceInformer;
    if (!source?.synced) return { ready: false, reason: this.report.notSynced(source?.lastError) };
    if (!this.sourceSeen) return { ready: false, reason: this.report.missing() };
    for (const ep of this.endpoints.values()) {
      if (ep.informer.synced) continue;
      const err = ep.informer.lastError;
      return { ready: false, reason: err ? `endpoint ${ep.url} not synced (retrying): ${err.message}` : `endpoint ${ep.url} not synced yet` };
    }
    return { ready: true };
  }

  private sourceChanged(source: SharedInformer<KubernetesObject>): void {
    const obj = source.store.list().find((s) => s.metadata?.name === this.kind.sourceName);
    this.sourceSeen = obj;
    const urls = this.kind.urls(obj);
    if (source.synced) this.report.observe(obj !== undefined, urls.length);
    if (urls.join('\n') === this.lastURLs.join('\n')) return;
    this.lastURLs = urls;
    this.log.info('endpoint URLs', { urls });
    this.sync(urls);
  }

  private sync(urls: string[]): void {
    for (const [url, ep] of [...this.endpoints]) if (!urls.includes(url)) this.stopEndpoint(ep);
    for (const url of urls) if (!this.endpoints.has(url)) this.startEndpoint(url);
  }

  private startEndpoint(url: string): void {
    const log = this.log.with({ endpoint: url });
    const recorder = this.opts.recorder;
    const endpoint = new Endpoint({
      transport: this.transport,
      url,
      indexes: this.indexes,
      log: log.sink(),
      recorder: recorder
        ? (client) => recorder(client, client.cluster)
        : (client) => new ClusterEventRecorder({ client, controller: this.opts.eventSource ?? 'kcp-multicluster-provider', log: log.with({ cluster: client.cluster }) }),
    });
    if (this.cachesRestricted) endpoint.restrict();
    // Every replica keeps this view of every workspace (sharded or not): equal strings shared, and
    // only what the default filter reads when nobody else sees the objects (an informer of its own).
    const keep = this.slim ?? stripManagedFields;
    const informer = endpoint.informerAt<KubernetesObject>(this.kind.watchPath, {
      transform: (o) => this.interner.internAll(keep(o)),
      own: this.slim ? 'provider-view' : undefined,
    });
    if (this.kind.watchType) endpoint.provide(this.kind.watchType, informer);
    const ep: WatchedEndpoint = { url, endpoint, informer };
    this.endpoints.set(url, ep);
    this.endpointSet.add(endpoint);
    log.info('watching endpoint');
    ep.subscription = informer.addEventHandler({
      onAdd: (obj, cluster) => this.observed(ep, undefined, obj, cluster),
      onUpdate: (old, obj, cluster) => this.observed(ep, old, obj, cluster),
      onDelete: (obj, cluster) => this.removed(ep, obj, cluster),
    });
  }

  private stopEndpoint(ep: WatchedEndpoint): void {
    this.endpoints.delete(ep.url);
    const freed: string[] = [];
    for (const [name, e] of [...this.clusters]) {
      if (e.endpoint !== ep) continue;
      this.disengage(name, undefined);
      freed.push(name);
    }
    ep.subscription?.unsubscribe();
    this.endpointSet.remove(ep.endpoint);
    ep.endpoint.close();
    this.log.info('stopped watching endpoint', { endpoint: ep.url });
    for (const name of freed) this.handOver(name);
  }

  /**
   * Another endpoint may serve the same cluster (a shard's URL replaced in two steps). Its events
   * were ignored while the cluster was engaged elsewhere and will not come again: engage from its cache.
   */
  private handOver(name: string): void {
    for (const other of this.endpoints.values()) {
      const obj = other.informer.store.listCluster(name).find((o) => this.passes(o));
      if (!obj) continue;
      this.engage(other, name, obj);
      this.hook(() => this.opts.hooks?.onAdd?.(obj, name));
      return;
    }
  }

  private observed(ep: WatchedEndpoint, old: Cached<KubernetesObject> | undefined, obj: Cached<KubernetesObject>, cluster: string): void {
    let pass: boolean;
    try {
      pass = this.filter(obj);
    } catch (e) {
      this.log.error('filter threw; object ignored', { err: e, cluster, name: obj.metadata?.name });
      return;
    }
    const engaged = this.clusters.get(cluster);
    if (engaged?.endpoint === ep) this.notePath(cluster, engaged.handle, obj);
    if (!pass) {
      if (this.opts.disengageOnFilterReject && engaged?.endpoint === ep && !this.anyPasses(ep, cluster)) this.disengage(cluster, obj);
      return;
    }
    this.engage(ep, cluster, obj);
    this.hook(() => (old ? this.opts.hooks?.onUpdate?.(old, obj, cluster) : this.opts.hooks?.onAdd?.(obj, cluster)));
  }

  private removed(ep: WatchedEndpoint, obj: Cached<KubernetesObject>, cluster: string): void {
    if (this.clusters.get(cluster)?.endpoint !== ep) return;
    // The store drops the object before handlers run: what is left is the cluster's other objects.
    const left = ep.informer.store.clusterSize(cluster);
    if (left > 0 && !(this.opts.disengageOnFilterReject && !this.anyPasses(ep, cluster))) return;
    this.disengage(cluster, obj);
    this.handOver(cluster);
  }

  private anyPasses(ep: WatchedEndpoint, cluster: string): boolean {
    return ep.informer.store.listCluster(cluster).some((o) => this.passes(o));
  }

  /** The filter, with a throw counted as a rejection. */
  private passes(obj: Cached<KubernetesObject>): boolean {
    try {
      return this.filter(obj);
    } catch {
      return false;
    }
  }

  private engage(ep: WatchedEndpoint, cluster: string, obj: Cached<KubernetesObject>): void {
    if (this.clusters.has(cluster)) return;
    const handle = ep.endpoint.cluster(cluster, undefined, this.kind.apis);
    const engaged = new Engaged(handle, ep);
    this.clusters.set(cluster, engaged);
    this.notePath(cluster, handle, obj);
    if (this.aware) reportEngagement(this.aware, cluster, handle, engaged);
  }

  /** Keeps the handle's path and the path table in step with the objects' `kcp.io/path` (Go #103). */
  private notePath(cluster: string, handle: EndpointCluster, obj: Cached<KubernetesObject>): void {
    const path = obj.metadata?.annotations?.[PATH_ANNOTATION];
    if (!path || path === handle.path) return;
    const before = handle.path;
    handle.setPath(path);
    // Only a provider that looks clusters up by path keeps the table (a Map entry per workspace).
    if (this.kind.byPath) {
      if (before && this.paths.get(before) === cluster) this.paths.delete(before);
      this.paths.set(path, cluster);
    }
    if (before) this.log.info('workspace path changed', { cluster, path, before });
  }

  private disengage(cluster: string, obj: Cached<KubernetesObject> | undefined): void {
    const e = this.clusters.get(cluster);
    if (!e) return;
    this.clusters.delete(cluster);
    const path = e.handle.path;
    if (path && this.paths.get(path) === cluster) this.paths.delete(path);
    e.end();
    e.handle.stop();
    this.hook(() => this.opts.hooks?.onDelete?.(obj, cluster));
  }

  private hook(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error('provider hook threw', { err: e });
    }
  }
}
