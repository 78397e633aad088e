/**
 * Section "aggregate-list": `AggregateLister` over two shards holding 100,000 ConfigMaps (50,000
 * each, spread over bound consumer clusters). Each shard is a reference server in a child process
 * of its own (this file, forked), as kcp shards are separate processes: a shard's list is served
 * on its own event loop, so reading the shards at once can overlap their work.
 *
 * Figures (medians): a cold list, with fresh endpoints (discovery, informers, caches) every run,
 * reading the shards in parallel (`list`) and one after the other (`sequentialList`, what the Go
 * provider does); their ratio; and a warm list, the same lister asked again (a cache read).
 */
import { fileURLToPath } from 'node:url';
import { Transport, type KubernetesObject } from '../../src/client/index.js';
import { AggregateLister, type AggregateList } from '../../src/provider/aggregate.js';
import { EndpointSet } from '../../src/provider/endpoint-set.js';
import { Endpoint } from '../../src/provider/endpoint.js';
import { FieldIndexes } from '../../src/provider/indexes.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HttpClient } from './client.js';
import { IpcChild } from './ipc.js';
import { kubeConfigOf, memoryAfterGC, quietLogger, row } from './runtime-fixture.js';
import type { Started } from './runtime-server.js';
import { median, nowMs, round, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const SECTION = 'aggregate-list';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const PROVIDER = 'root:agg-provider';
const EXPORT = 'agg';
const SLICES = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';

/** What a shard child answers once seeded. */
interface Seeded extends Started {
  /** The APIExport VW URL of this shard. */
  vw: string;
  clusters: string[];
  /** ConfigMaps created (each consumer also holds its kube-root-ca.crt). */
  created: number;
  seconds: number;
}

type ShardRequest = { op: 'seed'; tls: boolean; consumers: number; perConsumer: number } | { op: 'stop' };

// ---- the shard child ----

async function until(what: string, maxMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = nowMs() + maxMs;
  while (!(await check())) {
    if (nowMs() > deadline) throw new Error(`${what} not within ${maxMs} ms`);
    await waitFor(() => false, 20);
  }
}

class ShardChild {
  private srv: RunningServer | undefined;
  private c: HttpClient | undefined;

  async handle(r: ShardRequest): Promise<unknown> {
    if (r.op === 'seed') return this.seed(r.tls, r.consumers, r.perConsumer);
    this.c?.close();
    await this.srv?.stop();
    return null;
  }

  private async seed(tls: boolean, consumers: number, perConsumer: number): Promise<Seeded> {
    const t0 = nowMs();
    const srv = (this.srv = await startServer({ port: 0, bind: '127.0.0.1', tls }));
    const c = (this.c = new HttpClient(srv, 64, 30_000));
    const provider = srv.createLogicalCluster(undefined, { path: PROVIDER });
    await c.expect(201, 'POST', `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports`, JSON.stringify({
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: EXPORT },
      spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }] },
    }));
    const clusters = Array.from({ length: consumers }, () => srv.createLogicalCluster());
    for (const cl of clusters) {
      await c.expect(201, 'POST', `/clusters/${cl}/apis/apis.kcp.io/v1alpha2/apibindings`, JSON.stringify({
        apiVersion: 'apis.kcp.io/v1alpha2',
        kind: 'APIBinding',
        metadata: { name: EXPORT },
        spec: {
          reference: { export: { path: PROVIDER, name: EXPORT } },
          permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' }],
        },
      }));
    }
    for (const cl of clusters) {
      await until(`binding in ${cl} Ready`, 30_000, async () => {
        const b = JSON.parse(await c.expect(200, 'GET', `/clusters/${cl}/apis/apis.kcp.io/v1alpha2/apibindings/${EXPORT}`)) as { status?: { conditions?: { type?: string; status?: string }[] } };
        return b.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
      });
    }
    let vw = '';
    await until('the slice URL', 30_000, async () => {
      const s = await c.request('GET', `/clusters/${PROVIDER}${SLICES}/${EXPORT}`);
      vw = s.status === 200 ? ((JSON.parse(s.text) as { status?: { endpoints?: { url?: string }[] } }).status?.endpoints?.[0]?.url ?? '') : '';
      return vw !== '';
    });
    // The bulk path of the other sections: many creates in flight over keep-alive connections.
    const total = consumers * perConsumer;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const cl = clusters[i % consumers]!;
        const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default', labels: { app: 'agg-bench', slot: String(i % 10) } }, data: { owner: `owner-${i % 100}`, pad: 'x'.repeat(128) } });
        await c.expect(201, 'POST', `/clusters/${cl}/api/v1/namespaces/default/configmaps`, body);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return { url: srv.url, token: srv.token, ca: srv.ca, port: srv.port, vw, clusters, created: total, seconds: (nowMs() - t0) / 1000 };
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const child = new ShardChild();
  process.on('message', (m: { id: number; req: ShardRequest }) => {
    child.handle(m.req).then(
      (result) => process.send!({ id: m.id, ok: true, result }),
      (e: unknown) => process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.on('disconnect', () => void child.handle({ op: 'stop' }).finally(() => process.exit(0)));
}

// ---- the section ----

/** One shard child over IPC. */
class ShardProcess {
  private readonly child = new IpcChild<ShardRequest>(fileURLToPath(import.meta.url), 'shard process');

  call<T>(req: ShardRequest, maxMs: number): Promise<T> {
    return this.child.call<T>(req, maxMs);
  }

  stop(): Promise<void> {
    return this.child.stop({ op: 'stop' });
  }
}

const noRecorder = { publish: async () => undefined, stop: () => undefined };

/** Fresh endpoints on the shards' VW URLs: new discovery, informers and caches. */
function freshSet(shards: Seeded[]): { set: EndpointSet; close(): void } {
  const log = quietLogger();
  const set = new EndpointSet();
  const eps = shards.map((s) => new Endpoint({ transport: Transport.fromKubeConfig(kubeConfigOf(s)), url: s.vw, indexes: new FieldIndexes(), recorder: () => noRecorder, log: log.sink() }));
  for (const ep of eps) set.add(ep);
  return {
    set,
    close: () => {
      set.close();
      for (const ep of eps) ep.close();
    },
  };
}

interface Run {
  coldMs: number;
  warmMs: number;
  items: number;
  problem?: string;
}

async function coldRun(shards: Seeded[], mode: 'parallel' | 'sequential', want: number, maxMs: number): Promise<Run> {
  const { set, close } = freshSet(shards);
  const lister = new AggregateLister(set, { log: quietLogger() });
  const list = (): Promise<AggregateList<KubernetesObject>> => (mode === 'parallel' ? lister.list(CM, { syncTimeoutMs: maxMs }) : lister.sequentialList(CM, { syncTimeoutMs: maxMs }));
  try {
    const t0 = nowMs();
    const cold = await list();
    const coldMs = nowMs() - t0;
    const t1 = nowMs();
    const warm = await list();
    const warmMs = nowMs() - t1;
    const problems: string[] = [];
    for (const r of [cold, warm]) {
      if (r.partial) problems.push(`partial: ${r.errors.map((e) => `${e.endpoint}: ${e.error.message}`).join('; ')}`);
      if (r.items.length !== want) problems.push(`${r.items.length} items, want ${want}`);
    }
    return { coldMs, warmMs, items: cold.items.length, ...(problems.length ? { problem: problems.join('; ') } : {}) };
  } finally {
    lister.close();
    close();
  }
}

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const perShard = ctx.quick ? 2_000 : 50_000;
  const consumers = ctx.quick ? 4 : 20;
  const maxMs = ctx.quick ? 30_000 : 120_000;
  const procs = [new ShardProcess(), new ShardProcess()];
  try {
    ctx.log(`  seeding 2 shards × ${perShard.toLocaleString('en-US')} ConfigMaps (${consumers} bound consumers each)`);
    const shards = await Promise.all(procs.map((p) => p.call<Seeded>({ op: 'seed', tls: ctx.tls, consumers, perConsumer: perShard / consumers }, 900_000)));
    // Every consumer also holds the kube-root-ca.crt its namespace got.
    const want = shards.reduce((n, s) => n + s.created + s.clusters.length, 0);
    ctx.log(`  seeded in ${shards.map((s) => s.seconds.toFixed(1)).join(' s, ')} s; ${want.toLocaleString('en-US')} objects to list`);
    const parallel: Run[] = [];
    const sequential: Run[] = [];
    // One warm-up pair (JIT, connections of the server side), then counted pairs, alternating which goes first.
    for (let i = -1; i < ctx.runs; i++) {
      const order: ('parallel' | 'sequential')[] = i % 2 === 0 ? ['sequential', 'parallel'] : ['parallel', 'sequential'];
      for (const mode of order) {
        memoryAfterGC();
        const r = await coldRun(shards, mode, want, maxMs);
        ctx.log(`  ${i < 0 ? 'warm-up' : `run ${i + 1}`} ${mode}: cold ${r.coldMs.toFixed(0)} ms, warm ${r.warmMs.toFixed(1)} ms${r.problem ? ` (${r.problem})` : ''}`);
        if (i >= 0) (mode === 'parallel' ? parallel : sequential).push(r);
      }
    }
    const problem = (rs: Run[]): { problem?: string } => {
      const p = rs.map((r) => r.problem).filter(Boolean).join(' | ');
      return p ? { problem: p } : {};
    };
    const detail = { shards: 2, objects: want, perShard: shards.map((s) => s.created + s.clusters.length), consumersPerShard: consumers, seedSeconds: shards.map((s) => round(s.seconds)), note: 'each shard a reference server in its own process; fresh endpoints (discovery, informers) every cold run' };
    const ratios = parallel.map((p, i) => sequential[i]!.coldMs / p.coldMs);
    const n = want.toLocaleString('en-US');
    return [
      row(SECTION, `cold list ${n} ConfigMaps, 2 shards, parallel`, 'ms', parallel.map((r) => r.coldMs), { ...problem(parallel), detail }),
      row(SECTION, `cold list ${n} ConfigMaps, 2 shards, sequential (Go provider)`, 'ms', sequential.map((r) => r.coldMs), problem(sequential)),
      row(SECTION, 'cold list speed-up, sequential ÷ parallel', 'x', ratios, { target: { min: 1, why: 'reading the shards at once must not be slower than one after the other' }, detail: { medianParallelMs: round(median(parallel.map((r) => r.coldMs))), medianSequentialMs: round(median(sequential.map((r) => r.coldMs))) } }),
      row(SECTION, `warm list ${n} ConfigMaps (cache read), parallel`, 'ms', parallel.map((r) => r.warmMs), problem(parallel)),
    ];
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

/** The section, registered in sections.ts. */
export const aggregateSection: BenchSection = { id: SECTION, title: 'cross-shard list: 100,000 ConfigMaps on two shards, parallel vs sequential, cold and warm', run };
