/**
 * Section "runtime-stock": what a TypeScript user would write today against our runtime, over the
 * same 1,000 APIExport-bound workspaces (the reference server runs in a child process).
 *
 * - stock: one client-node 1.4.0 `makeInformer` per workspace, a ListWatch of
 *   `<VW URL>/clusters/<name>/api/v1/configmaps` (a KubeConfig and a CoreV1Api per workspace for its
 *   list), all started at once; synced = every `start()` resolved (list done, watch open);
 * - ours: a Manager with an APIExportProvider and a controller `for` ConfigMap; synced = every
 *   cluster engaged (see runtime-scale). It also caches the APIBindings, which the stock side does not.
 *
 * Per run: this process's established TCP sockets to the server (from /proc), the server's open
 * watches, the heap (JS heap plus ArrayBuffers after full collections) minus the heap before, and
 * the time to sync. All runs of ours come first, then the stock ones (see below). Ratios pair the
 * i-th runs: stock / ours for sockets and watches; for heap and time, ours as a percentage of stock
 * (the table prints whole numbers).
 */
import { CoreV1Api, makeInformer, type KubernetesObject as StockObject } from '@kubernetes/client-node';
import type { Informer, ObjectCache } from '@kubernetes/client-node';
import { Manager } from '../../src/manager/index.js';
import { APIExportProvider } from '../../src/provider/apiexport.js';
import { kubeConfigOf, memoryAfterGC, problemOf, quietLogger, row, ServerProcess, sleep, socketsTo } from './runtime-fixture.js';
import { EXPORT } from './runtime-server.js';
import { nowMs, round, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const SECTION = 'runtime-stock';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

interface Sample {
  syncMs: number;
  sockets: number;
  watches: number;
  heapBytes: number;
  objects: number;
  problem?: string;
}

/** The sockets and watches after a short settle (closed sockets take a moment to leave /proc). */
async function connections(srv: ServerProcess): Promise<{ sockets: number; watches: number }> {
  await sleep(200);
  return { sockets: socketsTo(srv.info.port), watches: await srv.watches() };
}

async function stockRun(srv: ServerProcess, vw: string, clusters: readonly string[], maxMs: number): Promise<Sample> {
  const m0 = memoryAfterGC();
  const informers: (Informer<StockObject> & ObjectCache<StockObject>)[] = [];
  const problems: string[] = [];
  const t0 = nowMs();
  let syncMs = NaN;
  try {
    for (const name of clusters) {
      const kc = kubeConfigOf(srv.info, `${vw}/clusters/${name}`);
      const core = kc.makeApiClient(CoreV1Api);
      const inf = makeInformer<StockObject>(kc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces());
      inf.on('error', (e: unknown) => problems.length < 3 && problems.push(`stock informer error: ${String((e as Error)?.message ?? e)}`));
      informers.push(inf);
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`stock informers not started within ${maxMs} ms`)), maxMs)));
    try {
      await Promise.race([Promise.all(informers.map((i) => i.start())), bound]);
      syncMs = nowMs() - t0;
    } finally {
      clearTimeout(timer);
    }
    const objects = informers.reduce((n, i) => n + i.list().length, 0);
    const { sockets, watches } = await connections(srv);
    const heapBytes = memoryAfterGC() - m0;
    return { syncMs, sockets, watches, heapBytes, objects, ...(problems.length ? { problem: problems.join('; ') } : {}) };
  } finally {
    await Promise.all(informers.map((i) => i.stop()));
  }
}

async function oursRun(srv: ServerProcess, n: number, maxMs: number): Promise<Sample> {
  const m0 = memoryAfterGC();
  const log = quietLogger();
  const provider = new APIExportProvider(kubeConfigOf(srv.info), { endpointSlice: EXPORT, log });
  const manager = new Manager({ provider, log, gracefulShutdownMs: 1_000 });
  const ctrl = manager.controller('stock-compare').for(CM).reconcile(() => undefined);
  let engaged = 0;
  const engage = ctrl.engage.bind(ctrl);
  ctrl.engage = async (c, t, s) => {
    await engage(c, t, s);
    engaged++;
  };
  const ac = new AbortController();
  const t0 = nowMs();
  const done = manager.start({ signal: ac.signal });
  try {
    const ok = await waitFor(() => engaged >= n, maxMs);
    const syncMs = nowMs() - t0;
    let objects = 0;
    for (const name of provider.clusterNames()) objects += provider.get(name).cache.list(CM).length;
    await waitFor(() => ctrl.queue.len() === 0, maxMs);
    const { sockets, watches } = await connections(srv);
    const heapBytes = memoryAfterGC() - m0;
    return { syncMs, sockets, watches, heapBytes, objects, ...(ok ? {} : { problem: `${engaged}/${n} engaged within ${maxMs} ms` }) };
  } finally {
    ac.abort();
    await done;
  }
}

