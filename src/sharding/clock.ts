/** Time as the sharding Leases see it: a wall clock for the timestamps on the wire, whole seconds for durations. */
import { microTime } from '../client/index.js';

/** Wall-clock milliseconds since the epoch (`Date.now` unless a test skews it). */
export type WallClock = () => number;

/** `leaseDurationSeconds` for a duration: whole seconds, rounded up so others never wait less than configured. */
export function wireSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** `metav1.MicroTime` of the clock's now. */
export function stamp(clock: WallClock): string {
  return microTime(new Date(clock()));
}

/** Milliseconds since the epoch of a `metav1.MicroTime`/`Time`, or undefined when absent or unreadable. */
export function parseStamp(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

/** Throws unless `ms` is a duration of at least one second (Leases count whole seconds). */
export function checkDuration(ms: number, what: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 1000) throw new RangeError(`${what} must be at least 1000 ms, got ${String(ms)}`);
}
