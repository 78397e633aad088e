/**
 * Several providers in one manager, and the kubeconfig's own workspace as a cluster. A service
 * provider's controller usually needs both its tenants (an APIExport provider) and its own
 * workspace (where it keeps records); `CompositeProvider` runs several providers under prefixes and
 * qualifies every cluster name as `<prefix>#<name>`, so two providers can never collide, and
 * `LocalClusterProvider` offers one cluster: the workspace the kubeconfig points at
 * (multicluster-runtime #96).
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { ClusterClient, Transport, clusterOfURL, isNotFound, type KubernetesObject, type ObjectType } from '../client/index.js';
import { ClusterEventRecorder } from './recorder.js';
import { CLUSTER_ANNOTATION, type SharedInformer } from '../informer/index.js';
import { Logger } from '../log/index.js';
import { OwnAPIs, ScopedCache } from './cluster.js';
import { FieldIndexes } from './indexes.js';
import { LOGICAL_CLUSTER, LOGICAL_CLUSTER_NAME } from './hooks.js';
import type { Engagement } from './engagement.js';
import { ClusterNotFoundError, type Aware, type Cluster, type ClusterCache, type EventRecorder, type FieldIndexer, type Provider, type ProviderReadiness } from './types.js';

/** The separator between a provider's prefix and its cluster's name. */
export const CLUSTER_SEPARATOR = '#';

const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A cluster of an inner provider, under its qualified name. */
class QualifiedCluster implements Cluster {
  constructor(
    readonly name: string,
    private readonly inner: Cluster,
    private readonly everyReplica: boolean,
  ) {}
  get unsharded(): boolean {
    return this.everyReplica || this.inner.unsharded === true;
  }
  get informerCluster(): string {
    return this.inner.informerCluster ?? this.inner.name;
  }
  get path(): string | undefined {
    return this.inner.path;
  }
  get client(): ClusterClient {
    return this.inner.client;
  }
  get cache(): ClusterCache {
    return this.inner.cache;
  }
  get events(): EventRecorder {
    return this.inner.events;
  }
  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>> {
    return this.inner.informer(type, signal);
  }
  admit(): void {
    this.inner.admit?.();
  }
  evict(): void {
    this.inner.evict?.();
  }
}

/** Runs providers side by side; cluster `x` of the provider under prefix `p` is `p#x`. */
export class CompositeProvider implements Provider {
  private readonly providers: [string, Provider][];
  private readonly wrapped = new WeakMap<Cluster, QualifiedCluster>();
  private readonly unsharded: ReadonlySet<string>;

  /**
   * @param providers the providers by prefix
   * @param opts `unsharded`: prefixes whose clusters every replica of a sharded manager works on,
   *   without a fence (e.g. `['own']` for the provider's own workspace)
   */
  constructor(providers: Record<string, Provider>, opts: { unsharded?: readonly string[] } = {}) {
    this.providers = Object.entries(providers);
    this.unsharded = new Set(opts.unsharded ?? []);
    for (const u of this.unsharded) if (!(u in providers)) throw new Error(`unsharded prefix ${JSON.stringify(u)} names no provider`);
    if (this.providers.length === 0) throw new Error('a composite provider needs at least one provider');
    for (const [prefix] of this.providers) {
      if (!PREFIX.test(prefix)) throw new Error(`invalid provider prefix ${JSON.stringify(prefix)}: lowercase letters, digits and '-'`);
    }
  }

  /** The qualified name of cluster `name` of the provider under `prefix`. */
  static qualify(prefix: string, name: string): string {
    return `${prefix}${CLUSTER_SEPARATOR}${name}`;
  }

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    const ctl = new AbortController();
    const stop = (): void => ctl.abort(signal.reason);
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const runs = this.providers.map(([prefix, p]) =>
        p
          .start(
            {
              engage: (name, cluster, engagement) => aware.engage(CompositeProvider.qualify(prefix, name), this.wrap(prefix, cluster), engagement),
              ...(aware.engageWith
                ? { engageWith: (name: string, cluster: Cluster, engagement: Engagement) => aware.engageWith!(CompositeProvider.qualify(prefix, name), this.wrap(prefix, cluster), engagement) }
                : {}),
            },
            ctl.signal,
          )
          .catch((e: unknown) => {
            // One provider failing stops the others: the manager sees one error.
            ctl.abort(e);
            throw e;
          }),
      );
      const results = await Promise.allSettled(runs);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  get(name: string): Cluster {
    const i = name.indexOf(CLUSTER_SEPARATOR);
    const entry = i > 0 ? this.providers.find(([prefix]) => prefix === name.slice(0, i)) : undefined;
    if (!entry) throw new ClusterNotFoundError(name);
    try {
      return this.wrap(entry[0], entry[1].get(name.slice(i + 1)));
    } catch (e) {
      throw e instanceof ClusterNotFoundError ? new ClusterNotFoundError(name) : e;
    }
  }

  indexField<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void {
    for (const [, p] of this.providers) p.indexField(type, field, fn);
  }

  clusterNames(): string[] {
    return this.providers.flatMap(([prefix, p]) => p.clusterNames().map((n) => CompositeProvider.qualify(prefix, n)));
  }

