/**
 * `APIExportProvider`: every logical cluster that bound an APIExport, across every shard. It
 * watches the APIExportEndpointSlice in the kubeconfig's workspace; for each URL it lists (one per
 * shard) it watches APIBindings through `<url>/clusters/*`, and a cluster (its `kcp.io/cluster`)
 * engages when one of its bindings passes the filter (default: Ready), stays while any binding
 * remains, and disengages when the last goes. Controllers' informers on that URL are shared by all
 * its clusters. A URL that does not serve yet is retried with backoff by its informer; one shard
 * down never stops the others; a URL that leaves takes its clusters (recorders, hooks) with it,
 * except those another URL also serves, which engage there; a deleted slice stops everything until
 * it is recreated.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Subscription } from 'rxjs';
import { Transport, type ClusterClient, type KubernetesObject, type ObjectType } from '../client/index.js';
import { ClusterEventRecorder } from '../controller/recorder.js';
import { InformerFactory, type Cached, type SharedInformer } from '../informer/index.js';
import { Logger } from '../log/index.js';
import { Endpoint, FieldIndexes, stripManagedFields, type EndpointCluster } from './endpoint.js';
import { EndpointSet } from './endpoint-set.js';
import { ClusterNotFoundError, type Aware, type Cluster, type EventRecorder, type FieldIndexer, type Provider } from './types.js';

/** The annotation kcp puts on objects with their workspace path. */
export const PATH_ANNOTATION = 'kcp.io/path';

/** An APIExportEndpointSlice, as far as the provider reads it. */
export interface APIExportEndpointSlice extends KubernetesObject {
  spec?: { export?: { path?: string; name?: string } };
  status?: { endpoints?: { url?: string }[] };
}

/** An object with conditions (an APIBinding, say). */
interface Conditioned extends KubernetesObject {
  status?: { conditions?: { type?: string; status?: string }[] };
}

/** Lifecycle hooks, called with the watched object (an APIBinding) and its cluster. */
export interface ProviderHooks {
  /** A watched object passed the filter (first sight). */
  onAdd?(obj: Cached<KubernetesObject>, cluster: string): void;
  /** A watched object changed and passes the filter. */
  onUpdate?(old: Cached<KubernetesObject>, obj: Cached<KubernetesObject>, cluster: string): void;
  /** The last watched object of a cluster went (or its endpoint did): the cluster disengages. */
  onDelete?(obj: Cached<KubernetesObject> | undefined, cluster: string): void;
}

/** Options of `APIExportProvider`. */
export interface APIExportProviderOptions {
  /** Name of the APIExportEndpointSlice in the kubeconfig's workspace (usually the export's name). */
  endpointSlice: string;
  /** Whether a watched object engages its cluster; default: its `Ready` condition is `True`. */
  filter?: (obj: Cached<KubernetesObject>) => boolean;
  /** Disengage a cluster when none of its watched objects passes the filter any more; default false (as Go). */
  disengageOnFilterReject?: boolean;
  /** Lifecycle hooks. */
  hooks?: ProviderHooks;
  /** API path of the object watched through each endpoint; default APIBindings (`/apis/apis.kcp.io/v1alpha1/apibindings`). */
  watchPath?: string;
  /** `reportingController` of the clusters' Events; default `kcp-multicluster-provider`. */
  eventSource?: string;
  /** Builds a cluster's event recorder; default events.k8s.io/v1 with aggregation. */
  recorder?: (client: ClusterClient, cluster: string) => EventRecorder;
  log?: Logger;
}

