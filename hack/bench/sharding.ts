/**
 * Section "sharding": a controller group sharded across replica processes (Lease sharding, see
 * src/sharding) against the reference server in a child process (runtime-server.ts), with W bound
 * workspaces × 10 ConfigMaps (W = 10,000; 60 with --quick; KCP_BENCH_SHARDING_WORKSPACES sets
 * another). Each replica is a process of its own
 * (shard-replica.ts): an APIExportProvider, a Manager with `sharding`, and a controller for
 * ConfigMaps whose reconciler only reads the object from the cache.
 *
 * Every counted run goes through four groups, one after the other, on one server:
 *
 * 1. one replica: settle (every cluster engaged and each of its objects reconciled once), heap,
 *    then touch every ConfigMap once and time until every touch was reconciled (reconciles/s),
 *    with the CPU seconds of the replica and of the server over that window;
 * 2. two replicas: the same, then SIGTERM one and time until each of its clusters is reconciled by
 *    the other (graceful hand-off);
 * 3. four replicas: settle and heap;
 * 4. two replicas with 5 s peer and fence Leases: kill -9 one and time until each of its clusters
 *    is reconciled by the other.
 *
 * Fence durations grow beyond 20 s and 5 s with W so the group's fence renewals stay within
 * FENCE_WRITES_PER_S (30 s for both at 10,000 workspaces); the row names give the durations used.
 *
 * Heap is `heapUsed` after two full collections in the replica; the ratio rows divide the largest
 * replica's heap by the single replica's of the same run (the largest is what a memory limit must
 * fit). The figures are whatever the code does: while every replica caches every cluster's objects
 * the ratio stays near 1.
 */
import { ReplicaProcess, type ReplicaConfig, type ReplicaHeap, type ReplicaStatus } from './shard-replica.js';
import { problemOf, row, ServerProcess, sleep } from './runtime-fixture.js';
import { quantile, round } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const SECTION = 'sharding';
const PER_CLUSTER = 10;
const GROUP = 'bench-shards';
const MIB = 2 ** 20;

/** "1 replica", "2 replicas". */
function replicas(k: number): string {
  return `${k} replica${k === 1 ? '' : 's'}`;
}

interface Limits {
  workspaces: number;
  /** Bound of one settle, one touch and one hand-off. */
  maxMs: number;
  /** Leases of groups 1–3 (the defaults of `kcp-mc run --sharding`) and of group 4. */
  peerMs: number;
  fenceMs: number;
  shortMs: number;
}

/** Overrides W (e.g. a smaller full run on a busy machine); the row names carry the W measured. */
const WORKSPACES_ENV = 'KCP_BENCH_SHARDING_WORKSPACES';

/**
 * Fence renewals the group may send per second: every owned cluster's fence is written about three
 * times per fence duration, so W clusters cost 3·W/duration writes/s. Beyond this budget the fence
 * durations grow with W (the defaults at 10,000 workspaces would be 1,500 writes/s, and 5 s Leases
 * 6,000/s: more than the reference server sustains next to the replicas on two cores).
 */
const FENCE_WRITES_PER_S = 1000;

function limits(ctx: BenchContext): Limits {
  const lim = ctx.quick ? { workspaces: 60, maxMs: 90_000 } : { workspaces: 10_000, maxMs: 900_000 };
  const env = process.env[WORKSPACES_ENV];
  if (env !== undefined) {
    const w = Number(env);
    if (!Number.isInteger(w) || w < 2) throw new Error(`${WORKSPACES_ENV} must be an integer ≥ 2, got "${env}"`);
    lim.workspaces = w;
  }
  const floor = Math.ceil((3 * lim.workspaces) / FENCE_WRITES_PER_S) * 1000;
  return { ...lim, peerMs: 30_000, fenceMs: Math.max(20_000, floor), shortMs: Math.max(5_000, floor) };
}

/** What one counted run measured; NaN where a phase failed (its problem says why). */
interface Run {
  settleMs: Record<number, number>;
  /** Heap of each replica, by group size. */
  heap: Record<number, ReplicaHeap[]>;
  rate: Record<number, number>;
  cpu: Record<number, { replicas: number[]; server: number; touchSeconds: number; windowSeconds: number }>;
  graceful?: Latencies;
  killed?: Latencies;
  problems: string[];
}

interface Latencies {
  p50: number;
  p99: number;
  clusters: number;
}

