/**
 * Part of section "provider-engage": the APIExport provider at 100,000 bound workspaces on one shard
 * (1,000 with --quick; the reference server runs in a child process, see runtime-server.ts).
 *
 * 1. Cold start: `manager.start()` with an APIExportProvider and one controller `for` ConfigMap →
 *    every bound cluster engaged (its informers synced), as in section runtime-scale.
 * 2. Heap per engaged cluster beyond its objects: the engage/disengage rig of runtime-scale (the
 *    ConfigMap informer held synced; heap with all N engaged minus heap with none, divided by N),
 *    with clusters reported as the kcp providers report them (an `Engagement` each), and again
 *    with an AbortSignal each (what an Aware without `engageWith` gets).
 */
import * as os from 'node:os';
import { coldStart, churnLoop, churnRig, type ChurnRun, type ColdRun } from './runtime-scale.js';
import { problemOf, row, ServerProcess } from './runtime-fixture.js';
import { median, round } from './stats.js';
import type { BenchContext, BenchRow } from './types.js';

/** Engage/disengage loops over `clusters` after a warm-up, one per counted run (`signals`: see runtime-scale's ListProvider). */
async function heapLoops(ctx: BenchContext, srv: ServerProcess, vw: string, clusters: readonly string[], maxMs: number, signals: boolean): Promise<ChurnRun[]> {
  const rig = await churnRig(srv, vw, maxMs, signals);
  const loops: ChurnRun[] = [];
  try {
    await churnLoop(rig, clusters, 1, maxMs); // warm-up
    for (let r = 0; r < ctx.runs; r++) {
      const run = await churnLoop(rig, clusters, 1, maxMs);
      loops.push(run);
      ctx.log(`provider-engage: ${clusters.length} engaged vs none${signals ? ', with signals' : ''}, run ${r + 1}/${ctx.runs}: ${Math.round(run.bytesPerCluster[0]!)} B per engaged cluster${run.problem ? ` PROBLEM: ${run.problem}` : ''}`);
    }
  } finally {
    await rig.stop();
  }
  return loops;
}

/** The rows of the 100,000-workspace part of `section` (`n` workspaces instead, to measure elsewhere). */
export async function providerScaleRows(ctx: BenchContext, section: string, n = ctx.quick ? 1_000 : 100_000): Promise<BenchRow[]> {
  const maxMs = ctx.quick ? 30_000 : 180_000;
  const fmtN = n.toLocaleString('en-US');
  // The server holds every workspace's objects (~25 KiB each) and its watch history: past the
  // default heap limit at 100,000, where it then spent its time collecting and stopped answering.
  // 12 GiB, or three quarters of the machine's memory when it has less.
  const heapMiB = Math.min(12_288, Math.floor((os.totalmem() / 2 ** 20) * 0.75));
  const srv = new ServerProcess({ heapMiB: n > 20_000 ? heapMiB : undefined });
  try {
    await srv.start(ctx.tls);
    const made = await srv.workspaces(n, { prefix: 'scale', concurrency: 64, maxMs: 1_800_000 });
    ctx.log(`provider-engage: ${fmtN} bound workspaces in ${round(made.seconds)} s (${Math.round(made.perSecond)}/s)`);
    const warm = await coldStart(srv, n, maxMs); // warm-up, not counted
    if (warm.problem) throw new Error(`cold start warm-up at ${fmtN}: ${warm.problem}`);
    const colds: ColdRun[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      const run = await coldStart(srv, n, maxMs);
      colds.push(run);
      ctx.log(`provider-engage: cold start ${fmtN}, run ${r + 1}/${ctx.runs}: all engaged in ${Math.round(run.engagedMs)} ms, all reconciled at ${Math.round(run.reconciledMs)} ms${run.problem ? ` PROBLEM: ${run.problem}` : ''}`);
    }
    const loops = await heapLoops(ctx, srv, made.vw, made.clusters, maxMs, false);
    const signalLoops = await heapLoops(ctx, srv, made.vw, made.clusters, maxMs, true);
    return [
      row(section, `cold start, APIExportProvider start → ${fmtN} clusters engaged (controller for ConfigMap)`, 'ms', colds.map((r) => r.engagedMs), {
        ...(ctx.quick ? {} : { target: { max: 30_000, why: 'issue: 100,000 clusters engaged in < 30 s' } }),
        ...problemOf(colds),
        detail: {
          workspaces: n,
          allReconciledMs: colds.map((r) => round(r.reconciledMs)),
          objects: colds[0]?.objects,
          cpuMs: colds.map((r) => round(r.cpuMs)),
          serverWatches: colds.map((r) => r.watches),
          bytesPerClusterAllIn: colds.map((r) => round(r.bytesPerClusterAllIn)),
          setupSeconds: round(made.seconds),
        },
      }),
      row(section, `heap per engaged cluster beyond its objects (${fmtN} engaged vs none, informer synced)`, 'bytes', loops.map((l) => median(l.bytesPerCluster)), {
        target: { max: 1_024, why: 'issue: ≤ 1 KiB per engaged cluster' },
        ...problemOf(loops),
        detail: { engageAllMs: loops.map((l) => round(l.engageMs[0]!)), measure: 'heapUsed + arrayBuffers after two full GCs' },
      }),
      row(section, `heap per engaged cluster, reported with an AbortSignal each (an Aware without engageWith; ${fmtN} engaged vs none)`, 'bytes', signalLoops.map((l) => median(l.bytesPerCluster)), {
        ...problemOf(signalLoops),
      }),
    ];
  } finally {
    await srv.stop();
  }
}
