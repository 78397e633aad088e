/**
 * `ClusterEventRecorder`: Events into one logical cluster, aggregated as client-go's events/v1
 * broadcaster does it. Choices, where client-go leaves room:
 *
 * - The first occurrence of an event creates an Event named `<regarding name>.<16 hex digits of
 *   UnixNano>`. A repeat (same regarding object, reason, action, type, note and related object)
 *   counts into the Event's `series` instead. client-go leaves the note out of that key, so the
 *   first note of a series wins; here a different note is a different Event.
 * - Repeats are written by a merge PATCH of `series` at most once per `seriesFlushMs` (default
 *   5 s) per Event: a repeat after a quiet spell is written at once (publish awaits it), one
 *   within the spell is written by a timer at the end of it. client-go writes the second
 *   occurrence at once and later counts only on its 30 min heartbeat; a few seconds keeps
 *   `kubectl get events` current at a bounded write rate.
 * - A series ends (the next occurrence creates a new Event) after 6 min without an occurrence,
 *   client-go's `finishTime`. The memory of recent events is an LRU of `maxEntries` (default 4096).
 * - `stop()` drops unwritten series counts: the Event on the server lags by at most one flush
 *   interval. Call `flush()` first to write them.
 *
 * Memory: one recorder exists per cluster (possibly 10,000), so nothing is allocated before the
 * first publish, and no timer runs unless a series count waits to be written.
 *
 * `events.k8s.io/v1` is used when served, else core `v1` Events. When neither is (through a kcp
 * APIExport virtual workspace: the export has no `events` claim, or the binding did not accept
 * it), the recorder says so in one line and drops events, checking again every 5 min.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { ClusterClient, KubernetesObject } from '../client/index.js';
import { ApiError, microTime, rfc3339, isAlreadyExists, isForbidden, isNetworkError, isNotFound, isServerTimeout, isTooManyRequests, PatchType } from '../client/index.js';
import type { Cached } from '../informer/index.js';
import { Logger } from '../log/index.js';
import type { EventInput, EventRecorder } from './types.js';

/** Options of `ClusterEventRecorder`. */
export interface ClusterEventRecorderOptions {
  /** The cluster's client: Events are written where it points. */
  client: ClusterClient;
  /** `reportingController`, a qualified name such as `example.com/widgets`. */
  controller: string;
  /** `reportingInstance`; default the host name (at most 128 characters). */
  instance?: string;
  /** Default: a JSON logger on stderr. */
  log?: Logger;
  /** Clock of event timestamps and series expiry (tests). */
  now?: () => Date;
  /** Shortest time between two series writes of one Event; default 5000 ms. */
  seriesFlushMs?: number;
  /** Distinct recent events remembered for aggregation; default 4096. */
  maxEntries?: number;
}

type EventAPI = 'events.k8s.io/v1' | 'v1';

/** An object reference as Events carry it. */
interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

interface Entry {
  readonly api: EventAPI;
  readonly name: string;
  readonly namespace: string;
  /** What was created; kept to create it again when the Event vanished (client-go does so too). */
  readonly body: KubernetesObject & Record<string, unknown>;
  /** Occurrences seen. */
  count: number;
  /** Occurrences on the server. */
  written: number;
  /** ms (recorder clock) of the last occurrence. */
  lastObserved: number;
  /** ms (wall clock) of the last write, for pacing. */
  lastWrite: number;
  created: boolean;
  busy: Promise<void> | undefined;
}

const NOTE_LIMIT = 1024;
const SERIES_END_MS = 6 * 60_000;
const RECHECK_MS = 5 * 60_000;
const RETRY_DELAYS_MS = [200, 1000];
const CLAIM_HINT = 'record events needs a permission claim on events in the APIExport, accepted by the binding';

