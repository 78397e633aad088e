/**
 * The Provider contract. Upstream multicluster-runtime has none written down (its lifecycle doc
 * was reverted), so here it is, small enough that a user can write a provider:
 *
 * 1. The manager calls `start(aware, signal)` once, after every controller known at that time is
 *    registered. The provider discovers clusters until `signal` aborts, then resolves.
 * 2. For each cluster it reports `aware.engage(name, cluster, engagement)`: `cluster` is a handle
 *    whose informers may not be synced yet, `engagement` an `AbortSignal` that the provider aborts
 *    when the cluster leaves. Abort *is* disengage: there is no other call. `engage` never blocks
 *    and never throws for a sync problem: the manager syncs the cluster's informers itself, retries
 *    with backoff, and owns everything that follows (see `src/manager`).
 * 3. Reporting the same name again with a new handle and a new signal replaces the old engagement;
 *    aborting the old signal afterwards does not touch the new one.
 *    When `aware.engageWith` exists a provider may report through it instead, with an `Engagement`
 *    whose `end()` is the abort (and whose `signal` aborts with it): the same contract without an
 *    AbortSignal per cluster (see `engagement.ts`).
 * 4. `get(name)` returns an engaged cluster or throws `ClusterNotFoundError`.
 * 5. `indexField` registers a field index on the caches of current and future clusters.
 * 6. `ready()` (optional) says whether the provider has synced its sources and can work with them,
 *    and if not why, in words a user can act on (for `/readyz`).
 */
import type { ClusterClient, KubernetesObject, ObjectKey, ObjectType } from '../client/index.js';
import type { Cached, SharedInformer } from '../informer/index.js';
import type { LabelSelectorInput } from '../informer/index.js';
import type { Engagement } from './engagement.js';

/** The manager side of engagement: what a provider reports clusters to. */
export interface Aware {
  /**
   * A cluster is available under `name` until `engagement` aborts. Must return at once; a
   * re-report of `name` replaces the earlier engagement.
   */
  engage(name: string, cluster: Cluster, engagement: AbortSignal): void;
  /**
   * Optional: `engage` with the end of the engagement as an `Engagement` (the cluster is available
   * until it ends). Providers use it when present: it spares them an AbortSignal per cluster.
   */
  engageWith?(name: string, cluster: Cluster, engagement: Engagement): void;
}

/** Extracts index values from an object (CR's `IndexerFunc`). */
export type FieldIndexer<T extends KubernetesObject = KubernetesObject> = (obj: Cached<T>) => readonly string[];

/** Discovers clusters and hands them to the manager. */
export interface Provider {
  /** Runs discovery until `signal` aborts; reports clusters to `aware`. Resolves once stopped. */
  start(aware: Aware, signal: AbortSignal): Promise<void>;
  /** An engaged cluster by name; throws `ClusterNotFoundError` for any other name. */
  get(name: string): Cluster;
  /** Registers a field index for `type` on current and future clusters; idempotent per (type, field). */
  indexField<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void;
  /** Names of the clusters engaged now. */
  clusterNames(): string[];
  /** Whether the provider has synced its sources and can work with them, and if not why (for `/readyz`). */
  ready?(): ProviderReadiness;
  /**
   * Sharding: from now on the shared caches keep only the objects of clusters admitted with
   * `Cluster.admit` (none until the first), so a replica that owns nothing caches nothing; the
   * provider's own view of which clusters exist stays complete. A sharded manager calls it before
   * it starts the provider.
   */
  restrictCaches?(): void;
}

/** What `Provider.ready()` answers: the `/readyz` check of a provider. */
export interface ProviderReadiness {
  /** True once the provider has synced its sources and found them usable (a kcp provider's source object exists). */
  ready: boolean;
  /** Why it is not ready, e.g. `APIExportEndpointSlice "x" not found in workspace root: …`; absent when ready. */
  reason?: string;
}

/** The cluster is not (or no longer) known to the provider. */
export class ClusterNotFoundError extends Error {
  /** The name asked for. */
  readonly cluster: string;
  constructor(cluster: string) {
    super(`cluster ${JSON.stringify(cluster)} not found`);
    this.name = 'ClusterNotFoundError';
    this.cluster = cluster;
  }
}

/** True for a `ClusterNotFoundError` (also across copies of the library). */
export function isClusterNotFound(err: unknown): err is ClusterNotFoundError {
  return err instanceof ClusterNotFoundError || (err instanceof Error && err.name === 'ClusterNotFoundError');
}

