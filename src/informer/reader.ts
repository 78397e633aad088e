/**
 * `ScopedReader`: one logical cluster's view of a shared cache. Reads go through the cluster index,
 * so they cost O(objects in that cluster), not O(objects in the cache).
 */
import { matchesLabels, parseLabelSelector, type LabelSelectorInput } from './labels.js';
import type { StoreReader } from './store.js';
import type { Cached, KubeObject } from './types.js';

/** Filters of `ScopedReader.list`. */
export interface ScopedListOptions {
  /** Only this namespace ('' for cluster-scoped objects). */
  namespace?: string;
  /** Only objects whose labels match. */
  labelSelector?: LabelSelectorInput;
  /** Only objects a custom index maps to `value` (the index is scoped by cluster already). */
  index?: {
    /** Name the indexer was registered under. */
    name: string;
    /** One of the values that indexer returns. */
    value: string;
  };
}

/** Read access to one cluster's objects in a shared store. */
export class ScopedReader<T extends KubeObject = KubeObject> {
  constructor(
    private readonly store: StoreReader<T>,
    /** The logical cluster this reader sees. */
    readonly cluster: string,
  ) {}

  /** Number of objects in this cluster. */
  get size(): number {
    return this.store.clusterSize(this.cluster);
  }

  /** One object ('' namespace for cluster-scoped), or undefined. */
  get(namespace: string, name: string): Cached<T> | undefined {
    return this.store.get(this.cluster, namespace, name);
  }

  /** Objects of this cluster matching every filter given. Throws on a malformed label selector. */
  list(opts: ScopedListOptions = {}): Cached<T>[] {
    const selector = opts.labelSelector === undefined ? undefined : parseLabelSelector(opts.labelSelector);
    let items: Cached<T>[];
    if (opts.index) {
      items = this.store.byIndex(opts.index.name, opts.index.value, this.cluster);
      if (opts.namespace !== undefined) items = items.filter((o) => (o.metadata?.namespace ?? '') === opts.namespace);
    } else {
      items = this.store.listCluster(this.cluster, opts.namespace);
    }
    if (selector && selector.length > 0) items = items.filter((o) => matchesLabels(selector, o.metadata?.labels));
    return items;
  }
}
