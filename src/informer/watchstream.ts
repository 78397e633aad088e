/**
 * Reading one watch response body: bytes → lines → the caller, synchronously, with a watchdog that
 * gives up on a connection that has gone silent. Processing each chunk before returning from the
 * 'data' handler is the backpressure: while the consumer works, the socket is not read, so nothing
 * queues up in memory beyond one chunk and one unfinished line.
 */
import type { Readable } from 'node:stream';
import { ByteLineSplitter } from './lines.js';

/** How a watch body ended. */
export type WatchEnd =
  /** The server ended the stream (timeoutSeconds, shutdown, API change). */
  | { kind: 'closed' }
  /** The consumer asked to stop (an ERROR event, a 410). */
  | { kind: 'stopped' }
  /** No bytes for `inactivityMs`: a dead connection; the request was aborted. */
  | { kind: 'stalled' }
  /** The connection failed mid-stream. */
  | { kind: 'failed'; error: Error };

/** What `readWatchBody` needs. */
export interface ReadWatchOptions {
  /** Gives up after this long without a byte. */
  inactivityMs: number;
  /** Called for each complete line (a byte range valid during the call); return false to stop reading. */
  onLine: (buf: Buffer, start: number, end: number) => boolean;
  /** Called for a line over the size cap (it is dropped). */
  onOversize?: (bytes: number) => void;
  /** Aborts the underlying request (the caller's abort controller for this watch). */
  abort: () => void;
  /** The whole list-watch was cancelled: end quietly. */
  signal: AbortSignal;
}

/** Reads a watch body to its end; never rejects. */
export function readWatchBody(body: Readable, opts: ReadWatchOptions): Promise<WatchEnd> {
  return new Promise<WatchEnd>((resolve) => {
    let settled = false;
    let stopped = false;
    const finish = (end: WatchEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      opts.signal.removeEventListener('abort', onCancel);
      // Leave no half-read socket behind; the agent must not reuse it.
      if (!body.destroyed) body.destroy();
      resolve(end);
    };
    const splitter = new ByteLineSplitter(
      (buf, start, end) => {
        if (stopped) return;
        if (!opts.onLine(buf, start, end)) stopped = true;
      },
      { onOversize: opts.onOversize },
    );
    const watchdog = setTimeout(() => {
      opts.abort();
      finish({ kind: 'stalled' });
    }, opts.inactivityMs);
    const onData = (chunk: Buffer | string): void => {
      watchdog.refresh();
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      if (stopped) {
        opts.abort();
        finish({ kind: 'stopped' });
      }
    };
    const onEnd = (): void => {
      splitter.end();
      finish(stopped ? { kind: 'stopped' } : { kind: 'closed' });
    };
    const onError = (error: Error): void => finish({ kind: 'failed', error });
    // 'close' without 'end' or 'error': the socket went away under a stream Node did not flag.
    const onClose = (): void => finish({ kind: 'failed', error: new Error('watch connection closed before the stream ended') });
    const onCancel = (): void => finish({ kind: 'stopped' });
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
    if (opts.signal.aborted) onCancel();
    else opts.signal.addEventListener('abort', onCancel, { once: true });
  });
}
