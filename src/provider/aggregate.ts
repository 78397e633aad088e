/**
 * Cross-shard reads: `AggregateLister` lists one type from every endpoint's wildcard cache at once
 * (one endpoint per shard), so a caller sees every logical cluster of an export in one call. The
 * Go provider walks the shards one after the other and gives up on the first error; here the
 * shards are read in parallel and one shard's failure (discovery, a sync that does not finish in
 * time, a refused list) is reported next to the other shards' items instead of hiding them.
 * `AggregateInformer` (aggregate-informer.ts) is the event side of the same view.
 */
import type { Subscription } from '../informer/rx.js';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import { matchesLabels, parseLabelSelector, type Cached, type LabelSelector, type SharedInformer, type StoreReader } from '../informer/index.js';
import type { Logger } from '../log/index.js';
import type { Endpoint } from './endpoint.js';
import { fieldIndexName, typeKey } from './indexes.js';
import type { EndpointSet } from './endpoint-set.js';

import { FieldNotIndexedError, SyncTimeoutError, asError, type AggregateItem, type AggregateList, type AggregateListOptions, type ShardError } from './aggregate-types.js';

export { AggregateInformer, type AggregateHandlers, type AggregateInformerOptions, type AggregateRegistration } from './aggregate-informer.js';
export { FieldNotIndexedError, SyncTimeoutError, type AggregateItem, type AggregateList, type AggregateListOptions, type ShardError } from './aggregate-types.js';

/** The filters of a list, parsed once for every shard. */
interface Query {
  namespace: string | undefined;
  selector: LabelSelector | undefined;
  fields: [string, string][];
  cluster: string | undefined;
}

function queryOf(opts: AggregateListOptions): Query {
  const selector = opts.labelSelector === undefined ? undefined : parseLabelSelector(opts.labelSelector);
  return { namespace: opts.namespace, selector: selector && selector.length > 0 ? selector : undefined, fields: Object.entries(opts.fields ?? {}), cluster: opts.cluster };
}

function hasIndex(store: StoreReader<KubernetesObject>, name: string): boolean {
  try {
    store.byIndex(name, '');
    return true;
  } catch {
    return false;
  }
}

/** Appends the objects of one shard's cache that match `q` to `out`. */
function readShard<T extends KubernetesObject>(store: StoreReader<T>, endpoint: string, type: ObjectType<T>, q: Query, out: AggregateItem<T>[]): void {
  for (const [field] of q.fields) {
    if (!hasIndex(store as unknown as StoreReader<KubernetesObject>, fieldIndexName(field))) throw new FieldNotIndexedError(type, field);
  }
  const push = (cluster: string, o: Cached<T>): void => {
    if (!q.selector || matchesLabels(q.selector, o.metadata?.labels)) out.push({ cluster, endpoint, object: o });
  };
  if (q.fields.length === 0 && q.namespace === undefined && q.cluster === undefined) {
    // The common case walks the cache once without building per-cluster arrays.
    for (const [cluster, o] of store.entries()) push(cluster, o);
    return;
  }
  for (const cluster of q.cluster !== undefined ? [q.cluster] : store.clusters()) {
    let objs: Cached<T>[];
    if (q.fields.length > 0) {
      const [[field, value], ...rest] = q.fields as [[string, string], ...[string, string][]];
      objs = store.byIndex(fieldIndexName(field), value, cluster);
      if (q.namespace !== undefined) objs = objs.filter((o) => (o.metadata?.namespace ?? '') === q.namespace);
      // Several fields intersect, as controller-runtime's MatchingFields do.
      for (const [f, v] of rest) {
        const ok = new Set(store.byIndex(fieldIndexName(f), v, cluster));
        objs = objs.filter((o) => ok.has(o));
      }
    } else {
      objs = store.listCluster(cluster, q.namespace);
    }
    for (const o of objs) push(cluster, o);
  }
}

/** Resolves with `p`, or rejects with the signal's reason once it aborts. */
function raced<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(e));
      },
    );
  });
}

/** The subscription that keeps one endpoint's informer of one type running for the lister. */
interface Hold {
  readonly informer: Promise<SharedInformer<KubernetesObject>>;
  subscription?: Subscription;
}

type ShardResult<T extends KubernetesObject> = { endpoint: string } & ({ items: AggregateItem<T>[] } | { error: Error });

/** Options of `AggregateLister`. */
export interface AggregateListerOptions {
  /** Where shard failures are logged; default silent. */
  log?: Logger;
}

/**
 * Lists a type across every endpoint of the set. The first list of a type on an endpoint starts
 * its shared informer (one subscription per (endpoint, type), kept until the endpoint leaves or the
 * lister closes), so later lists are cache reads.
 */
export class AggregateLister {
  private readonly holds = new Map<Endpoint, Map<string, Hold>>();
  private readonly changes: Subscription;
  private readonly log: Logger | undefined;
  private closed = false;