/** Polls the replicas until they form a group of `reps.length` that engaged all `w` clusters between them and reconciled each object once. */
async function settle(reps: ReplicaProcess[], w: number, maxMs: number): Promise<number> {
  const t0 = Date.now();
  let last: ReplicaStatus[] = [];
  while (Date.now() - t0 < maxMs) {
    last = await Promise.all(reps.map((r) => r.status()));
    const engaged = last.reduce((n, s) => n + s.engaged, 0);
    if (engaged === w && last.every((s) => s.peers === reps.length && s.reported === w && s.unreconciled === 0 && s.queued === 0)) return Date.now() - t0;
    await sleep(250);
  }
  throw new Error(`${reps.length} replica(s) not settled within ${maxMs} ms: ${JSON.stringify(last)}`);
}

/** A group of `n` fresh replica processes, started. */
async function group(n: number, tag: string, cfg: Omit<ReplicaConfig, 'id'>, all: ReplicaProcess[]): Promise<ReplicaProcess[]> {
  const reps = Array.from({ length: n }, (_, i) => new ReplicaProcess(`${tag}-${i}`));
  all.push(...reps);
  await Promise.all(reps.map((r) => r.start(cfg)));
  return reps;
}

/** Touches every ConfigMap once; the reconciles/s until the replicas saw them all, and the CPU each process used meanwhile. */
async function touchAll(srv: ServerProcess, reps: ReplicaProcess[], clusters: string[], token: string, maxMs: number): Promise<{ rate: number; replicas: number[]; server: number; touchSeconds: number; windowSeconds: number }> {
  const want = clusters.length * PER_CLUSTER;
  await Promise.all(reps.map((r) => r.touchToken(token)));
  const cpu0 = await Promise.all(reps.map((r) => r.cpuSeconds()));
  const srv0 = await srv.cpuSeconds();
  const touched = await srv.touch(clusters, PER_CLUSTER, token, maxMs);
  if (touched.failed) throw new Error(`touch: ${touched.failed} writes failed: ${touched.firstError ?? ''}`);
  let seen = 0;
  let lastAt = 0;
  while (Date.now() - touched.startedAt < maxMs) {
    const counts = await Promise.all(reps.map((r) => r.touched()));
    seen = counts.reduce((n, c) => n + c.count, 0);
    lastAt = Math.max(...counts.map((c) => c.lastAt));
    if (seen >= want) break;
    await sleep(100);
  }
  const cpu1 = await Promise.all(reps.map((r) => r.cpuSeconds()));
  const srv1 = await srv.cpuSeconds();
  if (seen < want) throw new Error(`${seen}/${want} touches reconciled within ${maxMs} ms`);
  const windowSeconds = (lastAt - touched.startedAt) / 1000;
  return { rate: want / windowSeconds, replicas: cpu1.map((c, i) => c - cpu0[i]!), server: srv1 - srv0, touchSeconds: (touched.endedAt - touched.startedAt) / 1000, windowSeconds };
}

/** Stops `victim` with `sig`; the time until each of its clusters was first reconciled by `survivor`. */
async function handOff(victim: ReplicaProcess, survivor: ReplicaProcess, sig: 'SIGTERM' | 'SIGKILL', maxMs: number): Promise<Latencies> {
  const lost = await victim.engaged();
  await survivor.mark();
  const t0 = Date.now();
  victim.signal(sig);
  let first = new Map<string, number>();
  while (Date.now() - t0 < maxMs) {
    first = await survivor.firstReconciles();
    if (lost.every((c) => first.has(c))) break;
    await sleep(100);
  }
  const lat = lost.filter((c) => first.has(c)).map((c) => first.get(c)! - t0);
  if (lat.length < lost.length) throw new Error(`${lat.length}/${lost.length} clusters of the ${sig === 'SIGTERM' ? 'stopped' : 'killed'} replica reconciled by the other within ${maxMs} ms`);
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), clusters: lost.length };
}

/**
 * How long a group may take to stop gracefully. A replica releases its fences in turns (16 writes
 * in flight), which takes tens of seconds at 10,000 clusters; a group stopped sooner would leave
 * fences held until they expire, and the next group's start would measure that wait.
 */
const STOP_MS = 300_000;

/** Stops the replicas gracefully, each within STOP_MS; the ms that took. */
async function stopAll(reps: ReplicaProcess[]): Promise<number> {
  const t0 = Date.now();
  await Promise.all(reps.map((r) => r.stop(STOP_MS)));
  return Date.now() - t0;
}