/** `note` cut to 1024 bytes of UTF-8 without splitting a character. */
export function cutNote(note: string): string {
  const bytes = Buffer.from(note, 'utf8');
  if (bytes.length <= NOTE_LIMIT) return note;
  let end = NOTE_LIMIT;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function referenceOf(obj: Cached<KubernetesObject>): ObjectReference {
  const m = obj.metadata ?? {};
  const ref: ObjectReference = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: m.resourceVersion };
  for (const k of Object.keys(ref) as (keyof ObjectReference)[]) if (!ref[k]) delete ref[k];
  return ref;
}

// Event names must be DNS subdomains; object names of some kinds (`system:...` roles) are not.
function namePrefix(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '');
  return (clean || 'event').slice(0, 253 - 17);
}

function transient(e: unknown): boolean {
  return isNetworkError(e) || isServerTimeout(e) || isTooManyRequests(e) || (e instanceof ApiError && e.code >= 500);
}

// 403, or 404 on the collection (the resource is not there), as opposed to a missing namespace.
function notServed(e: unknown): boolean {
  if (isForbidden(e)) return true;
  return isNotFound(e) && (e as ApiError).details.kind !== 'namespaces';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms * (0.75 + Math.random() * 0.5)).unref());
}

/** Records Events into one cluster; see the module comment for aggregation and fallbacks. */
export class ClusterEventRecorder implements EventRecorder {
  private readonly opts: ClusterEventRecorderOptions;
  private stopped = false;
  private api: Promise<EventAPI | undefined> | undefined;
  private recheckAt = 0;
  private warned = false;
  private entries: Map<string, Entry> | undefined;
  private dirty: Set<Entry> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastNanos = 0n;
  private logger: Logger | undefined;
  private instanceName: string | undefined;

  constructor(opts: ClusterEventRecorderOptions) {
    if (!opts.controller) throw new Error('ClusterEventRecorder: controller (reportingController) is required');
    this.opts = opts;
  }

  /** Records an event about `regarding`, or counts a repeat of a recent one; never throws. */
  async publish(regarding: Cached<KubernetesObject>, event: EventInput): Promise<void> {
    if (this.stopped) return;
    try {
      const api = await this.resolveAPI();
      if (!api || this.stopped) return;
      const now = this.now();
      const note = cutNote(event.note ?? '');
      const reg = referenceOf(regarding);
      const rel = event.related ? referenceOf(event.related) : undefined;
      const action = event.action || event.reason;
      const key = createHash('sha1')
        .update(JSON.stringify([api, reg.apiVersion, reg.kind, reg.namespace, reg.name, reg.uid, rel?.apiVersion, rel?.kind, rel?.namespace, rel?.name, rel?.uid, event.reason, action, event.type, note]))
        .digest('base64');
      const entries = (this.entries ??= new Map());
      let entry = entries.get(key);
      if (entry && now - entry.lastObserved > SERIES_END_MS) entry = undefined;
      if (entry) {
        // Refresh the LRU position.
        entries.delete(key);
        entries.set(key, entry);
        entry.count++;
        entry.lastObserved = now;
        if (!entry.busy && entry.created && Date.now() - entry.lastWrite >= this.flushMs()) await this.flushEntry(entry);
        else this.markDirty(entry);
        return;
      }
      const namespace = reg.namespace || 'default';
      const name = `${namePrefix(reg.name ?? '')}.${this.nanosHex(now)}`;
      const body = this.buildEvent(api, name, namespace, reg, rel, event, action, note, new Date(now));
      entry = { api, name, namespace, body, count: 1, written: 0, lastObserved: now, lastWrite: Date.now(), created: false, busy: undefined };
      entries.delete(key);
      entries.set(key, entry);
      this.evict();
      const created = entry;
      created.busy = this.create(created, key).finally(() => (created.busy = undefined));
      await created.busy;
      if (created.count > created.written) this.markDirty(created);
    } catch (e) {
      this.warn('recording an event failed', e, { reason: event.reason });
    }
  }

  /** Writes every pending series count now; resolves when done (failures are logged). */
  async flush(): Promise<void> {
    const pending = [...(this.dirty ?? [])];
    this.dirty?.clear();
    this.clearTimer();
    await Promise.all(pending.map((e) => this.flushEntry(e)));
  }