  constructor(
    private readonly set: EndpointSet,
    opts: AggregateListerOptions = {},
  ) {
    this.log = opts.log?.with({ view: 'aggregate-lister' });
    this.changes = set.changes$.subscribe((c) => {
      if (c.type === 'removed') this.release(c.endpoint);
    });
  }

  /** Every shard's matching objects, read in parallel; a shard that fails is in `errors`. */
  async list<T extends KubernetesObject>(type: ObjectType<T>, opts: AggregateListOptions = {}): Promise<AggregateList<T>> {
    const q = this.begin(opts);
    const results = await Promise.all(this.set.list().map((ep) => this.readOne(ep, type, q, opts)));
    return this.finish(results, opts);
  }

  /**
   * The same result as `list`, the shards read one after the other (what the Go provider does);
   * kept for comparison.
   */
  async sequentialList<T extends KubernetesObject>(type: ObjectType<T>, opts: AggregateListOptions = {}): Promise<AggregateList<T>> {
    const q = this.begin(opts);
    const results: ShardResult<T>[] = [];
    for (const ep of this.set.list()) {
      if (opts.signal?.aborted) break;
      results.push(await this.readOne(ep, type, q, opts));
    }
    return this.finish(results, opts);
  }

  /** Number of (endpoint, type) informers the lister keeps running. */
  get held(): number {
    let n = 0;
    for (const m of this.holds.values()) n += m.size;
    return n;
  }

  /** Releases every informer the lister started; later lists reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.changes.unsubscribe();
    for (const ep of [...this.holds.keys()]) this.release(ep);
  }

  private begin(opts: AggregateListOptions): Query {
    if (this.closed) throw new Error('aggregate lister is closed');
    opts.signal?.throwIfAborted();
    return queryOf(opts);
  }

  private finish<T extends KubernetesObject>(results: ShardResult<T>[], opts: AggregateListOptions): AggregateList<T> {
    opts.signal?.throwIfAborted();
    const items: AggregateItem<T>[] = [];
    const errors: ShardError[] = [];
    for (const r of results) {
      if (!('error' in r)) {
        for (const it of r.items) items.push(it);
        continue;
      }
      // A missing index is the caller's mistake, the same on every shard: not a partial result.
      if (r.error instanceof FieldNotIndexedError) throw r.error;
      errors.push({ endpoint: r.endpoint, error: r.error });
    }
    return { items, errors, partial: errors.length > 0 };
  }

  /** One shard's matching objects, or its error; never rejects. */
  private async readOne<T extends KubernetesObject>(ep: Endpoint, type: ObjectType<T>, q: Query, opts: AggregateListOptions): Promise<ShardResult<T>> {
    const ms = opts.syncTimeoutMs ?? 30_000;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new SyncTimeoutError(ep.url, type, ms)), ms);
    const onAbort = (): void => ctl.abort(opts.signal!.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const inf = (await raced(this.hold(ep, type), ctl.signal)) as unknown as SharedInformer<T>;
      if (!inf.synced) await inf.whenSynced(ctl.signal);
      const items: AggregateItem<T>[] = [];
      readShard(inf.store, ep.url, type, q, items);
      return { endpoint: ep.url, items };
    } catch (e) {
      const error = asError(e);
      if (!(error instanceof FieldNotIndexedError) && !opts.signal?.aborted) this.log?.warn('shard not listed', { endpoint: ep.url, kind: type.kind, err: error });
      return { endpoint: ep.url, error };
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The endpoint's informer of `type`, subscribed once for as long as the lister holds it. */
  private hold(ep: Endpoint, type: ObjectType<KubernetesObject>): Promise<SharedInformer<KubernetesObject>> {
    const key = typeKey(type);
    let byType = this.holds.get(ep);
    if (!byType) this.holds.set(ep, (byType = new Map()));
    const existing = byType.get(key);
    if (existing) return existing.informer;
    const table = byType;
    // No caller's signal reaches discovery: the promise is shared by every later list.
    const h: Hold = {
      informer: ep.informer(type).then((inf) => {
        if (table.get(key) !== h || this.holds.get(ep) !== table) return inf;
        h.subscription = inf.events$.subscribe({
          // The informer stopped under us (its endpoint closed): the next list starts it again.
          complete: () => {
            if (table.get(key) === h) table.delete(key);
          },
          error: (e: unknown) => this.log?.error('informer stream failed', { endpoint: ep.url, kind: type.kind, err: e }),
        });
        return inf;
      }),
    };
    byType.set(key, h);
    // A failed discovery is retried by the next list.
    h.informer.catch(() => {
      if (table.get(key) === h) table.delete(key);
    });
    return h.informer;
  }

  private release(ep: Endpoint): void {
    const byType = this.holds.get(ep);
    if (!byType) return;
    this.holds.delete(ep);
    for (const h of byType.values()) h.subscription?.unsubscribe();
  }
}
