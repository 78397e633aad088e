/**
 * Structured logging for the runtime: a `Logger` carries fields (controller, cluster, namespace,
 * name, reconcileID...) and writes one JSON line per entry (or a readable text line), on stderr by
 * default. It also serves as the informer engine's `Log` sink, so one process logs in one format.
 *
 * An `Error` in a field is written as its message; an error-level entry (any entry when the logger
 * is at debug) also gets the error's stack frames in a `stacktrace` field, as controller-runtime's
 * zap logger does (the `err` field's error first, else the first field holding one).
 *
 * Redaction goes by what a value is, not by the name of its field (see `./redact.ts`): Secret
 * `data`/`stringData` values, values under credential fields (`token`, `password`,
 * `authorization`, `client-key-data`, ...) at any depth, and bearer tokens, JWTs, private keys and
 * URL passwords inside any string become `[redacted]`. A field such as `secret: 'db-conn'` (a
 * Secret's name) is written as it is.
 */
import { types } from 'node:util';
import type { Log, LogEntry, LogLevel } from '../informer/index.js';
import { redactField, redactText } from './redact.js';

export type { LogLevel } from '../informer/index.js';

/** Output format of a logger. */
export type LogFormat = 'json' | 'text';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where a logger writes, and what it keeps. */
export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: LogFormat;
  /** Receives each formatted line (without newline); default stderr. */
  write?: (line: string) => void;
  /** Clock for timestamps (tests). */
  now?: () => Date;
}

function isError(v: unknown): v is Error {
  return v instanceof Error || types.isNativeError(v);
}

/** The frames of an error's stack (its first lines repeat the message, which `err` already has). */
function stackFrames(e: Error): string | undefined {
  if (typeof e.stack !== 'string') return undefined;
  const at = e.stack.search(/^\s*at /m);
  return at < 0 ? undefined : e.stack.slice(at).trimEnd();
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v);
}

/** What a logger and all its children share: where and how they write. */
interface Settings {
  readonly min: number;
  readonly format: LogFormat;
  readonly out: (line: string) => void;
  readonly now: () => Date;
}

function settingsOf(opts: LoggerOptions): Settings {
  return {
    min: ORDER[opts.level ?? 'info'],
    format: opts.format ?? 'json',
    out: opts.write ?? ((line) => process.stderr.write(line + '\n')),
    now: opts.now ?? (() => new Date()),
  };
}

/** A structured logger with bound fields; `with` derives a child that adds more. */
export class Logger {
  // Shared with every child: `with` runs on hot paths (once per reconcile), so a child costs one
  // small object, and its fields are merged with its parent's only when a line is written.
  private settings: Settings;
  private parent: Logger | undefined;
  private own: Readonly<Record<string, unknown>>;
  private merged: Readonly<Record<string, unknown>> | undefined;

  constructor(opts: LoggerOptions = {}, fields: Readonly<Record<string, unknown>> = {}) {
    this.settings = settingsOf(opts);
    this.parent = undefined;
    this.own = fields;
    this.merged = fields;
  }

  /** Fields written on every entry of this logger (its parents' and its own; later fields win). */
  get fields(): Readonly<Record<string, unknown>> {
    return (this.merged ??= { ...this.parent!.fields, ...this.own });
  }

  /** A logger that writes nothing. */
  static silent(): Logger {
    return new Logger({ level: 'error', write: () => undefined });
  }

  /** A child logger with `fields` added (later fields win); `fields` is read when the child first writes, so pass a fresh object. */
  with(fields: Record<string, unknown>): Logger {
    const child = Object.create(Logger.prototype) as Logger;
    child.settings = this.settings;
    child.parent = this;
    child.own = fields;
    child.merged = undefined;
    return child;
  }

  /** Whether entries of `level` are written. */
  enabled(level: LogLevel): boolean {
    return ORDER[level] >= this.settings.min;
  }

  /** A debug entry (written only at level debug). */
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  /** An info entry. */
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  /** A warning entry. */
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  /** An error entry; an `Error` passed as `err` is written as its message, its stack as `stacktrace`. */
  error(msg: string, fields?: Record<string, unknown> & { err?: unknown }): void {
    this.log('error', msg, fields);
  }

  /**
   * Writes one entry. Undefined fields are left out; credentials are redacted; an error's stack is
   * added as `stacktrace` at error level (at every level when the logger is at debug).
   */
  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    const { min, format, out, now } = this.settings;
    if (ORDER[level] < min) return;
    const entry: Record<string, unknown> = { time: now().toISOString(), level, msg: redactText(msg) };
    let failure: Error | undefined;
    for (const src of [this.fields, fields]) {
      for (const [k, v] of Object.entries(src)) {
        if (v === undefined || k === 'time' || k === 'level' || k === 'msg') continue;
        if (isError(v) && (k === 'err' || !failure)) failure = v;
        entry[k] = isError(v) ? redactText(v.message) : redactField(k, v);
      }
    }
    const frames = failure && (level === 'error' || min <= ORDER.debug) && entry['stacktrace'] === undefined ? stackFrames(failure) : undefined;
    if (frames) entry['stacktrace'] = redactText(frames);
    if (format === 'json') {
      out(JSON.stringify(entry));
      return;
    }
    const { time, level: l, msg: m, ...rest } = entry;
    const tail = Object.entries(rest).map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
    out(`${String(time)} ${String(l).toUpperCase().padEnd(5)} ${String(m)}${tail ? ' ' + tail : ''}`);
  }

  /** This logger as the informer engine's `Log` sink. */
  sink(): Log {
    return (e: LogEntry) => {
      const { level, msg, ...rest } = e;
      this.log(level, msg, rest);
    };
  }
}
