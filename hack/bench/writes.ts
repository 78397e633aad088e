/**
 * Section "writes": ConfigMap creates (POST) and updates (PUT) per second over keep-alive HTTP, with
 * 1, 8 and 32 requests in flight. Every run uses a fresh server, so runs do not see each other's
 * objects or history.
 */
import { benchServer, configMapBody, HttpClient } from './client.js';
import { median, quantile, round, runBounded, type BoundedResult } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

export const WRITES_TARGET = { min: 5_000, why: 'brief: ≥ 5,000 writes/s on a 2-core machine' };
const CONCURRENCY = [1, 8, 32];

interface RunFigure {
  perSecond: number;
  result: BoundedResult;
}

function limits(ctx: BenchContext): { maxOps: number; maxMs: number } {
  return ctx.quick ? { maxOps: 2_000, maxMs: 1_000 } : { maxOps: 20_000, maxMs: 4_000 };
}

/** One run of creates with `concurrency` in flight. */
async function createRun(tls: boolean, concurrency: number, maxOps: number, maxMs: number): Promise<RunFigure> {
  const bs = await benchServer({ tls });
  const c = new HttpClient(bs.srv, concurrency);
  try {
    const result = await runBounded({
      concurrency,
      maxOps,
      maxMs,
      op: async (i) => {
        await c.expect(201, 'POST', bs.configMaps, configMapBody(`cm-${i}`, `v-${i}`));
      },
    });
    return { perSecond: (result.ok / result.elapsedMs) * 1000, result };
  } finally {
    c.close();
    await bs.stop();
  }
}

/** One run of updates: each worker owns one ConfigMap and PUTs it with its last resourceVersion. */
async function updateRun(tls: boolean, concurrency: number, maxOps: number, maxMs: number): Promise<RunFigure> {
  const bs = await benchServer({ tls });
  const c = new HttpClient(bs.srv, concurrency);
  try {
    const rvs: string[] = [];
    for (let w = 0; w < concurrency; w++) {
      const text = await c.expect(201, 'POST', bs.configMaps, configMapBody(`cm-${w}`, 'initial'));
      rvs.push((JSON.parse(text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    }
    const result = await runBounded({
      concurrency,
      maxOps,
      maxMs,
      op: async (i, w) => {
        const text = await c.expect(200, 'PUT', `${bs.configMaps}/cm-${w}`, configMapBody(`cm-${w}`, `v-${i}`, rvs[w]));
        rvs[w] = (JSON.parse(text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      },
    });
    return { perSecond: (result.ok / result.elapsedMs) * 1000, result };
  } finally {
    c.close();
    await bs.stop();
  }
}

type Runner = typeof createRun;

async function measure(ctx: BenchContext, label: string, runner: Runner, concurrency: number): Promise<BenchRow> {
  const { maxOps, maxMs } = limits(ctx);
  // Warm-up (JIT, agent sockets): a short run that is not counted.
  await runner(ctx.tls, concurrency, Math.min(maxOps, 2_000), Math.min(maxMs, 1_000));
  const figures: RunFigure[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    const f = await runner(ctx.tls, concurrency, maxOps, maxMs);
    ctx.log(`  ${label}, ${concurrency} in flight, run ${r + 1}/${ctx.runs}: ${Math.round(f.perSecond)} writes/s, ${Math.round(f.result.cpuMicrosPerOp)} µs CPU/write (${f.result.ok} ok, ${f.result.failed} failed)`);
    figures.push(f);
  }
  const failed = figures.reduce((n, f) => n + f.result.failed, 0);
  const firstError = figures.find((f) => f.result.firstError)?.result.firstError;
  const lat = figures.flatMap((f) => f.result.latencies);
  return {
    section: 'writes',
    name: `ConfigMap ${label}, ${concurrency} in flight`,
    unit: 'writes/s',
    median: round(median(figures.map((f) => f.perSecond))),
    runs: figures.map((f) => round(f.perSecond)),
    target: WRITES_TARGET,
    ...(failed ? { problem: `${failed} failed requests, first: ${firstError?.message ?? '?'}` } : {}),
    detail: {
      concurrency,
      opsPerRun: figures.map((f) => f.result.ok),
      secondsPerRun: figures.map((f) => round(f.result.elapsedMs / 1000)),
      stoppedByTimeBound: figures.map((f) => f.result.timedOut),
      latencyMs: { p50: round(quantile(lat, 0.5)), p99: round(quantile(lat, 0.99)) },
      // CPU of the one process (client + server) per write; steadier than writes/s on a shared machine.
      cpuMicrosPerWrite: figures.map((f) => round(f.result.cpuMicrosPerOp)),
      bounds: { maxOps, maxMs },
    },
  };
}

export const writesSection: BenchSection = {
  id: 'writes',
  title: 'Writes per second (HTTP keep-alive, in-process server)',
  async run(ctx) {
    const rows: BenchRow[] = [];
    for (const n of CONCURRENCY) rows.push(await measure(ctx, 'create (POST)', createRun, n));
    for (const n of CONCURRENCY) rows.push(await measure(ctx, 'update (PUT)', updateRun, n));
    return rows;
  },
};
