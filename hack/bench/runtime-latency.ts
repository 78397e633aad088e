/**
 * Sections "runtime-latency" and "runtime-fairness": event → reconcile latency of the controller
 * runtime (a Manager, an APIExportProvider, a controller `for` ConfigMap) under a paced writer.
 *
 * The writer runs in the reference server's process (runtime-server.ts) and PUTs ConfigMaps of
 * bound workspaces over HTTP, each write carrying a sequence number in `data.seq`. The reconciler
 * takes the time first thing, then reads the object from the cache and records the sequence it
 * sees. A write's latency is the start of the first reconcile of its key that saw its sequence or a
 * later one (so that writes merged in the queue count until the reconcile that covered them), minus
 * the write's acknowledgement (HTTP response received by the writer) or its send time; the two
 * processes' clocks are aligned by IPC pings (offset of the shortest round trip).
 *
 * - latency: one write per second to each of N workspaces' ConfigMap, round-robin, N writes/s in
 *   all (1,000 over 1,000 workspaces), for a bounded time; the reconciler does nothing else.
 * - fairness: 20 quiet workspaces at 5 writes/s each and one noisy one at 500 writes/s over 500
 *   ConfigMaps of its own. The figure with the goal is measured in virtual time (fairness-virtual.ts:
 *   the work queue alone, 25,000 quiet events per run, immune to the machine's load). The same load
 *   then runs end to end on the wall clock, with a reconciler that waits 2 ms (an API call's worth;
 *   one worker, so about 400 reconciles/s against 600 writes/s: the queue builds up): the quiet
 *   workspaces' p99 with fairness on (the default), with fairness off, and without the noisy tenant
 *   (baseline). That one holds ~1,000 quiet writes per run and includes the event loop and the
 *   scheduler of the machine, so it is shown without a goal.
 */
import { Manager } from '../../src/manager/index.js';
import { APIExportProvider } from '../../src/provider/apiexport.js';
import { absNow, kubeConfigOf, problemOf, quietLogger, row, ServerProcess, sleep } from './runtime-fixture.js';
import { EXPORT, LOAD_CM, type Ack, type LoadResult, type Stream } from './runtime-server.js';
import { virtualFairnessRows } from './fairness-virtual.js';
import { nowMs, quantile, round, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

/** Reconcile starts per key, in time order, with the sequence each saw. */
class Starts {
  private readonly byKey = new Map<string, { t: number[]; seq: number[] }>();
  count = 0;

  record(key: string, t: number, seq: number): void {
    let k = this.byKey.get(key);
    if (!k) this.byKey.set(key, (k = { t: [], seq: [] }));
    k.t.push(t);
    k.seq.push(seq);
    this.count++;
  }

  /** Start of the first reconcile of `key` that saw `seq` or later. */
  covering(key: string, seq: number): number | undefined {
    const k = this.byKey.get(key);
    if (!k) return undefined;
    // What the cache shows only moves forward: the sequences seen are non-decreasing.
    let lo = 0;
    let hi = k.seq.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (k.seq[mid]! >= seq) hi = mid;
      else lo = mid + 1;
    }
    return lo < k.seq.length ? k.t[lo] : undefined;
  }

  clear(): void {
    this.byKey.clear();
    this.count = 0;
  }
}

interface Latencies {
  /** ack → reconcile start, ms, one per acknowledged write of the streams asked for. */
  ack: number[];
  /** send → reconcile start, ms. */
  send: number[];
  /** Acknowledged writes no reconcile covered. */
  uncovered: number;
}

function latencies(srv: ServerProcess, streams: Stream[], acks: Ack[], starts: Starts, which: (s: number) => boolean): Latencies {
  const out: Latencies = { ack: [], send: [], uncovered: 0 };
  for (const [s, target, seq, sentAt, ackedAt] of acks) {
    if (!which(s)) continue;
    const tg = streams[s]!.targets[target]!;
    const t = starts.covering(`${tg.cluster}/${tg.name}`, seq);
    if (t === undefined) {
      out.uncovered++;
      continue;
    }
    out.ack.push(t - srv.local(ackedAt));
    out.send.push(t - srv.local(sentAt));
  }
  return out;
}

/** Whether the last acknowledged write of every key of the streams asked for has been reconciled. */
function allCovered(streams: Stream[], acks: Ack[], starts: Starts, which: (s: number) => boolean): boolean {
  const last = new Map<string, number>();
  for (const [s, target, seq] of acks) {
    if (!which(s)) continue;
    const tg = streams[s]!.targets[target]!;
    const key = `${tg.cluster}/${tg.name}`;
    last.set(key, Math.max(last.get(key) ?? 0, seq));
  }
  for (const [key, seq] of last) if (starts.covering(key, seq) === undefined) return false;
  return true;
}

