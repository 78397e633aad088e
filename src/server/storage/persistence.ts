/**
 * Durability for `--data-dir`: a write-ahead journal of committed changes plus a periodic snapshot.
 * Each commit is written to the journal with one synchronous write before it becomes visible, so a
 * killed process loses at most the write in flight; a torn last line is ignored on replay.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVENTS, eventToCore } from '../api/events.js';
import type { Journal, JournalRecord, Store } from './store.js';
import type { KubeObject } from '../types.js';

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.jsonl';

/** Where data dirs written before both Event APIs shared one storage kept events.k8s.io Events. */
const OLD_EVENTS_V1 = 'events.k8s.io/events';

/** Moves an object of the old events.k8s.io bucket into the shared core Events storage. */
function migrated<T extends { storage: string; object?: KubeObject }>(r: T): T {
  if (r.storage !== OLD_EVENTS_V1) return r;
  return { ...r, storage: EVENTS, ...(r.object ? { object: eventToCore(r.object) } : {}) };
}

interface SnapshotFile {
  rv: number;
  objects: { storage: string; cluster: string; object: KubeObject }[];
}

/** A journal in a directory, with snapshot compaction once it grows past `maxBytes`. */
export class FileJournal implements Journal {
  private fd: number;
  private bytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly maxBytes: number,
  ) {
    this.fd = fs.openSync(path.join(dir, JOURNAL), 'a');
    this.bytes = fs.fstatSync(this.fd).size;
  }

  /**
   * Loads the snapshot and replays the journal into `store`, then attaches a journal to it.
   * Replayed commits go through the store's history, so watchers can resume across a restart.
   */
  static open(dir: string, store: Store, maxBytes = 64 * 1024 * 1024): FileJournal {
    fs.mkdirSync(dir, { recursive: true });
    const snapPath = path.join(dir, SNAPSHOT);
    if (fs.existsSync(snapPath)) {
      const snap = JSON.parse(fs.readFileSync(snapPath, 'utf8')) as SnapshotFile;
      for (const o of snap.objects.map(migrated)) store.load(o.storage, o.cluster, o.object);
      store.restoreCounter(snap.rv);
    }
    const journalPath = path.join(dir, JOURNAL);
    if (fs.existsSync(journalPath)) {
      const text = fs.readFileSync(journalPath, 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        let rec: JournalRecord;
        try {
          rec = JSON.parse(line) as JournalRecord;
        } catch {
          // A line torn by a crash mid-write: that write was never acknowledged.
          break;
        }
        store.replay(migrated(rec));
      }
    }
    const j = new FileJournal(dir, store, maxBytes);
    store.journal = j;
    return j;
  }

  /**
   * Appends one record; synchronous so the write precedes the commit being visible. The record is
   * not applied to the store yet, so a due snapshot is taken before it is written: a snapshot taken
   * after it would miss the record and truncate the journal line that holds it.
   */
  append(record: JournalRecord): void {
    if (this.bytes > this.maxBytes) this.snapshot();
    const line = JSON.stringify(record) + '\n';
    this.bytes += fs.writeSync(this.fd, line);
  }

  /**
   * Writes the whole store to a new snapshot (write, fsync, rename), then starts an empty journal.
   * A crash between the rename and the truncation only replays records the snapshot already holds,
   * and replay skips those by resourceVersion.
   */
  snapshot(): void {
    const rv = this.store.resourceVersion;
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, `{"rv":${rv},"objects":[`);
    let first = true;
    for (const e of this.store.entries()) {
      fs.writeSync(fd, (first ? '' : ',\n') + JSON.stringify(e));
      first = false;
    }
    fs.writeSync(fd, ']}\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    fs.closeSync(this.fd);
    this.fd = fs.openSync(path.join(this.dir, JOURNAL), 'w');
    this.bytes = 0;
  }

  /** Flushes and closes the journal. */
  close(): void {
    try {
      fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}
