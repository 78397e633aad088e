/** A binary heap whose nodes know their slot, so that any node can be removed or re-ordered in O(log n). */

/** A node of an `IndexedHeap`; `heapIndex` is -1 while the node is not in a heap. */
export interface HeapNode {
  /** Slot in the heap's array, maintained by the heap. */
  heapIndex: number;
}

/** A binary heap ordered by `before` (the node that sorts first is at the top). */
export class IndexedHeap<T extends HeapNode> {
  private readonly nodes: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  /** Number of nodes. */
  get size(): number {
    return this.nodes.length;
  }

  /** The first node, without removing it. */
  peek(): T | undefined {
    return this.nodes[0];
  }

  /** Inserts a node that is in no heap. */
  push(node: T): void {
    node.heapIndex = this.nodes.length;
    this.nodes.push(node);
    this.up(node.heapIndex);
  }

  /** Removes and returns the first node. */
  pop(): T | undefined {
    const top = this.nodes[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes a node of this heap; a node in no heap is ignored. */
  remove(node: T): void {
    const i = node.heapIndex;
    if (i < 0 || this.nodes[i] !== node) return;
    const last = this.nodes.pop()!;
    node.heapIndex = -1;
    if (last === node) return;
    this.nodes[i] = last;
    last.heapIndex = i;
    // The node moved into the hole may belong above or below it.
    this.up(i);
    this.down(last.heapIndex);
  }

  /** Restores the order after the node's sort key changed. */
  update(node: T): void {
    const i = node.heapIndex;
    if (i < 0 || this.nodes[i] !== node) return;
    this.up(i);
    this.down(node.heapIndex);
  }

  private up(i: number): void {
    const nodes = this.nodes;
    const node = nodes[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = nodes[p]!;
      if (!this.before(node, parent)) break;
      nodes[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    nodes[i] = node;
    node.heapIndex = i;
  }

  private down(i: number): void {
    const nodes = this.nodes;
    const n = nodes.length;
    const node = nodes[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(nodes[r]!, nodes[l]!) ? r : l;
      const child = nodes[c]!;
      if (!this.before(child, node)) break;
      nodes[i] = child;
      child.heapIndex = i;
      i = c;
    }
    nodes[i] = node;
    node.heapIndex = i;
  }
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted as it drains). */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Number of queued values. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends a value. */
  push(value: T): void {
    this.items.push(value);
  }

  /** Removes and returns the oldest value. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const value = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the dead prefix is half the array, which keeps shifts O(1) amortised.
    if (this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return value;
  }
}
