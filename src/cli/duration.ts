/** Durations on the command line: `500ms`, `15s`, `1.5m`, `1h`, or a bare number of milliseconds. */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `15s`, `1.5m`, `1h`, or a bare number of milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('must be a duration such as 500ms, 15s or 1m');
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}
