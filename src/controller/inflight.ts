/** The reconciles a controller has in flight: aborted by cluster or all at once, and awaited per cluster. */

/**
 * A reconcile's cancellation, its AbortSignal made on first read: an AbortController costs a few
 * µs, and many reconcilers never look at their signal. An abort before the first read is kept and
 * the signal is born aborted with its reason.
 */
export class LazyAbort {
  private ctl: AbortController | undefined;
  private reason: unknown;
  private done = false;

  /** The signal, aborted already when `abort` came first. */
  get signal(): AbortSignal {
    if (!this.ctl) {
      this.ctl = new AbortController();
      if (this.done) this.ctl.abort(this.reason);
    }
    return this.ctl.signal;
  }

  /** Whether `abort` was called. */
  get aborted(): boolean {
    return this.done;
  }

  /** Aborts with `reason`; later calls do nothing, as with an AbortController. */
  abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.ctl?.abort(reason);
  }
}

/** One reconcile in flight: aborted on shutdown, timeout, or when its cluster leaves. */
interface InFlight {
  readonly cluster: string;
  readonly ctl: LazyAbort;
}

/** Reconciles in flight by request key. */
export class InFlightReconciles {
  private readonly byKey = new Map<string, InFlight>();
  /** Callers of `settled`, by cluster. */
  private readonly waiters = new Map<string, (() => void)[]>();

  /** Records the reconcile of `key` in `cluster`, aborted through `ctl`. */
  add(key: string, cluster: string, ctl: LazyAbort): void {
    this.byKey.set(key, { cluster, ctl });
  }

  /** The reconcile of `key` ended; wakes the waiters of its cluster when it was the last there. */
  delete(key: string): void {
    const f = this.byKey.get(key);
    if (!f) return;
    this.byKey.delete(key);
    const list = this.waiters.get(f.cluster);
    if (!list || this.busyWith(f.cluster)) return;
    this.waiters.delete(f.cluster);
    for (const w of list) w();
  }

  /** Aborts every reconcile of `cluster` (or of every cluster) with `reason`. */
  abort(reason: Error, cluster?: string): void {
    for (const f of this.byKey.values()) if (cluster === undefined || f.cluster === cluster) f.ctl.abort(reason);
  }

  /** Resolves once no reconcile of `cluster` is in flight (at once when none is). */
  settled(cluster: string): Promise<void> {
    if (!this.busyWith(cluster)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(cluster);
      if (list) list.push(resolve);
      else this.waiters.set(cluster, [resolve]);
    });
  }

  // Linear in the reconciles in flight, which the worker count bounds.
  private busyWith(cluster: string): boolean {
    for (const f of this.byKey.values()) if (f.cluster === cluster) return true;
    return false;
  }
}