async function measure(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.quick ? 100 : 1_000;
  const maxMs = ctx.quick ? 30_000 : 120_000;
  const fmtN = n.toLocaleString('en-US');
  const srv = new ServerProcess();
  try {
    await srv.start(ctx.tls);
    const made = await srv.workspaces(n, { prefix: 'ws' });
    ctx.log(`  setup: ${n} bound workspaces in ${round(made.seconds)} s`);
    // Ours first, then stock, each after a warm-up run (not counted): client-node's watches leave
    // 30-second timers behind whose garbage would otherwise fall into the next run's heap figure.
    const ours: Sample[] = [];
    const stock: Sample[] = [];
    for (const kind of ['ours', 'stock'] as const) {
      for (let r = 0; r <= ctx.runs; r++) {
        const s = kind === 'ours' ? await oursRun(srv, n, maxMs) : await stockRun(srv, made.vw, made.clusters, maxMs);
        if (r === 0 && s.problem) throw new Error(`${kind} warm-up: ${s.problem}`);
        if (r > 0) (kind === 'ours' ? ours : stock).push(s);
        ctx.log(
          `  ${kind}, ${r === 0 ? 'warm-up' : `run ${r}/${ctx.runs}`}: synced in ${Math.round(s.syncMs)} ms, ${s.sockets} sockets, ${s.watches} server watches, ` +
            `${round(s.heapBytes / 2 ** 20)} MiB heap, ${s.objects} ConfigMaps cached${s.problem ? ` PROBLEM: ${s.problem}` : ''}`,
        );
        await sleep(500); // let the run's sockets close
      }
    }
    const detail = (xs: Sample[]) => ({ objects: xs.map((x) => x.objects), serverWatches: xs.map((x) => x.watches), heapMiB: xs.map((x) => round(x.heapBytes / 2 ** 20)) });
    const ratio = (f: (s: Sample) => number) => stock.map((s, i) => f(s) / f(ours[i]!));
    return [
      row(SECTION, `time to sync ${fmtN} workspaces' ConfigMaps, ours (one watch per endpoint)`, 'ms', ours.map((s) => s.syncMs), { ...problemOf(ours), detail: detail(ours) }),
      row(SECTION, `time to sync ${fmtN} workspaces' ConfigMaps, stock makeInformer per workspace`, 'ms', stock.map((s) => s.syncMs), { ...problemOf(stock), detail: detail(stock) }),
      row(SECTION, 'sockets to the server, ours', 'sockets', ours.map((s) => s.sockets), { detail: { serverWatches: ours.map((s) => s.watches) } }),
      row(SECTION, 'sockets to the server, stock', 'sockets', stock.map((s) => s.sockets), { detail: { serverWatches: stock.map((s) => s.watches) } }),
      row(SECTION, 'heap (heap + buffers after GC), ours', 'KiB', ours.map((s) => s.heapBytes / 1024)),
      row(SECTION, 'heap (heap + buffers after GC), stock', 'KiB', stock.map((s) => s.heapBytes / 1024)),
      row(SECTION, 'sockets, stock / ours', '×', ratio((s) => s.sockets)),
      row(SECTION, 'server watches, stock / ours', '×', ratio((s) => s.watches)),
      row(SECTION, 'heap, ours as a share of stock', '%', ours.map((s, i) => (100 * s.heapBytes) / stock[i]!.heapBytes)),
      row(SECTION, 'time to sync, ours as a share of stock', '%', ours.map((s, i) => (100 * s.syncMs) / stock[i]!.syncMs)),
    ];
  } finally {
    await srv.stop();
  }
}

export const runtimeStockSection: BenchSection = {
  id: SECTION,
  title: 'Controller runtime vs one client-node makeInformer per workspace (1,000 bound workspaces): sockets, watches, heap, time to sync',
  async run(ctx) {
    try {
      return await measure(ctx);
    } catch (e) {
      return [row(SECTION, 'runtime vs stock benchmark', '-', [NaN], { problem: (e as Error).stack ?? String(e) })];
    }
  },
};
