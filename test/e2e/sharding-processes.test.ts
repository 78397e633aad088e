/**
 * Sharding between `kcp-mc run --sharding` processes against the reference server: every cluster is
 * reconciled by exactly one replica; a ledger that every reconcile appends (replica, cluster, start,
 * end) to proves that no two replicas ever ran one cluster at the same time, through a kill -9, a
 * SIGTERM and a scale-up, under write churn; a killed replica's clusters are taken over within the
 * peer duration + the fence duration + a few seconds, a stopped one's at once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { killRuns, Run, writeKubeconfig } from '../support/cli.js';
import { bind, createConfigMap, createExport, createWorkspace, updateConfigMap } from '../support/kcp.js';
import { eventually, start } from '../support/server.js';

const TENANTS = 60;
const PEER_S = 4;
const FENCE_S = 4;

/** One ledger line: a reconcile of `c` by replica `r` started or ended at `t` (ms). */
interface Mark {
  r: string;
  c: string;
  n: string;
  e: 'start' | 'end';
  t: number;
}

const MODULE = `import * as fs from 'node:fs';
const LEDGER = process.env.LEDGER;
const ID = process.env.KCP_MC_SHARD_ID;
export const name = 'ledger';
export default function setup(manager) {
  manager.controller('ledger').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async (req) => {
    fs.appendFileSync(LEDGER, JSON.stringify({ r: ID, c: req.cluster, n: req.name, e: 'start', t: Date.now() }) + '\\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    fs.appendFileSync(LEDGER, JSON.stringify({ r: ID, c: req.cluster, n: req.name, e: 'end', t: Date.now() }) + '\\n');
  });
}
`;

