/**
 * Section "kcp": the kcp layer of the reference server at 1,000 workspaces on one shard (issue 4,
 * "Benchmark").
 *
 * 1. Workspaces until Ready: a WorkspaceType (extending `root:universal`) with one default APIBinding
 *    to an export of one namespaced resource; N Workspaces of it are created in root over keep-alive
 *    HTTP, and a watch on root's Workspaces records when each first reports `Ready`. Figures per
 *    run: total time (first create sent → last Ready seen), workspaces/s, and the create→Ready
 *    latency of each workspace (p50, p99). Each run has a fresh server.
 * 2. Wildcard watch through the APIExport virtual workspace: on the last run's server (N bound
 *    workspaces), one watch on `<endpoint slice URL>/clusters/*` + `/apis/<group>/<version>/<resource>`,
 *    then a fixed number of writes into the bound workspaces (`/clusters/<name>/...` on the shard:
 *    half creates spread round-robin over the workspaces, then one PUT update of each), and the
 *    figure is events received / (first write → last event). The same writes against a plain
 *    `/clusters/*` watch of the resource on the shard (addressed `<resource>:<identityHash>`, as the
 *    VW forwards it, kcp-wire §3.3) give the comparison; the two alternate run by run on the same
 *    server. The writer runs in the same process: when the watcher keeps up, events/s equals the
 *    writer's writes/s (the detail records both), so the ratio shows the VW's extra cost per event
 *    only through the shared CPU.
 */
import { HttpClient, transport, WatchCounter } from './client.js';
import { median, nowMs, quantile, round, runBounded, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

const GROUP = 'bench.kcp.dev';
const VERSION = 'v1';
const RESOURCE = 'widgets';
const EXPORT = 'widgets';
const PROVIDER_PATH = 'root:bench-provider';
const TYPE = 'benched';
const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
/** Workspace creates in flight. */
const CREATE_CONCURRENCY = 16;
/** Writes in flight during the watch figure. */
const WRITER_CONCURRENCY = 16;

interface Limits {
  workspaces: number;
  /** Bound of one creation run, from the first create to the last Ready. */
  createMaxMs: number;
  writes: number;
  /** Bound of one watch run, from the first write to the last event. */
  watchMaxMs: number;
  warmupWorkspaces: number;
}

function limits(ctx: BenchContext): Limits {
  return ctx.quick
    ? { workspaces: 100, createMaxMs: 60_000, writes: 2_000, watchMaxMs: 15_000, warmupWorkspaces: 20 }
    : { workspaces: 1_000, createMaxMs: 600_000, writes: 20_000, watchMaxMs: 120_000, warmupWorkspaces: 100 };
}

/** The parts of watch events and objects this section reads. */
interface Obj {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { cluster?: string };
  status?: { phase?: string; identityHash?: string; endpoints?: { url?: string }[] };
}

const SCHEMA = {
  apiVersion: 'apis.kcp.io/v1alpha1',
  kind: 'APIResourceSchema',
  metadata: { name: `v1.${RESOURCE}.${GROUP}` },
  spec: {
    group: GROUP,
    names: { kind: 'Widget', listKind: 'WidgetList', plural: RESOURCE, singular: 'widget' },
    scope: 'Namespaced',
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        schema: { type: 'object', properties: { spec: { type: 'object', properties: { value: { type: 'string' }, other: { type: 'string' } } } } },
      },
    ],
  },
};

const EXPORT_OBJ = {
  apiVersion: 'apis.kcp.io/v1alpha2',
  kind: 'APIExport',
  metadata: { name: EXPORT },
  spec: { resources: [{ name: RESOURCE, group: GROUP, schema: `v1.${RESOURCE}.${GROUP}`, storage: { crd: {} } }] },
};

const TYPE_OBJ = {
  apiVersion: 'tenancy.kcp.io/v1alpha1',
  kind: 'WorkspaceType',
  metadata: { name: TYPE },
  spec: { extend: { with: [{ name: 'universal', path: 'root' }] }, defaultAPIBindings: [{ path: PROVIDER_PATH, export: EXPORT }] },
};

