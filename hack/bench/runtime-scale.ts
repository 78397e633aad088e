/**
 * Section "runtime-scale": the controller runtime at 1,000 and 10,000 APIExport-bound workspaces on
 * one shard (the reference server runs in a child process, see runtime-server.ts).
 *
 * 1. Cold start: a Manager with an APIExportProvider and one controller `for` ConfigMap (every
 *    workspace has its `kube-root-ca.crt`); the figure is `manager.start()` → every bound cluster
 *    engaged (the controller's engage resolved for each, i.e. its informers synced), at 1,000 and
 *    at 10,000 workspaces (the same server, grown in between). The time until the initial
 *    reconcile of every object is in the detail.
 * 2. Heap per engaged cluster beyond its objects, and 3. engage/disengage churn: a small Provider of
 *    our own reports the endpoint's clusters (`endpoint.cluster(name)` on the real VW endpoint) and
 *    ends their engagements. The ConfigMap informer is kept running and synced by a subscription of
 *    our own, so that the objects are cached throughout; the heap (after full collections) with all
 *    N engaged minus the heap with none engaged, divided by N, is what an engaged cluster costs.
 *    Each loop engages and disengages all N clusters `rounds` times; its growth is the heap with
 *    none engaged after the last round against after the first.
 */
import { Transport, type KubernetesObject } from '../../src/client/index.js';
import type { Controller } from '../../src/controller/controller.js';
import { Manager } from '../../src/manager/index.js';
import { APIExportProvider } from '../../src/provider/apiexport.js';
import { Endpoint, type EndpointCluster } from '../../src/provider/endpoint.js';
import { Engagement, reportEngagement } from '../../src/provider/engagement.js';
import { FieldIndexes } from '../../src/provider/indexes.js';
import { ClusterNotFoundError, type Aware, type Cluster, type EventRecorder, type Provider } from '../../src/provider/types.js';
import { kubeConfigOf, memoryAfterGC, problemOf, quietLogger, row, ServerProcess, socketsTo, sleep } from './runtime-fixture.js';
import { EXPORT } from './runtime-server.js';
import { median, nowMs, round, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const SECTION = 'runtime-scale';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

interface Limits {
  small: number;
  large: number;
  rounds: number;
  /** Bound of one cold start (to all engaged, and again to all reconciled). */
  maxMs: number;
}

function limits(ctx: BenchContext): Limits {
  return ctx.quick ? { small: 100, large: 300, rounds: 3, maxMs: 30_000 } : { small: 1_000, large: 10_000, rounds: 10, maxMs: 120_000 };
}

/** Counts the clusters whose engagement with `ctrl` completed (wraps its `engage`). */
function countEngaged(ctrl: Controller): { count: number } {
  const counter = { count: 0 };
  const engage = ctrl.engage.bind(ctrl);
  ctrl.engage = async (cluster, token, signal) => {
    await engage(cluster, token, signal);
    counter.count++;
  };
  return counter;
}

/** What one cold start measured. */
export interface ColdRun {
  engagedMs: number;
  reconciledMs: number;
  objects: number;
  reconciles: number;
  sockets: number;
  watches: number;
  cpuMs: number;
  bytesPerClusterAllIn: number;
  problem?: string;
}

/** One cold start against the server's `n` bound workspaces. */
export async function coldStart(srv: ServerProcess, n: number, maxMs: number): Promise<ColdRun> {
  const log = quietLogger();
  const provider = new APIExportProvider(kubeConfigOf(srv.info), { endpointSlice: EXPORT, log });
  const manager = new Manager({ provider, log, gracefulShutdownMs: 1_000 });
  let reconciles = 0;
  const ctrl = manager.controller('cold').for(CM).reconcile(() => void reconciles++);
  const engaged = countEngaged(ctrl);
  const m0 = memoryAfterGC();
  const ac = new AbortController();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const done = manager.start({ signal: ac.signal });
  const problems: string[] = [];
  try {
    if (!(await waitFor(() => engaged.count >= n, maxMs))) problems.push(`${engaged.count}/${n} clusters engaged within ${maxMs} ms`);
    const engagedMs = nowMs() - t0;
    let objects = 0;
    for (const name of provider.clusterNames()) objects += provider.get(name).cache.list(CM).length;
    if (!(await waitFor(() => reconciles >= objects && ctrl.queue.len() === 0, maxMs))) problems.push(`${reconciles}/${objects} objects reconciled within ${maxMs} ms`);
    const reconciledMs = nowMs() - t0;
    const cpu = process.cpuUsage(cpu0);
    const notEngaged = manager.clusters().filter((c) => c.state !== 'engaged').length;
    if (notEngaged) problems.push(`${notEngaged} clusters not in state engaged`);
    const sockets = socketsTo(srv.info.port);
    const watches = await srv.watches();
    const m1 = memoryAfterGC();
    return {
      engagedMs,
      reconciledMs,
      objects,
      reconciles,
      sockets,
      watches,
      cpuMs: (cpu.user + cpu.system) / 1000,
      bytesPerClusterAllIn: (m1 - m0) / n,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  } finally {
    ac.abort();
    await done;
  }
}

const noRecorder: EventRecorder = { publish: async () => undefined, stop: () => undefined };

/** Reports a fixed list of the endpoint's clusters on demand, and takes them away again. */
class ListProvider implements Provider {
  private aware: Aware | undefined;
  private readonly engaged = new Map<string, { handle: EndpointCluster; engagement: Engagement }>();

  /** `signals`: report every cluster with an AbortSignal, as to an Aware without `engageWith`. */
  constructor(
    private readonly endpoint: Endpoint,
    private readonly signals = false,
  ) {}

  get started(): boolean {
    return this.aware !== undefined;
  }

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    this.aware = aware;
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    this.disengageAll();
    this.aware = undefined;
  }

  engageAll(names: readonly string[]): void {
    for (const name of names) {
      const handle = this.endpoint.cluster(name);
      // As the kcp providers report clusters (machine.ts), so that the heap figure is theirs.
      const engagement = new Engagement();
      this.engaged.set(name, { handle, engagement });
      if (this.signals) this.aware!.engage(name, handle, engagement.signal);
      else reportEngagement(this.aware!, name, handle, engagement);
    }
  }

  disengageAll(): void {
    for (const { handle, engagement } of this.engaged.values()) {
      engagement.end();
      handle.stop();
    }
    this.engaged.clear();
  }

  get(name: string): Cluster {
    const e = this.engaged.get(name);
    if (!e) throw new ClusterNotFoundError(name);
    return e.handle;
  }

  indexField(): void {
    // no field indexes in this benchmark
  }

  clusterNames(): string[] {
    return [...this.engaged.keys()];
  }
}

/** What one engage/disengage loop measured. */
export interface ChurnRun {
  /** Heap with all engaged minus heap with none, per cluster, for each round. */
  bytesPerCluster: number[];
  /** Heap with none engaged after each round. */
  zero: number[];
  growthPercent: number;
  engageMs: number[];
  problem?: string;
}

/** A running manager on a ListProvider over the VW endpoint, the ConfigMap informer held synced (`signals`: see ListProvider). */
export async function churnRig(srv: ServerProcess, vw: string, maxMs: number, signals = false) {
  const transport = Transport.fromKubeConfig(kubeConfigOf(srv.info));
  const endpoint = new Endpoint({ transport, url: vw, indexes: new FieldIndexes(), recorder: () => noRecorder, log: () => undefined });
  const inf = await endpoint.informer<KubernetesObject>(CM);
  const keep = inf.events$.subscribe();
  if (!(await waitFor(() => inf.synced, maxMs))) throw new Error(`ConfigMap informer not synced within ${maxMs} ms`);
  const log = quietLogger();
  const provider = new ListProvider(endpoint, signals);
  const manager = new Manager({ provider, log, gracefulShutdownMs: 1_000 });
  let reconciles = 0;
  const ctrl = manager.controller('churn').for(CM).reconcile(() => void reconciles++);
  const engaged = countEngaged(ctrl);
  const ac = new AbortController();
  const done = manager.start({ signal: ac.signal });
  if (!(await waitFor(() => provider.started, 10_000))) throw new Error('provider not started');
  return {
    inf,
    provider,
    manager,
    ctrl,
    engaged,
    reconciles: () => reconciles,
    async stop() {
      ac.abort();
      await done;
      keep.unsubscribe();
      endpoint.close();
      transport.close();
    },
  };
}

/** Engages and disengages every cluster `rounds` times; heap with all engaged vs none, per cluster. */
export async function churnLoop(rig: Awaited<ReturnType<typeof churnRig>>, clusters: readonly string[], rounds: number, maxMs: number): Promise<ChurnRun> {
  const n = clusters.length;
  const problems: string[] = [];
  const bytesPerCluster: number[] = [];
  const zero: number[] = [];
  const engageMs: number[] = [];
  let before = memoryAfterGC();
  for (let r = 0; r < rounds; r++) {
    const e0 = rig.engaged.count;
    const r0 = rig.reconciles();
    const objects = rig.inf.store.size;
    const t0 = nowMs();
    rig.provider.engageAll(clusters);
    if (!(await waitFor(() => rig.engaged.count - e0 >= n, maxMs))) problems.push(`round ${r + 1}: ${rig.engaged.count - e0}/${n} engaged`);
    engageMs.push(nowMs() - t0);
    if (!(await waitFor(() => rig.reconciles() - r0 >= objects && rig.ctrl.queue.len() === 0, maxMs))) problems.push(`round ${r + 1}: ${rig.reconciles() - r0}/${objects} reconciled`);
    await sleep(50);
    const peak = memoryAfterGC();
    bytesPerCluster.push((peak - before) / n);
    rig.provider.disengageAll();
    if (!(await waitFor(() => rig.manager.clusters().length === 0 && rig.ctrl.clusterNames().length === 0, maxMs))) problems.push(`round ${r + 1}: clusters left after disengage`);
    await sleep(50);
    before = memoryAfterGC();
    zero.push(before);
  }
  return {
    bytesPerCluster,
    zero,
    growthPercent: (100 * (zero[zero.length - 1]! - zero[0]!)) / zero[0]!,
    engageMs,
    ...(problems.length ? { problem: problems.join('; ') } : {}),
  };
}

async function measure(ctx: BenchContext): Promise<BenchRow[]> {
  const lim = limits(ctx);
  const srv = new ServerProcess();
  try {
    const info = await srv.start(ctx.tls);
    const rows: BenchRow[] = [];
    const setups: Record<string, number> = {};
    let clusters: string[] = [];
    let vw = '';
    for (const n of [lim.small, lim.large]) {
      const fmtN = n.toLocaleString('en-US');
      const grow = n - clusters.length;
      const made = await srv.workspaces(grow, { prefix: `ws${n}`, maxMs: 900_000 });
      clusters = [...clusters, ...made.clusters];
      vw = made.vw;
      setups[fmtN] = round(made.seconds);
      ctx.log(`  setup: ${grow} more bound workspaces in ${round(made.seconds)} s (${Math.round(made.perSecond)}/s), ${clusters.length} in all`);
      const warm = await coldStart(srv, n, lim.maxMs); // warm-up, not counted
      if (warm.problem) throw new Error(`cold start warm-up at ${fmtN}: ${warm.problem}`);
      const runs: ColdRun[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        const run = await coldStart(srv, n, lim.maxMs);
        runs.push(run);
        ctx.log(
          `  cold start ${fmtN}, run ${r + 1}/${ctx.runs}: all engaged in ${Math.round(run.engagedMs)} ms, ${run.objects} objects reconciled at ${Math.round(run.reconciledMs)} ms; ` +
            `${run.sockets} sockets, ${run.watches} watches on the server; ${Math.round(run.bytesPerClusterAllIn)} B/cluster all-in${run.problem ? ` PROBLEM: ${run.problem}` : ''}`,
        );
      }
      rows.push(
        row(SECTION, `cold start, APIExportProvider start → ${fmtN} clusters engaged (controller for ConfigMap)`, 'ms', runs.map((r) => r.engagedMs), {
          ...(n === lim.large ? { target: { max: 10_000, why: 'issue: 10,000 clusters engaged in < 10 s' } } : {}),
          ...problemOf(runs),
          detail: {
            workspaces: n,
            allReconciledMs: runs.map((r) => round(r.reconciledMs)),
            objects: runs[0]?.objects,
            cpuMs: runs.map((r) => round(r.cpuMs)),
            clientSockets: runs.map((r) => r.sockets),
            serverWatches: runs.map((r) => r.watches),
            bytesPerClusterAllIn: runs.map((r) => round(r.bytesPerClusterAllIn)),
            setupSeconds: setups[fmtN],
          },
        }),
      );
    }

    // Heap per engaged cluster and churn, over all N = large clusters of the endpoint.
    const rig = await churnRig(srv, vw, lim.maxMs);
    try {
      await churnLoop(rig, clusters, 1, lim.maxMs); // warm-up
      const loops: ChurnRun[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        const run = await churnLoop(rig, clusters, lim.rounds, lim.maxMs);
        loops.push(run);
        ctx.log(
          `  churn loop ${r + 1}/${ctx.runs}: ${lim.rounds} × engage/disengage ${clusters.length}: heap growth ${round(run.growthPercent)} %, ` +
            `${Math.round(run.bytesPerCluster.reduce((a, b) => a + b, 0) / run.bytesPerCluster.length)} B per engaged cluster (mean), engage ${Math.round(Math.min(...run.engageMs))}–${Math.round(Math.max(...run.engageMs))} ms${run.problem ? ` PROBLEM: ${run.problem}` : ''}`,
        );
      }
      const fmtN = clusters.length.toLocaleString('en-US');
      const perCluster = loops.flatMap((l) => l.bytesPerCluster);
      rows.push(
        row(SECTION, `heap per engaged cluster beyond its objects (${fmtN} engaged vs none, informer synced)`, 'bytes', loops.map((l) => median(l.bytesPerCluster)), {
          target: { max: 2_048, why: 'issue: ≤ 2 KiB per cluster' },
          ...problemOf(loops),
          detail: { perRound: perCluster.map(round), cachedObjects: rig.inf.store.size, measure: 'heapUsed + arrayBuffers after two full GCs' },
        }),
        row(SECTION, `heap growth after ${lim.rounds} rounds of engaging and disengaging ${fmtN} clusters`, '%', loops.map((l) => l.growthPercent), {
          target: { max: 5, why: 'issue: < 5 % after the loop' },
          ...problemOf(loops),
          detail: {
            heapWithNoneEngagedMiB: loops.map((l) => l.zero.map((z) => round(z / 2 ** 20))),
            bytesPerEngageCycle: loops.map((l) => round((l.zero[l.zero.length - 1]! - l.zero[0]!) / ((l.zero.length - 1) * clusters.length))),
            engageAllMs: loops.map((l) => l.engageMs.map(round)),
          },
        }),
        row(SECTION, `engage ${fmtN} clusters at once (informer already synced) → all engaged`, 'ms', loops.map((l) => median(l.engageMs))),
      );
    } finally {
      await rig.stop();
    }
    return rows;
  } finally {
    await srv.stop();
  }
}

export const runtimeScaleSection: BenchSection = {
  id: SECTION,
  title: 'Controller runtime at 1,000 / 10,000 bound workspaces: cold start, heap per engaged cluster, engage/disengage churn',
  async run(ctx) {
    try {
      return await measure(ctx);
    } catch (e) {
      return [row(SECTION, 'runtime scale benchmark', '-', [NaN], { problem: (e as Error).stack ?? String(e) })];
    }
  },
};
