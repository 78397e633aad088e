/** The reconciles a controller has in flight: aborted by cluster or all at once, and awaited per cluster. */

/** One reconcile in flight: aborted on shutdown, timeout, or when its cluster leaves. */
interface InFlight {
  readonly cluster: string;
  readonly ctl: AbortController;
}

/** Reconciles in flight by request key. */
export class InFlightReconciles {
  private readonly byKey = new Map<string, InFlight>();
  /** Callers of `settled`, by cluster. */
  private readonly waiters = new Map<string, (() => void)[]>();

  /** Records the reconcile of `key` in `cluster`, aborted through `ctl`. */
  add(key: string, cluster: string, ctl: AbortController): void {
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
