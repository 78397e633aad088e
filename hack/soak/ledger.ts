/** Reads the soak ledger incrementally: only the bytes appended since the last read are parsed. */
import * as fs from 'node:fs';
import type { SoakMark } from './api.js';

/** The marks of a ledger file, kept in memory and extended on each `read`. */
export class LedgerReader {
  readonly marks: SoakMark[] = [];
  private offset = 0;
  private partial = '';

  constructor(readonly file: string) {}

  /** Parses what was appended since the last call; the number of new marks. */
  read(): number {
    const size = fs.statSync(this.file).size;
    if (size <= this.offset) return 0;
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      // A replica killed mid-write leaves half a line; the next line starts fresh after it.
      this.partial = lines.pop() ?? '';
      let n = 0;
      for (const l of lines) {
        if (!l) continue;
        try {
          this.marks.push(JSON.parse(l) as SoakMark);
          n++;
        } catch {
          // a torn line of a killed replica: its reconcile is accounted as unfinished
        }
      }
      return n;
    } finally {
      fs.closeSync(fd);
    }
  }
}
