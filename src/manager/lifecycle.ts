/**
 * The cluster lifecycle, owned here once for every provider:
 *
 *   reported ──► syncing ──► engaged ──► (the engagement ends) ──► gone
 *                  │ a controller's engage failed (no claim yet, informers not synced in time...)
 *                  └──► retrying (backoff) ──► syncing
 *
 * Each report gets a token; everything done for it is undone by that token, so a quick leave and
 * rejoin of one name never removes the new engagement. Engagement runs off the provider's event
 * path. A controller added at any time engages every cluster already reported.
 */
import type { Controller } from '../controller/controller.js';
import { backoffDelay } from '../informer/index.js';
import type { Logger } from '../log/index.js';
import type { Engagement } from '../provider/engagement.js';
import type { Aware, Cluster } from '../provider/types.js';

/** Where a reported cluster stands. */
export type ClusterState = 'syncing' | 'retrying' | 'engaged';

/** A reported cluster, as the manager tracks it. */
export interface ClusterRecord {
  /** The cluster's name (its logical cluster). */
  readonly name: string;
  /** The provider's handle on it. */
  readonly cluster: Cluster;
  /** This report's identity: what is done for it is undone with it, so a quick rejoin is never undone. */
  readonly token: object;
  /** Where it stands now. */
  state: ClusterState;
  /** Failed engagement attempts in a row. */
  failures: number;
  /** Why the last attempt failed. */
  lastError?: string;
  /** Whether the cluster was engaged at least once (readiness ignores retries after that). */
  everEngaged: boolean;
}

interface Internal extends ClusterRecord {
  /** What the provider reported the engagement with (a re-report with the same one is no news). */
  readonly end: AbortSignal | Engagement;
  /** Aborts the engagement attempt under way; made per attempt, so an engaged cluster holds no signal. */
  attempt?: AbortController;
  readonly done: Set<Controller>;
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
}

/** Hooks the lifecycle reports through (metrics, the cluster's own cleanup). */
export interface LifecycleHooks {
  /** Every controller engaged the cluster. */
  engaged?(rec: ClusterRecord): void;
  /** An engagement attempt failed with `err`; it is retried with backoff. */
  failed?(rec: ClusterRecord, err: unknown): void;
  /** The provider withdrew the cluster and every controller let it go. */
  disengaged?(rec: ClusterRecord): void;
}

/** Backoff of failed engagements: 500 ms doubling to 30 s, jittered. */
const RETRY = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** The table of reported clusters and their engagement with every controller. */
export class ClusterLifecycle implements Aware {
  private readonly records = new Map<string, Internal>();
  private readonly controllers: Controller[] = [];
  private active = false;

  constructor(
    private readonly log: Logger,
    private readonly hooks: LifecycleHooks = {},
  ) {}

  /** Starts engaging (clusters reported before this wait). */
  activate(): void {
    this.active = true;
    for (const rec of this.records.values()) this.schedule(rec, 0);
  }

  /** Stops engaging and disengages everything. */
  deactivate(): void {
    this.active = false;
    for (const rec of [...this.records.values()]) this.remove(rec);
  }

  /** Adds a controller: it engages every cluster already reported. */
  addController(c: Controller): void {
    this.controllers.push(c);
    for (const rec of this.records.values()) {
      if (rec.state === 'engaged') rec.state = 'syncing';
      this.schedule(rec, 0);
    }
  }

  engage(name: string, cluster: Cluster, signal: AbortSignal): void {
    const rec = this.report(name, cluster, signal, signal.aborted);
    if (!rec) return;
    signal.addEventListener('abort', () => this.remove(rec), { once: true });
    if (this.active) this.schedule(rec, 0);
  }

  engageWith(name: string, cluster: Cluster, engagement: Engagement): void {
    const rec = this.report(name, cluster, engagement, engagement.ended);
    if (!rec) return;
    engagement.onEnd(() => this.remove(rec));
    if (this.active) this.schedule(rec, 0);
  }

