/** Small numeric helpers and bounded loops for the benchmark. */
import { performance } from 'node:perf_hooks';

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-quantile (0..1) of a list, nearest rank. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/** Milliseconds on a monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** What `runBounded` did. */
export interface BoundedResult {
  /** Operations that completed successfully. */
  ok: number;
  /** Operations that threw. */
  failed: number;
  /** The first error, if any. */
  firstError?: Error;
  /** From the first operation's start to the last one's end. */
  elapsedMs: number;
  /** Whether the time bound stopped the loop before the count bound. */
  timedOut: boolean;
  /** Latency of each completed operation, ms (sampled: at most 10,000). */
  latencies: number[];
  /** CPU time of the whole process (user + system, client and server) per completed operation, µs. */
  cpuMicrosPerOp: number;
}

/**
 * Runs `op(i, worker)` for i = 0, 1, … with `concurrency` workers (0 … concurrency-1) in flight, until `maxOps` operations
 * were started or `maxMs` has passed (then in-flight operations still finish). Bounded in count and
 * time; an operation that hangs is the operation's own business (give it a timeout).
 */
export async function runBounded(opts: {
  concurrency: number;
  maxOps: number;
  maxMs: number;
  op: (i: number, worker: number) => Promise<void>;
}): Promise<BoundedResult> {
  const start = nowMs();
  const cpu = process.cpuUsage();
  const deadline = start + opts.maxMs;
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: Error | undefined;
  let timedOut = false;
  const latencies: number[] = [];
  const worker = async (_: unknown, w: number) => {
    while (next < opts.maxOps) {
      const t = nowMs();
      if (t >= deadline) {
        timedOut = true;
        return;
      }
      const i = next++;
      try {
        await opts.op(i, w);
        ok++;
        if (latencies.length < 10_000) latencies.push(nowMs() - t);
      } catch (e) {
        failed++;
        firstError ??= e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  const used = process.cpuUsage(cpu);
  const elapsedMs = nowMs() - start;
  return { ok, failed, firstError, elapsedMs, timedOut, latencies, cpuMicrosPerOp: ok ? (used.user + used.system) / ok : NaN };
}

/** Polls `check` every 5 ms until it is true or `maxMs` passes; returns whether it became true. */
export async function waitFor(check: () => boolean, maxMs: number): Promise<boolean> {
  const deadline = nowMs() + maxMs;
  while (!check()) {
    if (nowMs() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Rounds for display and JSON (3 significant decimals below 100). */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  return Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 1000) / 1000;
}
