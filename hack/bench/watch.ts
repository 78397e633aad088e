/**
 * Section "watch": events delivered per second to 1, 10 and 100 concurrent watchers. The watchers
 * are raw HTTP watch streams on one namespace's ConfigMaps, parsing newline-delimited JSON; a writer
 * creates a fixed number of ConfigMaps over keep-alive HTTP. The figure is
 * watchers × events / (time from the first write to the last event received by the last watcher).
 */
import { benchServer, configMapBody, HttpClient, transport, WatchCounter } from './client.js';
import { median, nowMs, round, runBounded } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

export const EVENTS_TARGET = { min: 50_000, why: 'brief: ≥ 50,000 events/s delivered to 100 watchers on a 2-core machine' };
const WATCHERS = [1, 10, 100];
/** Creates in flight from the writer. */
const WRITER_CONCURRENCY = 16;

interface WatchRun {
  eventsPerSecond: number;
  writesPerSecond: number;
  seconds: number;
  delivered: number;
  expected: number;
  problem?: string;
  bytesPerWatcher: number;
  outOfOrder: number;
  /** CPU of the whole process (writer, server, watchers) per delivered event, µs. */
  cpuMicrosPerEvent: number;
}

function limits(ctx: BenchContext): { writes: number; maxMs: number } {
  return ctx.quick ? { writes: 2_000, maxMs: 15_000 } : { writes: 20_000, maxMs: 120_000 };
}

export async function watchRun(tls: boolean, watchers: number, writes: number, maxMs: number): Promise<WatchRun> {
  const bs = await benchServer({ tls });
  const writer = new HttpClient(bs.srv, WRITER_CONCURRENCY);
  const watchTransport = transport(bs.srv, Infinity);
  const counters: WatchCounter[] = [];
  try {
    const rv = bs.srv.resourceVersion();
    const path = `${bs.configMaps}?watch=true&resourceVersion=${rv}`;
    for (let i = 0; i < watchers; i++) {
      counters.push(new WatchCounter(bs.srv, path, watchTransport, writes, (ev) => ev.type === 'ADDED' && (ev.object.metadata?.name ?? '').startsWith('w-')));
    }
    const openedInTime = await Promise.race([
      Promise.all(counters.map((c) => c.opened)).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref()),
    ]);
    if (!openedInTime || bs.srv.openWatches() < watchers) throw new Error(`only ${bs.srv.openWatches()}/${watchers} watches open after 10 s`);

    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    const deadline = t0 + maxMs;
    const writing = runBounded({
      concurrency: WRITER_CONCURRENCY,
      maxOps: writes,
      maxMs,
      op: async (i) => {
        await writer.expect(201, 'POST', bs.configMaps, configMapBody(`w-${i}`, `v-${i}`));
      },
    });
    const all = Promise.all(counters.map((c) => c.done)).then(() => true);
    const w = await writing;
    const left = Math.max(0, deadline - nowMs());
    const complete = await Promise.race([all, new Promise<false>((r) => setTimeout(() => r(false), left).unref())]).catch(() => false);
    const cpu = process.cpuUsage(cpu0);
    const delivered = counters.reduce((n, c) => n + c.count, 0);
    const expected = watchers * writes;
    const end = complete ? Math.max(...counters.map((c) => c.doneAt ?? 0)) : nowMs();
    const seconds = (end - t0) / 1000;
    const problems: string[] = [];
    if (w.failed) problems.push(`${w.failed} writes failed, first: ${w.firstError?.message ?? '?'}`);
    const ended = counters.filter((c) => c.endedEarly);
    if (ended.length) problems.push(`${ended.length} watch(es) stopped early, first: ${ended[0]!.endedEarly}`);
    else if (!complete) problems.push(`time bound: ${delivered}/${expected} events after ${round(seconds)} s`);
    const outOfOrder = counters.reduce((n, c) => n + c.outOfOrder, 0);
    if (outOfOrder) problems.push(`${outOfOrder} events out of resourceVersion order`);
    return {
      eventsPerSecond: delivered / seconds,
      writesPerSecond: (w.ok / w.elapsedMs) * 1000,
      seconds,
      delivered,
      expected,
      bytesPerWatcher: Math.round(counters.reduce((n, c) => n + c.bytes, 0) / watchers),
      outOfOrder,
      cpuMicrosPerEvent: delivered ? (cpu.user + cpu.system) / delivered : NaN,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  } finally {
    for (const c of counters) c.close();
    watchTransport.agent.destroy();
    writer.close();
    await bs.stop();
  }
}

async function measure(ctx: BenchContext, watchers: number): Promise<BenchRow> {
  const { writes, maxMs } = limits(ctx);
  await watchRun(ctx.tls, watchers, Math.min(writes, 2_000), Math.min(maxMs, 15_000)); // warm-up, not counted
  const runs: WatchRun[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    const run = await watchRun(ctx.tls, watchers, writes, maxMs);
    ctx.log(
      `  ${watchers} watcher(s), run ${r + 1}/${ctx.runs}: ${Math.round(run.eventsPerSecond)} events/s ` +
        `(${run.delivered}/${run.expected} in ${round(run.seconds)} s, writer ${Math.round(run.writesPerSecond)} writes/s, ` +
        `${round(run.cpuMicrosPerEvent)} µs CPU/event)`,
    );
    runs.push(run);
  }
  const problem = runs.map((r) => r.problem).filter(Boolean).join(' | ');
  return {
    section: 'watch',
    name: `watch events delivered, ${watchers} watcher${watchers === 1 ? '' : 's'}`,
    unit: 'events/s',
    median: round(median(runs.map((r) => r.eventsPerSecond))),
    runs: runs.map((r) => round(r.eventsPerSecond)),
    ...(watchers === 100 ? { target: EVENTS_TARGET } : {}),
    ...(problem ? { problem } : {}),
    detail: {
      watchers,
      writesPerRun: writes,
      writerConcurrency: WRITER_CONCURRENCY,
      secondsPerRun: runs.map((r) => round(r.seconds)),
      writerWritesPerSecond: runs.map((r) => round(r.writesPerSecond)),
      bytesPerWatcher: runs.map((r) => r.bytesPerWatcher),
      cpuMicrosPerEvent: runs.map((r) => round(r.cpuMicrosPerEvent)),
      bounds: { writes, maxMs },
    },
  };
}

export const watchSection: BenchSection = {
  id: 'watch',
  title: 'Watch events delivered per second (raw HTTP watch streams, NDJSON)',
  async run(ctx) {
    const rows: BenchRow[] = [];
    for (const w of WATCHERS) rows.push(await measure(ctx, w));
    return rows;
  },
};