describe('kcp-mc run --sharding: replicas split the clusters, never overlapping (e2e)', function () {
  this.timeout(240_000);
  let srv: RunningServer;
  let dir: string;
  let kubeconfig: string;
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
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'cms');
    for (let i = 0; i < TENANTS; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, TENANTS - i) }, async (_, k) => {
          const ws = `tenant-${i + k}`;
          const lc = await createWorkspace(srv, 'root', ws);
          await bind(srv, `root:${ws}`, 'root:provider', 'cms');
          await createConfigMap(srv, `root:${ws}`, 'cm', { v: '0' });
          clusters.push(lc);
          paths.set(lc, `root:${ws}`);
        }),
      );
    }
    kubeconfig = writeKubeconfig(dir, srv, 'root:provider');
  });
  after(async () => {
    await killRuns(runs);
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const replica = (id: string): Run => {
    const r = new Run(
      [
        moduleFile,
        '--kubeconfig', kubeconfig,
        '--endpointslice', 'cms',
        '--sharding',
        '--shard-peer-lease-duration', `${PEER_S}s`,
        '--shard-fence-lease-duration', `${FENCE_S}s`,
        '--metrics-bind-address', '127.0.0.1:0',
        '--health-probe-bind-address', '127.0.0.1:0',
        '--graceful-shutdown', '5s',
      ],
      { KCP_MC_SHARD_ID: id, LEDGER: ledger },
    );
    runs.push(r);
    return r;
  };

  const marks = (): Mark[] =>
    fs
      .readFileSync(ledger, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Mark);

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
  const overlaps = (): string[] => {
    const open = new Map<string, number>();
    const intervals = new Map<string, { r: string; from: number; to: number }[]>();
    const end = Date.now();
    for (const m of marks()) {
      const key = `${m.r}|${m.c}|${m.n}`;
      if (m.e === 'start') open.set(key, m.t);
      else {
        const from = open.get(key);
        open.delete(key);
        if (from !== undefined) (intervals.get(m.c) ?? intervals.set(m.c, []).get(m.c)!).push({ r: m.r, from, to: m.t });
      }
    }
    // A reconcile that never ended: its replica was killed (ends at the kill) or is still running.
    for (const [key, from] of open) {
      const [r, c] = key.split('|') as [string, string];
      (intervals.get(c) ?? intervals.set(c, []).get(c)!).push({ r, from, to: killedAt.get(r) ?? end });
    }
    const found: string[] = [];
    for (const [c, list] of intervals) {
      list.sort((a, b) => a.from - b.from);
      for (let i = 0; i < list.length; i++)
        for (let j = i + 1; j < list.length && list[j]!.from < list[i]!.to; j++)
          if (list[j]!.r !== list[i]!.r) found.push(`${c}: ${list[i]!.r} [${list[i]!.from}, ${list[i]!.to}] and ${list[j]!.r} [${list[j]!.from}, ${list[j]!.to}]`);
    }
    return found;
  };

  /** Touches every tenant's ConfigMap once (a reconcile of each cluster, wherever it is owned). */
  const touchAll = async (round: number): Promise<void> => {
    for (let i = 0; i < clusters.length; i += 10) {
      await Promise.all(clusters.slice(i, i + 10).map((c) => updateConfigMap(srv, paths.get(c)!, 'cm', { v: String(round) })));
    }
  };

  it('splits the clusters, hands them off through kill -9, SIGTERM and a scale-up, and never runs one cluster on two replicas at once', async () => {
    const [r0, r1, r2] = [replica('r0'), replica('r1'), replica('r2')];
    await eventually(() => startedSince(0).size === clusters.length, 'every cluster reconciled', 60_000);
    const first = startedSince(0);
    for (const c of clusters) expect([...first.get(c)!], `cluster ${c} reconciled by one replica`).to.have.length(1);
    const owners = new Map(clusters.map((c) => [c, [...first.get(c)!][0]!]));
    const share = (id: string) => clusters.filter((c) => owners.get(c) === id);
    for (const id of ['r0', 'r1', 'r2']) expect(share(id).length, `${id}'s share`).to.be.greaterThan(TENANTS / 10);

    // Write churn for the rest of the test: every cluster is touched again and again.
    let churn = true;
    let round = 0;
    const writer = (async () => {
      while (churn && round < 200) await touchAll(++round);
    })();
    try {
      // kill -9: r0's clusters come back once its peer Lease and their fences expired.
      const lost0 = share('r0');
      const t0 = Date.now();
      killedAt.set('r0', t0);
      await r0.stop('SIGKILL');
      await eventually(() => {
        const since = startedSince(t0);
        return lost0.every((c) => [...(since.get(c) ?? [])].some((r) => r !== 'r0'));
      }, "r0's clusters taken over", (PEER_S + FENCE_S + 20) * 1000);
      const killTakeover = Date.now() - t0;

      // SIGTERM: r1 hands its clusters off as it stops (fences released after its reconciles settle).
      const lost1 = clusters.filter((c) => {
        const since = startedSince(t0);
        return since.get(c)?.has('r1') ?? false;
      });
      const t1 = Date.now();
      const stopped = await r1.stop('SIGTERM');
      expect(stopped.code).to.equal(0);
      await eventually(() => {
        const since = startedSince(t1);
        return lost1.every((c) => [...(since.get(c) ?? [])].some((r) => r !== 'r1'));
      }, "r1's clusters taken over", (PEER_S + FENCE_S + 20) * 1000);
      const termTakeover = Date.now() - t1;

      // Scale up: two more replicas take their shares.
      const t2 = Date.now();
      replica('r3');
      replica('r4');
      await eventually(() => {
        const since = startedSince(t2);
        const by = new Set([...since.values()].flatMap((s) => [...s]));
        return by.has('r3') && by.has('r4');
      }, 'the new replicas reconcile', 60_000);
      process.stdout.write(`      takeover after kill -9: ${killTakeover} ms (peer ${PEER_S}s + fence ${FENCE_S}s); after SIGTERM: ${termTakeover} ms\n`);
      expect(killTakeover).to.be.below((PEER_S + FENCE_S + 15) * 1000);
      expect(termTakeover).to.be.below(PEER_S * 1000 + 5000);
    } finally {
      churn = false;
      await writer;
    }
    await Promise.all(runs.filter((r) => r.child.exitCode === null && r.child.signalCode === null).map((r) => r.stop('SIGTERM')));
    void r2;
    expect(overlaps(), 'two replicas ran one cluster at the same time').to.deep.equal([]);
    // Every replica that was asked to stop exited cleanly and logged its hand-offs.
    for (const r of runs.filter((x) => x !== r0)) expect(r.child.exitCode, r.err.slice(-2000)).to.equal(0);
  });
});
