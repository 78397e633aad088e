/**
 * `listWatch`: one (base URL, resource, selectors) as an Observable of store deltas. Lists in
 * pages, then watches from the list's resourceVersion with bookmarks and a randomised timeout,
 * resumes from the last seen resourceVersion when a watch ends, relists on 410 and emits the
 * difference, and retries everything else with capped, jittered backoff. Unsubscribing aborts the
 * request in flight.
 */
import { Observable, type Subscriber } from './rx.js';
import {
  apiErrorFromResponse,
  apiErrorFromStatus,
  isGone,
  isResourceVersionTooLarge,
  type ApiError,
  type Transport,
} from '../client/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ClusterResolver, urlCluster } from './cluster.js';
import { decodeWatchLine } from './decode.js';
import type { Chunk } from './chunks.js';
import type { TypeMeta } from './entry.js';
import { Relist } from './delta.js';
import { jsonLineLog, logDecodeErrors, type Log } from './log.js';
import { Store } from './store.js';
import { resourcePath, type KubeObject, type ListWatchEvent, type ResourceRef } from './types.js';
import { scanList, scanWatchEvent, utf8, type ScannedList, type ScannedObject } from './scan.js';
import { readWatchBody, type WatchEnd } from './watchstream.js';

/** What to list and watch, and how. */
export interface ListWatchOptions<T extends KubeObject = KubeObject> {
  /** API path under the transport's base URL, e.g. `/api/v1/configmaps`. Either this or `resource`. */
  path?: string;
  /** The resource, across all namespaces. Either this or `path`. */
  resource?: ResourceRef;
  /** Label selector sent with the list and the watch, e.g. `app=web,tier!=db`. */
  labelSelector?: string;
  /** Field selector sent with the list and the watch, e.g. `metadata.name=a`. */
  fieldSelector?: string;
  /** Items per list page; 0 lists in one response. Default 500. */
  pageSize?: number;
  /** Shortest server-side watch timeout; each watch asks for a random value in [t, 2t). Default 300. */
  timeoutSeconds?: number;
  /**
   * Silence after which a watch counts as dead. Default: its timeoutSeconds plus 30 s, since the
   * server must end the stream (with a bookmark) by then.
   */
  inactivityTimeoutMs?: number;
  /** Timeout for each list page's response headers. Default 60 s. */
  listTimeoutMs?: number;
  /** Retry delays after errors. */
  backoff?: BackoffOptions;
  /** A watch that ends before this without delivering an event counts as a failure. Default 1 s. */
  minHealthyWatchMs?: number;
  /** The store the deltas are applied to; one per subscription is created when absent. */
  store?: Store<T>;
  /** Structured log; default JSON lines on stderr. */
  log?: Log;
  /** Randomness for timeouts and jitter (tests). */
  random?: () => number;
  /**
   * Whether objects are wanted decoded as they arrive (asked per list page and per watch line):
   * when every object will be read at once anyway, one JSON.parse is cheaper than scanning the
   * text first and parsing it later. Default: no, objects are kept as text until read.
   */
  decodeEagerly?: () => boolean;
  /**
   * Told of every failed list or watch attempt that is about to be retried (client-go's
   * `WatchErrorHandler`): e.g. to say why an informer has not synced.
   */
  onError?: (err: Error) => void;
  /**
   * Which logical clusters to keep (a sharded replica keeps those it owns): objects of the others
   * are dropped as they arrive, from their scanned key, before they are decoded or stored.
   * Default: every cluster.
   */
  clusterFilter?: ClusterFilter;
}

/** Which logical clusters a list-watch keeps in its store. */
export interface ClusterFilter {
  /** Whether objects of `cluster` are kept. */
  admits(cluster: string): boolean;
  /**
   * A (re)list begins. Returns which clusters the end of that list may prune (remove the objects
   * it did not mention): not those whose part of the store is filled separately meanwhile.
   */
  listing(): (cluster: string) => boolean;
  /**
   * Whether no cluster is kept now (a replica that owns none yet): a (re)list then asks for one
   * item, for its resourceVersion only, instead of every object of every cluster only to drop them.
   */
  admitsNone?(): boolean;
  /**
   * A watch deleted an object of an admitted cluster that the store did not hold (its part may be
   * filling: the deletion must outlast a list that began before it).
   */
  deletedAbsent(cluster: string, namespace: string, name: string, resourceVersion: string): void;
}

interface ListPage<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[] | null;
}

const MAX_MALFORMED_LOGGED = 10;

