/**
 * The shards of one server and what spans them: where each logical cluster lives, the
 * path → cluster index (kcp's front-proxy index), and hooks that later layers (kcp APIs, tenancy,
 * virtual workspaces, auth) install on every shard.
 */
import type { ServiceHandler } from '../http/front.js';
import type { AdmissionPlugin, RequestContext, UserInfo } from '../api/objects.js';
import { LOGICAL_CLUSTERS } from '../api/objects.js';
import type { ResourceSource } from '../api/registry.js';
import type { Shard } from './shard.js';
import type { StoreEvent } from '../storage/store.js';
import type { KubeObject } from '../types.js';

/** The identity the server's own controllers act as. */
export const SYSTEM_USER: UserInfo = { name: 'system:kcp:reference-server', groups: ['system:masters', 'system:kcp:admin'] };

/** A commit on some shard. */
export interface ShardEvent {
  shard: Shard;
  event: StoreEvent;
}

/** All shards and the cross-shard indexes. */
export class Topology {
  private readonly paths = new Map<string, string>();
  /** The path each cluster was indexed under: the reverse of `paths`, so an update is not a scan of every path. */
  private readonly indexedPath = new Map<string, string>();
  private readonly byCluster = new Map<string, Shard>();
  private readonly listeners = new Set<(e: ShardEvent) => void>();
  /** Virtual workspaces served under `/services/<name>/` on every shard port. */
  readonly services = new Map<string, ServiceHandler>();

  constructor(readonly shards: readonly Shard[]) {
    for (const shard of shards) {
      for (const e of shard.store.entries()) if (e.storage === LOGICAL_CLUSTERS) this.index(shard, e.cluster, e.object);
      shard.store.listeners.add((event) => {
        if (event.storage === LOGICAL_CLUSTERS) this.index(shard, event.cluster, event.type === 'DELETED' ? undefined : event.object);
        for (const l of this.listeners) l({ shard, event });
      });
    }
  }

  private index(shard: Shard, cluster: string, obj: KubeObject | undefined): void {
    const old = this.indexedPath.get(cluster);
    if (old !== undefined) {
      if (this.paths.get(old) === cluster) this.paths.delete(old);
      this.indexedPath.delete(cluster);
    }
    if (!obj) {
      this.byCluster.delete(cluster);
      return;
    }
    this.byCluster.set(cluster, shard);
    const p = obj.metadata.annotations?.['kcp.io/path'];
    if (p) {
      this.paths.set(p, cluster);
      this.indexedPath.set(cluster, p);
    }
  }

  /** The root shard. */
  get root(): Shard {
    return this.shards[0]!;
  }

  /** The shard a logical cluster lives on. */
  shardOf(cluster: string): Shard | undefined {
    return this.byCluster.get(cluster);
  }

  /** A workspace path (`root:org:team`) or a cluster name → the logical cluster name. */
  resolve(pathOrName: string): string | undefined {
    if (!pathOrName.includes(':') || pathOrName.startsWith('system:')) return this.byCluster.has(pathOrName) ? pathOrName : undefined;
    const direct = this.paths.get(pathOrName);
    if (direct) return direct;
    // A path may start at any logical cluster name (`<name>:child`): continue from its canonical path.
    const [first, ...rest] = pathOrName.split(':');
    const base = first && first !== 'root' ? this.pathOf(first) : undefined;
    return base ? this.paths.get([base, ...rest].join(':')) : undefined;
  }

  /** The canonical path of a logical cluster, from its LogicalCluster's `kcp.io/path`. */
  pathOf(cluster: string): string | undefined {
    const lc = this.shardOf(cluster)?.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
    return lc?.metadata.annotations?.['kcp.io/path'];
  }

  /** Every logical cluster name, with its shard. */
  clusters(): { cluster: string; shard: Shard }[] {
    return [...this.byCluster].map(([cluster, shard]) => ({ cluster, shard }));
  }

  /** Subscribes to commits on every shard (never write from inside the callback: queue instead). */
  onCommit(listener: (e: ShardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Installs an admission plugin on every shard. */
  addAdmission(plugin: AdmissionPlugin): void {
    for (const s of this.shards) s.svc.admission.push(plugin);
  }

  /** Adds resources served per logical cluster, on every shard. */
  addResourceSource(source: ResourceSource): void {
    for (const s of this.shards) s.svc.registry.addSource(source);
  }

  /** A request context for the server's own writes into a cluster. */
  systemContext(cluster: string): RequestContext {
    return { cluster, user: SYSTEM_USER, fieldManager: 'kcp-reference-server' };
  }
}
