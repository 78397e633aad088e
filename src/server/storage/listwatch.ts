/**
 * List and watch with Kubernetes semantics: selectors, paging from one snapshot, resourceVersion and
 * resourceVersionMatch, watch resume inside the history window, 410 as an ERROR event, bookmarks,
 * sendInitialEvents, timeouts and bounded per-watcher buffers.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest, cause, expired, invalid } from '../http/errors.js';
import type { ObjectService, RequestContext } from '../api/objects.js';
import { apiVersionOf } from '../api/objects.js';
import { OBJECT_META_FIELDS } from '../api/fieldlabels.js';
import { compileFieldSelector, isEmptySelector, matchesLabels, parseLabelSelector } from '../api/selectors.js';
import { Compacted, type Scope, type WatchDelivery } from './store.js';
import type { JsonObject, KubeObject, ResourceDef } from '../types.js';

/** List and watch query parameters. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

/**
 * An extra per-view filter (e.g. claim labels in a virtual workspace). With `post`, the filter
 * itself selects what a watch follows (entering and leaving it are ADDED and DELETED) and `post`
 * only drops objects and events afterwards, as kcp's post-filters do: an object that starts to pass
 * `post` while selected arrives as MODIFIED, and lists and gets apply both.
 */
export interface ObjectFilter {
  (obj: KubeObject): boolean;
  post?: (obj: KubeObject) => boolean;
}

/** Compiles the selectors of a request into one predicate over stored objects (400 on a bad selector). */
export function compileFilter(def: ResourceDef, opts: ListOptions, extra?: ObjectFilter): ObjectFilter {
  const ls = parseLabelSelector(opts.labelSelector ?? '');
  const fields = compileFieldSelector(opts.fieldSelector ?? '', def.fieldLabels ?? OBJECT_META_FIELDS);
  const noLabels = isEmptySelector(ls);
  const post = extra?.post;
  return (obj) => (noLabels || matchesLabels(ls, obj.metadata.labels)) && (!fields || fields(obj)) && (!extra || extra(obj)) && (!post || post(obj));
}

function parseRV(s: string | undefined, what: string): number | undefined {
  if (s === undefined || s === '') return undefined;
  // Real kube answers 500 for a resourceVersion that is not a uint64 (kubernetes/kubernetes#139485);
  // 400 is what that issue asks for. Beyond 2^53 a number would round (1e+23 waited 3 s for a 504),
  // and no counter gets there, so such values are refused as well.
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw badRequest(`invalid ${what}: "${s}"`);
  return Number(s);
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

function tooLarge(requested: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [cause('ResourceVersionTooLarge', '', `Too large resource version: ${requested}, current: ${current}`)],
    retryAfterSeconds: 1,
  });
}

/** Waits (bounded) until the store has reached `rv`. */
async function waitForRV(svc: ObjectService, rv: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (svc.store.resourceVersion < rv) {
    if (Date.now() >= deadline) throw tooLarge(rv, svc.store.resourceVersion);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function validateListOptions(def: ResourceDef, opts: ListOptions): void {
  if (opts.resourceVersionMatch && !opts.resourceVersion) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [
      cause('FieldValueForbidden', 'resourceVersionMatch', 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'),
    ]);
  }
  if (opts.resourceVersionMatch && !['Exact', 'NotOlderThan'].includes(opts.resourceVersionMatch)) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [
      cause('FieldValueNotSupported', 'resourceVersionMatch', `Unsupported value: "${opts.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`),
    ]);
  }
  if (opts.resourceVersionMatch === 'Exact' && opts.resourceVersion === '0') {
    throw invalid('ListOptions', 'meta.k8s.io', '', [
      cause('FieldValueForbidden', 'resourceVersionMatch', 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    ]);
  }
  if (opts.resourceVersionMatch && opts.continue) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [
      cause('FieldValueForbidden', 'resourceVersionMatch', 'Forbidden: resourceVersionMatch is forbidden when continue is provided'),
    ]);
  }
  // A *bool: `sendInitialEvents=false` is provided as well.
  if (opts.sendInitialEvents !== undefined) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [cause('FieldValueForbidden', 'sendInitialEvents', 'Forbidden: sendInitialEvents is forbidden for list')]);
  }
  if (opts.continue && opts.resourceVersion && opts.resourceVersion !== '0') {
    throw badRequest('specifying resource version is not allowed when using continue');
  }
  void def;
}