  /** The new record of a report, replacing any earlier one; undefined when it is a repeat or over already. */
  private report(name: string, cluster: Cluster, end: AbortSignal | Engagement, ended: boolean): Internal | undefined {
    const prev = this.records.get(name);
    if (prev && prev.cluster === cluster && prev.end === end) return undefined;
    if (prev) this.remove(prev);
    if (ended) return undefined;
    const rec: Internal = { name, cluster, token: {}, state: 'syncing', failures: 0, everEngaged: false, end, done: new Set(), running: false, again: false };
    this.records.set(name, rec);
    return rec;
  }

  /** The record of a reported cluster. */
  get(name: string): ClusterRecord | undefined {
    return this.records.get(name);
  }

  /** Every reported cluster. */
  list(): ClusterRecord[] {
    return [...this.records.values()];
  }

  /** Clusters whose first engagement is still under way (what readiness waits for). */
  pending(): ClusterRecord[] {
    return this.list().filter((r) => r.state !== 'engaged' && !r.everEngaged && r.failures === 0);
  }

  /**
   * Why readiness fails, or undefined: clusters whose first engagement is under way, naming one
   * whose cache fill keeps failing (and the error) before any that is merely syncing.
   */
  notReady(): string | undefined {
    const pending = this.pending();
    if (pending.length === 0) return undefined;
    for (const r of pending) {
      for (const c of this.controllers) {
        const err = c.syncError(r.name);
        if (err !== undefined) return `${pending.length} cluster(s) syncing; filling the cache of cluster ${r.name} fails: ${err}`;
      }
    }
    return `${pending.length} cluster(s) syncing, e.g. ${pending[0]!.name}`;
  }

  private schedule(rec: Internal, ms: number): void {
    if (this.records.get(rec.name) !== rec || !this.active) return;
    if (rec.running) {
      rec.again = true;
      return;
    }
    clearTimeout(rec.timer);
    rec.timer = setTimeout(() => void this.attempt(rec), ms);
    rec.timer.unref?.();
  }

  private async attempt(rec: Internal): Promise<void> {
    rec.timer = undefined;
    rec.running = true;
    rec.again = false;
    let failure: unknown;
    // Every controller engages at once: one waiting for its caches never holds back the others
    // (each controller's queue holds the cluster's requests until its own informers synced).
    const todo = this.controllers.filter((c) => !rec.done.has(c));
    const attempt = (rec.attempt = new AbortController());
    const results = await Promise.allSettled(
      todo.map(async (c) => {
        await c.engage(rec.cluster, rec.token, attempt.signal);
        rec.done.add(c);
      }),
    );
    rec.attempt = undefined;
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      if (this.records.get(rec.name) !== rec) break;
      failure ??= r.reason;
      this.log.warn('engaging cluster failed; will retry', { cluster: rec.name, controller: todo[i]!.name, err: r.reason });
    }
    rec.running = false;
    if (this.records.get(rec.name) !== rec) {
      // Removed while engaging: undo whatever engaged meanwhile.
      for (const c of rec.done) c.disengage(rec.name, rec.token);
      return;
    }
    if (failure !== undefined) {
      rec.failures++;
      rec.state = 'retrying';
      rec.lastError = failure instanceof Error ? failure.message : String(failure);
      this.hooks.failed?.(rec, failure);
      this.schedule(rec, backoffDelay(rec.failures - 1, RETRY));
      return;
    }
    if (rec.again) return this.attempt(rec);
    if (rec.state !== 'engaged') {
      rec.state = 'engaged';
      rec.failures = 0;
      rec.lastError = undefined;
      const first = !rec.everEngaged;
      rec.everEngaged = true;
      if (first) this.hooks.engaged?.(rec);
      this.log.debug('cluster engaged', { cluster: rec.name });
    }
  }

  private remove(rec: Internal): void {
    if (this.records.get(rec.name) !== rec) return;
    this.records.delete(rec.name);
    rec.attempt?.abort();
    clearTimeout(rec.timer);
    for (const c of this.controllers) c.disengage(rec.name, rec.token);
    rec.done.clear();
    if (rec.everEngaged) this.hooks.disengaged?.(rec);
    this.log.debug('cluster disengaged', { cluster: rec.name });
  }
}
