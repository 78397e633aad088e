/**
 * Applying a (re)list to a store and computing the difference: ADDED and MODIFIED as the items
 * arrive (page by page, so a relist never holds two full copies of the data), DELETED at the end for
 * every object the list did not mention.
 */
import type { Entry } from './entry.js';
import type { Store } from './store.js';
import type { Delta, KubeObject } from './types.js';

/** One relist against a store. */
export class Relist<T extends KubeObject = KubeObject> {
  // Entries confirmed by this list, by reference: no key strings are built. Not needed when the
  // store was empty at the start, the common case of an initial list.
  private readonly seen: Set<Entry<T>> | undefined;

  /**
   * @param prune which clusters' unmentioned objects the end of the list removes (default all):
   *   a cluster whose part of the cache is being filled separately is left to that fill
   */
  constructor(
    private readonly store: Store<T>,
    private readonly prune?: (cluster: string) => boolean,
  ) {
    this.seen = store.size > 0 ? new Set() : undefined;
  }

  /** Applies one listed item; returns its delta, or undefined when the store already had it. */
  apply(cluster: string, obj: T): Delta<T> | undefined {
    return this.applyEntry(cluster, this.store.objectEntry(obj));
  }

  /** As `apply`, for an entry made by the store (e.g. from an item's text). */
  applyEntry(cluster: string, entry: Entry<T>): Delta<T> | undefined {
    const d = this.store.upsertEntry(cluster, entry);
    if (this.seen) {
      const stored = d ? entry : this.store.getEntry(cluster, entry.namespace, entry.name);
      if (stored) this.seen.add(stored);
    }
    return d;
  }

  /** Ends the relist: removes what the list did not contain and returns those DELETED deltas. */
  finish(): Delta<T>[] {
    if (!this.seen) return [];
    const gone: [string, Entry<T>][] = [];
    for (const [cluster, entry] of this.store.entryPairs()) if (!this.seen.has(entry) && (this.prune?.(cluster) ?? true)) gone.push([cluster, entry]);
    const out: Delta<T>[] = [];
    for (const [cluster, entry] of gone) {
      const d = this.store.delete(cluster, entry.namespace, entry.name);
      if (d) out.push(d);
    }
    this.seen.clear();
    return out;
  }
}