/** The Ready-condition filter (the Go provider's default). */
export function conditionReady(obj: Cached<KubernetesObject>): boolean {
  const conds = (obj as Cached<Conditioned>).status?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The endpoint URLs a slice lists (empty and non-string entries skipped, duplicates once). */
export function endpointURLs(slice: Cached<APIExportEndpointSlice> | undefined): string[] {
  const out: string[] = [];
  for (const e of slice?.status?.endpoints ?? []) {
    const url = typeof e?.url === 'string' ? e.url.trim().replace(/\/+$/, '') : '';
    if (url && /^https?:\/\//i.test(url) && !out.includes(url)) out.push(url);
  }
  return out;
}

interface Engaged {
  readonly handle: EndpointCluster;
  readonly ctl: AbortController;
  readonly endpoint: WatchedEndpoint;
}

/** One endpoint URL under watch: its caches and its informer of watched objects. */
interface WatchedEndpoint {
  readonly url: string;
  readonly endpoint: Endpoint;
  readonly informer: SharedInformer<KubernetesObject>;
  subscription?: Subscription;
}

const SLICES = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';

/** Engages every logical cluster that bound the export, on every shard the slice lists. */
export class APIExportProvider implements Provider {
  private readonly transport: Transport;
  private readonly indexes = new FieldIndexes();
  private readonly clusters = new Map<string, Engaged>();
  private readonly endpoints = new Map<string, WatchedEndpoint>();
  /** The endpoints watched now (one per shard URL), for cross-shard views. */
  readonly endpointSet = new EndpointSet();
  private readonly log: Logger;
  private readonly filter: (obj: Cached<KubernetesObject>) => boolean;
  private slices: SharedInformer<APIExportEndpointSlice> | undefined;
  private aware: Aware | undefined;

  constructor(
    kubeconfig: KubeConfig,
    private readonly opts: APIExportProviderOptions,
  ) {
    if (!opts.endpointSlice || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(opts.endpointSlice)) {
      throw new Error(`invalid endpoint slice name ${JSON.stringify(opts.endpointSlice)}`);
    }
    this.transport = Transport.fromKubeConfig(kubeconfig);
    this.log = (opts.log ?? new Logger()).with({ component: 'apiexport-provider', endpointSlice: opts.endpointSlice });
    this.filter = opts.filter ?? conditionReady;
  }

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    if (this.aware) throw new Error('provider already started');
    this.aware = aware;
    const factory = new InformerFactory(this.transport, { log: this.log.sink() });
    const slices = factory.informer<APIExportEndpointSlice>({ path: SLICES, fieldSelector: `metadata.name=${this.opts.endpointSlice}` });
    this.slices = slices;
    let last: string[] = [];
    const sub = slices.events$.subscribe({
      next: () => {
        const urls = endpointURLs(slices.store.list().find((s) => s.metadata?.name === this.opts.endpointSlice));
        if (urls.join('\n') === last.join('\n')) return;
        last = urls;
        this.log.info('endpoint slice URLs', { urls });
        this.sync(urls);
      },
      error: (e: unknown) => this.log.error('endpoint slice watch failed', { err: e }),
    });
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      sub.unsubscribe();
      this.sync([]);
      factory.close();
      this.slices = undefined;
      this.aware = undefined;
    }
  }

  get(name: string): Cluster {
    const e = this.clusters.get(name);
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

  ready(): { ready: boolean; reason?: string } {
    if (!this.slices) return { ready: false, reason: 'provider not started' };
    if (!this.slices.synced) return { ready: false, reason: `APIExportEndpointSlice ${this.opts.endpointSlice} not synced yet` };
    for (const ep of this.endpoints.values()) {
      if (!ep.informer.synced) return { ready: false, reason: `endpoint ${ep.url} not synced yet` };
    }
    return { ready: true };
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
    const informer = endpoint.informerAt<KubernetesObject>(this.opts.watchPath ?? '/apis/apis.kcp.io/v1alpha1/apibindings', { transform: stripManagedFields });
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
    // Another endpoint may serve the same cluster (a shard's URL replaced in two steps). Its events
    // were ignored while the cluster was engaged here and will not come again: engage from its cache.
    for (const name of freed) {
      for (const other of this.endpoints.values()) {
        const obj = other.informer.store.listCluster(name).find((o) => this.passes(o));
        if (!obj) continue;
        this.engage(other, name, obj);
        this.hook(() => this.opts.hooks?.onAdd?.(obj, name));
        break;
      }
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
    if (!pass) {
      if (this.opts.disengageOnFilterReject && this.clusters.get(cluster)?.endpoint === ep && !this.anyPasses(ep, cluster)) {
        this.disengage(cluster, obj);
      }
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
    const have = this.clusters.get(cluster);
    if (have) return;
    const path = obj.metadata?.annotations?.[PATH_ANNOTATION];
    const handle = ep.endpoint.cluster(cluster, path);
    const ctl = new AbortController();
    this.clusters.set(cluster, { handle, ctl, endpoint: ep });
    this.aware?.engage(cluster, handle, ctl.signal);
  }

  private disengage(cluster: string, obj: Cached<KubernetesObject> | undefined): void {
    const e = this.clusters.get(cluster);
    if (!e) return;
    this.clusters.delete(cluster);
    e.ctl.abort();
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