/** A list response for one scope. */
export async function listObjects(
  svc: ObjectService,
  ctx: RequestContext,
  def: ResourceDef,
  namespace: string,
  opts: ListOptions,
  extra?: ObjectFilter,
): Promise<JsonObject> {
  validateListOptions(def, opts);
  const filter = compileFilter(def, opts, extra);
  const scope: Scope = { cluster: ctx.cluster, namespace: def.namespaced ? namespace : '' };
  let atRV: number;
  let start = '';
  if (opts.continue) {
    const t = decodeContinue(opts.continue);
    atRV = t.rv;
    start = t.start;
    try {
      svc.store.assertResumable(atRV);
    } catch (e) {
      if (e instanceof Compacted) throw expired(CONTINUE_EXPIRED);
      throw e;
    }
  } else {
    const rv = parseRV(opts.resourceVersion, 'resourceVersion');
    if (opts.resourceVersionMatch === 'Exact' && rv !== undefined) {
      if (rv > svc.store.resourceVersion) await waitForRV(svc, rv, 3000);
      atRV = rv;
    } else {
      if (rv !== undefined && rv > svc.store.resourceVersion) await waitForRV(svc, rv, 3000);
      atRV = svc.store.resourceVersion;
    }
  }
  const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  let page: ReturnType<typeof svc.store.page>;
  try {
    page = svc.store.page(def.storage, scope, atRV, start, limit, filter);
  } catch (e) {
    if (e instanceof Compacted) throw opts.continue ? expired(CONTINUE_EXPIRED) : expired(e.message);
    throw e;
  }
  const items = page.items;
  const meta: JsonObject = { resourceVersion: String(atRV) };
  if (page.more) {
    meta['continue'] = encodeContinue({ rv: atRV, start: page.lastKey });
    if (!opts.labelSelector && !opts.fieldSelector && !extra) meta['remainingItemCount'] = page.remaining;
  }
  return {
    kind: def.kind + 'List',
    apiVersion: apiVersionOf(def),
    metadata: meta,
    items: items.map((o) => svc.present(def, o)) as unknown as JsonObject[],
  };
}

/** Server-wide watch settings. */
export interface WatchSettings {
  /** How often to send a bookmark to clients that asked for them. */
  bookmarkIntervalMs: number;
  /** Upper bound of a watch without timeoutSeconds (jittered by up to 10%). */
  maxWatchSeconds: number;
  /** A watcher whose unsent output exceeds this is closed; it resumes from its last resourceVersion. */
  maxBufferedBytes: number;
  /** Close functions of the open watch streams, so that the server can end them on shutdown. */
  open: Set<() => void>;
  /** Fault injection (tests): slow lists and cut watch connections. */
  hooks?: ListWatchHooks;
}

/** What fault injection may do to lists and watches. */
export interface ListWatchHooks {
  /** A delay to wait before a list response is sent, or undefined for none. */
  listDelay(): Promise<void> | undefined;
  /**
   * Registers an open watch with the function that cuts its connection (inside a JSON line when
   * `midFrame`); returns the function that unregisters it once the watch ends.
   */
  watchOpened(cut: (midFrame: boolean) => void): () => void;
}

const serialized = new WeakMap<KubeObject, string>();

/** JSON of an object, computed once per stored object and shared by every watcher. */
export function objectJson(o: KubeObject): string {
  let s = serialized.get(o);
  if (s === undefined) {
    s = JSON.stringify(o);
    serialized.set(o, s);
  }
  return s;
}

/**
 * The encoded watch line of the event being fanned out: every watcher that sends the committed
 * object as is shares one Buffer, instead of building and UTF-8 encoding the same line each. One
 * entry is enough, since a commit is delivered to all watchers before the next one.
 */
let lastLine: { type: string; object: KubeObject; bytes: Buffer } | undefined;

function sharedEventLine(type: string, o: KubeObject): Buffer {
  if (lastLine === undefined || lastLine.object !== o || lastLine.type !== type) {
    lastLine = { type, object: o, bytes: Buffer.from(`{"type":"${type}","object":${objectJson(o)}}\n`) };
  }
  return lastLine.bytes;
}

/**
 * Serves a watch on an HTTP response. Everything that can fail with a plain error (selectors,
 * options) fails before the 200 is sent.
 */