function widgetBody(name: string, value: string, resourceVersion?: string): string {
  return JSON.stringify({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Widget',
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { value, other: 'x'.repeat(64) },
  });
}

/** Whether `p` settles (fulfilled → true) within `ms`; false on rejection or the time bound. Clears its timer. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), bound]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` (an async read) every 20 ms until it returns a value or `maxMs` passes. */
async function poll<T>(what: string, maxMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = nowMs() + maxMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (nowMs() >= deadline) throw new Error(`${what}: not within ${maxMs} ms`);
    await waitFor(() => false, 20);
  }
}

/** A server with the provider workspace, its schema and export (identity ready) and the WorkspaceType. */
async function kcpServer(tls: boolean): Promise<{ srv: RunningServer; c: HttpClient; identity: string }> {
  const srv = await startServer({ port: 0, bind: '127.0.0.1', tls });
  const c = new HttpClient(srv, CREATE_CONCURRENCY + WRITER_CONCURRENCY);
  try {
    const provider = srv.createLogicalCluster(undefined, { path: PROVIDER_PATH });
    await c.expect(201, 'POST', `/clusters/${provider}/apis/apis.kcp.io/v1alpha1/apiresourceschemas`, JSON.stringify(SCHEMA));
    await c.expect(201, 'POST', `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports`, JSON.stringify(EXPORT_OBJ));
    const identity = await poll('export identity', 10_000, async () => {
      const e = JSON.parse(await c.expect(200, 'GET', `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports/${EXPORT}`)) as Obj;
      return e.status?.identityHash || undefined;
    });
    await c.expect(201, 'POST', `/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes`, JSON.stringify(TYPE_OBJ));
    // A short pause for the WorkspaceType controller's status write, so that it is not part of run 1.
    await waitFor(() => false, 50);
    return { srv, c, identity };
  } catch (e) {
    c.close();
    await srv.stop();
    throw e;
  }
}

interface CreateRun {
  /** Workspaces created (201). */
  created: number;
  /** Workspaces seen Ready within the bound. */
  ready: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  createsPerSecond: number;
  cpuMicrosPerWorkspace: number;
  /** Logical cluster names of the Ready workspaces. */
  clusters: string[];
  problem?: string;
}

