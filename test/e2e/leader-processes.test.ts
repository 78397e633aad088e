/**
 * Leader election between `kcp-mc run` processes on one kubeconfig: exactly one replica reconciles,
 * a standby takes over after the leader is killed (once the Lease expires, not before), and at once
 * after the leader stops cleanly and releases the Lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, type Obj } from '../support/kcp.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const CLI = path.resolve('dist/src/cli/main.js');

/** A `kcp-mc run` replica; its JSON log lines are on stderr. */
class Replica {
  readonly child: ChildProcess;
  err = '';
  readonly exited: Promise<number | null>;

  constructor(readonly label: string, args: string[]) {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KCP_MC_')) env[k] = v;
    this.child = spawn(process.execPath, [CLI, 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  logs(): Obj[] {
    return this.err
      .split('\n')
      .slice(0, -1)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Obj];
        } catch {
          return [];
        }
      });
  }

  has(msg: string, extra: (l: Obj) => boolean = () => true): boolean {
    return this.logs().some((l) => l['msg'] === msg && extra(l));
  }

  /** This replica's holder identity, from its "waiting for leadership" line. */
  identity(): string | undefined {
    return this.logs().find((l) => l['msg'] === 'waiting for leadership')?.['identity'] as string | undefined;
  }

  reconciled(name: string): Obj[] {
    return this.logs().filter((l) => l['msg'] === 'reconciled configmap' && l['name'] === name);
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/** Waits for `check`, failing with every replica's output when it does not come. */
async function waitFor<T>(replicas: Replica[], check: () => T, what: string, timeoutMs: number): Promise<T> {
  try {
    return await eventually(check, what, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${replicas.map((r) => `--- ${r.label} ---\n${r.err}`).join('\n')}`);
  }
}

describe('kcp-mc run --leader-elect: two processes (e2e)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let dir: string;
  let kubeconfig: string;
  let tenant: string;
  const replicas: Replica[] = [];

  const replica = (label: string, id: string, extra: string[] = []): Replica => {
    const r = new Replica(label, [
      'apiexport-example',
      '--kubeconfig', kubeconfig,
      '--endpointslice', 'cms',
      '--metrics-bind-address', '127.0.0.1:0',
      '--health-probe-bind-address', '127.0.0.1:0',
      '--leader-elect',
      '--leader-election-id', id,
      ...extra,
    ]);
    replicas.push(r);
    return r;
  };

  const holder = async (id: string): Promise<Obj | undefined> => {
    const res = await raw(srv, 'GET', `/clusters/root:provider/apis/coordination.k8s.io/v1/namespaces/default/leases/${id}`);
    return res.status === 200 ? (res.json['spec'] as Obj) : undefined;
  };

  /** Starts two replicas and resolves once one leads: [leader, standby]. */
  const pair = async (id: string, extra: string[]): Promise<[Replica, Replica]> => {
    const a = replica(`${id}-a`, id, extra);
    const b = replica(`${id}-b`, id, extra);
    const leader = (await waitFor([a, b], () => [a, b].find((r) => r.has('became leader')), 'a leader', 20_000))!;
    const standby = leader === a ? b : a;
    // The standby has read the Lease and found it held (its debug line), so it really is waiting.
    await waitFor([a, b], () => standby.has('the lease is held by another holder and has not expired'), 'the standby seeing the held lease', 15_000);
    return [leader, standby];
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-leader-'));
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'cms');
    tenant = await createWorkspace(srv, 'root', 'tenant');
    await bind(srv, 'root:tenant', 'root:provider', 'cms');
    kubeconfig = path.join(dir, 'provider.kubeconfig');
    fs.writeFileSync(kubeconfig, kubeConfigFor(srv, 'root:provider').exportConfig(), { mode: 0o600 });
  });
  after(async () => {
    for (const r of replicas.splice(0)) {
      if (r.alive()) r.child.kill('SIGKILL');
      await r.exited;
    }
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exactly one replica reconciles; after kill -9 of the leader the standby takes over once the Lease has expired', async () => {
    // Short lease timings (their own flags) keep the test quick; the rules are the default ones scaled.
    const LEASE = 4_000;
    const RETRY = 1_000;
    const timings = ['--leader-election-lease-duration', '4s', '--leader-election-renew-deadline', '3s', '--leader-election-retry-period', '1s', '--log-level', 'debug'];
    const [leader, standby] = await pair('crash', timings);
    expect(standby.identity()).to.be.a('string').and.not.equal(leader.identity());
    expect((await holder('crash'))?.['holderIdentity']).to.equal(leader.identity());
    expect((await holder('crash'))?.['leaseDurationSeconds']).to.equal(4);

    await createConfigMap(srv, 'root:tenant', 'first');
    await waitFor([leader, standby], () => leader.reconciled('first').length > 0, 'the leader reconciling first', 15_000);
    expect(leader.reconciled('first')[0]).to.include({ cluster: tenant, controller: 'apiexport-example' });
    // The standby never engaged a cluster nor reconciled, and said it waits for leadership.
    expect(standby.has('waiting for leadership')).to.equal(true);
    expect(standby.has('became leader')).to.equal(false);
    expect(standby.has('cluster engaged')).to.equal(false);
    expect(standby.logs().filter((l) => l['msg'] === 'reconciled configmap')).to.have.length(0);
    const metrics = leader.logs().find((l) => l['msg'] === 'serving metrics')!['url'] as string;
    expect(await (await fetch(metrics)).text()).to.match(/leader_election_master_status\{name="crash"\} 1/);

    const killed = Date.now();
    leader.child.kill('SIGKILL');
    await leader.exited;
    await waitFor([leader, standby], () => standby.has('became leader'), 'the standby taking over', LEASE + 4 * RETRY + 8_000);
    const took = Date.now() - killed;
    // Not before the lease ran out: the dead leader's last renewal was at most one retry period old.
    expect(took).to.be.at.least(LEASE - RETRY - 500);
    expect(took).to.be.below(LEASE + 2 * 2.2 * RETRY + 5_000);
    const spec = await holder('crash');
    expect(spec?.['holderIdentity']).to.equal(standby.identity());
    expect(spec?.['leaseTransitions']).to.equal(1);

    await createConfigMap(srv, 'root:tenant', 'second');
    await waitFor([standby], () => standby.reconciled('second').length > 0, 'the new leader reconciling second', 15_000);
    standby.child.kill('SIGTERM');
    expect(await standby.exited, standby.err).to.equal(0);
  });

  it('a leader stopped with SIGTERM releases the Lease: the standby takes over at once, well within the lease duration', async () => {
    // Default lease duration (15 s) and renew deadline; a 1 s retry period makes the standby look often.
    const [leader, standby] = await pair('clean', ['--leader-election-retry-period', '1s', '--log-level', 'debug']);
    expect((await holder('clean'))?.['leaseDurationSeconds']).to.equal(15);
    await createConfigMap(srv, 'root:tenant', 'third');
    await waitFor([leader, standby], () => leader.reconciled('third').length > 0, 'the leader reconciling third', 15_000);
    expect(standby.reconciled('third')).to.have.length(0);
    // A standby is live and ready: it waits to take over (its provider starts once it leads).
    const probes = standby.logs().find((l) => l['msg'] === 'serving health probes')!['url'] as string;
    expect((await fetch(`${probes}/healthz`)).status).to.equal(200);
    expect((await fetch(`${probes}/readyz`)).status).to.equal(200);

    const stopped = Date.now();
    leader.child.kill('SIGTERM');
    expect(await leader.exited, leader.err).to.equal(0);
    expect(leader.has('released lease')).to.equal(true);
    await waitFor([leader, standby], () => standby.has('became leader'), 'the standby taking over', 10_000);
    expect(Date.now() - stopped).to.be.below(5_000);
    const spec = await holder('clean');
    expect(spec?.['holderIdentity']).to.equal(standby.identity());
    expect(spec?.['leaseDurationSeconds']).to.equal(15);
    // The new leader starts from a fresh list: it reconciles what exists, third included.
    await waitFor([standby], () => standby.reconciled('third').length > 0, 'the new leader reconciling third', 15_000);
    standby.child.kill('SIGTERM');
    expect(await standby.exited, standby.err).to.equal(0);
  });
});
