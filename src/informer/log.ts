/** Structured logging for the informer engine: one JSON object per line, on stderr by default. */

/** Severity of a log entry. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log entry. */
export interface LogEntry {
  /** Severity. */
  level: LogLevel;
  /** The message, a short sentence without the fields. */
  msg: string;
  /** Structured context (`server`, `path`, `cluster`, `error`...), written as JSON fields. */
  [field: string]: unknown;
}

/** Where the engine's log entries go. */
export type Log = (entry: LogEntry) => void;

/** Writes each entry as a JSON line on stderr, with a timestamp; debug entries are dropped. */
export const jsonLineLog: Log = (entry) => {
  if (entry.level === 'debug') return;
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...entry, component: entry['component'] ?? 'informer' }) + '\n');
};

/** Drops every entry. */
export const silentLog: Log = () => undefined;

/** A store's `onDecodeError` that reports to `log`, with `context` (server, path) in each entry. */
export function logDecodeErrors(log: Log, context: Record<string, unknown>): (err: Error, key: { namespace: string; name: string }) => void {
  return (err, key) => log({ level: 'error', msg: `cached object does not decode: ${err.message}`, event: 'malformed', ...context, namespace: key.namespace || undefined, name: key.name });
}
