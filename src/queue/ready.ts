/**
 * The ready items of a priority queue: one level per priority, highest first. Within a level the
 * items are kept per fairness group (a cluster, or one group when fairness is off), each group a
 * FIFO linked list, and the groups take turns round-robin. Every operation is O(1) (amortised)
 * apart from creating or emptying a level, which is O(log levels).
 *
 * Where a group joins the round decides how fair it is (start-time fair queuing with unit costs):
 * a group that empties stays in the ring, empty, until the turn comes round to it again. Refilled
 * before then, it keeps its place, at the end of the round, because it was served this round; a
 * group that is new, or has been idle for a whole round, joins at the turn and is served next. So
 * a quiet cluster's key waits for no noisy cluster's key, and no cluster can jump the round by
 * emptying and refilling.
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
  /** Ready nodes in the level (empty groups waiting for their turn hold none). */
  nodes: number;
  /** The last group that joined since the turn last moved: later joiners queue behind it. */
  joined: Group<N> | undefined;
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
      level = { priority: node.priority, groups: new Map(), cursor: undefined, nodes: 0, joined: undefined, heapIndex: -1 };
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
      } else if (level.joined !== undefined) {
        // Several joiners within one turn keep their order.
        const after = level.joined;
        group.ringPrev = after;
        group.ringNext = after.ringNext;
        after.ringNext.ringPrev = group;
        after.ringNext = group;
      } else {
        // New, or idle for a whole round: its turn is now.
        group.ringNext = cursor;
        group.ringPrev = cursor.ringPrev;
        cursor.ringPrev.ringNext = group;
        cursor.ringPrev = group;
        level.cursor = group;
      }
      level.joined = group;
    }
    node.list = group as Group<ReadyNode>;
    node.prev = group.tail;
    node.next = undefined;
    if (group.tail === undefined) group.head = node;
    else group.tail.next = node;
    group.tail = node;
    level.nodes++;
    this.count++;
  }

  /** Removes and returns the next node: highest level first, the group whose turn it is, oldest first. */
  shift(): N | undefined {
    const level = this.order.peek();
    if (level === undefined || level.cursor === undefined) return undefined;
    let group = level.cursor;
    // Empty groups whose turn has come round leave the ring (each once: amortised O(1)).
    while (group.head === undefined) {
      const next = group.ringNext;
      this.leaveRing(level, group);
      group = next;
    }
    const node = group.head!;
    level.cursor = group.ringNext;
    level.joined = undefined;
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
    level.nodes--;
    // An empty group stays in the ring until its turn (see the file comment); skipped then, so a
    // cluster with nothing ready (say, all of its keys are being processed) holds up nobody. An
    // empty level goes, and its waiting groups with it.
    if (level.nodes > 0) return;
    level.cursor = undefined;
    level.joined = undefined;
    level.groups.clear();
    this.levels.delete(level.priority);
    this.order.remove(level);
  }

  private leaveRing(level: Level<N>, group: Group<N>): void {
    level.groups.delete(group.name);
    if (level.joined === group) level.joined = undefined;
    group.ringPrev.ringNext = group.ringNext;
    group.ringNext.ringPrev = group.ringPrev;
    if (level.cursor === group) level.cursor = group.ringNext;
  }
}
