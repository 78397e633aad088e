/**
 * Splits a chunked watch body into lines. Works on bytes: `\n` (0x0a) never occurs inside a
 * multi-byte UTF-8 sequence, so a line is complete, and decodable, exactly when its newline has
 * arrived, wherever the chunk boundaries fell.
 */

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Default cap on one line; a watch event bigger than this is a broken or hostile stream. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Callbacks and limits of a `LineSplitter`. */
export interface LineSplitterOptions {
  /** Longest line kept; longer ones are dropped up to their newline and reported. */
  maxLineBytes?: number;
  /** Told about a dropped over-long line (its size so far when it was given up). */
  onOversize?: (bytes: number) => void;
}

/**
 * Turns byte chunks into complete lines, handed over as byte ranges (without the newline; a
 * trailing `\r` is dropped). The range is valid only during the call.
 */
export class ByteLineSplitter {
  // Pieces of the unfinished line, concatenated once, when its newline arrives: a line spread
  // over many chunks costs one copy, not one per chunk.
  private parts: Buffer[] = [];
  private partBytes = 0;
  private discarding = false;
  private readonly maxLineBytes: number;

  constructor(
    private readonly onLine: (buf: Buffer, start: number, end: number) => void,
    private readonly opts: LineSplitterOptions = {},
  ) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Bytes held for an unfinished line. */
  get pendingBytes(): number {
    return this.partBytes;
  }

  /** Feeds one chunk; calls `onLine` synchronously for every line it completes. */
  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let nl = buf.indexOf(NEWLINE, start);
    while (nl >= 0) {
      if (this.discarding) {
        this.discarding = false;
      } else if (this.partBytes > 0) {
        if (this.partBytes + (nl - start) > this.maxLineBytes) {
          this.opts.onOversize?.(this.partBytes + (nl - start));
        } else {
          this.parts.push(buf.subarray(start, nl));
          const line = Buffer.concat(this.parts, this.partBytes + (nl - start));
          this.emit(line, 0, line.length);
        }
        this.parts = [];
        this.partBytes = 0;
      } else if (nl - start > this.maxLineBytes) {
        this.opts.onOversize?.(nl - start);
      } else {
        this.emit(buf, start, nl);
      }
      start = nl + 1;
      nl = buf.indexOf(NEWLINE, start);
    }
    if (start < buf.length && !this.discarding) {
      const n = buf.length - start;
      if (this.partBytes + n > this.maxLineBytes) {
        this.opts.onOversize?.(this.partBytes + n);
        this.parts = [];
        this.partBytes = 0;
        this.discarding = true;
      } else {
        // Copy: a view would pin the whole (possibly large) chunk until the line completes.
        this.parts.push(Buffer.from(buf.subarray(start)));
        this.partBytes += n;
      }
    }
  }

  /** Ends the input: a last line without a newline is still delivered. */
  end(): void {
    if (this.partBytes > 0 && !this.discarding) {
      const line = Buffer.concat(this.parts, this.partBytes);
      this.emit(line, 0, line.length);
    }
    this.parts = [];
    this.partBytes = 0;
    this.discarding = false;
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    if (end <= start) return;
    this.onLine(buf, start, end);
  }
}

/** Turns byte chunks into complete UTF-8 lines (without the newline; a trailing `\r` is dropped). */
export class LineSplitter extends ByteLineSplitter {
  constructor(onLine: (line: string) => void, opts: LineSplitterOptions = {}) {
    super((buf, start, end) => onLine(buf.toString('utf8', start, end)), opts);
  }
}