/**
 * The kind of a list's items (`ConfigMapList` → `ConfigMap`): list items carry no apiVersion/kind on
 * Kubernetes while watch events do, and the cache makes them agree.
 */
export function itemKind(listKind: string | undefined): string {
  return listKind?.endsWith('List') ? listKind.slice(0, -4) : '';
}

/** The Observable of store deltas for one (base URL, resource, selectors); cold, one connection per subscription. */
export function listWatch<T extends KubeObject = KubeObject>(transport: Transport, opts: ListWatchOptions<T>): Observable<ListWatchEvent<T>> {
  const path = opts.path ?? (opts.resource ? resourcePath(opts.resource) : undefined);
  if (!path) throw new Error('listWatch needs a path or a resource');
  return new Observable<ListWatchEvent<T>>((sub) => {
    const ctrl = new AbortController();
    const run = new ListWatchRun<T>(transport, path, opts, sub, ctrl.signal);
    run.loop().then(
      () => sub.complete(),
      (e: unknown) => sub.error(e),
    );
    return () => ctrl.abort();
  });
}

/** Waits `ms`, or less if `signal` aborts first (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The state of one subscription: resume point, store, backoff. */
class ListWatchRun<T extends KubeObject> {
  private readonly store: Store<T>;
  private readonly log: Log;
  private readonly random: () => number;
  private readonly backoff: Backoff;
  private readonly clusters: ClusterResolver;
  private readonly ctx: Record<string, unknown>;
  /** Resume point: the list's resourceVersion, then that of every event and bookmark seen. */
  private rv = '';

  constructor(
    private readonly transport: Transport,
    private readonly path: string,
    private readonly opts: ListWatchOptions<T>,
    private readonly sub: Subscriber<ListWatchEvent<T>>,
    private readonly signal: AbortSignal,
  ) {
    this.log = opts.log ?? jsonLineLog;
    this.random = opts.random ?? Math.random;
    this.backoff = new Backoff(opts.backoff, this.random);
    this.ctx = { server: transport.server, path };
    this.store = opts.store ?? new Store<T>({ onDecodeError: logDecodeErrors(this.log, this.ctx) });
    this.clusters = new ClusterResolver(urlCluster(transport.server), this.log, this.ctx);
  }

