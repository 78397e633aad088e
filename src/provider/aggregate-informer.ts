/**
 * `AggregateInformer`: the events of one type across every endpoint (shard) of a provider, current
 * and future. A handler is registered on each endpoint's shared informer of the type, so it costs
 * no watch of its own; an endpoint that joins later replays its objects as adds, and one that
 * leaves produces a delete for every object it had delivered. The Go provider forgets a departed
 * shard's objects silently, which leaves a consumer's derived state (counts, caches, owners) stale.
 */
import { Subject, type Observable, type Subscription } from '../informer/rx.js';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { Cached, SharedInformer } from '../informer/index.js';
import type { Logger } from '../log/index.js';
import { SyncTimeoutError, asError, type AggregateItem, type ShardError } from './aggregate-types.js';
import type { Endpoint } from './endpoint.js';
import type { EndpointSet } from './endpoint-set.js';

/** Callbacks for one type's changes on every shard; each call is isolated, a throw is logged. */
export interface AggregateHandlers<T extends KubernetesObject = KubernetesObject> {
  /** An object appeared in `cluster` on the shard at `endpoint` (also for each object of a shard that joins). */
  onAdd?(obj: Cached<T>, cluster: string, endpoint: string): void;
  /** An object changed; `old` is the version the cache held before. */
  onUpdate?(old: Cached<T>, obj: Cached<T>, cluster: string, endpoint: string): void;
  /** Also called for every object of a shard that leaves the set. */
  onDelete?(obj: Cached<T>, cluster: string, endpoint: string): void;
}

/** A handler's registration. */
export interface AggregateRegistration {
  /** Whether the handler has been given the complete state of every current shard. */
  readonly synced: boolean;
  /** Removes the handler: no further calls. */
  remove(): void;
}

/** Options of `AggregateInformer`. */
export interface AggregateInformerOptions {
  /** Where shard failures are logged; default silent. */
  log?: Logger;
  /** A shard's informer that has not synced this long after it started is reported on `errors$`; default 30 s. */
  syncTimeoutMs?: number;
  /** First delay before resolving a shard's informer again after a failure; doubles up to `retryMaxMs`. Default 1 s. */
  retryInitialMs?: number;
  /** Default 30 s. */
  retryMaxMs?: number;
}

/** One endpoint as the aggregate sees it. */
interface Shard<T extends KubernetesObject> {
  readonly endpoint: Endpoint;
  informer?: SharedInformer<T>;
  /** Keeps the informer running (and tells when it stops) whether or not handlers are registered. */
  hold?: Subscription;
  readonly subs: Map<Registration<T>, Subscription>;
  failures: number;
  retry?: NodeJS.Timeout;
  watchdog?: { timer: NodeJS.Timeout; ctl: AbortController };
  gone: boolean;
}

class Registration<T extends KubernetesObject> implements AggregateRegistration {
  constructor(
    private readonly owner: AggregateInformer<T>,
    readonly handlers: AggregateHandlers<T>,
  ) {}

  get synced(): boolean {
    return this.owner.registrationSynced(this);
  }

  remove(): void {
    this.owner.removeEventHandler(this);
  }
}

/** One informer of `type` over every endpoint of the set. */
export class AggregateInformer<T extends KubernetesObject = KubernetesObject> {
  /** Per-shard failures: discovery errors (retried with backoff) and informers slow to sync. */
  readonly errors$: Observable<ShardError>;
  private readonly shards = new Map<Endpoint, Shard<T>>();
  private readonly regs = new Set<Registration<T>>();
  private readonly errors = new Subject<ShardError>();
  private readonly changes: Subscription;
  private readonly log: Logger | undefined;
  private closed = false;

  constructor(
    set: EndpointSet,
    private readonly type: ObjectType<T>,
    private readonly opts: AggregateInformerOptions = {},
  ) {
    this.errors$ = this.errors.asObservable();
    this.log = opts.log?.with({ view: 'aggregate-informer', kind: type.kind });
    this.changes = set.changes$.subscribe((c) => (c.type === 'added' ? this.join(c.endpoint) : this.leave(c.endpoint)));
    for (const ep of set.list()) this.join(ep);
  }

  /**
   * Registers handlers on every current and future shard; each shard's cached objects are
   * delivered as adds at once (synchronously, for the shards already resolved).
   */
  addEventHandler(handlers: AggregateHandlers<T>): AggregateRegistration {
    if (this.closed) throw new Error('aggregate informer is closed');
    const reg = new Registration(this, handlers);
    this.regs.add(reg);
    for (const shard of this.shards.values()) if (shard.informer) this.attach(shard, reg);
    return reg;
  }

  /** Removes a registration (no-op if already removed); no deletes are delivered for it. */
  removeEventHandler(reg: AggregateRegistration): void {
    const r = reg as Registration<T>;
    if (!this.regs.delete(r)) return;
    for (const shard of this.shards.values()) {
      shard.subs.get(r)?.unsubscribe();
      shard.subs.delete(r);
    }
  }

  /** Whether every shard's informer has synced (true with no shards). */
  get synced(): boolean {
    for (const s of this.shards.values()) if (!s.informer?.synced) return false;
    return true;
  }

  /** The endpoint URLs of the shards in the view. */
  endpoints(): string[] {
    return [...this.shards.keys()].map((e) => e.url);
  }

  /** Every cached object of every shard now. */
  list(): AggregateItem<T>[] {
    const out: AggregateItem<T>[] = [];
    for (const s of this.shards.values()) {
      if (!s.informer) continue;
      for (const [cluster, object] of s.informer.store.entries()) out.push({ cluster, endpoint: s.endpoint.url, object });
    }
    return out;
  }

