/**
 * `Controller`: one work queue and one worker pool for every engaged cluster (as
 * multicluster-runtime does), fed by one subscription per shared informer. A delta reaches its
 * cluster's engagement by a map lookup; deltas of clusters that are not engaged are dropped. On
 * disengage the cluster's queued keys and timers go, its in-flight reconciles see their signal
 * abort, and the informer subscription ends with the last cluster that needed it.
 */
import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import type { Subscription } from '../informer/rx.js';
import { isForbidden, isNotFound, type KubernetesObject, type ObjectType } from '../client/index.js';
import type { Delta, SharedInformer } from '../informer/index.js';
import type { Logger } from '../log/index.js';
import type { ControllerMetrics } from '../metrics/types.js';
import { isClusterNotFound, type Cluster } from '../provider/types.js';
import { LOW_PRIORITY, PriorityQueue } from '../queue/index.js';
import type { Predicate } from './predicates.js';
import { isTerminalError, requestKey, type ErrorPolicy, type Reconciler, type Request, type Result } from './types.js';

export { NO_METRICS, type ControllerDeps, type ControllerOptions, type ReconcileOutcome } from './options.js';
import { NO_METRICS, type ControllerDeps, type ControllerOptions, type ReconcileOutcome } from './options.js';
import { InFlightReconciles, LazyAbort } from './inflight.js';
import { CacheSync } from './sync.js';
import { passes, requestsFor, type WatchSpec } from './watch.js';

/** One cluster's engagement with this controller. */
interface Engagement {
  readonly token: object;
  readonly cluster: Cluster;
  /** The primary type's scope in this cluster, as discovery gave it (undefined: unknown). */
  readonly primaryNamespaced?: boolean;
  /** The name deltas of this cluster carry in the informers (`cluster.informerCluster ?? name`). */
  readonly raw: string;
}

/** One informer this controller subscribes to, with the clusters that need it. */
interface Source {
  readonly informer: SharedInformer<KubernetesObject>;
  readonly watches: WatchSpec[];
  readonly clusters: Set<string>;
  /** The cluster names deltas carry → the engaged name (they differ when a provider qualifies names). */
  readonly names: Map<string, string>;
  subscription?: Subscription;
  /** True while the informer replays its cache to a new subscription. */
  replaying: boolean;
}

/** A multi-cluster controller. Built by `Manager.controller(name)`. */
export class Controller {
  /** The queue of requests. */
  readonly queue: PriorityQueue<Request>;
  /** The primary type (`for`); found once, since every delta of an owned type needs it. */
  readonly primary: ObjectType<KubernetesObject> | undefined;
  private readonly engaged = new Map<string, Engagement>();
  private readonly sources = new Map<SharedInformer<KubernetesObject>, Source>();
  private readonly pool: PQueue;
  private readonly workers: number;
  private deps: ControllerDeps | undefined;
  private pump: Promise<void> | undefined;
  private readonly listeners = new Set<(o: ReconcileOutcome) => void>();
  private readonly inflight = new InFlightReconciles();
  private readonly metrics: ControllerMetrics;
  private readonly stopping = new AbortController();
  /** Engagements waiting for caches. */
  private readonly sync: CacheSync;

  /** @internal Controllers are built by `Manager.controller(name)...complete(reconciler)`. */
  constructor(
    /** Unique name: metrics label, log field, queue name. */
    readonly name: string,
    private readonly watches: readonly WatchSpec[],
    private readonly globalPredicates: readonly Predicate<KubernetesObject>[],
    private readonly reconciler: Reconciler,
    /** The effective options (manager defaults applied). */
    readonly options: Readonly<ControllerOptions>,
    metrics: ControllerMetrics | undefined,
  ) {
    this.metrics = metrics ?? NO_METRICS;
    this.primary = watches.find((w) => w.role === 'for')?.type;
    this.workers = Math.max(1, Math.floor(options.maxConcurrentReconciles ?? 1));
    this.pool = new PQueue({ concurrency: this.workers });
    this.sync = new CacheSync(options.cacheSyncTimeoutMs ?? 120_000, this.stopping.signal);
    this.queue = new PriorityQueue<Request>({
      keyOf: requestKey,
      clusterOf: (r) => r.cluster,
      fairness: options.fairness ?? true,
      rateLimiter: options.rateLimiter,
      metrics: this.metrics.queue,
    });
  }

  /** Whether the controller waits for leadership. */
  get needLeaderElection(): boolean {
    return this.options.needLeaderElection ?? true;
  }

  /** Names of the clusters engaged with this controller. */
  clusterNames(): string[] {
    return [...this.engaged.keys()];
  }