/** One counted run: the four groups of the header, each stopped before the next starts. */
async function oneRun(ctx: BenchContext, srv: ServerProcess, clusters: string[], lim: Limits, run: number): Promise<Run> {
  const w = clusters.length;
  const res: Run = { settleMs: {}, heap: {}, rate: {}, cpu: {}, problems: [] };
  const cfg = { server: srv.info, group: GROUP, peerLeaseMs: lim.peerMs, fenceLeaseMs: lim.fenceMs };
  const all: ReplicaProcess[] = [];
  const phase = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      res.problems.push(`${what}: ${(e as Error).message}`);
      ctx.log(`  run ${run + 1}: ${what} PROBLEM: ${(e as Error).message}`);
    } finally {
      const stopping = all.splice(0);
      const ms = await stopAll(stopping);
      if (stopping.length) ctx.log(`  run ${run + 1}: ${what}: stopped gracefully in ${Math.round(ms)} ms`);
    }
  };
  const settled = async (reps: ReplicaProcess[]) => {
    const ms = await settle(reps, w, lim.maxMs);
    res.settleMs[reps.length] = ms;
    res.heap[reps.length] = await Promise.all(reps.map((r) => r.heap()));
    ctx.log(`  run ${run + 1}: ${replicas(reps.length)} settled in ${Math.round(ms)} ms; heapUsed ${res.heap[reps.length]!.map((h) => (h.heapUsed / MIB).toFixed(1)).join(' / ')} MiB`);
  };
  const throughput = async (reps: ReplicaProcess[]) => {
    const t = await touchAll(srv, reps, clusters, `r${run}-${reps.length}`, lim.maxMs);
    res.rate[reps.length] = t.rate;
    res.cpu[reps.length] = t;
    ctx.log(`  run ${run + 1}: ${replicas(reps.length)}: ${Math.round(t.rate)} reconciles/s (writes took ${t.touchSeconds.toFixed(1)} s, all reconciled at ${t.windowSeconds.toFixed(1)} s); CPU s replicas ${t.replicas.map((c) => c.toFixed(1)).join(' / ')}, server ${t.server.toFixed(1)}`);
  };
  await phase('1 replica', async () => {
    const reps = await group(1, `r${run}-a`, cfg, all);
    await settled(reps);
    await throughput(reps);
  });
  await phase('2 replicas', async () => {
    const reps = await group(2, `r${run}-b`, cfg, all);
    await settled(reps);
    await throughput(reps);
    res.graceful = await handOff(reps[0]!, reps[1]!, 'SIGTERM', lim.maxMs);
    ctx.log(`  run ${run + 1}: graceful hand-off of ${res.graceful.clusters} clusters: p50 ${Math.round(res.graceful.p50)} ms, p99 ${Math.round(res.graceful.p99)} ms`);
  });
  await phase('4 replicas', async () => settled(await group(4, `r${run}-c`, cfg, all)));
  await phase('2 replicas, kill -9', async () => {
    const reps = await group(2, `r${run}-d`, { ...cfg, peerLeaseMs: lim.shortMs, fenceLeaseMs: lim.shortMs }, all);
    await settle(reps, w, lim.maxMs);
    res.killed = await handOff(reps[0]!, reps[1]!, 'SIGKILL', lim.maxMs);
    ctx.log(`  run ${run + 1}: kill -9 hand-off of ${res.killed.clusters} clusters: p50 ${Math.round(res.killed.p50)} ms, p99 ${Math.round(res.killed.p99)} ms`);
  });
  return res;
}

