/** The per-key record of the priority queue. */
import type { HeapNode } from './heap.js';
import type { ReadyNode } from './ready.js';

/** State: delayed, in the waiting heap. */
export const WAITING = 0;
/** State: in the ready levels. */
export const READY = 1;
/** State: handed out, in the processing list, until done. */
export const PROCESSING = 2;
/** State: due, but its cluster is held; in no structure but its cluster's list until released. */
export const HELD = 3;

/** An add recorded while its key was being processed. */
export interface FollowUp<K> {
  item: K;
  priority: number;
  /** Absolute due time; at or before `done` means ready at once. */
  readyAt: number;
}

/**
 * One key, from its first add until it is done with nothing recorded meanwhile (or dropped). The
 * same object moves between the waiting heap, the ready levels and the processing list, and is
 * linked into its cluster's list throughout, so a hand-out or a done allocates nothing.
 */
export class Entry<K> implements HeapNode, ReadyNode {
  heapIndex = -1;
  list: ReadyNode['list'] = undefined;
  prev: ReadyNode | undefined = undefined;
  next: ReadyNode | undefined = undefined;
  state = WAITING;
  /** When it became ready (queued-duration metric), or was handed out (work duration). */
  since = 0;
  /** Set while processing: the add(s) made meanwhile, merged. */
  followUp: FollowUp<K> | undefined = undefined;
  /** Neighbours in its cluster's list. */
  cPrev: Entry<K> | undefined = undefined;
  cNext: Entry<K> | undefined = undefined;
  /** Neighbours in the processing list, while processing. */
  pPrev: Entry<K> | undefined = undefined;
  pNext: Entry<K> | undefined = undefined;

  constructor(
    readonly key: string,
    public item: K,
    readonly cluster: string,
    readonly group: string,
    public priority: number,
    /** When it is due, while waiting. */
    public readyAt: number,
    /** Tie-break among equal ready times: first added first. */
    public seq: number,
  ) {}
}

/** The entries of one cluster, so that dropCluster costs only that cluster's items. */
export interface ClusterIndex<K> {
  head: Entry<K> | undefined;
}
