/**
 * Applying a (re)list to a store and computing the difference: ADDED and MODIFIED as the items
 * arrive (page by page, so a relist never holds two full copies of the data), DELETED at the end for
 * every object the list did not mention.
 */
import type { Store } from './store.js';
import type { Cached, Delta, KubeObject } from './types.js';

/** One relist against a store. */
export class Relist<T extends KubeObject = KubeObject> {
  // Objects confirmed by this list, by reference: no key strings are built. Not needed when the
  // store was empty at the start, the common case of an initial list.
  private readonly seen: Set<Cached<T>> | undefined;

  constructor(private readonly store: Store<T>) {
    this.seen = store.size > 0 ? new Set() : undefined;
  }

  /** Applies one listed item; returns its delta, or undefined when the store already had it. */
  apply(cluster: string, obj: T): Delta<T> | undefined {
    const d = this.store.upsert(cluster, obj);
    if (this.seen) {
      const stored = d ? d.object : this.store.get(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      if (stored) this.seen.add(stored);
    }
    return d;
  }

  /** Ends the relist: removes what the list did not contain and returns those DELETED deltas. */
  finish(): Delta<T>[] {
    if (!this.seen) return [];
    const gone: [string, Cached<T>][] = [];
    for (const [cluster, obj] of this.store.entries()) if (!this.seen.has(obj)) gone.push([cluster, obj]);
    const out: Delta<T>[] = [];
    for (const [cluster, obj] of gone) {
      const d = this.store.delete(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      if (d) out.push(d);
    }
    this.seen.clear();
    return out;
  }
}