/** Options of `ClusterCache.list`. */
export interface CacheListOptions {
  /** Only this namespace. */
  namespace?: string;
  /** Only objects whose labels match. */
  labelSelector?: LabelSelectorInput;
  /** Only objects whose indexed field (see `indexField`) equals the value, e.g. `{ 'spec.owner': 'x' }`. */
  fields?: Record<string, string>;
}

/** A cache read for a type that no controller watches on this cluster's endpoint. */
export class NotWatchedError extends Error {
  constructor(type: ObjectType<KubernetesObject>, cluster: string) {
    super(
      `${type.kind} (${type.apiVersion}) is not watched for cluster ${JSON.stringify(cluster)}: ` +
        `only types a controller watches (for/owns/watches) are cached; read it with cluster.client instead`,
    );
    this.name = 'NotWatchedError';
  }
}

/**
 * One cluster's read-only view of the shared caches: no watch of its own. `get` and `list` are
 * synchronous for types that a controller watches; other types throw `NotWatchedError`.
 */
export interface ClusterCache {
  /** One object, or undefined when the cache does not hold it. */
  get<T extends KubernetesObject>(type: ObjectType<T>, key: ObjectKey): Cached<T> | undefined;
  /** Objects of this cluster matching every filter. */
  list<T extends KubernetesObject>(type: ObjectType<T>, opts?: CacheListOptions): Cached<T>[];
  /** Whether `type` is cached for this cluster (and has synced). */
  has(type: ObjectType<KubernetesObject>): boolean;
}

/** What an Event says; events.k8s.io/v1 vocabulary. */
export interface EventInput {
  /** `Normal` or `Warning`. */
  type: 'Normal' | 'Warning';
  /** Machine-readable, UpperCamelCase, e.g. `Reconciled`. */
  reason: string;
  /** What was done, e.g. `Reconcile`; default `reason`. */
  action?: string;
  /** Human-readable description (max 1 KiB; longer is cut). */
  note?: string;
  /** A second object the event concerns. */
  related?: Cached<KubernetesObject>;
  /** Annotations of the Event object (CR #3509). */
  annotations?: Record<string, string>;
}

/** Records Events about objects into one cluster (events.k8s.io/v1), repeats aggregated into a series. */
export interface EventRecorder {
  /** Records (or counts a repeat of) an event about `regarding`; never throws, failures are logged. */
  publish(regarding: Cached<KubernetesObject>, event: EventInput): Promise<void>;
  /** Stops the recorder: later calls do nothing. */
  stop(): void;
}

/** A logical cluster as controllers see it. */
export interface Cluster {
  /** The logical cluster name (kcp's `kcp.io/cluster`). */
  readonly name: string;
  /** The workspace path (e.g. `root:org:ws`) when the provider knows it. */
  readonly path?: string | undefined;
  /**
   * The cluster name its informers' deltas carry (kcp's `kcp.io/cluster`), when it differs from
   * `name`: a composite provider qualifies names, a local cluster is named by its path.
   */
  readonly informerCluster?: string;
  /**
   * Set on a cluster every replica of a sharded group works on, without a fence (e.g. the
   * provider's own workspace in a composite provider). Default: sharded like any other.
   */
  readonly unsharded?: boolean;
  /**
   * Sharding: from now on the shared caches keep this cluster's objects (filled consistently;
   * `SharedInformer.clusterSynced` says when), and the first admitted cluster of a cache makes it
   * keep only admitted ones. The manager's shard router calls it before engaging an owned cluster.
   * Absent: the caches keep every cluster's objects whatever this replica owns.
   */
  admit?(): void;
  /** Sharding: undoes `admit` once the cluster was handed off; its objects leave the caches without DELETED deltas. */
  evict?(): void;
  /** Live reads and writes into this cluster (for kcp: `<virtual workspace URL>/clusters/<name>`). */
  readonly client: ClusterClient;
  /** The shared caches, scoped to this cluster. */
  readonly cache: ClusterCache;
  /** Events into this cluster. */
  readonly events: EventRecorder;
  /**
   * The shared informer that holds this cluster's objects of `type`. Clusters behind one endpoint
   * get the same instance: a controller subscribes once per instance and dispatches deltas by
   * their `cluster`. The informer is handed out not started; subscribing starts it.
   */
  informer<T extends KubernetesObject>(type: ObjectType<T>, signal?: AbortSignal): Promise<SharedInformer<T>>;
}