export function serveWatch(
  svc: ObjectService,
  ctx: RequestContext,
  def: ResourceDef,
  namespace: string,
  opts: ListOptions,
  res: ServerResponse,
  settings: WatchSettings,
  extra?: ObjectFilter,
  /** Renders each event's object differently (Tables for kubectl get -w). */
  render?: (o: KubeObject) => JsonObject,
): void {
  const post = extra?.post;
  // The watch follows the selection; the post-filter only drops what it delivers.
  const filter = compileFilter(def, opts, post ? (o: KubeObject) => extra!(o) : extra);
  if (opts.sendInitialEvents) {
    if (opts.resourceVersionMatch !== 'NotOlderThan' || !opts.allowWatchBookmarks) {
      throw invalid('ListOptions', 'meta.k8s.io', '', [
        cause(
          'FieldValueForbidden',
          'sendInitialEvents',
          'Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan and allowWatchBookmarks is true',
        ),
      ]);
    }
  } else if (opts.sendInitialEvents === false) {
    if (opts.resourceVersionMatch !== 'NotOlderThan') {
      throw invalid('ListOptions', 'meta.k8s.io', '', [
        cause('FieldValueForbidden', 'resourceVersionMatch', 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
      ]);
    }
  } else if (opts.resourceVersionMatch) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [
      cause('FieldValueForbidden', 'resourceVersionMatch', 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'),
    ]);
  }
  const requested = parseRV(opts.resourceVersion, 'resourceVersion');
  const scope: Scope = { cluster: ctx.cluster, namespace: def.namespaced ? namespace : '' };
  const apiVersion = apiVersionOf(def);
  const sameShape = (o: KubeObject) => o.apiVersion === apiVersion && o.kind === def.kind;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();

  let closed = false;
  let unregister: (() => void) | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let unhook: (() => void) | undefined;
  const release = () => {
    closed = true;
    unregister?.();
    unhook?.();
    clearTimeout(timeout);
    clearInterval(ticker);
    settings.open.delete(close);
  };
  const close = () => {
    if (closed) return;
    release();
    flush();
    res.end();
  };
  // A connection lost without the terminating chunk, as a network or proxy failure would leave it;
  // mid-frame, the client's last line stops inside its JSON.
  const cut = (midFrame: boolean) => {
    if (closed) return;
    const partial = midFrame ? pending.pop() ?? Buffer.from(JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion, metadata: { resourceVersion: String(svc.store.resourceVersion) } } })) : undefined;
    release();
    flush();
    const socket = res.socket;
    if (partial && socket) res.write(partial.subarray(0, Math.max(1, partial.length >> 1)));
    // destroySoon ends the socket once what was written has gone out, without the final chunk.
    if (socket) socket.destroySoon();
    else res.destroy();
  };
  settings.open.add(close);
  res.on('close', close);
  unhook = settings.hooks?.watchOpened(cut);

  // The lines of one turn of the event loop leave as one chunk in one socket write, in the check
  // phase after every commit of this turn has been delivered (or at once when the watch closes).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  function flush(): void {
    if (pending.length === 0 || res.destroyed) return;
    const lines = pending;
    pending = [];
    pendingBytes = 0;
    res.write(lines.length === 1 ? lines[0]! : Buffer.concat(lines));
  }
  const flushLater = () => {
    scheduled = false;
    if (!closed) flush();
  };
  const write = (line: string | Buffer) => {
    if (closed) return;
    const bytes = typeof line === 'string' ? Buffer.from(line) : line;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushLater);
    }
    if (res.writableLength + pendingBytes > settings.maxBufferedBytes) close();
  };
  const eventLine = (type: string, o: KubeObject): string | Buffer => {
    if (!render && sameShape(o)) return sharedEventLine(type, o);
    const body = render ? JSON.stringify(render(svc.present(def, o))) : JSON.stringify(svc.present(def, o));
    return `{"type":"${type}","object":${body}}\n`;
  };
  const bookmark = (initialEnd = false) => {
    const metadata: JsonObject = { resourceVersion: String(svc.store.resourceVersion) };
    if (initialEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    write(JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion, metadata } }) + '\n');
  };
  const deliver = (d: WatchDelivery) => {
    if (!post || post(d.object)) write(eventLine(d.type, d.object));
  };

  let from: number;
  if (opts.sendInitialEvents || (opts.sendInitialEvents === undefined && (requested === undefined || requested === 0))) {
    // The current state as synthetic ADDEDs, then everything after it.
    from = svc.store.resourceVersion;
    for (const o of svc.store.list(def.storage, scope)) if (filter(o) && (!post || post(o))) write(eventLine('ADDED', o));
    if (opts.sendInitialEvents) bookmark(true);
  } else {
    // sendInitialEvents=false without a resourceVersion: only what happens from now on.
    from = requested || svc.store.resourceVersion;
  }
  try {
    unregister = svc.store.watch(def.storage, { scope, matches: filter, deliver, end: close }, from);
  } catch (e) {
    if (!(e instanceof Compacted)) throw e;
    const status = expired(e.message).toStatus();
    write(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
    close();
    return;
  }
  const limitSeconds = opts.timeoutSeconds && opts.timeoutSeconds > 0 ? opts.timeoutSeconds : settings.maxWatchSeconds * (1 + Math.random() * 0.1);
  // Node fires timers beyond 2^31-1 ms at once; a longer watch would end immediately.
  timeout = setTimeout(() => {
    if (opts.allowWatchBookmarks) bookmark();
    close();
  }, Math.min(limitSeconds * 1000, 2 ** 31 - 1));
  if (opts.allowWatchBookmarks) ticker = setInterval(() => bookmark(), settings.bookmarkIntervalMs);
}