  async loop(): Promise<void> {
    let needList = true;
    while (!this.signal.aborted) {
      let delay = 0;
      try {
        const listed = needList;
        if (needList) {
          await this.list();
          needList = false;
        }
        const outcome = await this.watch();
        if (outcome.healthy) this.backoff.reset();
        // A 410 on a resume is what relisting is for: relist at once. A 410 right after a list
        // means something is wrong with the server's history; do not spin on it.
        else if (!outcome.expired || listed) delay = this.backoff.next();
        // A list without resourceVersion (a VW resource not served on this shard yet) has no
        // resume point: only a relist shows what appeared meanwhile.
        if (outcome.expired || this.rv === '') needList = true;
      } catch (e) {
        if (this.signal.aborted) break;
        const err = e as Error;
        if (isGone(err) || isResourceVersionTooLarge(err)) needList = true;
        delay = Math.max(this.backoff.next(), ((err as Partial<ApiError>).retryAfterSeconds ?? 0) * 1000);
        this.log({ level: 'warn', msg: `list/watch failed, retrying in ${Math.round(delay)} ms`, event: 'retry', ...this.ctx, error: err.message, relist: needList, failures: this.backoff.failures });
        try {
          this.opts.onError?.(err);
        } catch (he) {
          this.log({ level: 'error', msg: `list/watch error handler threw: ${(he as Error).message}`, event: 'handler-error', ...this.ctx });
        }
      }
      await sleep(delay, this.signal);
    }
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.opts.labelSelector || undefined, fieldSelector: this.opts.fieldSelector || undefined };
  }

  /** Lists every page, applying items as they arrive; emits the DELETED difference and SYNCED at the end. */
  private async list(): Promise<void> {
    const filter = this.opts.clusterFilter;
    const relist = new Relist(this.store, filter?.listing());
    const none = filter?.admitsNone?.() ?? false;
    const pageSize = none ? 1 : (this.opts.pageSize ?? 500);
    let cont: string | undefined;
    let rv: string | undefined;
    let items = 0;
    do {
      const body = await this.transport.requestBytes({
        url: this.path,
        query: { ...this.query(), limit: pageSize > 0 ? pageSize : undefined, continue: cont },
        signal: this.signal,
        timeoutMs: this.opts.listTimeoutMs ?? 60_000,
      });
      // The items are kept as their text and decoded when read; a body the scan does not
      // understand is parsed whole instead, which also reports what is wrong with it.
      const scanned = this.opts.decodeEagerly?.() ? undefined : scanList(body);
      if (scanned) {
        rv ??= scanned.resourceVersion;
        items += this.applyScannedPage(relist, scanned, body);
        cont = scanned.continue || undefined;
      } else {
        const page = JSON.parse(body.toString('utf8')) as ListPage<T>;
        rv ??= page.metadata?.resourceVersion ?? '';
        items += this.applyParsedPage(relist, page);
        cont = page.metadata?.continue || undefined;
      }
      // Keeping nothing, the first page's resourceVersion is all this list is for.
      if (none) cont = undefined;
    } while (cont !== undefined && !this.signal.aborted);
    // An abandoned list proves nothing about what vanished: no DELETED from it.
    if (this.signal.aborted) return;
    for (const d of relist.finish()) this.sub.next(d);
    this.rv = rv ?? '';
    this.log({ level: 'debug', msg: 'listed', event: 'listed', ...this.ctx, resourceVersion: this.rv, items });
    this.sub.next({ type: 'SYNCED', resourceVersion: this.rv });
  }

  /** One watch request from `rv`; returns how it went, throws for HTTP errors. */
  private async watch(): Promise<{ healthy: boolean; expired: boolean }> {
    const minTimeout = this.opts.timeoutSeconds ?? 300;
    const timeoutSeconds = Math.max(1, Math.floor(minTimeout * (1 + this.random())));
    const inactivityMs = this.opts.inactivityTimeoutMs ?? (timeoutSeconds + 30) * 1000;
    const local = new AbortController();
    const onCancel = (): void => local.abort(this.signal.reason);
    this.signal.addEventListener('abort', onCancel, { once: true });
    const started = Date.now();
    let events = 0;
    let expired = false;
    let errorEvent = false;
    let malformed = 0;
    let lastBuf: Buffer | undefined;
    let lastChunk: Chunk | undefined;
    try {
      const res = await this.transport.request({
        url: this.path,
        query: {
          watch: 'true',
          resourceVersion: this.rv || undefined,
          allowWatchBookmarks: 'true',
          timeoutSeconds,
          ...this.query(),
        },
        signal: local.signal,
        timeoutMs: inactivityMs,
      });
      if (res.status !== 200) {
        const err = apiErrorFromResponse(res.status, await res.text(), res.headers, { method: 'GET', path: this.path });
        if (isGone(err)) {
          this.log({ level: 'info', msg: 'watch answered 410 Gone; relisting', event: 'expired', ...this.ctx, resourceVersion: this.rv });
          return { healthy: false, expired: true };
        }
        throw err;
      }
      if (this.backoff.failures > 0) this.log({ level: 'info', msg: `watching again from resourceVersion ${this.rv || '(none)'}`, event: 'reconnected', ...this.ctx, resourceVersion: this.rv });
      const end: WatchEnd = await readWatchBody(res.body, {
        inactivityMs,
        abort: () => local.abort(),
        signal: this.signal,
        onOversize: (bytes) => this.log({ level: 'warn', msg: 'watch line over the size cap; dropped', event: 'malformed', ...this.ctx, bytes }),
        onLine: (buf, start, end) => {
          // The common case, an object event, is scanned for its key and kept as text; anything
          // else (bookmarks, errors, lines the scan does not understand) is parsed whole.
          const scanned = this.opts.decodeEagerly?.() ? undefined : scanWatchEvent(buf, start, end);
          if (scanned && (scanned.type === 'ADDED' || scanned.type === 'MODIFIED' || scanned.type === 'DELETED')) {
            events++;
            // Many lines share a socket read: look its block up once (and hold it only for this watch).
            if (buf !== lastBuf) {
              lastBuf = buf;
              lastChunk = this.store.chunkOf(buf);
            }
            this.applyScanned(scanned.type, scanned.object, buf, lastChunk!);
            return true;
          }
          const ev = decodeWatchLine(utf8(buf, start, end));
          switch (ev.type) {
            case 'MALFORMED':
              if (++malformed <= MAX_MALFORMED_LOGGED) this.log({ level: 'warn', msg: `malformed watch line skipped: ${ev.reason}`, event: 'malformed', ...this.ctx, excerpt: ev.excerpt });
              return true;
            case 'ERROR': {
              const err = apiErrorFromStatus(ev.object);
              if (isGone(err)) {
                expired = true;
                this.log({ level: 'info', msg: `watch expired (${err.message}); relisting`, event: 'expired', ...this.ctx, resourceVersion: this.rv });
              } else {
                errorEvent = true;
                this.log({ level: 'warn', msg: `watch ERROR event: ${err.message}`, event: 'watch-error', ...this.ctx, code: err.code, reason: err.reason });
              }
              return false;
            }
            case 'BOOKMARK':
              events++;
              this.advance(ev.object);
              this.sub.next({ type: 'BOOKMARK', resourceVersion: this.rv });
              return true;
            default:
              events++;
              this.apply(ev.type, ev.object as T);
              return true;
          }
        },
      });
      if (end.kind === 'stalled') {
        this.log({ level: 'warn', msg: `watch silent for ${inactivityMs} ms; reconnecting`, event: 'stalled', ...this.ctx, resourceVersion: this.rv });
      } else if (end.kind === 'failed' && !this.signal.aborted) {
        this.log({ level: 'warn', msg: `watch connection failed: ${end.error.message}; resuming`, event: 'watch-failed', ...this.ctx, resourceVersion: this.rv });
      } else if (end.kind === 'closed') {
        this.log({ level: 'debug', msg: 'watch closed by the server; resuming', event: 'watch-closed', ...this.ctx, resourceVersion: this.rv, events });
      }
      const healthy = !expired && !errorEvent && (events > 0 || Date.now() - started >= (this.opts.minHealthyWatchMs ?? 1000));
      return { healthy, expired };
    } finally {
      this.signal.removeEventListener('abort', onCancel);
    }
  }

  private advance(obj: KubeObject): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.rv = rv;
  }

  /** Applies the items of a scanned list page, kept as text; returns how many were applied. */
  private applyScannedPage(relist: Relist<T>, page: ScannedList, body: Buffer): number {
    const kind = itemKind(page.kind);
    const filter = this.opts.clusterFilter;
    const typeMeta: TypeMeta | undefined = page.apiVersion && kind ? { apiVersion: page.apiVersion, kind } : undefined;
    const chunk = this.store.chunkOf(body);
    let applied = 0;
    for (const item of page.items) {
      const cluster = this.clusterOfScanned(item, kind);
      if (cluster === undefined || (filter !== undefined && !filter.admits(cluster))) continue;
      applied++;
      const d = relist.applyEntry(cluster, this.store.bytesEntry(item, body, item.start, item.end, item.typed ? undefined : typeMeta, chunk));
      if (d) this.sub.next(d);
    }
    return applied;
  }

  /** Applies the items of a parsed list page; returns how many were applied. */
  private applyParsedPage(relist: Relist<T>, page: ListPage<T>): number {
    const kind = itemKind(page.kind);
    const filter = this.opts.clusterFilter;
    let applied = 0;
    for (const item of page.items ?? []) {
      if (item === null || typeof item !== 'object') continue;
      if (item.apiVersion === undefined && page.apiVersion) item.apiVersion = page.apiVersion;
      if (item.kind === undefined && kind) item.kind = kind;
      const cluster = this.clusters.clusterOf(item);
      if (cluster === undefined || (filter !== undefined && !filter.admits(cluster))) continue;
      applied++;
      const d = relist.apply(cluster, item);
      if (d) this.sub.next(d);
    }
    return applied;
  }

  private clusterOfScanned(o: ScannedObject, kind?: string): string | undefined {
    return this.clusters.clusterFor(o.cluster, o, kind);
  }

  private applyScanned(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: ScannedObject, buf: Buffer, chunk: Chunk): void {
    if (o.resourceVersion) this.rv = o.resourceVersion;
    const cluster = this.clusterOfScanned(o);
    if (cluster === undefined || (this.opts.clusterFilter !== undefined && !this.opts.clusterFilter.admits(cluster))) return;
    const entry = this.store.bytesEntry(o, buf, o.start, o.end, undefined, chunk);
    const d = type === 'DELETED' ? this.store.delete(cluster, o.namespace, o.name, entry) : this.store.upsertEntry(cluster, entry);
    if (d) this.sub.next(d);
    else if (type === 'DELETED') this.opts.clusterFilter?.deletedAbsent(cluster, o.namespace, o.name, o.resourceVersion);
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    this.advance(obj);
    const cluster = this.clusters.clusterOf(obj);
    if (cluster === undefined || (this.opts.clusterFilter !== undefined && !this.opts.clusterFilter.admits(cluster))) return;
    const d =
      type === 'DELETED'
        ? this.store.delete(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', obj)
        : this.store.upsert(cluster, obj);
    if (d) this.sub.next(d);
    else if (type === 'DELETED') this.opts.clusterFilter?.deletedAbsent(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', obj.metadata?.resourceVersion ?? '');
  }
}