  /** Whether `reg` has been given every shard's complete state. */
  registrationSynced(reg: AggregateRegistration): boolean {
    const r = reg as Registration<T>;
    if (!this.regs.has(r)) return false;
    for (const s of this.shards.values()) if (!s.informer?.synced || !s.subs.has(r)) return false;
    return true;
  }

  /** Removes every handler and releases every shard's informer; `errors$` completes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.changes.unsubscribe();
    for (const s of this.shards.values()) this.drop(s, false);
    this.shards.clear();
    this.regs.clear();
    this.errors.complete();
  }

  private join(ep: Endpoint): void {
    if (this.closed || this.shards.has(ep)) return;
    const shard: Shard<T> = { endpoint: ep, subs: new Map(), failures: 0, gone: false };
    this.shards.set(ep, shard);
    this.resolve(shard);
  }

  private leave(ep: Endpoint): void {
    const shard = this.shards.get(ep);
    if (!shard) return;
    this.shards.delete(ep);
    // The set reports a removal before the endpoint's caches close: the store is still whole here.
    this.drop(shard, true);
  }

  private resolve(shard: Shard<T>): void {
    shard.retry = undefined;
    shard.endpoint.informer(this.type).then(
      (inf) => {
        if (shard.gone || this.closed) return;
        shard.failures = 0;
        shard.informer = inf;
        shard.hold = inf.events$.subscribe({
          complete: () => this.stopped(shard),
          error: (e: unknown) => this.log?.error('informer stream failed', { endpoint: shard.endpoint.url, err: e }),
        });
        this.watch(shard, inf);
        for (const reg of this.regs) this.attach(shard, reg);
      },
      (e: unknown) => {
        if (shard.gone || this.closed) return;
        const error = asError(e);
        shard.failures++;
        const delay = Math.min(this.opts.retryMaxMs ?? 30_000, (this.opts.retryInitialMs ?? 1_000) * 2 ** (shard.failures - 1));
        this.log?.warn('shard informer not resolved; retrying', { endpoint: shard.endpoint.url, err: error, retryMs: delay });
        this.errors.next({ endpoint: shard.endpoint.url, error });
        shard.retry = setTimeout(() => this.resolve(shard), delay);
      },
    );
  }

  /** Reports a shard that does not sync in time (a refused list is retried quietly by the informer). */
  private watch(shard: Shard<T>, inf: SharedInformer<T>): void {
    if (inf.synced) return;
    const ms = this.opts.syncTimeoutMs ?? 30_000;
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      ctl.abort();
      shard.watchdog = undefined;
      if (!shard.gone && !this.closed) this.errors.next({ endpoint: shard.endpoint.url, error: new SyncTimeoutError(shard.endpoint.url, this.type, ms) });
    }, ms);
    shard.watchdog = { timer, ctl };
    inf.whenSynced(ctl.signal).then(
      () => {
        clearTimeout(timer);
        if (shard.watchdog?.ctl === ctl) shard.watchdog = undefined;
      },
      () => undefined,
    );
  }

  private attach(shard: Shard<T>, reg: Registration<T>): void {
    const url = shard.endpoint.url;
    const h = reg.handlers;
    shard.subs.set(
      reg,
      shard.informer!.addEventHandler({
        onAdd: (obj, cluster) => h.onAdd?.(obj, cluster, url),
        onUpdate: (old, obj, cluster) => h.onUpdate?.(old, obj, cluster, url),
        onDelete: (obj, cluster) => h.onDelete?.(obj, cluster, url),
      }),
    );
  }

  /**
   * The shard's informer stopped while the shard is still in the set (someone stopped it): its
   * objects are gone from the cache, so handlers are told, and the informer is started again.
   */
  private stopped(shard: Shard<T>): void {
    if (shard.gone || this.closed || this.shards.get(shard.endpoint) !== shard) return;
    this.drop(shard, true);
    shard.gone = false;
    shard.informer = undefined;
    shard.hold = undefined;
    shard.failures++;
    shard.retry = setTimeout(() => this.resolve(shard), Math.min(this.opts.retryMaxMs ?? 30_000, this.opts.retryInitialMs ?? 1_000));
  }

  /** Detaches every handler from the shard (telling them of its objects' removal when `deletes`) and releases it. */
  private drop(shard: Shard<T>, deletes: boolean): void {
    shard.gone = true;
    if (shard.retry) clearTimeout(shard.retry);
    shard.retry = undefined;
    if (shard.watchdog) {
      clearTimeout(shard.watchdog.timer);
      shard.watchdog.ctl.abort();
      shard.watchdog = undefined;
    }
    const inf = shard.informer;
    // Read before unsubscribing: the last subscriber to leave empties the cache.
    const objects = deletes && inf && shard.subs.size > 0 ? [...inf.store.entries()] : [];
    const regs = [...shard.subs.keys()];
    for (const sub of shard.subs.values()) sub.unsubscribe();
    shard.subs.clear();
    const url = shard.endpoint.url;
    for (const reg of regs) {
      const onDelete = reg.handlers.onDelete;
      if (!onDelete) continue;
      for (const [cluster, obj] of objects) {
        try {
          onDelete(obj, cluster, url);
        } catch (e) {
          this.log?.error('event handler threw', { endpoint: url, cluster, name: obj.metadata?.name, err: e });
        }
      }
    }
    shard.hold?.unsubscribe();
  }
}
