/**
 * The serving certificate from `tls.crt`/`tls.key` in a folder, kept current as controller-runtime's
 * certwatcher does: read at start (a failure stops the server), re-read when the folder changes
 * (a Secret volume swaps a symlink, so the folder is watched rather than the files) and every
 * 10 s in case a change went unnoticed; a new pair replaces the old only if it is valid, otherwise
 * the old one stays and the error is counted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { Logger } from '../log/index.js';

/** A PEM certificate (chain) and its PEM key. */
export interface CertificatePair {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** Options of a `CertWatcher`. */
export interface CertWatcherOptions {
  /** The folder. */
  dir: string;
  /** Certificate file name; default `tls.crt`. */
  certName?: string;
  /** Key file name; default `tls.key`. */
  keyName?: string;
  /** Polling interval; default 10 000 ms. */
  pollIntervalMs?: number;
  /** Where reloads and failures are logged. */
  log?: Logger;
  /** Called after each read (false: unreadable or invalid). */
  onRead?: (ok: boolean) => void;
  /** Called with the new pair after it replaced the old one. */
  onChange?: (pair: CertificatePair) => void;
}

/** Watches a certificate pair on disk. */
export class CertWatcher {
  private current: CertificatePair;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly certPath: string;
  private readonly keyPath: string;

  /** Reads the pair now; throws a clear error when it cannot be read or does not match. */
  constructor(private readonly opts: CertWatcherOptions) {
    this.certPath = path.join(opts.dir, opts.certName ?? 'tls.crt');
    this.keyPath = path.join(opts.dir, opts.keyName ?? 'tls.key');
    try {
      this.current = this.read();
      opts.onRead?.(true);
    } catch (e) {
      opts.onRead?.(false);
      throw new Error(`cannot load the webhook serving certificate from ${opts.dir}: ${(e as Error).message}`);
    }
  }

  /** The pair in force. */
  get pair(): CertificatePair {
    return this.current;
  }

  /** Starts watching and polling. */
  start(): void {
    if (this.timer) return;
    try {
      this.watcher = fs.watch(this.opts.dir, () => this.reload());
      this.watcher.on('error', () => undefined);
    } catch (e) {
      this.opts.log?.warn('cannot watch the certificate folder; polling only', { dir: this.opts.dir, err: e });
    }
    this.timer = setInterval(() => this.reload(), this.opts.pollIntervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Stops watching. */
  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the files again and swaps the pair when it changed and is valid; true when swapped. */
  reload(): boolean {
    let next: CertificatePair;
    try {
      next = this.read();
    } catch (e) {
      this.opts.onRead?.(false);
      this.opts.log?.warn('keeping the current webhook certificate: the files on disk are not a valid pair', { dir: this.opts.dir, err: e });
      return false;
    }
    this.opts.onRead?.(true);
    if (next.cert === this.current.cert && next.key === this.current.key) return false;
    this.current = next;
    this.opts.log?.info('webhook certificate reloaded', { dir: this.opts.dir });
    this.opts.onChange?.(next);
    return true;
  }

  private read(): CertificatePair {
    const pair = { cert: fs.readFileSync(this.certPath, 'utf8'), key: fs.readFileSync(this.keyPath, 'utf8') };
    // Throws unless the key is the certificate's (a half-written pair during a rotation).
    tls.createSecureContext(pair);
    return pair;
  }
}