/** A running manager whose one controller records reconcile starts (and then does `work`). */
async function runtime(srv: ServerProcess, n: number, opts: { fairness: boolean; work?: () => Promise<void>; maxMs: number }) {
  const log = quietLogger();
  const provider = new APIExportProvider(kubeConfigOf(srv.info), { endpointSlice: EXPORT, log });
  const manager = new Manager({ provider, log, gracefulShutdownMs: 2_000, controllerDefaults: { fairness: opts.fairness } });
  const starts = new Starts();
  const reconcileMs: number[] = [];
  const work = opts.work;
  const ctrl = manager
    .controller('latency')
    .for(CM)
    .reconcile(async (req, ctx) => {
      const t = absNow();
      const cm = ctx.cluster.cache.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>(CM, req);
      starts.record(`${req.cluster}/${req.name}`, t, Number(cm?.data?.['seq'] ?? 0));
      if (work) await work();
    });
  ctrl.onReconcile((o) => reconcileMs.length < 100_000 && reconcileMs.push(o.ms));
  let engaged = 0;
  const engage = ctrl.engage.bind(ctrl);
  ctrl.engage = async (c, tk, s) => {
    await engage(c, tk, s);
    engaged++;
  };
  const ac = new AbortController();
  const done = manager.start({ signal: ac.signal });
  const stop = async () => {
    ac.abort();
    await done;
  };
  try {
    if (!(await waitFor(() => engaged >= n, opts.maxMs))) throw new Error(`${engaged}/${n} clusters engaged within ${opts.maxMs} ms`);
    let objects = 0;
    for (const name of provider.clusterNames()) objects += provider.get(name).cache.list(CM).length;
    if (!(await waitFor(() => starts.count >= objects && ctrl.queue.len() === 0, opts.maxMs))) throw new Error(`initial reconciles: ${starts.count}/${objects}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { starts, reconcileMs, ctrl, stop };
}

interface LoadRun {
  load: LoadResult;
  lat: Latencies;
  /** Largest queue length sampled (every 20 ms) during the load. */
  maxQueue: number;
  /** Reconciles finished during the load and their median duration. */
  reconciles: number;
  reconcileP50Ms: number;
  problem?: string;
}

/** One bounded load against a running runtime; waits (bounded) until the last writes are reconciled. */
async function loadRun(srv: ServerProcess, rt: Awaited<ReturnType<typeof runtime>>, streams: Stream[], seconds: number, measured: (s: number) => boolean): Promise<LoadRun> {
  rt.starts.clear();
  rt.reconcileMs.length = 0;
  let maxQueue = 0;
  const sampler = setInterval(() => (maxQueue = Math.max(maxQueue, rt.ctrl.queue.len())), 20);
  let load: LoadResult;
  try {
    load = await srv.load(streams, seconds);
  } finally {
    clearInterval(sampler);
  }
  const reconciles = rt.reconcileMs.length;
  const reconcileP50Ms = quantile(rt.reconcileMs, 0.5);
  const problems: string[] = [];
  if (!(await waitFor(() => allCovered(streams, load.acks, rt.starts, measured), 15_000))) problems.push('the last writes were not all reconciled within 15 s');
  if (load.failed) problems.push(`${load.failed} writes failed, first: ${load.firstError ?? '?'}`);
  const lat = latencies(srv, streams, load.acks, rt.starts, measured);
  if (lat.uncovered > 0) problems.push(`${lat.uncovered} acknowledged writes never reconciled`);
  return { load, lat, maxQueue, reconciles, reconcileP50Ms, ...(problems.length ? { problem: problems.join('; ') } : {}) };
}

async function latencyMeasure(ctx: BenchContext): Promise<BenchRow[]> {
  const id = 'runtime-latency';
  const n = ctx.quick ? 100 : 1_000;
  const rate = ctx.quick ? 200 : 1_000;
  const seconds = ctx.quick ? 2 : 10;
  const srv = new ServerProcess();
  try {
    await srv.start(ctx.tls);
    const made = await srv.workspaces(n, { prefix: 'ws', loadConfigMap: true });
    ctx.log(`  setup: ${n} bound workspaces with a ConfigMap each in ${round(made.seconds)} s`);
    const rt = await runtime(srv, n, { fairness: true, maxMs: 120_000 });
    try {
      const streams: Stream[] = [{ targets: made.clusters.map((cluster) => ({ cluster, name: LOAD_CM })), rate }];
      const all = () => true;
      const warm = await loadRun(srv, rt, streams, Math.min(2, seconds), all);
      ctx.log(`  warm-up: ${warm.load.acked} writes, p99 ${round(quantile(warm.lat.ack, 0.99))} ms${warm.problem ? ` PROBLEM: ${warm.problem}` : ''}`);
      const runs: LoadRun[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        await srv.calibrate();
        const run = await loadRun(srv, rt, streams, seconds, all);
        runs.push(run);
        ctx.log(
          `  run ${r + 1}/${ctx.runs}: ${run.load.acked} writes acknowledged in ${round(run.load.seconds)} s (${Math.round(run.load.acked / run.load.seconds)}/s, ${run.load.skipped} skipped), ` +
            `ack → reconcile p50 ${round(quantile(run.lat.ack, 0.5))} ms, p99 ${round(quantile(run.lat.ack, 0.99))} ms; send → reconcile p99 ${round(quantile(run.lat.send, 0.99))} ms; ` +
            `max queue ${run.maxQueue}${run.problem ? ` PROBLEM: ${run.problem}` : ''}`,
        );
      }
      const detail = {
        workspaces: n,
        offeredWritesPerSecond: rate,
        secondsPerRun: seconds,
        write: 'PUT of the whole ConfigMap (unconditional) on the shard, from the server process, at most 128 in flight',
        acknowledged: runs.map((r) => r.load.acked),
        skippedAtInFlightLimit: runs.map((r) => r.load.skipped),
        negativeAckLatencies: runs.map((r) => r.lat.ack.filter((x) => x < 0).length),
        maxQueue: runs.map((r) => r.maxQueue),
        maxAckLatencyMs: runs.map((r) => round(Math.max(...r.lat.ack))),
        clockOffsetMs: round(srv.offsetMs),
      };
      const label = `${rate.toLocaleString('en-US')} writes/s over ${n.toLocaleString('en-US')} clusters`;
      return [
        row(id, `write ack → reconcile start, p50, ${label}`, 'µs', runs.map((r) => 1000 * quantile(r.lat.ack, 0.5)), { ...problemOf(runs), detail }),
        row(id, `write ack → reconcile start, p99, ${label}`, 'µs', runs.map((r) => 1000 * quantile(r.lat.ack, 0.99)), { target: { max: 25_000, why: 'issue: p99 < 25 ms' } }),
        row(id, `write sent → reconcile start, p50, ${label}`, 'µs', runs.map((r) => 1000 * quantile(r.lat.send, 0.5))),
        row(id, `write sent → reconcile start, p99, ${label}`, 'µs', runs.map((r) => 1000 * quantile(r.lat.send, 0.99))),
        row(id, 'writes acknowledged per second (offered ' + rate.toLocaleString('en-US') + ')', 'writes/s', runs.map((r) => r.load.acked / r.load.seconds), { target: { min: rate * 0.95, why: 'the offered rate, within 5 %' } }),
      ];
    } finally {
      await rt.stop();
    }
  } finally {
    await srv.stop();
  }
}

async function fairnessMeasure(ctx: BenchContext): Promise<BenchRow[]> {
  const id = 'runtime-fairness';
  const QUIET = 20;
  const NOISY_OBJECTS = ctx.quick ? 100 : 500;
  const quietRate = 5 * QUIET;
  const noisyRate = ctx.quick ? 300 : 500;
  const seconds = ctx.quick ? 1 : 10;
  const virtual = await virtualFairnessRows(ctx, id);
  const srv = new ServerProcess();
  try {
    await srv.start(ctx.tls);
    const made = await srv.workspaces(QUIET + 1, { prefix: 'ws', loadConfigMap: true });
    const noisy = made.clusters[QUIET]!;
    const noisyNames = Array.from({ length: NOISY_OBJECTS }, (_, i) => `noisy-${i}`);
    await srv.createConfigMaps(noisy, noisyNames);
    const quiet: Stream = { targets: made.clusters.slice(0, QUIET).map((cluster) => ({ cluster, name: LOAD_CM })), rate: quietRate };
    const loud: Stream = { targets: noisyNames.map((name) => ({ cluster: noisy, name })), rate: noisyRate };
    const work = () => sleep(2);
    type Kind = 'baseline' | 'on' | 'off';
    const scenario = async (kind: Kind, secs: number): Promise<LoadRun> => {
      const rt = await runtime(srv, QUIET + 1, { fairness: kind !== 'off', work, maxMs: 60_000 });
      try {
        await srv.calibrate();
        return await loadRun(srv, rt, kind === 'baseline' ? [quiet] : [quiet, loud], secs, (s) => s === 0);
      } finally {
        await rt.stop();
      }
    };
    await scenario('on', Math.min(2, seconds)); // warm-up
    const runs: Record<Kind, LoadRun[]> = { baseline: [], on: [], off: [] };
    const orders: Kind[][] = [['baseline', 'on', 'off'], ['on', 'off', 'baseline'], ['off', 'baseline', 'on']];
    for (let r = 0; r < ctx.runs; r++) {
      for (const kind of orders[r % orders.length]!) {
        const run = await scenario(kind, seconds);
        runs[kind].push(run);
        ctx.log(
          `  ${kind === 'baseline' ? 'quiet only' : `noisy, fairness ${kind}`}, run ${runs[kind].length}/${ctx.runs}: quiet ack → reconcile p50 ${round(quantile(run.lat.ack, 0.5))} ms, ` +
            `p99 ${round(quantile(run.lat.ack, 0.99))} ms; ${run.load.acked} writes (${Math.round(run.load.acked / run.load.seconds)}/s); max queue ${run.maxQueue}; ` +
            `${Math.round(run.reconciles / run.load.seconds)} reconciles/s of ${round(run.reconcileP50Ms)} ms (p50)${run.problem ? ` PROBLEM: ${run.problem}` : ''}`,
        );
      }
    }
    const p99 = (k: Kind) => runs[k].map((r) => 1000 * quantile(r.lat.ack, 0.99));
    const detail = (k: Kind) => ({
      quietP50Ms: runs[k].map((r) => round(quantile(r.lat.ack, 0.5))),
      quietMaxMs: runs[k].map((r) => round(r.lat.ack.reduce((a, b) => Math.max(a, b), 0))),
      quietSendP99Ms: runs[k].map((r) => round(quantile(r.lat.send, 0.99))),
      writesPerSecond: runs[k].map((r) => round(r.load.acked / r.load.seconds)),
      maxQueue: runs[k].map((r) => r.maxQueue),
      reconcilesPerSecond: runs[k].map((r) => round(r.reconciles / r.load.seconds)),
      reconcileP50Ms: runs[k].map((r) => round(r.reconcileP50Ms)),
    });
    const setup = { quiet: `${QUIET} clusters × 5 writes/s`, noisy: `1 cluster, ${noisyRate} writes/s over ${NOISY_OBJECTS} ConfigMaps`, reconcile: 'records, then waits 2 ms; 1 worker', secondsPerRun: seconds };
    return [
      ...virtual,
      row(id, 'wall clock: quiet clusters write ack → reconcile p99, quiet only (baseline)', 'µs', p99('baseline'), { ...problemOf(runs.baseline), detail: { ...setup, ...detail('baseline') } }),
      row(id, 'wall clock: quiet clusters write ack → reconcile p99, noisy tenant, fairness on', 'µs', p99('on'), { ...problemOf(runs.on), detail: detail('on') }),
      row(id, 'wall clock: quiet clusters write ack → reconcile p99, noisy tenant, fairness off', 'µs', p99('off'), { ...problemOf(runs.off), detail: detail('off') }),
      row(id, 'wall clock: quiet p99 with fairness on, as a share of the baseline', '%', p99('on').map((x, i) => (100 * x) / p99('baseline')[i]!)),
      row(id, 'wall clock: quiet p99 with fairness off, as a share of the baseline', '%', p99('off').map((x, i) => (100 * x) / p99('baseline')[i]!)),
    ];
  } finally {
    await srv.stop();
  }
}

function guarded(id: string, what: string, fn: (ctx: BenchContext) => Promise<BenchRow[]>): BenchSection['run'] {
  return async (ctx) => {
    try {
      return await fn(ctx);
    } catch (e) {
      return [row(id, what, '-', [NaN], { problem: (e as Error).stack ?? String(e) })];
    }
  };
}

export const runtimeLatencySection: BenchSection = {
  id: 'runtime-latency',
  title: 'Controller runtime: event → reconcile latency at 1,000 writes/s over 1,000 bound workspaces',
  run: guarded('runtime-latency', 'runtime latency benchmark', latencyMeasure),
};

export const runtimeFairnessSection: BenchSection = {
  id: 'runtime-fairness',
  title: 'Controller runtime: a noisy tenant at 100× the rate of 20 quiet ones; quiet p99 with fairness on, off, and without the noise',
  run: guarded('runtime-fairness', 'runtime fairness benchmark', fairnessMeasure),
};