function rows(runs: Run[], w: number, lim: Limits): BenchRow[] {
  const n = w.toLocaleString('en-US');
  const objs = `${n} workspaces × ${PER_CLUSTER} ConfigMaps`;
  const problems = problemOf(runs.map((r) => (r.problems.length ? { problem: r.problems.join('; ') } : {})));
  const largest = (r: Run, k: number) => (r.heap[k] ? Math.max(...r.heap[k].map((h) => h.heapUsed)) : NaN);
  const out: BenchRow[] = [];
  for (const k of [1, 2, 4]) {
    out.push(
      row(SECTION, `${replicas(k)} start → every cluster engaged and each object reconciled once, ${objs}`, 'ms', runs.map((r) => r.settleMs[k] ?? NaN), problems),
      row(SECTION, k === 1 ? `heapUsed of 1 replica after full GC, settled, ${objs}` : `heapUsed of the largest of ${k} replicas after full GC, settled, ${objs}`, 'MiB', runs.map((r) => largest(r, k) / MIB), {
        detail: { heapUsedMiB: runs.map((r) => (r.heap[k] ?? []).map((h) => round(h.heapUsed / MIB))), rssMiB: runs.map((r) => (r.heap[k] ?? []).map((h) => round(h.rss / MIB))) },
      }),
    );
  }
  const goal = { 2: 0.6, 4: 0.35 } as const;
  for (const k of [2, 4] as const) {
    out.push(row(SECTION, `heap ratio, largest of ${k} replicas ÷ 1 replica`, 'x', runs.map((r) => largest(r, k) / largest(r, 1)), { target: { max: goal[k], why: `issue: ≤ ${goal[k]}× of one replica at ${k}` } }));
  }
  for (const k of [1, 2]) {
    out.push(
      row(SECTION, `reconciles/s of ${replicas(k)}: touch all ${(w * PER_CLUSTER).toLocaleString('en-US')} ConfigMaps once → all reconciled (64 writes in flight)`, 'reconciles/s', runs.map((r) => r.rate[k] ?? NaN), {
        detail: { writesSeconds: runs.map((r) => round(r.cpu[k]?.touchSeconds ?? NaN)), allReconciledSeconds: runs.map((r) => round(r.cpu[k]?.windowSeconds ?? NaN)) },
      }),
      row(SECTION, `CPU s per replica during that touch, ${replicas(k)}${k > 1 ? ' (mean)' : ''}`, 's', runs.map((r) => (r.cpu[k] ? r.cpu[k].replicas.reduce((a, b) => a + b, 0) / k : NaN)), { detail: { perReplica: runs.map((r) => (r.cpu[k]?.replicas ?? []).map(round)) } }),
      row(SECTION, `CPU s of the server during that touch, ${replicas(k)}`, 's', runs.map((r) => r.cpu[k]?.server ?? NaN)),
    );
  }
  const hand = (what: string, pick: (r: Run) => Latencies | undefined) => {
    for (const q of ['p50', 'p99'] as const) {
      out.push(row(SECTION, `${what} → each of its clusters reconciled by the other, ${q}`, 'ms', runs.map((r) => pick(r)?.[q] ?? NaN), { detail: { clusters: runs.map((r) => pick(r)?.clusters ?? 0) } }));
    }
  };
  hand(`SIGTERM 1 of 2 replicas (peer ${lim.peerMs / 1000} s, fence ${lim.fenceMs / 1000} s)`, (r) => r.graceful);
  hand(`kill -9 1 of 2 replicas (peer and fence Leases ${lim.shortMs / 1000} s)`, (r) => r.killed);
  return out;
}

async function measure(ctx: BenchContext): Promise<BenchRow[]> {
  const lim = limits(ctx);
  const srv = new ServerProcess();
  try {
    await srv.start(ctx.tls);
    const made = await srv.workspaces(lim.workspaces, { prefix: 'shard', maxMs: 900_000 });
    const filled = await srv.fill(made.clusters, PER_CLUSTER, 900_000);
    if (filled.failed) throw new Error(`creating the ConfigMaps: ${filled.failed} failed: ${filled.firstError ?? ''}`);
    ctx.log(`  setup: ${made.clusters.length} bound workspaces in ${round(made.seconds)} s, ${filled.ok} ConfigMaps in ${round((filled.endedAt - filled.startedAt) / 1000)} s`);
    const runs: Run[] = [];
    for (let r = 0; r < ctx.runs; r++) runs.push(await oneRun(ctx, srv, made.clusters, lim, r));
    return rows(runs, made.clusters.length, lim);
  } finally {
    await srv.stop();
  }
}

/** The section, registered in sections.ts. */
export const shardingSection: BenchSection = {
  id: SECTION,
  title: 'Sharded replicas (1, 2, 4 processes) on 10,000 bound workspaces × 10 ConfigMaps: heap per replica, hand-off time, reconciles/s with CPU per process',
  async run(ctx) {
    try {
      return await measure(ctx);
    } catch (e) {
      return [row(SECTION, 'sharding benchmark', '-', [NaN], { problem: (e as Error).stack ?? String(e) })];
    }
  },
};
