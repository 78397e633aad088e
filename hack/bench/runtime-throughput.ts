/**
 * Section "runtime-throughput": reconciles per second and CPU per reconcile of the controller
 * runtime, over 200 APIExport-bound workspaces × 100 ConfigMaps on a reference server in its own
 * process (see runtime-server.ts), at 1 and at 16 concurrent reconciles.
 *
 * Per run, one Manager with an APIExportProvider and one controller `for` ConfigMap whose reconciler
 * reads its object from the cache:
 * 1. sync: `manager.start()` → every object reconciled once (lists, watches, engagement and the
 *    initial reconciles);
 * 2. read-only steady state: every key enqueued again, `rounds` times, nothing else moving;
 * 3. one-write steady state: `writes` keys enqueued with a new token; the reconciler patches one
 *    annotation (merge patch through the virtual workspace) when the cached object lacks the token.
 *    The phase ends when every write's own watch event reached the cache and was reconciled (a
 *    read that finds nothing to do), so the runtime's CPU includes receiving that event.
 *
 * CPU is `process.cpuUsage()` of each process (this one: the runtime; the child: the server) over
 * the phase, divided by reconciles (or by writes). Wall-clock rates depend on the machine's load;
 * the CPU figures hold still better. With `KCP_BENCH_CPU_PROF=<dir>`, the one-write phase of each
 * counted run is profiled in both processes (`.cpuprofile` files in <dir>, for Chrome DevTools).
 */
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import type { KubernetesObject } from '../../src/client/index.js';
import { Manager } from '../../src/manager/index.js';
import { APIExportProvider } from '../../src/provider/apiexport.js';
import { freezeByDefault } from '../../src/informer/freeze.js';
import { kubeConfigOf, problemOf, quietLogger, row, ServerProcess } from './runtime-fixture.js';
import { EXPORT, fillName } from './runtime-server.js';
import { median, nowMs, round, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const SECTION = 'runtime-throughput';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const ANNOTATION = 'bench.kcp.io/round';

type ConfigMap = KubernetesObject & { data?: Record<string, string> };

interface Limits {
  workspaces: number;
  perCluster: number;
  rounds: number;
  /** Keys written in the one-write phase, per concurrency. */
  writes: Record<number, number>;
  maxMs: number;
}

function limits(ctx: BenchContext): Limits {
  return ctx.quick
    ? { workspaces: 20, perCluster: 50, rounds: 3, writes: { 1: 200, 16: 400 }, maxMs: 60_000 }
    : { workspaces: 200, perCluster: 100, rounds: 2, writes: { 1: 1_000, 16: 3_000 }, maxMs: 300_000 };
}

/** One phase: how many, how long, CPU of each process. */
interface Phase {
  count: number;
  reconciles: number;
  seconds: number;
  /** µs of this process's CPU per counted operation. */
  runtimeCpuUs: number;
  serverCpuUs: number;
}

interface Run {
  sync: Phase;
  read: Phase;
  write: Phase;
  problem?: string;
}

/** CPU seconds of this process. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Measures `body` (which returns the count of operations and of reconciles) in both processes. */
async function phase(srv: ServerProcess, reconciles: () => number, body: () => Promise<number>): Promise<Phase> {
  const s0 = await srv.cpuSeconds();
  const r0 = reconciles();
  const c0 = cpuSeconds();
  const t0 = nowMs();
  const count = await body();
  const seconds = (nowMs() - t0) / 1000;
  const c1 = cpuSeconds();
  const s1 = await srv.cpuSeconds();
  return { count, reconciles: reconciles() - r0, seconds, runtimeCpuUs: ((c1 - c0) * 1e6) / count, serverCpuUs: ((s1 - s0) * 1e6) / count };
}

/** Profiles `body` in both processes when KCP_BENCH_CPU_PROF names a folder. */
async function profiled<T>(srv: ServerProcess, label: string | undefined, body: () => Promise<T>): Promise<T> {
  const dir = process.env['KCP_BENCH_CPU_PROF'];
  if (!dir || !label) return body();
  fs.mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await srv.call({ op: 'profile', start: true });
  try {
    return await body();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.writeFileSync(path.join(dir, `${label}-runtime.cpuprofile`), JSON.stringify(profile));
    const server = await srv.call<string>({ op: 'profile', start: false });
    fs.writeFileSync(path.join(dir, `${label}-server.cpuprofile`), server);
    session.disconnect();
  }
}

async function oneRun(srv: ServerProcess, clusters: readonly string[], lim: Limits, concurrency: number, label: string | undefined): Promise<Run> {
  const log = quietLogger();
  const provider = new APIExportProvider(kubeConfigOf(srv.info), { endpointSlice: EXPORT, log });
  const manager = new Manager({ provider, log, gracefulShutdownMs: 1_000 });
  let reconciles = 0;
  let writes = 0;
  // Keys whose reconcile found the token on the cached object: the write's own event arrived.
  const seen = new Set<string>();
  let failures = 0;
  let firstError: string | undefined;
  // The token the one-write phase wants on every object it enqueues; none: read only.
  let token: string | undefined;
  const ctrl = manager
    .controller(`throughput-${concurrency}`)
    .for(CM)
    .withOptions({ maxConcurrentReconciles: concurrency })
    .reconcile(async (req, ctx) => {
      reconciles++;
      const cm = ctx.cluster.cache.get<ConfigMap>(CM, req);
      if (!cm || token === undefined) return;
      if (cm.metadata?.annotations?.[ANNOTATION] === token) {
        seen.add(`${req.cluster}/${req.name}`);
        return;
      }
      try {
        await ctx.cluster.client.patch(CM, req, { metadata: { annotations: { [ANNOTATION]: token } } });
        writes++;
      } catch (e) {
        failures++;
        firstError ??= (e as Error).message;
      }
    });
  const total = clusters.length * lim.perCluster;
  const problems: string[] = [];
  const ac = new AbortController();
  let done: Promise<void> | undefined;
  const enqueue = (n: number) => {
    for (let i = 0; i < n; i++) ctrl.queue.add({ cluster: clusters[i % clusters.length]!, namespace: 'default', name: fillName(Math.floor(i / clusters.length)) });
  };
  const settled = async (what: string, check: () => boolean) => {
    if (!(await waitFor(() => check() && ctrl.queue.len() === 0, lim.maxMs))) problems.push(`${what} within ${lim.maxMs} ms`);
  };
  try {
    const count = () => reconciles;
    const sync = await phase(srv, count, async () => {
      done = manager.start({ signal: ac.signal });
      await settled(`${reconciles}/${total} objects reconciled at sync`, () => reconciles >= total);
      // Every cached object once (each workspace's kube-root-ca.crt too).
      let objects = 0;
      for (const name of provider.clusterNames()) objects += provider.get(name).cache.list(CM).length;
      await settled(`${reconciles}/${objects} objects reconciled at sync`, () => reconciles >= objects);
      return reconciles;
    });
    const read = await phase(srv, count, async () => {
      const r0 = reconciles;
      for (let r = 0; r < lim.rounds; r++) {
        const want = reconciles + total;
        enqueue(total);
        await settled(`read round ${r + 1}: ${reconciles}/${want} reconciles`, () => reconciles >= want);
      }
      return reconciles - r0;
    });
    const n = Math.min(lim.writes[concurrency] ?? 1_000, total);
    token = `t${Date.now()}`;
    const write = await profiled(srv, label, () =>
      phase(srv, count, async () => {
        const w0 = writes;
        enqueue(n);
        // Each write's own event comes back and is reconciled (read only) before the phase ends.
        await settled(`${writes - w0}/${n} writes acknowledged, ${seen.size} seen back`, () => writes - w0 + failures >= n && seen.size + failures >= n);
        return writes - w0;
      }),
    );
    if (failures) problems.push(`${failures} writes failed: ${firstError ?? '?'}`);
    return { sync, read, write, ...(problems.length ? { problem: problems.join('; ') } : {}) };
  } finally {
    ac.abort();
    await done;
  }
}

function describe(p: Phase): string {
  return `${p.count} in ${round(p.seconds)} s (${Math.round(p.count / p.seconds)}/s), CPU ${Math.round(p.runtimeCpuUs)} µs runtime + ${Math.round(p.serverCpuUs)} µs server each`;
}

async function measure(ctx: BenchContext): Promise<BenchRow[]> {
  const lim = limits(ctx);
  const srv = new ServerProcess();
  try {
    await srv.start(ctx.tls);
    const made = await srv.workspaces(lim.workspaces, { prefix: 'tp' });
    const filled = await srv.fill(made.clusters, lim.perCluster, lim.maxMs);
    if (filled.failed) throw new Error(`fill: ${filled.firstError ?? '?'}`);
    ctx.log(`  setup: ${lim.workspaces} bound workspaces × ${lim.perCluster} ConfigMaps in ${round(made.seconds + (filled.endedAt - filled.startedAt) / 1000)} s; deep-freezing ${freezeByDefault() ? 'on' : 'off'}`);
    const rows: BenchRow[] = [];
    for (const concurrency of [1, 16]) {
      const runs: Run[] = [];
      for (let r = 0; r <= ctx.runs; r++) {
        const run = await oneRun(srv, made.clusters, lim, concurrency, r === 0 ? undefined : `c${concurrency}-run${r}`);
        if (r === 0 && run.problem) throw new Error(`warm-up at concurrency ${concurrency}: ${run.problem}`);
        if (r > 0) runs.push(run);
        ctx.log(`  concurrency ${concurrency}, ${r === 0 ? 'warm-up' : `run ${r}/${ctx.runs}`}: sync ${describe(run.sync)}; read-only ${describe(run.read)}; one write ${describe(run.write)}${run.problem ? ` PROBLEM: ${run.problem}` : ''}`);
      }
      const rate = (p: (x: Run) => Phase) => runs.map((x) => p(x).count / p(x).seconds);
      const cpu = (p: (x: Run) => Phase) => ({ runtimeCpuUsPerOp: runs.map((x) => round(p(x).runtimeCpuUs)), serverCpuUsPerOp: runs.map((x) => round(p(x).serverCpuUs)), reconciles: runs.map((x) => p(x).reconciles) });
      const c = `concurrency ${concurrency}`;
      const problem = problemOf(runs);
      rows.push(
        row(SECTION, `read-only reconciles from manager start (sync), ${c}`, 'reconciles/s', rate((x) => x.sync), { ...problem, detail: cpu((x) => x.sync) }),
        row(SECTION, `read-only reconciles, steady state, ${c}`, 'reconciles/s', rate((x) => x.read), {
          ...problem,
          ...(concurrency === 16 ? { target: { min: 50_000, why: 'issue: ≥ 50k/s in steady state' } } : {}),
          detail: cpu((x) => x.read),
        }),
        row(SECTION, `runtime CPU per read-only reconcile, steady state, ${c}`, 'µs', runs.map((x) => x.read.runtimeCpuUs)),
        row(SECTION, `reconciles with one write each, steady state, ${c}`, 'writes/s', rate((x) => x.write), { ...problem, detail: cpu((x) => x.write) }),
        row(SECTION, `runtime CPU per reconcile that writes once (incl. its own watch event), ${c}`, 'µs', runs.map((x) => x.write.runtimeCpuUs), {
          ...problem,
          ...(concurrency === 16 ? { target: { max: 250, why: 'issue: ≤ 250 µs' } } : {}),
        }),
        row(SECTION, `server CPU per write (patch + watch fan-out), ${c}`, 'µs', runs.map((x) => x.write.serverCpuUs), { detail: { medianSyncServerCpuUsPerObject: round(median(runs.map((x) => x.sync.serverCpuUs))) } }),
      );
    }
    return rows;
  } finally {
    await srv.stop();
  }
}

export const runtimeThroughputSection: BenchSection = {
  id: SECTION,
  title: 'Controller runtime throughput (200 bound workspaces × 100 ConfigMaps): read-only and one-write reconciles at concurrency 1 and 16, CPU per reconcile',
  async run(ctx) {
    try {
      return await measure(ctx);
    } catch (e) {
      return [row(SECTION, 'runtime throughput benchmark', '-', [NaN], { problem: (e as Error).stack ?? String(e) })];
    }
  },
};
