/** LeaseCoordinator against the reference server: membership, agreed ownership, leaving, and fences that are exclusive, handed over and lost in time. */
import { expect } from 'chai';
import { ClusterClient, isConflict, microTime, Transport } from '../../src/client/index.js';
import { Logger } from '../../src/log/index.js';
import { LEASE, type Lease } from '../../src/manager/leader.js';
import { RuntimeMetrics } from '../../src/metrics/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { LeaseCoordinator, SHARD_WEIGHT_ANNOTATION, type Fence, type LeaseCoordinatorOptions } from '../../src/sharding/index.js';
import { FlakyClient } from '../support/flaky-client.js';
import { eventually, kubeConfigFor, start } from '../support/server.js';

const PEER_MS = 2000;
const FENCE_MS = 3000;
const SKEW_MS = 500;
const REFRESH_MS = PEER_MS / 3;

/** A coordinator with its own connection, a switchable client and the signal that stops it. */
interface Replica {
  coord: LeaseCoordinator;
  client: FlakyClient;
  stop: AbortController;
  done: Promise<void>;
  changes: number;
}

describe('sharding: Lease coordinator', function () {
  this.timeout(40_000);
  let srv: RunningServer;
  let admin: ClusterClient;
  let adminTransport: Transport;
  const transports: Transport[] = [];
  const running: Replica[] = [];
  let n = 0;

  before(async () => {
    srv = await start();
    adminTransport = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    admin = new ClusterClient(adminTransport);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.client.allFail = false;
      r.stop.abort();
      await r.done;
    }
    for (const t of transports.splice(0)) t.close();
  });
  after(async () => {
    adminTransport.close();
    await srv.stop();
  });

  /** A fresh group name per test, so tests never see each other's Leases. */
  const group = (): string => `grp-${++n}`;

  function replica(g: string, id: string, extra: Partial<LeaseCoordinatorOptions> = {}, run = true): Replica {
    const transport = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    transports.push(transport);
    const client = new FlakyClient(transport);
    const log = new Logger({ level: 'error', write: () => undefined });
    const coord = new LeaseCoordinator({
      client,
      id,
      group: g,
      peerLeaseDuration: PEER_MS,
      fenceLeaseDuration: FENCE_MS,
      clockSkewMs: SKEW_MS,
      log,
      ...extra,
    });
    const stop = new AbortController();
    const r: Replica = { coord, client, stop, done: Promise.resolve(), changes: 0 };
    coord.onPeersChanged(() => r.changes++);
    if (run) r.done = coord.start(stop.signal);
    running.push(r);
    return r;
  }

  const ids = (r: Replica): string => r.coord.peers().map((p) => p.id).join(',');
  const lease = (name: string): Promise<Lease> => admin.get(LEASE, { namespace: 'default', name });

  describe('membership', () => {
    it('is ready on a stable view only: a replica started just after another\'s first read is in its view by then', async () => {
      const g = group();
      const a = replica(g, 'a');
      let aReady = false;
      void a.coord.ready().then(() => (aReady = true));
      await eventually(() => a.client.lists >= 1, 'a read the group once');
      expect(aReady, 'ready after a single read').to.equal(false);
      expect(ids(a)).to.equal('a');
      const b = replica(g, 'b');
      await a.coord.ready(AbortSignal.timeout(5000));
      // Started together, neither decides ownership on a view without the other.
      expect(ids(a)).to.equal('a,b');
      await b.coord.ready(AbortSignal.timeout(5000));
      expect(ids(b)).to.equal('a,b');
    });

    it('three replicas see each other, with weights, and agree on the owner of every cluster', async () => {
      const g = group();
      const [a, b, c] = [replica(g, 'a'), replica(g, 'b', { weight: 2 }), replica(g, 'c')];
      await Promise.all([a, b, c].map((r) => r.coord.ready(AbortSignal.timeout(5000))));
      for (const r of [a, b, c]) await eventually(() => ids(r) === 'a,b,c', `${r.coord.id} to see a, b and c`);
      expect(a.coord.peers()).to.deep.equal([
        { id: 'a', weight: 1 },
        { id: 'b', weight: 2 },
        { id: 'c', weight: 1 },
      ]);
      expect(a.changes).to.be.at.least(1);
      const counts = new Map<string, number>();
      for (let i = 0; i < 400; i++) {
        const cluster = `cluster-${i}`;
        const o = a.coord.owner(cluster);
        expect(b.coord.owner(cluster), cluster).to.equal(o);
        expect(c.coord.owner(cluster), cluster).to.equal(o);
        counts.set(o, (counts.get(o) ?? 0) + 1);
      }
      expect(counts.get('b')).to.be.greaterThan(counts.get('a')!).and.greaterThan(counts.get('c')!);
      // Each remembers its own clusters only (asked at every dequeue), not the others' (most of them).
      for (const r of [a, b, c]) expect((r.coord as unknown as { mine: Set<string> }).mine.size, r.coord.id).to.equal(counts.get(r.coord.id));
      // Asked again, the answers hold (from the cache for its own, computed for the others').
      for (let i = 0; i < 400; i++) expect(a.coord.owner(`cluster-${i}`)).to.equal(b.coord.owner(`cluster-${i}`));

      const l = await lease(b.coord.peerLeaseName);
      expect(l.spec?.holderIdentity).to.equal('b');
      expect(l.spec?.leaseDurationSeconds).to.equal(2);
      expect(l.metadata?.labels).to.deep.equal({ 'sharding.kcp-mc.dev/group': g, 'sharding.kcp-mc.dev/role': 'peer' });
      expect(l.metadata?.annotations?.[SHARD_WEIGHT_ANNOTATION]).to.equal('2');
    });

    it('counts only itself before its first read, and always counts itself', async () => {
      const g = group();
      const a = replica(g, 'a', {}, false);
      expect(a.coord.peers()).to.deep.equal([{ id: 'a', weight: 1 }]);
      expect(a.coord.owner('anything')).to.equal('a');
      a.client.allFail = true; // it cannot even write its own Lease
      a.done = a.coord.start(a.stop.signal);
      const other = replica(g, 'b');
      await eventually(() => ids(other) === 'b', 'b to see only itself');
      expect(ids(a)).to.equal('a');
    });

    it('a cleanly stopped replica leaves the others at their next read, long before its Lease would expire', async () => {
      const g = group();
      const [a, b, c] = [replica(g, 'a'), replica(g, 'b'), replica(g, 'c')];
      for (const r of [a, b]) await eventually(() => ids(r) === 'a,b,c', `${r.coord.id} to see all three`);
      const t0 = performance.now();
      c.stop.abort();
      await c.done;
      await eventually(() => ids(a) === 'a,b' && ids(b) === 'a,b', 'a and b to drop c');
      const took = performance.now() - t0;
      expect(took).to.be.lessThan(REFRESH_MS + 800);
      expect(took).to.be.lessThan(PEER_MS);
      let gone = false;
      await lease(c.coord.peerLeaseName).catch(() => (gone = true));
      expect(gone).to.equal(true);
    });

    it('a replica that stops renewing (a crash) drops out once its Lease and the skew margin run out', async () => {
      const g = group();
      const [a, c] = [replica(g, 'a'), replica(g, 'c')];
      await eventually(() => ids(a) === 'a,c', 'a to see c');
      const renewed = (await lease(c.coord.peerLeaseName)).spec!.renewTime!;
      c.client.allFail = true;
      const t0 = Date.now();
      await eventually(() => ids(a) === 'a', 'a to drop c', 10_000);
      const now = Date.now();
      // Not before renewTime + duration + skew; not much later than one read after it.
      const last = Date.parse((await lease(c.coord.peerLeaseName)).spec!.renewTime!);
      expect(last).to.be.at.least(Date.parse(renewed));
      expect(now).to.be.at.least(last + PEER_MS + SKEW_MS);
      expect(now).to.be.lessThan(last + PEER_MS + SKEW_MS + REFRESH_MS + 800);
      expect(now - t0).to.be.lessThan(PEER_MS + SKEW_MS + REFRESH_MS + 800);
      // The crashed replica still counts itself.
      expect(ids(c)).to.include('c');
    });

    it('reports the peer count and fence waits through RuntimeMetrics', async () => {
      const g = group();
      const metrics = new RuntimeMetrics({ defaultMetrics: false });
      const a = replica(g, 'a', { metrics: metrics.shard });
      replica(g, 'b');
      await eventually(() => ids(a) === 'a,b', 'a to see b');
      const fence = await a.coord.acquire('metrics-cluster', AbortSignal.timeout(5000));
      expect(fence).to.not.equal(undefined);
      const text = await metrics.metrics();
      expect(text).to.match(/^kcp_mc_shard_peers 2$/m);
      expect(text).to.match(/^kcp_mc_shard_fence_wait_seconds_count 1$/m);
      await fence!.release();
    });
  });

  describe('fences', () => {
    /** Takes the fence as `r`, retrying until `timeoutMs`; the fence and when it was taken. */
    async function take(r: Replica, cluster: string, timeoutMs = 15_000): Promise<{ fence: Fence; at: number }> {
      const fence = await eventually(() => r.coord.acquire(cluster, AbortSignal.timeout(2000)), `${r.coord.id} to take ${cluster}`, timeoutMs);
      return { fence: fence!, at: performance.now() };
    }

    it('acquires at most maxConcurrentAcquires fences at a time when asked for many at once, and takes them all', async () => {
      const g = group();
      const r = replica(g, 'a', { maxConcurrentAcquires: 4 }, false);
      // Fence acquisitions read, then create (or update): count those in flight at once.
      let inFlight = 0;
      let most = 0;
      const counted = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
        most = Math.max(most, ++inFlight);
        try {
          return await fn(...a);
        } finally {
          inFlight--;
        }
      };
      r.client.get = counted(r.client.get.bind(r.client)) as typeof r.client.get;
      r.client.create = counted(r.client.create.bind(r.client)) as typeof r.client.create;
      const clusters = Array.from({ length: 60 }, (_, i) => `root:many-${i}`);
      const fences = await Promise.all(clusters.map((c) => r.coord.acquire(c, AbortSignal.timeout(20_000))));
      expect(fences.every((f) => f !== undefined && !f.lost.aborted)).to.equal(true);
      expect(most, 'acquisition requests in flight at once').to.be.at.most(4);
      expect(most).to.be.at.least(2);
      // Asked for again while held: the same fence, no turn needed.
      expect(await r.coord.acquire(clusters[0]!, AbortSignal.timeout(2000))).to.equal(fences[0]);
      // Releasing them all at once (a replica stopping) takes turns too.
      inFlight = 0;
      most = 0;
      const update = r.client.update.bind(r.client);
      r.client.update = (async (obj: Lease, opts) => {
        if (obj.spec?.holderIdentity !== '') return update(obj, opts);
        return counted(update)(obj, opts);
      }) as typeof r.client.update;
      await Promise.all(fences.map((f) => f!.release()));
      expect(most, 'releases in flight at once').to.be.within(1, 4);
      for (const c of clusters.slice(0, 3)) expect((await lease(r.coord.fenceLeaseName(c))).spec?.holderIdentity).to.equal('');
    });

    it('bounds the Lease writes in flight, and renewals go ahead of waiting acquisitions, so a slow server loses no fence', async () => {
      const fenceMs = 12_000;
      const r = replica(group(), 'a', { fenceLeaseDuration: fenceMs, maxConcurrentAcquires: 4, maxConcurrentWrites: 8 }, false);
      const held = Array.from({ length: 20 }, (_, i) => `held-${i}`);
      const fences = await Promise.all(held.map((c) => r.coord.acquire(c, AbortSignal.timeout(20_000))));
      const takenAt = performance.now();
      expect(fences.every((f) => f !== undefined)).to.equal(true);
      // From now on the server answers nothing until the gate opens; every request is recorded.
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let inFlight = 0;
      let most = 0;
      type Sent = 'renew' | 'read' | 'create';
      const sent: Sent[] = [];
      const gated = (kind: (obj: unknown) => Sent, fn: (...a: never[]) => Promise<unknown>) => async (...a: never[]): Promise<unknown> => {
        sent.push(kind(a[0]));
        most = Math.max(most, ++inFlight);
        try {
          await gate;
          return await fn(...a);
        } finally {
          inFlight--;
        }
      };
      const heldNames = new Set(held.map((c) => r.coord.fenceLeaseName(c)));
      const renewOrCreate = (obj: unknown): Sent => (heldNames.has((obj as Lease).metadata?.name ?? '') ? 'renew' : 'create');
      r.client.get = gated(() => 'read', r.client.get.bind(r.client) as (...a: never[]) => Promise<unknown>) as typeof r.client.get;
      r.client.create = gated(() => 'create', r.client.create.bind(r.client) as (...a: never[]) => Promise<unknown>) as typeof r.client.create;
      r.client.update = gated(renewOrCreate, r.client.update.bind(r.client) as (...a: never[]) => Promise<unknown>) as typeof r.client.update;
      const wanted = Array.from({ length: 40 }, (_, i) => `wanted-${i}`);
      const acquired = Promise.all(wanted.map((c) => r.coord.acquire(c, AbortSignal.timeout(60_000))));
      // Every held fence's renewal is due by a third of the duration plus the 10 % jitter.
      await eventually(() => performance.now() > takenAt + (fenceMs / 3) * 1.1 + 200, 'every renewal due', fenceMs);
      const atOpen = sent.length;
      open();
      const more = await acquired;
      expect(more.every((f) => f !== undefined && !f.lost.aborted)).to.equal(true);
      await eventually(() => sent.filter((k) => k === 'renew').length >= held.length, 'every held fence renewed');
      expect(most, 'Lease writes in flight at once').to.be.at.most(8);
      // Acquisitions that started (read their Lease) after the gate opened waited for every renewal.
      const lastRenewal = sent.lastIndexOf('renew');
      const firstLaterAcquisition = sent.indexOf('read', atOpen);
      expect(lastRenewal, 'every renewal sent before acquisitions started anew').to.be.lessThan(firstLaterAcquisition);
      expect(fences.every((f) => !f!.lost.aborted), 'no held fence lost').to.equal(true);
    });

    it('leave() takes the replica out of the others\' view at once while its fences stay held until released', async () => {
      const g = group();
      const [a, b] = [replica(g, 'a'), replica(g, 'b')];
      await eventually(() => ids(a) === 'a,b' && ids(b) === 'a,b', 'both see each other');
      const fa = await a.coord.acquire('root:leaving', AbortSignal.timeout(5000));
      expect(fa).to.not.equal(undefined);
      await a.coord.leave();
      await eventually(() => ids(b) === 'b', 'b no longer counts a', 5000);
      // Past a full fence duration: still a's, renewed, and b is refused.
      const until = performance.now() + FENCE_MS * 1.3;
      while (performance.now() < until) {
        expect(await b.coord.acquire('root:leaving', AbortSignal.timeout(2000))).to.equal(undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(fa!.lost.aborted).to.equal(false);
      await fa!.release();
      expect(await b.coord.acquire('root:leaving', AbortSignal.timeout(5000))).to.not.equal(undefined);
      // start() settles only when the coordinator is stopped.
      let settled = false;
      void a.done.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(settled).to.equal(false);
    });

    it('is held by one replica at a time: the other is refused while the holder renews', async () => {
      const g = group();
      const [a, b] = [replica(g, 'a', {}, false), replica(g, 'b', {}, false)];
      const fa = await a.coord.acquire('root:shared', AbortSignal.timeout(5000));
      expect(fa).to.not.equal(undefined);
      expect(await a.coord.acquire('root:shared', AbortSignal.timeout(5000))).to.equal(fa);
      // A negative check needs a window: past a full fence duration, renewals keep b out.
      const until = performance.now() + FENCE_MS * 1.5;
      while (performance.now() < until) {
        expect(await b.coord.acquire('root:shared', AbortSignal.timeout(2000))).to.equal(undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(fa!.lost.aborted).to.equal(false);
      const l = await lease(a.coord.fenceLeaseName('root:shared'));
      expect(l.spec?.holderIdentity).to.equal('a');
      expect(l.metadata?.annotations?.['sharding.kcp-mc.dev/cluster']).to.equal('root:shared');
      expect(l.metadata?.labels?.['sharding.kcp-mc.dev/role']).to.equal('fence');
      // Clusters whose names sanitise alike still get fences of their own.
      expect(await b.coord.acquire('root-shared', AbortSignal.timeout(5000))).to.not.equal(undefined);
    });

    it('release() clears the holder so another replica takes the fence at once', async () => {
      const g = group();
      const [a, b] = [replica(g, 'a', {}, false), replica(g, 'b', {}, false)];
      const fa = await a.coord.acquire('c1', AbortSignal.timeout(5000));
      expect(await b.coord.acquire('c1', AbortSignal.timeout(5000))).to.equal(undefined);
      await fa!.release();
      expect(fa!.lost.aborted).to.equal(false);
      expect((await lease(a.coord.fenceLeaseName('c1'))).spec?.holderIdentity).to.equal('');
      const t0 = performance.now();
      const fb = await b.coord.acquire('c1', AbortSignal.timeout(5000));
      expect(fb).to.not.equal(undefined);
      expect(performance.now() - t0).to.be.lessThan(500);
      const l = await lease(a.coord.fenceLeaseName('c1'));
      expect(l.spec?.holderIdentity).to.equal('b');
      expect(l.spec?.leaseTransitions).to.equal(1);
      await fa!.release(); // twice is a no-op
      expect((await lease(a.coord.fenceLeaseName('c1'))).spec?.holderIdentity).to.equal('b');
    });

    it('acquiring again during a release waits for it and holds a fresh fence', async () => {
      const g = group();
      const a = replica(g, 'a', {}, false);
      const { fence: first } = await take(a, 'c10');
      const releasing = first.release();
      const again = await a.coord.acquire('c10', AbortSignal.timeout(5000));
      await releasing;
      expect(again).to.not.equal(undefined);
      expect(again).to.not.equal(first);
      const name = a.coord.fenceLeaseName('c10');
      const held = (await lease(name)).spec!.renewTime;
      await eventually(async () => (await lease(name)).spec!.renewTime !== held, 'the new fence to renew');
      expect((await lease(name)).spec?.holderIdentity).to.equal('a');
      expect(again!.lost.aborted).to.equal(false);
    });

    it('is taken over once the holder stops renewing, only after a full duration, and the holder stops first', async () => {
      const g = group();
      const [a, b] = [replica(g, 'a', {}, false), replica(g, 'b', {}, false)];
      const { fence: fa } = await take(a, 'c2');
      let lostAt = 0;
      fa.lost.addEventListener('abort', () => (lostAt = performance.now()));
      a.client.allFail = true; // a crash, as far as the server can tell
      const crashed = performance.now();
      const { at } = await take(b, 'c2');
      // b first sees the last record at or after the crash and must see it unchanged for the duration.
      expect(at - crashed).to.be.at.least(FENCE_MS - 50);
      expect(at - crashed).to.be.lessThan(FENCE_MS + SKEW_MS + 1500);
      expect(lostAt).to.be.greaterThan(0);
      expect(lostAt).to.be.lessThan(at);
      expect(String((fa.lost.reason as Error).message)).to.match(/renewals failed/);
      expect((await lease(a.coord.fenceLeaseName('c2'))).spec?.holderIdentity).to.equal('b');
    });

    it('fires lost before the fence expires when renewals keep failing, and nobody takes it before that', async () => {
      const g = group();
      const [a, b] = [replica(g, 'a', {}, false), replica(g, 'b', {}, false)];
      const { fence: fa } = await take(a, 'c3');
      a.client.writesFail = true; // it still reads
      let lostWall = 0;
      fa.lost.addEventListener('abort', () => (lostWall = Date.now()));
      let bAt = 0;
      const bTakes = take(b, 'c3').then((r) => (bAt = r.at));
      await eventually(() => fa.lost.aborted, 'a to give the fence up', 10_000);
      const lostMono = performance.now();
      const l = await lease(a.coord.fenceLeaseName('c3'));
      expect(l.spec?.holderIdentity).to.equal('a');
      // The last successful renewal is on the Lease: lost fired before it ran out.
      expect(lostWall).to.be.lessThan(Date.parse(l.spec!.renewTime!) + FENCE_MS);
      expect(a.client.refused).to.be.greaterThan(1); // retried, not one failure and out
      await bTakes;
      expect(bAt).to.be.greaterThan(lostMono - 20);
    });

    it('keeps the fence through a short run of failed renewals', async () => {
      const g = group();
      // A longer fence leaves room for several retries between the due renewal and the loss margin.
      const a = replica(g, 'a', { fenceLeaseDuration: 6000 }, false);
      const { fence: fa } = await take(a, 'c4');
      const before = (await lease(a.coord.fenceLeaseName('c4'))).spec!.renewTime!;
      a.client.writesFail = true;
      await eventually(() => a.client.refused >= 2, 'two refused renewals', 5000);
      a.client.writesFail = false;
      await eventually(async () => (await lease(a.coord.fenceLeaseName('c4'))).spec!.renewTime !== before, 'a renewal after the failures');
      expect(fa.lost.aborted).to.equal(false);
    });

    it('fences taken together renew at jittered intervals, not in one burst forever', async () => {
      const a = replica(group(), 'a', {}, false);
      const clusters = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
      await Promise.all(clusters.map((c) => take(a, c)));
      // Three renewals of each (about a third of FENCE_MS apart) give 60 intervals.
      await eventually(() => a.client.updates.length >= clusters.length * 3, 'three renewals of every fence', 10_000);
      const byName = new Map<string, number[]>();
      for (const u of a.client.updates) byName.set(u.name, [...(byName.get(u.name) ?? []), u.at]);
      const intervals = [...byName.values()].flatMap((at) => at.slice(1).map((t, i) => t - at[i]!));
      const third = FENCE_MS / 3;
      // Unjittered, every interval is a third of the duration plus the write's latency, never less.
      expect(intervals.filter((ms) => ms < third * 0.96), 'intervals shorter than a third').to.not.be.empty;
      expect(Math.min(...intervals)).to.be.greaterThan(third * 0.85);
    });

    it('a replica whose clock runs far ahead still waits while the holder renews', async () => {
      const g = group();
      const a = replica(g, 'a', {}, false);
      const b = replica(g, 'b', { clock: () => Date.now() + 3_600_000 }, false);
      const { fence: fa } = await take(a, 'c8');
      const until = performance.now() + FENCE_MS * 1.5;
      while (performance.now() < until) {
        expect(await b.coord.acquire('c8', AbortSignal.timeout(2000))).to.equal(undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(fa.lost.aborted).to.equal(false);
    });

    it('a crashed holder whose clock ran far ahead does not keep its fence forever', async () => {
      const g = group();
      const a = replica(g, 'a', { clock: () => Date.now() + 3_600_000 }, false);
      const b = replica(g, 'b', {}, false);
      await take(a, 'c9');
      a.client.allFail = true;
      const crashed = performance.now();
      const { at } = await take(b, 'c9');
      expect(at - crashed).to.be.at.least(FENCE_MS - 50);
      expect(at - crashed).to.be.lessThan(FENCE_MS + SKEW_MS + 1500);
    });

    it('fires lost at once when another holder is seen', async () => {
      const g = group();
      const a = replica(g, 'a', {}, false);
      const { fence: fa } = await take(a, 'c5');
      const name = a.coord.fenceLeaseName('c5');
      await eventually(async () => {
        const l = await lease(name);
        try {
          await admin.update({ ...l, spec: { ...l.spec, holderIdentity: 'intruder', renewTime: microTime() } });
          return true;
        } catch (e) {
          if (isConflict(e)) return false;
          throw e;
        }
      }, 'the intruder to write the fence');
      const t0 = performance.now();
      await eventually(() => fa.lost.aborted, 'lost to abort', FENCE_MS);
      expect(performance.now() - t0).to.be.lessThan(FENCE_MS / 3 + 500);
      expect(String((fa.lost.reason as Error).message)).to.include('intruder');
      expect((await lease(name)).spec?.holderIdentity).to.equal('intruder');
    });

    it('stopping the coordinator aborts lost on the fences it still holds and refuses new ones', async () => {
      const g = group();
      const a = replica(g, 'a');
      const { fence: fa } = await take(a, 'c6');
      a.stop.abort();
      await a.done;
      expect(fa.lost.aborted).to.equal(true);
      let err: unknown;
      await a.coord.acquire('c7', AbortSignal.timeout(1000)).catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/stopped/);
    });
  });
});