  /** Observes every finished reconcile; returns the function that stops observing. */
  onReconcile(fn: (o: ReconcileOutcome) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts the workers (the manager calls this once). */
  start(deps: ControllerDeps): void {
    if (this.deps) return;
    this.deps = deps;
    this.metrics.maxConcurrent(this.workers);
    this.pump = this.run();
  }

  /**
   * Engages a cluster: subscribes the informers it needs (once per informer), enqueues its existing
   * objects at low priority, and resolves once those informers have synced. Until then the queue
   * holds the cluster's requests: no reconcile of a cluster runs before every informer this
   * controller watches on its endpoint has synced (controller-runtime's WaitForCacheSync, per
   * cluster). A failure leaves nothing behind (the manager retries). `token` identifies this
   * engagement for `disengage`.
   */
  async engage(cluster: Cluster, token: object, signal: AbortSignal): Promise<void> {
    const name = cluster.name;
    const prev = this.engaged.get(name);
    if (prev && prev.token === token) return;
    if (prev) this.disengage(name, prev.token);
    const byInformer = new Map<SharedInformer<KubernetesObject>, WatchSpec[]>();
    let primaryNamespaced: boolean | undefined;
    for (const w of this.watches) {
      const inf = await cluster.informer(w.type, signal);
      byInformer.set(inf, [...(byInformer.get(inf) ?? []), w]);
      if (w.role === 'for') primaryNamespaced = inf.namespaced;
    }
    signal.throwIfAborted();
    const raw = cluster.informerCluster ?? name;
    const eng: Engagement = { token, cluster, primaryNamespaced, raw };
    this.engaged.set(name, eng);
    // Before the first enqueue: requests wait in the queue until the caches are complete.
    this.queue.hold(name);
    try {
      for (const [inf, watches] of byInformer) this.attach(inf, watches, name, raw);
      // Usually the endpoint's informers synced long ago: nothing to wait for, no listener then.
      const unsynced = [...byInformer.keys()].filter((inf) => !inf.clusterSynced(raw));
      if (unsynced.length > 0) await this.sync.wait(unsynced, raw, signal);
      if (this.engaged.get(name) !== eng) throw new Error(`cluster ${JSON.stringify(name)} disengaged while syncing`);
      this.queue.release(name);
    } catch (e) {
      this.disengage(name, token);
      throw e;
    }
  }

  /** Ends an engagement (no-op when `token` is not the current one for `name`). */
  disengage(name: string, token: object): void {
    const eng = this.engaged.get(name);
    if (!eng || eng.token !== token) return;
    this.engaged.delete(name);
    this.inflight.abort(new Error(`cluster ${JSON.stringify(name)} disengaged`), name);
    this.queue.dropCluster(name);
    // After the drop: nothing of the old engagement is left to hand out.
    this.queue.release(name);
    for (const src of [...this.sources.values()]) {
      if (!src.clusters.delete(name)) continue;
      // By the engagement's own raw name: a scan of every name per cluster would make a shutdown
      // (or a replica losing thousands of clusters) quadratic.
      if (src.names.get(eng.raw) === name) src.names.delete(eng.raw);
      if (src.clusters.size > 0) continue;
      src.subscription?.unsubscribe();
      this.sources.delete(src.informer);
    }
  }

  /**
   * Why an engaged cluster's caches are not complete, when one of the informers this controller
   * waits on keeps failing to fill that cluster's part (`<path>: <error>`); undefined otherwise.
   */
  syncError(name: string): string | undefined {
    const eng = this.engaged.get(name);
    if (!eng) return undefined;
    for (const src of this.sources.values()) {
      if (!src.clusters.has(name)) continue;
      const err = src.informer.clusterSyncError(eng.raw);
      if (err !== undefined) return `${src.informer.path}: ${err}`;
    }
    return undefined;
  }

  /**
   * Resolves once no reconcile of `cluster` is in flight (at once when none is). With `disengage`,
   * this is how a hand-off waits for aborted reconciles to settle before the cluster is released.
   */
  settled(cluster: string): Promise<void> {
    return this.inflight.settled(cluster);
  }

  /** Stops taking work and waits up to `graceMs` for reconciles in flight. */
  async stop(graceMs: number): Promise<void> {
    this.queue.shutDown();
    this.stopping.abort();
    this.inflight.abort(new Error('controller shutting down'));
    const idle = this.pool.onIdle();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, graceMs))));
    const late = await Promise.race([idle.then(() => false), expired]);
    clearTimeout(timer);
    if (late) this.deps?.log.warn('reconciles still running after the shutdown grace period; leaving them', { running: this.pool.pending });
    for (const [name, eng] of [...this.engaged]) this.disengage(name, eng.token);
    await this.pump;
  }

  private attach(inf: SharedInformer<KubernetesObject>, watches: WatchSpec[], cluster: string, raw: string): void {
    let src = this.sources.get(inf);
    if (src) {
      src.clusters.add(cluster);
      src.names.set(raw, cluster);
      // Already subscribed: this cluster's cached objects are enqueued here, at low priority.
      this.enqueueExisting(src, cluster, raw);
      return;
    }
    src = { informer: inf, watches, clusters: new Set([cluster]), names: new Map([[raw, cluster]]), replaying: true };
    this.sources.set(inf, src);
    const s = src;
    // Subscribing replays the cache synchronously (every cluster's objects; dispatch keeps the engaged).
    s.subscription = inf.events$.subscribe({
      next: (d) => this.dispatch(s, d),
      error: (e: unknown) => this.deps?.log.error('informer stream failed', { err: e, path: inf.path }),
    });
    s.replaying = false;
  }

  private enqueueExisting(src: Source, cluster: string, raw: string): void {
    for (const entry of src.informer.store.clusterEntries(raw)) {
      const d: Delta = {
        type: 'ADDED',
        cluster,
        namespace: entry.namespace,
        name: entry.name,
        resourceVersion: entry.resourceVersion,
        get object() {
          return entry.object;
        },
      };
      this.route(src, d, true);
    }
  }

  private dispatch(src: Source, d: Delta): void {
    const name = src.names.get(d.cluster);
    if (name === undefined || !this.engaged.has(name)) return;
    // A cluster whose part of a selective cache is still filling: its creates are initial too.
    const initial = d.type === 'ADDED' && (src.replaying || !src.informer.clusterSynced(d.cluster));
    this.route(src, name === d.cluster ? d : renamed(d, name), initial);
  }

  private route(src: Source, d: Delta, initial: boolean): void {
    // Resyncs (same resourceVersion) and initial-list creates go in at low priority, as controller-runtime's handlers do.
    const low = initial || (d.type === 'MODIFIED' && d.resourceVersion !== '' && d.resourceVersion === d.oldResourceVersion);
    const reqs: Request[] = [];
    for (const w of src.watches) {
      try {
        if (!passes(w, this.globalPredicates, d, initial)) continue;
        requestsFor(w, this.primary, d, reqs, this.engaged.get(d.cluster)?.primaryNamespaced);
      } catch (e) {
        this.deps?.log.error('event handler failed; event skipped', { err: e, cluster: d.cluster, namespace: d.namespace || undefined, name: d.name });
      }
    }
    for (const r of reqs) this.queue.add(r, low ? { priority: LOW_PRIORITY } : undefined);
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.pool.pending >= this.workers) {
        // Wait for a free worker, or for shutdown (a hung reconciler must not hold the pump).
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.pool.off('next', done);
            this.stopping.signal.removeEventListener('abort', done);
            resolve();
          };
          this.pool.on('next', done);
          this.stopping.signal.addEventListener('abort', done);
        });
        if (this.stopping.signal.aborted) return;
        continue;
      }
      const got = await this.queue.get();
      if (got.shutdown) return;
      // Nothing a reconciler does (throwing anything at all) may become an unhandled rejection.
      this.pool.add(() => this.process(got.item, got.priority)).catch((e: unknown) => this.deps?.log.error('reconcile bookkeeping failed', { err: describe(e) }));
    }
  }

  private async process(req: Request, priority: number): Promise<void> {
    const deps = this.deps!;
    const eng = this.engaged.get(req.cluster);
    const reconcileID = randomUUID();
    const started = performance.now();
    const owned = !deps.owns || deps.owns(req.cluster);
    if (!eng || !owned) {
      // The cluster left, or another replica owns it now, after the key was queued: nothing to do here.
      if (!owned) deps.notOwnedDropped?.();
      this.queue.forget(req);
      this.queue.done(req);
      this.emit({ request: req, reconcileID, result: 'dropped', priority, ms: 0 });
      return;
    }
    const path = eng.cluster.path;
    const log = deps.log.with({ cluster: req.cluster, ...(path ? { path } : {}), namespace: req.namespace, name: req.name, reconcileID });
    const local = new LazyAbort();
    if (deps.signal.aborted || this.stopping.signal.aborted) local.abort(new Error('controller shutting down'));
    let timer: NodeJS.Timeout | undefined;
    if (this.options.reconcileTimeoutMs && this.options.reconcileTimeoutMs > 0) {
      timer = setTimeout(() => {
        this.metrics.timedOut();
        local.abort(new Error(`reconcile timed out after ${this.options.reconcileTimeoutMs} ms`));
      }, this.options.reconcileTimeoutMs);
    }
    const key = requestKey(req);
    this.inflight.add(key, req.cluster, local);
    this.metrics.active(1);
    let outcome: ReconcileOutcome['result'] = 'success';
    let error: unknown;
    let failed = false;
    try {
      let result: Result | void | undefined;
      try {
        result = await this.reconciler(req, {
          cluster: eng.cluster,
          log,
          get signal() {
            return local.signal;
          },
          reconcileID,
          controller: this.name,
          retry: { attempt: this.queue.numRequeues(req) },
        });
      } catch (e) {
        error = e;
        failed = true;
      }
      const seconds = (performance.now() - started) / 1000;
      // A cluster that left (or a new engagement of its name) gets no requeue from the old one.
      const current = this.engaged.get(req.cluster) === eng;
      if (failed && isClusterNotFound(error)) failed = false;
      if (failed) {
        outcome = 'error';
        const terminal = isTerminalError(error);
        if (!(error instanceof Error)) this.metrics.panicked();
        this.metrics.failed(terminal, req.cluster);
        if (!current) {
          this.queue.forget(req);
        } else if (terminal) {
          log.error('reconcile failed with a terminal error; not retrying', { err: error });
          this.queue.forget(req);
        } else {
          this.retryAfterError(req, priority, error, log);
        }
        if (result && (result.requeue || result.requeueAfter)) log.warn('reconcile returned both an error and a requeue; the requeue is ignored');
      } else if (!current) {
        this.queue.forget(req);
      } else if (result && result.requeueAfter && result.requeueAfter > 0) {
        outcome = 'requeue_after';
        this.queue.forget(req);
        this.queue.add(req, { after: result.requeueAfter, priority: result.priority ?? priority });
      } else if (result && result.requeue) {
        outcome = 'requeue';
        this.queue.add(req, { rateLimited: true, priority: result.priority ?? priority });
      } else {
        this.queue.forget(req);
      }
      this.metrics.reconciled(outcome, seconds, req.cluster);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(key);
      this.metrics.active(-1);
      this.queue.done(req);
      this.emit({ request: req, reconcileID, result: outcome, priority, error, ms: performance.now() - started });
    }
  }

  private retryAfterError(req: Request, priority: number, error: unknown, log: Logger): void {
    const attempt = this.queue.numRequeues(req);
    let decision: ReturnType<ErrorPolicy> = 'backoff';
    if (this.options.errorPolicy) {
      try {
        decision = this.options.errorPolicy(req, error, { attempt });
      } catch (e) {
        log.error('error policy threw; backing off', { err: e });
      }
    }
    const msg = error instanceof Error ? error : describe(error);
    // 403/404 is what a workspace that is leaving (binding deleted, claim revoked) answers before
    // the provider has seen it go: worth a retry, not an error line.
    if (decision === 'backoff' && (isForbidden(error) || isNotFound(error))) {
      log.info('reconcile got 403/404 (the cluster may be leaving); retrying with backoff', { err: msg, attempt: attempt + 1 });
      this.queue.add(req, { rateLimited: true, priority });
      return;
    }
    if (decision === 'drop') {
      log.error('reconcile failed; dropped by the error policy', { err: msg });
      this.queue.forget(req);
    } else if (decision === 'backoff') {
      log.error('reconcile failed; retrying with backoff', { err: msg, attempt: attempt + 1 });
      this.queue.add(req, { rateLimited: true, priority });
    } else {
      if (typeof decision !== 'object' || decision === null || !(decision.requeueAfter > 0)) {
        log.error('reconcile failed; the error policy gave no usable decision, backing off', { err: msg });
        this.queue.add(req, { rateLimited: true, priority });
        return;
      }
      log.error('reconcile failed; retrying as the error policy says', { err: msg, requeueAfter: decision.requeueAfter });
      this.queue.add(req, { after: decision.requeueAfter, priority: decision.priority ?? priority });
    }
  }

  private emit(o: ReconcileOutcome): void {
    for (const l of this.listeners) {
      try {
        l(o);
      } catch {
        // observers must not break the controller
      }
    }
  }
}

/** An error as one line, whatever was thrown (even objects whose string conversion throws). */
function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return `non-error thrown: ${String(e)}`;
  } catch {
    return `non-error thrown: ${Object.prototype.toString.call(e)}`;
  }
}

/** A delta as seen under the engaged name (the object is still decoded lazily, from the original). */
function renamed(d: Delta, cluster: string): Delta {
  return new Proxy(d, { get: (target, key) => (key === 'cluster' ? cluster : Reflect.get(target, key)) });
}