  ready(): ProviderReadiness {
    for (const [prefix, p] of this.providers) {
      const r = p.ready?.() ?? { ready: true };
      if (!r.ready) return { ready: false, reason: `${prefix}: ${r.reason ?? 'not ready'}` };
    }
    return { ready: true };
  }

  /** Every part keeps only admitted clusters (the router admits an unsharded part's clusters too). */
  restrictCaches(): void {
    for (const [, p] of this.providers) p.restrictCaches?.();
  }

  private wrap(prefix: string, cluster: Cluster): QualifiedCluster {
    let w = this.wrapped.get(cluster);
    if (!w) this.wrapped.set(cluster, (w = new QualifiedCluster(CompositeProvider.qualify(prefix, cluster.name), cluster, this.unsharded.has(prefix))));
    return w;
  }
}

/** Options of `LocalClusterProvider`. */
export interface LocalClusterOptions {
  /** The cluster's name in the manager; default `local`. */
  name?: string;
  /** Workspace path or logical cluster name; default the one in the kubeconfig's server URL. */
  workspace?: string;
  /** `reportingController` of its Events; default `kcp-multicluster-provider`. */
  eventSource?: string;
  /** Logger; default JSON lines on stderr at info. */
  log?: Logger;
}

/** The kubeconfig's own workspace, with informers and discovery of its own. */
class LocalCluster implements Cluster {
  readonly cache: ClusterCache;
  readonly client: ClusterClient;
  informerCluster: string;
  private recorder: EventRecorder | undefined;

  constructor(
    readonly name: string,
    readonly path: string | undefined,
    readonly apis: OwnAPIs,
    private readonly makeRecorder: (client: ClusterClient) => EventRecorder,
  ) {
    this.informerCluster = path ?? name;
    this.client = new ClusterClient(apis.transport, { discovery: apis.discovery });
    // Read under the name the workspace's objects carry, learnt when the provider starts.
    this.cache = new ScopedCache(apis, () => this.informerCluster);
  }

  get events(): EventRecorder {
    return (this.recorder ??= this.makeRecorder(this.client));
  }

  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>> {
    return this.apis.informer(type, signal);
  }

  stop(): void {
    this.recorder?.stop();
    this.apis.close();
  }
}

/** One cluster: the workspace the kubeconfig points at (or `workspace`). */
export class LocalClusterProvider implements Provider {
  private readonly transport: Transport;
  private readonly indexes = new FieldIndexes();
  private readonly name: string;
  private readonly workspace: string;
  private readonly log: Logger;
  private cluster: LocalCluster | undefined;

  constructor(
    kubeconfig: KubeConfigLike,
    private readonly opts: LocalClusterOptions = {},
  ) {
    const base = Transport.fromKubeConfig(kubeconfig);
    const workspace = opts.workspace ?? clusterOfURL(base.server);
    if (!workspace) throw new Error(`the kubeconfig's server ${base.server} names no workspace (/clusters/<path>): pass the workspace option`);
    this.workspace = workspace;
    this.transport = base.withServer(`${base.server.replace(/\/clusters\/[^/?#]+\/*$/, '')}/clusters/${encodeURIComponent(workspace)}`);
    this.name = opts.name ?? 'local';
    this.log = (opts.log ?? new Logger()).with({ component: 'local-cluster-provider', workspace });
  }

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    if (this.cluster) throw new Error('provider already started');
    const apis = new OwnAPIs(this.transport, undefined, this.indexes, this.log.sink());
    const cluster = new LocalCluster(this.name, this.workspace.includes(':') ? this.workspace : undefined, apis, (client) =>
      new ClusterEventRecorder({ client, controller: this.opts.eventSource ?? 'kcp-multicluster-provider', log: this.log }),
    );
    this.cluster = cluster;
    const ctl = new AbortController();
    try {
      cluster.informerCluster = await this.logicalClusterName(cluster.client, signal);
      if (!signal.aborted) aware.engage(this.name, cluster, ctl.signal);
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      ctl.abort();
      cluster.stop();
      this.cluster = undefined;
    }
  }

  /** What kcp stamps on the workspace's objects (`kcp.io/cluster`); the path itself elsewhere. */
  private async logicalClusterName(client: ClusterClient, signal: AbortSignal): Promise<string> {
    try {
      const lc = await client.get(LOGICAL_CLUSTER, { name: LOGICAL_CLUSTER_NAME }, { signal });
      return lc.metadata?.annotations?.[CLUSTER_ANNOTATION] ?? this.workspace;
    } catch (e) {
      if (!isNotFound(e) && !signal.aborted) this.log.warn('cannot read the workspace\'s LogicalCluster; using its path as its name', { err: e });
      return this.workspace;
    }
  }

  get(name: string): Cluster {
    if (name !== this.name || !this.cluster) throw new ClusterNotFoundError(name);
    return this.cluster;
  }

  indexField<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void {
    this.indexes.add(type, field, fn);
  }

  clusterNames(): string[] {
    return this.cluster ? [this.name] : [];
  }
}
