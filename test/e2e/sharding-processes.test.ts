/**
 * Sharding between `kcp-mc run --sharding` processes against the reference server: 3 replicas over
 * 300 bound workspaces, every cluster reconciled by exactly one replica (metrics and a ledger) and
 * each replica caching only its owned clusters' objects (each replica reports its cache); a ledger
 * that every reconcile appends (replica, cluster, start, end) to proves that no two replicas ever
 * ran one cluster at the same time, through a kill -9, a replica whose Lease writes fail (it still
 * reads), SIGTERM and scaling 3 → 5 → 2, under write churn; a killed replica's clusters are taken
 * over within the peer duration + the fence duration + a few seconds, a stopped one's at once.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { waitFor } from '../../src/testing/index.js';
import { killRuns, Run } from '../support/cli.js';
import { crossReplicaOverlaps, type Mark } from '../support/ledger.js';
import { plainKubeConfig } from '../support/runtime.js';
import { bind, createConfigMap, createExport, createWorkspace, updateConfigMap } from '../support/kcp.js';
import { start } from '../support/server.js';

const TENANTS = 300;
const PEER_S = 4;
const FENCE_S = 8;
/** Concurrent requests while setting up and touching the tenants. */
const PARALLEL = 25;

// Besides the ledger, each replica reports which clusters it has engaged and which clusters' objects
// its ConfigMap cache holds (the endpoint's shared informer), rewritten atomically every 200 ms.
const MODULE = `import * as fs from 'node:fs';
const LEDGER = process.env.LEDGER;
const ID = process.env.KCP_MC_SHARD_ID;
const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
export const name = 'ledger';
export default function setup(manager) {
  let informer;
  const report = setInterval(() => {
    if (!informer) return;
    const owned = manager.clusters().filter((c) => c.state === 'engaged').map((c) => c.name);
    const out = process.env.CACHE_REPORT;
    fs.writeFileSync(out + '.tmp', JSON.stringify({ owned, cached: informer.store.clusters() }));
    fs.renameSync(out + '.tmp', out);
  }, 200);
  report.unref();
  manager.controller('ledger').for(CM).reconcile(async (req, ctx) => {
    informer ??= await ctx.cluster.informer(CM);
    fs.appendFileSync(LEDGER, JSON.stringify({ r: ID, c: req.cluster, n: req.name, e: 'start', t: Date.now() }) + '\\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    fs.appendFileSync(LEDGER, JSON.stringify({ r: ID, c: req.cluster, n: req.name, e: 'end', t: Date.now() }) + '\\n');
  });
}
`;

/** A plain-HTTP proxy to the server that, once `refuseLeaseWrites` is set, answers every Lease write with 503 (reads pass). */
interface LeaseProxy {
  readonly url: string;
  refuseLeaseWrites: boolean;
  close(): Promise<void>;
}