  /** Stops the recorder: later publishes do nothing and unwritten series counts are dropped. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.dirty = undefined;
    this.entries = undefined;
  }

  private now(): number {
    return (this.opts.now?.() ?? new Date()).getTime();
  }

  private flushMs(): number {
    return this.opts.seriesFlushMs ?? 5000;
  }

  private log(): Logger {
    return (this.logger ??= (this.opts.log ?? new Logger()).with({ component: 'events', cluster: this.opts.client.cluster }));
  }

  private warn(msg: string, err: unknown, fields: Record<string, unknown> = {}): void {
    try {
      this.log().warn(msg, { ...fields, err });
    } catch {
      // A failing log sink must not make publish throw.
    }
  }

  private instance(): string {
    return (this.instanceName ??= (this.opts.instance ?? os.hostname()).slice(0, 128));
  }

  // Unique per recorder, and close to client-go's UnixNano: ms from the clock, a random sub-ms part.
  private nanosHex(nowMs: number): string {
    let n = BigInt(nowMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
    if (n <= this.lastNanos) n = this.lastNanos + 1n;
    this.lastNanos = n;
    return n.toString(16).padStart(16, '0');
  }

  private resolveAPI(): Promise<EventAPI | undefined> {
    if (!this.api || (this.recheckAt && this.now() >= this.recheckAt)) {
      this.recheckAt = 0;
      this.api = this.discover();
    }
    return this.api;
  }

  private async discover(): Promise<EventAPI | undefined> {
    let last: unknown;
    for (const api of ['events.k8s.io/v1', 'v1'] as const) {
      try {
        await this.opts.client.resolve({ apiVersion: api, kind: 'Event' });
        this.log().debug(`recording events with ${api === 'v1' ? 'core v1' : api} Events`, { apiVersion: api });
        return api;
      } catch (e) {
        last = e;
        if (!(e instanceof Error && e.name === 'UnknownKindError') && !notServed(e)) break;
      }
    }
    if (last instanceof Error && (last.name === 'UnknownKindError' || notServed(last))) this.unavailable(last);
    else {
      // Discovery itself failed (network, 5xx): try again on a later publish.
      this.warn('discovering the Event API failed', last);
      this.api = undefined;
    }
    return undefined;
  }

  private unavailable(err: unknown): void {
    this.recheckAt = this.now() + RECHECK_MS;
    this.api = Promise.resolve(undefined);
    if (this.warned) return;
    this.warned = true;
    try {
      this.log().error(
        `events are not recorded: the cluster does not serve Events to this client (through a kcp APIExport virtual workspace, ${CLAIM_HINT})`,
        { err },
      );
    } catch {
      // as in warn()
    }
  }

  private buildEvent(
    api: EventAPI,
    name: string,
    namespace: string,
    reg: ObjectReference,
    rel: ObjectReference | undefined,
    ev: EventInput,
    action: string,
    note: string,
    at: Date,
  ): KubernetesObject & Record<string, unknown> {
    const metadata = { name, namespace, ...(ev.annotations ? { annotations: { ...ev.annotations } } : {}) };
    const common = { reportingInstance: this.instance(), action, reason: ev.reason, type: ev.type, eventTime: microTime(at), ...(rel ? { related: rel } : {}) };
    if (api === 'events.k8s.io/v1') {
      return { apiVersion: api, kind: 'Event', metadata, reportingController: this.opts.controller, regarding: reg, note, ...common };
    }
    const t = rfc3339(at);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata,
      involvedObject: reg,
      message: note,
      source: { component: this.opts.controller },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      reportingComponent: this.opts.controller,
      ...common,
    };
  }

  private async create(entry: Entry, key: string): Promise<void> {
    try {
      await this.attempt(() => this.opts.client.create(entry.body));
      entry.created = true;
      entry.written = Math.max(entry.written, 1);
      entry.lastWrite = Date.now();
    } catch (e) {
      // Forget it: the next occurrence tries to create it again.
      if (this.entries?.get(key) === entry) this.entries.delete(key);
      this.dirty?.delete(entry);
      this.writeFailed(entry, e);
    }
  }

  private async flushEntry(entry: Entry): Promise<void> {
    while (entry.busy) await entry.busy;
    if (!entry.created || entry.count <= entry.written || this.stopped) return;
    this.dirty?.delete(entry);
    entry.busy = this.writeSeries(entry).finally(() => (entry.busy = undefined));
    await entry.busy;
  }

  private async writeSeries(entry: Entry): Promise<void> {
    const count = entry.count;
    const at = new Date(entry.lastObserved);
    const series = { count, lastObservedTime: microTime(at) };
    const patch = entry.api === 'v1' ? { count, lastTimestamp: rfc3339(at), series } : { series };
    const key = { namespace: entry.namespace, name: entry.name };
    const type = { apiVersion: entry.api, kind: 'Event' };
    entry.lastWrite = Date.now();
    try {
      await this.attempt(async () => {
        try {
          await this.opts.client.patch(type, key, patch, { type: PatchType.Merge });
        } catch (e) {
          if (!isNotFound(e)) throw e;
          // The Event expired or was deleted: write it again with its series (client-go does too).
          const again = { ...entry.body, ...patch, metadata: { ...entry.body.metadata } };
          await this.opts.client.create(again);
        }
      });
      entry.written = Math.max(entry.written, count);
    } catch (e) {
      this.writeFailed(entry, e);
    }
    if (entry.count > entry.written) this.markDirty(entry);
  }

  private async attempt<T>(write: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await write();
      } catch (e) {
        if (i >= RETRY_DELAYS_MS.length || !transient(e) || this.stopped) throw e;
        const hinted = e instanceof ApiError && e.retryAfterSeconds !== undefined ? Math.min(e.retryAfterSeconds * 1000, 5000) : 0;
        await sleep(Math.max(hinted, RETRY_DELAYS_MS[i]!));
      }
    }
  }

  private writeFailed(entry: Entry, e: unknown): void {
    if (isAlreadyExists(e)) {
      this.log().debug('event already exists; dropped', { event: entry.name });
    } else if (notServed(e)) {
      this.unavailable(e);
    } else {
      this.warn('writing an event failed; dropped', e, { event: entry.name, namespace: entry.namespace });
    }
  }

  private markDirty(entry: Entry): void {
    if (this.stopped || !entry.created) return;
    (this.dirty ??= new Set()).add(entry);
    if (this.timer) return;
    const wait = Math.max(0, entry.lastWrite + this.flushMs() - Date.now());
    this.timer = setTimeout(() => this.onTimer(), wait);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    const dirty = this.dirty;
    if (!dirty || this.stopped) return;
    const wall = Date.now();
    let next = Infinity;
    for (const entry of [...dirty]) {
      const due = entry.lastWrite + this.flushMs();
      // A busy entry marks itself dirty again when its write ends, paced from that write.
      if (entry.busy) dirty.delete(entry);
      else if (due <= wall) {
        dirty.delete(entry);
        void this.flushEntry(entry);
      } else next = Math.min(next, due);
    }
    if (next !== Infinity) {
      this.timer = setTimeout(() => this.onTimer(), next - wall);
      this.timer.unref();
    }
    this.prune();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private evict(): void {
    const entries = this.entries!;
    const max = this.opts.maxEntries ?? 4096;
    for (const [k, e] of entries) {
      if (entries.size <= max) break;
      entries.delete(k);
      this.dirty?.delete(e);
    }
    this.prune();
  }

  // Oldest first (Map order is LRU order): drop series that ended, so an idle recorder shrinks.
  private prune(): void {
    const entries = this.entries;
    if (!entries) return;
    const now = this.now();
    for (const [k, e] of entries) {
      if (now - e.lastObserved <= SERIES_END_MS || e.busy || this.dirty?.has(e)) break;
      entries.delete(k);
    }
  }
}
