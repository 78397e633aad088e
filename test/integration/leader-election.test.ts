/** LeaderElector against the reference server: one leader, takeover after a crash and after a release, loss when stolen or unrenewable. */
import { expect } from 'chai';
import { ClusterClient, isConflict, Transport } from '../../src/client/index.js';
import { Logger } from '../../src/log/index.js';
import { LEASE, LeaderElector, type LeaderElectionOptions } from '../../src/manager/leader.js';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, kubeConfigFor, start } from '../support/server.js';

const TIMINGS = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 } as const;
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const HELD_BY_OTHER = 'the lease is held by another holder and has not expired';

/** An elector with its own transport, its log lines and the onChange calls it made. */
interface Replica {
  elector: LeaderElector;
  lines: { msg: string }[];
  changes: boolean[];
  transport: Transport;
}

describe('leader election (Lease)', function () {
  this.timeout(30_000);
  let srv: RunningServer;
  let admin: ClusterClient;
  let adminTransport: Transport;
  const replicas: Replica[] = [];
  let n = 0;

  before(async () => {
    srv = await start();
    adminTransport = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    admin = new ClusterClient(adminTransport);
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) {
      await r.elector.stop();
      r.transport.close();
    }
  });
  after(async () => {
    adminTransport.close();
    await srv.stop();
  });

  function replica(name: string, identity: string, server: RunningServer = srv, extra: Partial<LeaderElectionOptions> = {}): Replica {
    const transport = Transport.fromKubeConfig(kubeConfigFor(server, 'root'));
    const lines: { msg: string }[] = [];
    const changes: boolean[] = [];
    const log = new Logger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as { msg: string }) });
    const elector = new LeaderElector({ client: new ClusterClient(transport), name, identity, log, onChange: (l) => changes.push(l), ...TIMINGS, ...extra });
    const r = { elector, lines, changes, transport };
    replicas.push(r);
    return r;
  }

  const leaseName = (): string => `le-${++n}`;
  const lease = (name: string) => admin.get(LEASE, { namespace: 'default', name });
  /** Resolves once `r` has seen the lease held by someone else at least `times` times. */
  const sawHeld = (r: Replica, times: number): Promise<boolean> =>
    eventually(() => r.lines.filter((l) => l.msg === HELD_BY_OTHER).length >= times, `${r.elector.identity} to find the lease held`);

  it('elects one leader; the other waits', async () => {
    const name = leaseName();
    const a = replica(name, 'a');
    const b = replica(name, 'b');
    await a.elector.acquire(AbortSignal.timeout(10_000));
    expect(a.elector.isLeader()).to.equal(true);
    expect(a.changes).to.deep.equal([true]);
    let bWon = false;
    const bDone = b.elector.acquire(new AbortController().signal).then(() => (bWon = true));
    bDone.catch(() => undefined);
    await sawHeld(b, 3);
    expect(bWon).to.equal(false);
    expect(b.elector.isLeader()).to.equal(false);
    expect(b.changes).to.deep.equal([]);

    const l = await lease(name);
    expect(l.spec?.holderIdentity).to.equal('a');
    expect(l.spec?.leaseDurationSeconds).to.equal(2); // 1.5 s rounded up to whole seconds
    expect(l.spec?.leaseTransitions).to.equal(0);
    expect(l.spec?.acquireTime).to.match(MICRO_TIME);
    expect(l.spec?.renewTime).to.match(MICRO_TIME);
    // The leader keeps renewing: renewTime moves, acquireTime stays.
    const renewed = await eventually(async () => {
      const now = await lease(name);
      return now.spec?.renewTime !== l.spec?.renewTime ? now : undefined;
    }, 'a renewal');
    expect(renewed!.spec?.holderIdentity).to.equal('a');
    expect(renewed!.spec?.acquireTime).to.equal(l.spec?.acquireTime);
  });

  it('a standby takes over within about the lease duration once the leader stops renewing without releasing', async () => {
    const name = leaseName();
    const a = replica(name, 'a');
    const b = replica(name, 'b');
    await a.elector.acquire(AbortSignal.timeout(10_000));
    const bDone = b.elector.acquire(AbortSignal.timeout(20_000));
    await sawHeld(b, 1);
    const killed = performance.now();
    await a.elector.stop(); // as a crash: no release
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.elector.lost.aborted).to.equal(false);
    await bDone;
    const took = performance.now() - killed;
    // The lease (2 s on the wire) must have run out as b saw it, and not much later.
    expect(took).to.be.greaterThan(1000);
    expect(took).to.be.lessThan(3 * TIMINGS.leaseDurationMs);
    expect(b.elector.isLeader()).to.equal(true);
    const l = await lease(name);
    expect(l.spec?.holderIdentity).to.equal('b');
    expect(l.spec?.leaseTransitions).to.equal(1);
  });

  it('a standby takes over at once after release()', async () => {
    const name = leaseName();
    const a = replica(name, 'a');
    const b = replica(name, 'b');
    await a.elector.acquire(AbortSignal.timeout(10_000));
    const bDone = b.elector.acquire(AbortSignal.timeout(20_000));
    await sawHeld(b, 1);
    await a.elector.release();
    const released = performance.now();
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.changes).to.deep.equal([true, false]);
    expect(a.elector.lost.aborted).to.equal(false);
    await bDone;
    expect(performance.now() - released).to.be.lessThan(1000);
    const l = await lease(name);
    expect(l.spec?.holderIdentity).to.equal('b');
    expect(l.spec?.leaseTransitions).to.equal(1);
  });

  it('release() leaves an empty holder and a 1 s lease', async () => {
    const name = leaseName();
    const a = replica(name, 'a');
    await a.elector.acquire(AbortSignal.timeout(10_000));
    await a.elector.release();
    const l = await lease(name);
    expect(l.spec?.holderIdentity ?? '').to.equal('');
    expect(l.spec?.leaseDurationSeconds).to.equal(1);
    expect(l.spec?.renewTime).to.match(MICRO_TIME);
    // Releasing twice is a no-op.
    await a.elector.release();
  });

  it('aborts lost when another identity takes the lease', async () => {
    const name = leaseName();
    const a = replica(name, 'a');
    await a.elector.acquire(AbortSignal.timeout(10_000));
    // The intruder writes with the current resourceVersion; a renewal in between makes it retry.
    await eventually(async () => {
      const l = await lease(name);
      try {
        await admin.update({ ...l, spec: { ...l.spec, holderIdentity: 'intruder', renewTime: new Date().toISOString().replace('Z', '000Z') } });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }, 'the intruder to write the lease');
    await eventually(() => a.elector.lost.aborted, 'lost to abort', 3000);
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.changes).to.deep.equal([true, false]);
    expect(String((a.elector.lost.reason as Error).message)).to.include('intruder');
    // The loser does not write again: the intruder keeps the lease.
    expect((await lease(name)).spec?.holderIdentity).to.equal('intruder');
  });

  it('acquire rejects when its signal aborts first, and a later acquire may retry', async () => {
    const name = leaseName();
    const a = replica(name, 'a');
    const b = replica(name, 'b');
    await a.elector.acquire(AbortSignal.timeout(10_000));
    const ctrl = new AbortController();
    const bDone = b.elector.acquire(ctrl.signal);
    await sawHeld(b, 1);
    ctrl.abort();
    let err: unknown;
    await bDone.catch((e: unknown) => (err = e));
    expect((err as Error | undefined)?.name).to.equal('AbortError');
    expect(b.elector.isLeader()).to.equal(false);
    await a.elector.release();
    await b.elector.acquire(AbortSignal.timeout(5000));
    expect(b.elector.isLeader()).to.equal(true);
  });

  it('aborts lost when renewals fail for renewDeadline', async () => {
    const own = await start();
    let stopped = false;
    try {
      const a = replica('le-deadline', 'a', own);
      await a.elector.acquire(AbortSignal.timeout(10_000));
      const down = performance.now();
      await own.stop();
      stopped = true;
      await eventually(() => a.elector.lost.aborted, 'lost to abort', 5000);
      const took = performance.now() - down;
      // The next renewal comes within a retry period, then failures run for renewDeadline.
      expect(took).to.be.lessThan(TIMINGS.retryPeriodMs + TIMINGS.renewDeadlineMs + 1000);
      expect(String((a.elector.lost.reason as Error).message)).to.include(`within ${TIMINGS.renewDeadlineMs} ms`);
      expect(a.changes).to.deep.equal([true, false]);
    } finally {
      if (!stopped) await own.stop();
    }
  });

  it('refuses timings client-go refuses', () => {
    const client = admin;
    expect(() => new LeaderElector({ client, name: 'x', leaseDurationMs: 1000, renewDeadlineMs: 1000 })).to.throw(/leaseDuration/);
    expect(() => new LeaderElector({ client, name: 'x', renewDeadlineMs: 2000, retryPeriodMs: 2000 })).to.throw(/renewDeadline/);
    expect(() => new LeaderElector({ client, name: 'x', retryPeriodMs: 0 })).to.throw(/retryPeriod/);
    expect(() => new LeaderElector({ client, name: '' })).to.throw(/Lease name/);
    const e = new LeaderElector({ client, name: 'x' });
    expect(e.identity).to.match(/^.+_[0-9a-f-]{36}$/);
  });
});