async function leaseProxy(target: string): Promise<LeaseProxy> {
  const upstream = new URL(target);
  const state = { refuseLeaseWrites: false };
  const server = http.createServer((req, res) => {
    if (state.refuseLeaseWrites && req.method !== 'GET' && /\/leases(\/|\?|$)/.test(req.url ?? '')) {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'lease writes refused by the test proxy', reason: 'ServiceUnavailable', code: 503 }));
      return;
    }
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get refuseLeaseWrites() {
      return state.refuseLeaseWrites;
    },
    set refuseLeaseWrites(v: boolean) {
      state.refuseLeaseWrites = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('kcp-mc run --sharding: replicas split the clusters, never overlapping (e2e)', function () {
  this.timeout(240_000);
  let srv: RunningServer;
  let dir: string;
  let kubeconfig: string;
  /** The provider workspace through a proxy that can refuse Lease writes. */
  let proxyKubeconfig: string;
  let proxy: LeaseProxy;
  let ledger: string;
  let moduleFile: string;
  const clusters: string[] = [];
  const paths = new Map<string, string>();
  const runs: Run[] = [];
  /** When each replica was killed with SIGKILL: its unfinished reconcile ends there. */
  const killedAt = new Map<string, number>();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-shards-'));
    ledger = path.join(dir, 'ledger.jsonl');
    fs.writeFileSync(ledger, '');
    moduleFile = path.join(dir, 'ledger.mjs');
    fs.writeFileSync(moduleFile, MODULE);
    srv = await start({ tls: false });
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'cms');
    for (let i = 0; i < TENANTS; i += PARALLEL) {
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL, TENANTS - i) }, async (_, k) => {
          const ws = `tenant-${i + k}`;
          const lc = await createWorkspace(srv, 'root', ws);
          await bind(srv, `root:${ws}`, 'root:provider', 'cms');
          await createConfigMap(srv, `root:${ws}`, 'cm', { v: '0' });
          clusters.push(lc);
          paths.set(lc, `root:${ws}`);
        }),
      );
    }
    kubeconfig = path.join(dir, 'provider.kubeconfig');
    fs.writeFileSync(kubeconfig, plainKubeConfig(`${srv.url}/clusters/root:provider`, srv.token).exportConfig());
    proxy = await leaseProxy(srv.url);
    proxyKubeconfig = path.join(dir, 'proxied.kubeconfig');
    fs.writeFileSync(proxyKubeconfig, plainKubeConfig(`${proxy.url}/clusters/root:provider`, srv.token).exportConfig());
  });
  after(async () => {
    await killRuns(runs);
    await proxy?.close();
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const replica = (id: string, config = kubeconfig): Run => {
    const r = new Run(
      [
        moduleFile,
        '--kubeconfig', config,
        '--endpointslice', 'cms',
        '--sharding',
        '--shard-peer-lease-duration', `${PEER_S}s`,
        '--shard-fence-lease-duration', `${FENCE_S}s`,
        '--metrics-bind-address', '127.0.0.1:0',
        '--health-probe-bind-address', '127.0.0.1:0',
        '--graceful-shutdown', '5s',
      ],
      { KCP_MC_SHARD_ID: id, LEDGER: ledger, CACHE_REPORT: cacheReport(id) },
    );
    runs.push(r);
    return r;
  };

  const cacheReport = (id: string): string => path.join(dir, `cache-${id}.json`);

  /** The ledger so far, read incrementally: it grows to tens of thousands of lines and is polled often. */
  const ledgerRead = { bytes: 0, partial: '', marks: [] as Mark[] };
  const marks = (): Mark[] => {
    const fd = fs.openSync(ledger, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size > ledgerRead.bytes) {
        const buf = Buffer.alloc(size - ledgerRead.bytes);
        fs.readSync(fd, buf, 0, buf.length, ledgerRead.bytes);
        ledgerRead.bytes = size;
        const lines = (ledgerRead.partial + buf.toString('utf8')).split('\n');
        ledgerRead.partial = lines.pop() ?? '';
        for (const l of lines) if (l) ledgerRead.marks.push(JSON.parse(l) as Mark);
      }
    } finally {
      fs.closeSync(fd);
    }
    return ledgerRead.marks;
  };

  /** Polls every 200 ms: each check reads the ledger or every replica's metrics. */
  const poll = <T>(check: () => T | Promise<T>, what: string, timeoutMs: number): Promise<NonNullable<T>> => waitFor(check, { what, timeoutMs, intervalMs: 200 });

  /** The clusters each replica started a reconcile of at or after `since`. */
  const startedSince = (since: number): Map<string, Set<string>> => {
    const by = new Map<string, Set<string>>();
    for (const m of marks()) {
      if (m.e !== 'start' || m.t < since) continue;
      let s = by.get(m.c);
      if (!s) by.set(m.c, (s = new Set()));
      s.add(m.r);
    }
    return by;
  };

  /** Every pair of reconciles of one cluster by two replicas that overlapped in time. */
  const overlaps = (): string[] => crossReplicaOverlaps(marks(), killedAt, Date.now());

  /** Touches every tenant's ConfigMap once (a reconcile of each cluster, wherever it is owned). */
  const touchAll = async (round: number): Promise<void> => {
    for (let i = 0; i < clusters.length; i += PARALLEL) {
      await Promise.all(clusters.slice(i, i + PARALLEL).map((c) => updateConfigMap(srv, paths.get(c)!, 'cm', { v: String(round) })));
    }
  };

  /** The clusters last reconciled by one of `ids` (before `before`). */
  const lastOf = (ids: readonly string[], before = Date.now()): string[] => {
    const last = new Map<string, string>();
    for (const m of marks()) if (m.e === 'start' && m.t <= before) last.set(m.c, m.r);
    return clusters.filter((c) => ids.includes(last.get(c) ?? ''));
  };

  /** Waits until every one of `lost` was reconciled after `since` by a replica not in `gone`; returns how long that took. */
  const takenOver = async (lost: string[], gone: readonly string[], since: number, what: string): Promise<number> => {
    await poll(() => {
      const by = startedSince(since);
      return lost.every((c) => [...(by.get(c) ?? [])].some((r) => !gone.includes(r)));
    }, what, (PEER_S + FENCE_S + 25) * 1000);
    return Date.now() - since;
  };

  /** Each replica's report of the clusters it engaged and those its ConfigMap cache holds (undefined before the first). */
  const reported = (id: string): { owned: string[]; cached: string[] } | undefined => {
    try {
      return JSON.parse(fs.readFileSync(cacheReport(id), 'utf8')) as { owned: string[]; cached: string[] };
    } catch {
      return undefined;
    }
  };

  // The first three replicas, shared by both tests: the second hands their clusters around.
  let r0: Run, r1: Run, r2: Run;

  it('3 replicas over 300 bound workspaces: every cluster reconciled by exactly one replica (metrics and a recorder); each replica\'s cache holds only its owned clusters\' objects', async () => {
    const t = Date.now();
    r0 = replica('r0');
    r1 = replica('r1');
    r2 = replica('r2', proxyKubeconfig);
    const ids = ['r0', 'r1', 'r2'];
    // Replicas that start apart own everything for a moment, then hand off: wait until the group
    // settled (each sees three peers; together they own every cluster once).
    const metricsURLs = await Promise.all([r0, r1, r2].map(async (r) => (await r.waitLog((l) => l['msg'] === 'serving metrics', 'metrics address'))['url'] as string));
    const gauge = async (url: string, name: string): Promise<number> => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(url)).text())?.[1] ?? NaN);
    await poll(async () => {
      const peers = await Promise.all(metricsURLs.map((u) => gauge(u, 'kcp_mc_shard_peers')));
      const owned = await Promise.all(metricsURLs.map((u) => gauge(u, 'kcp_mc_shard_owned_clusters')));
      return peers.every((p) => p === 3) && owned.reduce((a, b) => a + b, 0) === clusters.length;
    }, 'the group settled: three peers, every cluster owned once', 120_000);
    // Each replica's cache holds exactly its owned clusters once their fills are done; together they cover every cluster once.
    const reports = await poll(() => {
      const rs = ids.map(reported);
      if (rs.some((r) => !r || JSON.stringify([...r.owned].sort()) !== JSON.stringify([...r.cached].sort()))) return undefined;
      const all = rs.flatMap((r) => r!.owned);
      return all.length === clusters.length && new Set(all).size === clusters.length ? rs : undefined;
    }, "every replica's cache holds exactly its owned clusters", 30_000);
    const metricOwned = await Promise.all(metricsURLs.map((u) => gauge(u, 'kcp_mc_shard_owned_clusters')));
    for (const [i, id] of ids.entries()) expect(reports![i]!.owned.length, `${id}: owned clusters, reported and by metric`).to.equal(metricOwned[i]);
    const settled = Date.now();
    await touchAll(-1);
    await poll(() => startedSince(settled).size === clusters.length, 'every cluster reconciled after the group settled', 60_000);
    const first = startedSince(settled);
    for (const c of clusters) expect([...first.get(c)!], `cluster ${c} reconciled by one replica`).to.have.length(1);
    for (const [i, id] of ids.entries()) {
      const mine = clusters.filter((c) => first.get(c)!.has(id));
      expect(mine.length, `${id}'s share`).to.be.greaterThan(TENANTS / 10);
      // The recorder agrees with ownership: a replica reconciled exactly the clusters it owns.
      expect(mine.sort(), `clusters ${id} reconciled`).to.deep.equal([...reports![i]!.owned].sort());
    }
    // Still exactly the owned clusters after the reconciles (nothing else was cached meanwhile).
    for (const id of ids) {
      const r = reported(id)!;
      expect([...r.cached].sort(), `clusters in ${id}'s cache`).to.deep.equal([...r.owned].sort());
    }
    process.stdout.write(`      ${TENANTS} workspaces: group settled, cached and reconciled once in ${Date.now() - t} ms (shares ${reports!.map((r) => r!.owned.length).join('/')})\n`);
  });

  it('hands the clusters off through kill -9, failing Lease writes, SIGTERM and scaling 3 → 5 → 2; never runs one cluster on two replicas at once', async () => {
    expect(r2, 'the replicas of the first test').to.not.equal(undefined);
    // Write churn for the rest of the test: every cluster is touched again and again.
    let churn = true;
    let round = 0;
    const writer = (async () => {
      while (churn && round < 500) await touchAll(++round);
    })();
    const figures: Record<string, number> = {};
    try {
      // kill -9: r0's clusters come back once its peer Lease and their fences expired.
      const t0 = Date.now();
      const lost0 = lastOf(['r0'], t0);
      killedAt.set('r0', t0);
      await r0.stop('SIGKILL');
      figures['kill -9'] = await takenOver(lost0, ['r0'], t0, "r0's clusters taken over after kill -9");

      // r2 can still read but no longer write Leases: it stops its clusters' work before their
      // fences expire; r1 takes them once r2's peer Lease and the fences have expired.
      const t1 = Date.now();
      const lost2 = lastOf(['r2'], t1);
      expect(lost2.length).to.be.greaterThan(0);
      proxy.refuseLeaseWrites = true;
      figures['Lease writes failing'] = await takenOver(lost2, ['r2'], t1, "r2's clusters taken over while its Lease writes fail");
      expect((await r2.stop('SIGTERM')).code, r2.err.slice(-2000)).to.equal(0);
      killedAt.set('r2', Date.now());

      // Scale 1 → 5: four replicas join and take their shares.
      const t2 = Date.now();
      const joined = ['r3', 'r4', 'r5', 'r6'].map((id) => replica(id));
      await poll(() => {
        const by = new Set([...startedSince(t2).values()].flatMap((x) => [...x]));
        return ['r3', 'r4', 'r5', 'r6'].every((id) => by.has(id));
      }, 'the new replicas reconcile', 60_000);
      // 5 → 2: three stop with SIGTERM and hand off at once.
      const t3 = Date.now();
      const leaving = [r1, joined[0]!, joined[1]!];
      const lost3 = lastOf(['r1', 'r3', 'r4'], t3);
      // Together, as a scale-down does: one after the other, the figure would add up their exits.
      const exits = await Promise.all(leaving.map((r) => r.stop('SIGTERM')));
      for (const [i, r] of leaving.entries()) expect(exits[i]!.code, r.err.slice(-2000)).to.equal(0);
      figures['SIGTERM of 3 of 5'] = await takenOver(lost3, ['r1', 'r3', 'r4'], t3, 'the stopped replicas\' clusters taken over');
      // Released fences, not expired ones: a fence another replica held is taken over no sooner
      // than a full fence duration after it was first seen, so most clusters reconciled elsewhere
      // before that were handed off at once (the median: a few had moved to the joiners already).
      const firstElsewhere = new Map<string, number>();
      for (const m of marks()) if (m.e === 'start' && m.t >= t3 && lost3.includes(m.c) && !['r1', 'r3', 'r4'].includes(m.r) && !firstElsewhere.has(m.c)) firstElsewhere.set(m.c, m.t - t3);
      const times = [...firstElsewhere.values()].sort((a, b) => a - b);
      figures['SIGTERM, median cluster'] = times[Math.floor(times.length / 2)]!;
      process.stdout.write(`      takeover (peer ${PEER_S}s, fence ${FENCE_S}s): ${Object.entries(figures).map(([k, v]) => `${k} ${v} ms`).join('; ')}\n`);
      expect(figures['kill -9']).to.be.below((PEER_S + FENCE_S + 15) * 1000);
      expect(figures['SIGTERM, median cluster']).to.be.below(FENCE_S * 1000);
      // Every one of the ~180 clusters: fence, fill and reconcile on two replicas, under churn.
      expect(figures['SIGTERM of 3 of 5']).to.be.below((PEER_S + FENCE_S) * 1000 + 10_000);
    } finally {
      churn = false;
      await writer;
    }
    await Promise.all(runs.filter((r) => r.child.exitCode === null && r.child.signalCode === null).map((r) => r.stop('SIGTERM')));
    expect(overlaps(), 'two replicas ran one cluster at the same time').to.deep.equal([]);
    for (const r of runs.filter((x) => x !== r0)) expect(r.child.exitCode, r.err.slice(-2000)).to.equal(0);
  });
});