/** Creates `n` workspaces of the type in root and waits (bounded) until every one is Ready. */
async function createRun(srv: RunningServer, c: HttpClient, prefix: string, n: number, maxMs: number): Promise<CreateRun> {
  const sentAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const clusters: string[] = [];
  const path = `/clusters/root${WS}?watch=true&resourceVersion=${srv.resourceVersion()}`;
  const wt = transport(srv, 1);
  const watcher = new WatchCounter(srv, path, wt, n, (ev) => {
    const o = ev.object as Obj;
    const name = o.metadata?.name ?? '';
    if (ev.type === 'DELETED' || o.status?.phase !== 'Ready' || !sentAt.has(name) || readyAt.has(name)) return false;
    readyAt.set(name, nowMs());
    clusters.push(o.spec?.cluster ?? '');
    return true;
  });
  try {
    if (!(await within(watcher.opened, 10_000))) throw new Error(`workspace watch not open after 10 s (${watcher.status})`);
    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    const deadline = t0 + maxMs;
    const w = await runBounded({
      concurrency: CREATE_CONCURRENCY,
      maxOps: n,
      maxMs,
      op: async (i) => {
        const name = `${prefix}-${i}`;
        sentAt.set(name, nowMs());
        await c.expect(201, 'POST', `/clusters/root${WS}`, JSON.stringify({ apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: { type: { name: TYPE, path: 'root' } } }));
      },
    });
    const complete = await within(watcher.done, Math.max(0, deadline - nowMs()));
    const cpu = process.cpuUsage(cpu0);
    const end = complete ? watcher.doneAt! : nowMs();
    const seconds = (end - t0) / 1000;
    const lat = [...readyAt].map(([name, t]) => t - sentAt.get(name)!);
    const problems: string[] = [];
    if (w.failed) problems.push(`${w.failed} creates failed, first: ${w.firstError?.message ?? '?'}`);
    if (watcher.endedEarly) problems.push(`workspace watch stopped: ${watcher.endedEarly}`);
    else if (!complete) problems.push(`time bound: ${readyAt.size}/${n} Ready after ${round(seconds)} s`);
    return {
      created: w.ok,
      ready: readyAt.size,
      seconds,
      perSecond: readyAt.size / seconds,
      p50Ms: quantile(lat, 0.5),
      p99Ms: quantile(lat, 0.99),
      maxMs: Math.max(...lat),
      createsPerSecond: (w.ok / w.elapsedMs) * 1000,
      cpuMicrosPerWorkspace: readyAt.size ? (cpu.user + cpu.system) / readyAt.size : NaN,
      clusters,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  } finally {
    watcher.close();
    wt.agent.destroy();
  }
}

interface WatchRun {
  eventsPerSecond: number;
  writesPerSecond: number;
  seconds: number;
  delivered: number;
  expected: number;
  cpuMicrosPerEvent: number;
  problem?: string;
}

/**
 * One watch (path on the shard) and `writes` writes into `clusters`: the first half creates
 * `<tag>-<k>` round-robin, the second half PUTs each of them once (with the created resourceVersion).
 */
async function watchRun(srv: RunningServer, c: HttpClient, watchPath: string, clusters: readonly string[], tag: string, writes: number, maxMs: number): Promise<WatchRun> {
  const creates = Math.ceil(writes / 2);
  const rvs: string[] = new Array<string>(creates);
  const objectPath = (k: number) => `/clusters/${clusters[k % clusters.length]!}/apis/${GROUP}/${VERSION}/namespaces/default/${RESOURCE}`;
  const wt = transport(srv, 1);
  const watcher = new WatchCounter(srv, `${watchPath}?watch=true&resourceVersion=${srv.resourceVersion()}`, wt, writes, (ev) => (ev.object.metadata?.name ?? '').startsWith(`${tag}-`));
  try {
    if (!(await within(watcher.opened, 10_000))) throw new Error(`watch ${watchPath} not open after 10 s (${watcher.status})`);
    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    const deadline = t0 + maxMs;
    const w = await runBounded({
      concurrency: WRITER_CONCURRENCY,
      maxOps: writes,
      maxMs,
      op: async (i) => {
        if (i < creates) {
          const text = await c.expect(201, 'POST', objectPath(i), widgetBody(`${tag}-${i}`, `v-${i}`));
          rvs[i] = (JSON.parse(text) as Obj).metadata?.resourceVersion ?? '';
        } else {
          const k = i - creates;
          await c.expect(200, 'PUT', `${objectPath(k)}/${tag}-${k}`, widgetBody(`${tag}-${k}`, `u-${k}`, rvs[k]));
        }
      },
    });
    const complete = await within(watcher.done, Math.max(0, deadline - nowMs()));
    const cpu = process.cpuUsage(cpu0);
    const end = complete ? watcher.doneAt! : nowMs();
    const seconds = (end - t0) / 1000;
    const problems: string[] = [];
    if (w.failed) problems.push(`${w.failed} writes failed, first: ${w.firstError?.message ?? '?'}`);
    if (watcher.endedEarly) problems.push(`watch stopped: ${watcher.endedEarly}`);
    else if (!complete) problems.push(`time bound: ${watcher.count}/${writes} events after ${round(seconds)} s`);
    if (watcher.outOfOrder) problems.push(`${watcher.outOfOrder} events out of resourceVersion order`);
    return {
      eventsPerSecond: watcher.count / seconds,
      writesPerSecond: (w.ok / w.elapsedMs) * 1000,
      seconds,
      delivered: watcher.count,
      expected: writes,
      cpuMicrosPerEvent: watcher.count ? (cpu.user + cpu.system) / watcher.count : NaN,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  } finally {
    watcher.close();
    wt.agent.destroy();
  }
}

function row(name: string, unit: string, runs: number[], extra: Partial<BenchRow> = {}): BenchRow {
  return { section: 'kcp', name, unit, median: round(median(runs)), runs: runs.map(round), ...extra };
}

function problemOf(runs: readonly { problem?: string }[]): { problem?: string } {
  const p = runs.map((r) => r.problem).filter(Boolean).join(' | ');
  return p ? { problem: p } : {};
}

async function measure(ctx: BenchContext): Promise<BenchRow[]> {
  const lim = limits(ctx);
  const n = lim.workspaces;
  const fmtN = n.toLocaleString('en-US');

  // Warm-up (not counted): a small creation run and a short watch run of each kind.
  {
    const { srv, c } = await kcpServer(ctx.tls);
    try {
      const warm = await createRun(srv, c, 'warm', lim.warmupWorkspaces, 60_000);
      if (warm.problem) throw new Error(`warm-up: ${warm.problem}`);
      ctx.log(`  warm-up: ${warm.ready} workspaces Ready in ${round(warm.seconds)} s`);
    } finally {
      c.close();
      await srv.stop();
    }
  }

  // 1. Workspaces until Ready; the last run's server stays up for the watch figures.
  const creates: CreateRun[] = [];
  let kept: { srv: RunningServer; c: HttpClient; identity: string } | undefined;
  try {
    for (let r = 0; r < ctx.runs; r++) {
      const s = await kcpServer(ctx.tls);
      const last = r === ctx.runs - 1;
      try {
        const run = await createRun(s.srv, s.c, 'ws', n, lim.createMaxMs);
        creates.push(run);
        ctx.log(
          `  creation run ${r + 1}/${ctx.runs}: ${run.ready}/${n} Ready in ${round(run.seconds)} s (${round(run.perSecond)}/s; ` +
            `creates answered at ${Math.round(run.createsPerSecond)}/s; create→Ready p50 ${Math.round(run.p50Ms)} ms, p99 ${Math.round(run.p99Ms)} ms; ` +
            `${Math.round(run.cpuMicrosPerWorkspace / 1000)} ms CPU/workspace)${run.problem ? ` PROBLEM: ${run.problem}` : ''}`,
        );
      } finally {
        if (last) kept = s;
        else {
          s.c.close();
          await s.srv.stop();
        }
      }
    }
    const createDetail = {
      workspaces: n,
      createConcurrency: CREATE_CONCURRENCY,
      type: `root:${TYPE} (extends root:universal; defaultAPIBindings ${PROVIDER_PATH}:${EXPORT}, one resource)`,
      readyPerRun: creates.map((r) => r.ready),
      secondsPerRun: creates.map((r) => round(r.seconds)),
      createsAnsweredPerSecond: creates.map((r) => round(r.createsPerSecond)),
      maxLatencyMs: creates.map((r) => round(r.maxMs)),
      cpuMicrosPerWorkspace: creates.map((r) => round(r.cpuMicrosPerWorkspace)),
      bounds: { workspaces: n, maxMs: lim.createMaxMs },
    };
    const rows: BenchRow[] = [
      row(`${fmtN} workspaces with a default APIBinding, create → all Ready`, 'ms', creates.map((r) => r.seconds * 1000), { ...problemOf(creates), detail: createDetail }),
      row(`${fmtN} workspaces with a default APIBinding, Ready rate`, 'workspaces/s', creates.map((r) => r.perSecond)),
      row('workspace create → Ready latency, p50', 'ms', creates.map((r) => r.p50Ms)),
      row('workspace create → Ready latency, p99', 'ms', creates.map((r) => r.p99Ms)),
    ];

    // 2. Wildcard watch through the VW vs the plain shard wildcard watch.
    const { srv, c, identity } = kept!;
    const clusters = creates[creates.length - 1]!.clusters.filter(Boolean);
    const provider = (JSON.parse(await c.expect(200, 'GET', `/clusters/${PROVIDER_PATH}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${EXPORT}`)) as Obj).status?.endpoints ?? [];
    const endpoint = provider[0]?.url;
    if (!endpoint) throw new Error('the endpoint slice has no URL');
    if (new URL(endpoint).origin !== new URL(srv.url).origin) throw new Error(`endpoint ${endpoint} is not on the shard ${srv.url}`);
    // On the shard, a bound resource's wildcard is addressed by its identity, as the VW forwards it (kcp-wire §3.3).
    const resourcePath = `/clusters/*/apis/${GROUP}/${VERSION}/${RESOURCE}`;
    const paths = { vw: `${new URL(endpoint).pathname}${resourcePath}`, plain: `${resourcePath}:${identity}` };
    ctx.log(`  watch figures on ${clusters.length} bound workspaces: VW ${paths.vw}`);
    const watch = { vw: [] as WatchRun[], plain: [] as WatchRun[] };
    let tags = 0;
    for (const kind of ['vw', 'plain'] as const) {
      const warm = await watchRun(srv, c, paths[kind], clusters, `warm${tags++}`, Math.min(2_000, lim.writes), 15_000);
      if (warm.problem) throw new Error(`${kind} watch warm-up: ${warm.problem}`);
    }
    for (let r = 0; r < ctx.runs; r++) {
      // Alternate, so that the growing store and any drift of the machine affect both alike.
      for (const kind of (r % 2 ? ['plain', 'vw'] : ['vw', 'plain']) as ('vw' | 'plain')[]) {
        const run = await watchRun(srv, c, paths[kind], clusters, `r${tags++}`, lim.writes, lim.watchMaxMs);
        watch[kind].push(run);
        ctx.log(
          `  ${kind === 'vw' ? 'VW' : 'plain'} wildcard watch, run ${watch[kind].length}/${ctx.runs}: ${Math.round(run.eventsPerSecond)} events/s ` +
            `(${run.delivered}/${run.expected} in ${round(run.seconds)} s, writer ${Math.round(run.writesPerSecond)} writes/s, ${round(run.cpuMicrosPerEvent)} µs CPU/event)` +
            `${run.problem ? ` PROBLEM: ${run.problem}` : ''}`,
        );
      }
    }
    const watchDetail = (runs: WatchRun[], path: string) => ({
      path,
      boundWorkspaces: clusters.length,
      writesPerRun: lim.writes,
      writes: 'half creates round-robin over the workspaces (namespace default), then one PUT update of each',
      writerConcurrency: WRITER_CONCURRENCY,
      secondsPerRun: runs.map((r) => round(r.seconds)),
      writerWritesPerSecond: runs.map((r) => round(r.writesPerSecond)),
      cpuMicrosPerEvent: runs.map((r) => round(r.cpuMicrosPerEvent)),
      bounds: { writes: lim.writes, maxMs: lim.watchMaxMs },
    });
    rows.push(
      row(`wildcard watch through the APIExport VW, ${fmtN} bound workspaces`, 'events/s', watch.vw.map((r) => r.eventsPerSecond), {
        ...problemOf(watch.vw),
        detail: watchDetail(watch.vw, paths.vw),
      }),
      row(`plain /clusters/* watch of the same resource on the shard`, 'events/s', watch.plain.map((r) => r.eventsPerSecond), {
        ...problemOf(watch.plain),
        detail: watchDetail(watch.plain, paths.plain),
      }),
      row('wildcard watch events/s, VW / plain', '%', watch.vw.map((r, i) => (100 * r.eventsPerSecond) / watch.plain[i]!.eventsPerSecond)),
    );
    return rows;
  } finally {
    if (kept) {
      kept.c.close();
      await kept.srv.stop();
    }
  }
}

export const kcpSection: BenchSection = {
  id: 'kcp',
  title: 'kcp layer at 1,000 workspaces: workspaces with a default APIBinding until Ready; wildcard watch through the APIExport VW vs /clusters/*',
  async run(ctx) {
    try {
      return await measure(ctx);
    } catch (e) {
      return [row('kcp benchmark', '-', [NaN], { problem: (e as Error).message })];
    }
  },
};
