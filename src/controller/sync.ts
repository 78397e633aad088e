/**
 * Waiting for caches before a cluster's first reconcile (controller-runtime's WaitForCacheSync, per
 * cluster): every informer the controller watches on the cluster's endpoint has synced, and its
 * part for the cluster is complete (an informer that keeps only owned clusters fills a cluster's
 * part when it admits it). Clusters waiting on one informer share one wait and one timeout, so a
 * cold start of many clusters costs a subscription per cluster and a timer per informer.
 */
import { abortError, onAbort, type KubernetesObject } from '../client/index.js';
import type { SharedInformer } from '../informer/index.js';

/** The sync waits of one controller. */
export class CacheSync {
  private readonly waits = new Map<SharedInformer<KubernetesObject>, Promise<void>>();

  constructor(
    /** How long one informer may take to sync before its waiters fail. */
    private readonly timeoutMs: number,
    /** Aborts every wait (the controller stops). */
    private readonly stopping: AbortSignal,
  ) {}

  /** Resolves once each informer synced and holds `cluster`'s part; rejects when `signal` aborts first. */
  async wait(informers: readonly SharedInformer<KubernetesObject>[], cluster: string, signal: AbortSignal): Promise<void> {
    // Made only for a cluster whose part is still filling once its informer synced: at a cold start
    // of many clusters each waits on the shared sync alone, without a signal of its own.
    let both: AbortSignal | undefined;
    const all = Promise.all(
      informers.map(async (inf) => {
        if (!inf.synced) await this.synced(inf);
        if (!inf.clusterSynced(cluster)) await inf.whenClusterSynced(cluster, (both ??= AbortSignal.any([signal, this.stopping])));
      }),
    );
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal));
      const off = onAbort(signal, () => reject(abortError(signal)));
      all.then(
        () => {
          off();
          resolve();
        },
        (e: unknown) => {
          off();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /** The shared wait for one informer's sync, bounded by the timeout and by the controller's stop. */
  private synced(inf: SharedInformer<KubernetesObject>): Promise<void> {
    let wait = this.waits.get(inf);
    if (wait) return wait;
    const ctl = new AbortController();
    const off = onAbort(this.stopping, () => ctl.abort(new Error('controller shutting down')));
    const timer = setTimeout(() => ctl.abort(new Error(`informer ${inf.path} did not sync within ${this.timeoutMs} ms`)), this.timeoutMs);
    timer.unref();
    wait = inf.whenSynced(ctl.signal).finally(() => {
      clearTimeout(timer);
      off();
      this.waits.delete(inf);
    });
    // Each engagement observes the outcome; the shared promise itself must never go unhandled.
    wait.catch(() => undefined);
    this.waits.set(inf, wait);
    return wait;
  }
}
