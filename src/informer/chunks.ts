/**
 * The memory cached object texts live in. A text is kept where it arrived: a range of the buffer
 * the HTTP client handed over (a socket read, a list body). Nothing is copied and the JS heap holds
 * no string per object, so the garbage collector has nothing to move. The price is that a buffer
 * stays in memory while any cached object points into it; the tracker counts, per buffer, the bytes
 * still held, and when the buffers in memory hold more than twice what is live the store compacts:
 * it copies the survivors of sparse buffers into one new buffer (amortised: a compaction follows at
 * least as many bytes of replaced objects as it copies).
 *
 * This relies on buffers never being written after they are handed over, which holds for Node's
 * socket reads (each read gets fresh memory) and for buffers the caller built.
 */

/** One block of memory (an ArrayBuffer) with the live bytes counted in it. */
export class Chunk {
  /** Bytes of held entries in this block; the tracker counts the block as held while this is above 0. */
  live = 0;

  constructor(
    /** Views the whole block; entry offsets are relative to it. */
    readonly buf: Buffer,
  ) {}
}

/** Compaction is considered only above this much memory held in buffers. */
const MIN_COMPACT_BYTES = 8 * 1024 * 1024;

/** Counts live and held bytes per block for one store. */
export class ChunkTracker {
  private readonly byBlock = new WeakMap<ArrayBufferLike, Chunk>();
  private liveBytes = 0;
  private heldBytes = 0;

  /**
   * The chunk of the block `b` views; offsets into it are `b.byteOffset + i`. (Held weakly here:
   * a block no entry points into any more is freed.)
   */
  chunkOf(b: Buffer): Chunk {
    const block = b.buffer;
    let c = this.byBlock.get(block);
    if (!c) {
      c = new Chunk(b.byteOffset === 0 && b.byteLength === block.byteLength ? b : Buffer.from(block));
      this.byBlock.set(block, c);
    }
    return c;
  }

  /** `n` bytes of `c` are now held by a cached entry. */
  hold(c: Chunk, n: number): void {
    if (c.live === 0) this.heldBytes += c.buf.byteLength;
    c.live += n;
    this.liveBytes += n;
  }

  /** `n` bytes of `c` are no longer held. */
  release(c: Chunk, n: number): void {
    c.live -= n;
    this.liveBytes -= n;
    if (c.live === 0) this.heldBytes -= c.buf.byteLength;
  }

  /** Bytes of object text held by cached entries. */
  get live(): number {
    return this.liveBytes;
  }

  /** Bytes of the blocks those texts keep in memory. */
  get held(): number {
    return this.heldBytes;
  }

  /** Whether enough memory is wasted on replaced texts to be worth a compaction. */
  wantsCompaction(): boolean {
    return this.heldBytes > MIN_COMPACT_BYTES && this.heldBytes > 2 * this.liveBytes;
  }

  /** Whether entries in `c` should move out in a compaction (the block is mostly dead). */
  isSparse(c: Chunk): boolean {
    return c.live > 0 && c.live * 2 < c.buf.byteLength;
  }

  /** A new block for compacted texts (counted as held once entries move in). */
  newChunk(bytes: number): Chunk {
    const buf = Buffer.allocUnsafeSlow(bytes);
    const c = new Chunk(buf);
    this.byBlock.set(buf.buffer, c);
    return c;
  }
}
