/**
 * The ready items of a priority queue: one level per priority, highest first. Within a level the
 * items are kept per fairness group (a cluster, or one group when fairness is off), each group a
 * FIFO linked list, and the groups take turns round-robin. Every operation is O(1) apart from
 * creating or emptying a level, which is O(log levels).
 */
import { IndexedHeap, type HeapNode } from './heap.js';

/** A ready item as the ready structure links it. */
export interface ReadyNode {
  /** Its level. */
  priority: number;
  /** Its fairness group. */
  group: string;
  /** Its group's list, while the node is ready. */
  list: Group<ReadyNode> | undefined;
  /** The node ahead of it in its group. */
  prev: ReadyNode | undefined;
  /** The node behind it in its group. */
  next: ReadyNode | undefined;
}

/** One fairness group within a level: a FIFO of nodes, and a place in the level's ring. */
interface Group<N extends ReadyNode> {
  readonly name: string;
  head: N | undefined;
  tail: N | undefined;
  ringPrev: Group<N>;
  ringNext: Group<N>;
}

/** One priority level. */
interface Level<N extends ReadyNode> extends HeapNode {
  readonly priority: number;
  readonly groups: Map<string, Group<N>>;
  /** The group whose turn is next; undefined when the level is empty. */
  cursor: Group<N> | undefined;
}

/** Ready nodes by priority, round-robin across groups within a priority. */
export class ReadyLevels<N extends ReadyNode> {
  private readonly levels = new Map<number, Level<N>>();
  private readonly order = new IndexedHeap<Level<N>>((a, b) => a.priority > b.priority);
  private count = 0;

  /** Number of ready nodes. */
  get size(): number {
    return this.count;
  }

  /** Appends a node at the tail of its group in its level. */
  push(node: N): void {
    let level = this.levels.get(node.priority);
    if (level === undefined) {
      level = { priority: node.priority, groups: new Map(), cursor: undefined, heapIndex: -1 };
      this.levels.set(node.priority, level);
      this.order.push(level);
    }
    let group = level.groups.get(node.group);
    if (group === undefined) {
      group = { name: node.group, head: undefined, tail: undefined } as Group<N>;
      level.groups.set(node.group, group);
      const cursor = level.cursor;
      if (cursor === undefined) {
        group.ringPrev = group;
        group.ringNext = group;
        level.cursor = group;
      } else {
        // A group that (re)joins takes the last turn of the current round, so it waits at most
        // one turn of every other group and cannot jump ahead of them by emptying and refilling.
        group.ringNext = cursor;
        group.ringPrev = cursor.ringPrev;
        cursor.ringPrev.ringNext = group;
        cursor.ringPrev = group;
      }
    }
    node.list = group as Group<ReadyNode>;
    node.prev = group.tail;
    node.next = undefined;
    if (group.tail === undefined) group.head = node;
    else group.tail.next = node;
    group.tail = node;
    this.count++;
  }

  /** Removes and returns the next node: highest level first, the group whose turn it is, oldest first. */
  shift(): N | undefined {
    const level = this.order.peek();
    const group = level?.cursor;
    const node = group?.head;
    if (level === undefined || group === undefined || node === undefined) return undefined;
    level.cursor = group.ringNext;
    this.unlink(node, level, group);
    return node;
  }

  /** Removes a ready node from wherever it is. */
  remove(node: N): void {
    const group = node.list as Group<N> | undefined;
    if (group === undefined) return;
    this.unlink(node, this.levels.get(node.priority)!, group);
  }

  private unlink(node: N, level: Level<N>, group: Group<N>): void {
    if (node.prev === undefined) group.head = node.next as N | undefined;
    else node.prev.next = node.next;
    if (node.next === undefined) group.tail = node.prev as N | undefined;
    else node.next.prev = node.prev;
    node.list = undefined;
    node.prev = undefined;
    node.next = undefined;
    this.count--;
    if (group.head !== undefined) return;
    // An empty group leaves the ring: a cluster with nothing ready (say, all of its keys are being
    // processed) is skipped rather than holding up the round.
    level.groups.delete(group.name);
    if (group.ringNext === group) {
      level.cursor = undefined;
      this.levels.delete(level.priority);
      this.order.remove(level);
      return;
    }
    group.ringPrev.ringNext = group.ringNext;
    group.ringNext.ringPrev = group.ringPrev;
    if (level.cursor === group) level.cursor = group.ringNext;
  }
}
