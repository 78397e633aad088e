/**
 * A tiny reconcile loop for the server's kcp controllers: keys are deduplicated while waiting,
 * processed on a later turn (never inside a commit), retried with capped backoff on failure, and
 * requeued after a delay when the reconciler asks.
 */

/** The key of a cluster-scoped object in a loop: `<cluster>|<name>` (neither can contain `|`). */
export function clusterKey(cluster: string, name: string): string {
  return `${cluster}|${name}`;
}

/** The cluster and name of a `clusterKey`. */
export function splitClusterKey(key: string): [cluster: string, name: string] {
  const i = key.indexOf('|');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** What a reconcile returns: nothing (done), or a delay in ms before running the key again. */
export type ReconcileResult = void | { requeueAfterMs: number };

/** A keyed work loop. */
export class ReconcileLoop {
  private readonly waiting = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private scheduled = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly reconcile: (key: string) => ReconcileResult,
  ) {}

  /** Queues a key to run soon. */
  enqueue(key: string): void {
    if (this.stopped) return;
    this.waiting.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  /** Queues a key after a delay (replacing an earlier delayed add of the same key). */
  enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(key));
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.waiting];
    this.waiting.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        const r = this.reconcile(key);
        this.failures.delete(key);
        if (r && r.requeueAfterMs >= 0) this.enqueueAfter(key, r.requeueAfterMs);
      } catch (e) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        // Conflicts with clients are normal; anything else is worth a line on stderr.
        const code = (e as { code?: number }).code;
        if (code !== 409 && code !== 404) console.error(`reference server: ${this.name} ${key}: ${(e as Error).message}`);
        this.enqueueAfter(key, Math.min(5000, 5 * 2 ** Math.min(n, 10)));
      }
    }
  }

  /** Stops processing and drops pending work. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
  }
}
