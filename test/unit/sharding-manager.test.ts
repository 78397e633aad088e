/**
 * Sharding in the manager, over an in-memory replica group: each cluster is reconciled by its
 * owner only; a hand-off stops handing out the cluster's keys, drops its queue, aborts its
 * reconciles and waits for them before the fence goes; a lost fence stops the work; getCluster
 * refuses clusters another replica owns; shutdown hands everything off at once.
 */
import { expect } from 'chai';
import { ClusterNotOwnedError, CompositeProvider, isClusterNotOwned, Logger, Manager, type Request } from '../../src/index.js';

import { FakeEndpoint, FakeProvider } from '../support/fake-cluster.js';
import { FakeShardGroup } from '../support/fake-shards.js';
import { eventually } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });

/** Who reconciled what, and every moment two replicas ran one cluster at once. */
class Ledger {
  readonly runs: { replica: string; req: Request }[] = [];
  readonly overlaps: string[] = [];
  private readonly active = new Map<string, Map<string, number>>();
  /** Reconciles of these clusters wait for the gate (ignoring their abort signal) until it opens. */
  readonly gates = new Map<string, { open: () => void; opened: Promise<void> }>();
  readonly aborted = new Set<string>();

  gate(cluster: string): void {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    this.gates.set(cluster, { open, opened });
  }

  async run(replica: string, req: Request, signal: AbortSignal): Promise<void> {
    let here = this.active.get(req.cluster);
    if (!here) this.active.set(req.cluster, (here = new Map()));
    for (const [other, n] of here) if (other !== replica && n > 0) this.overlaps.push(`${req.cluster}: ${other} and ${replica}`);
    here.set(replica, (here.get(replica) ?? 0) + 1);
    this.runs.push({ replica, req });
    try {
      const g = this.gates.get(req.cluster);
      if (g) {
        signal.addEventListener('abort', () => this.aborted.add(`${replica}:${req.cluster}/${req.name}`), { once: true });
        await g.opened;
      }
    } finally {
      here.set(replica, here.get(replica)! - 1);
    }
  }

  by(cluster: string): Set<string> {
    return new Set(this.runs.filter((r) => r.req.cluster === cluster).map((r) => r.replica));
  }
}

interface Replica {
  id: string;
  provider: FakeProvider;
  manager: Manager;
  stop(): Promise<void>;
}

function replica(id: string, group: FakeShardGroup, endpoint: FakeEndpoint, ledger: Ledger, clusters: string[]): Replica {
  const provider = new FakeProvider(endpoint);
  const log = new Logger({ level: 'error', write: () => undefined });
  const manager = new Manager({ provider, log, gracefulShutdownMs: 5_000, sharding: { coordinator: group.coordinator(id) } });
  manager.controller('ledger').for(CM).reconcile((req, ctx) => ledger.run(id, req, ctx.signal));
  for (const c of clusters) provider.add(c);
  const ctl = new AbortController();
  const done = manager.start({ signal: ctl.signal });
  return {
    id,
    provider,
    manager,
    stop: async () => {
      ctl.abort();
      await done;
    },
  };
}

describe('manager sharding (in-memory replica group)', function () {
  this.timeout(15_000);
  const clusters = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
  let group: FakeShardGroup;
  let endpoint: FakeEndpoint;
  let ledger: Ledger;
  let replicas: Replica[];

  beforeEach(() => {
    group = new FakeShardGroup();
    endpoint = new FakeEndpoint();
    ledger = new Ledger();
    const inf = endpoint.informer(CM);
    for (const c of clusters) for (const n of ['x', 'y', 'z']) inf.put(c, cm(n));
    replicas = [];
  });
  afterEach(async () => {
    for (const g of ledger.gates.values()) g.open();
    await Promise.all(replicas.map((r) => r.stop()));
  });

  const start = (...ids: string[]): Replica[] => {
    for (const id of ids) replicas.push(replica(id, group, endpoint, ledger, clusters));
    return replicas;
  };
  const reconciledEverything = () => clusters.every((c) => ['x', 'y', 'z'].every((n) => ledger.runs.some((r) => r.req.cluster === c && r.req.name === n)));

  it('reconciles each cluster on its owner only, every replica working', async () => {
    start('a', 'b', 'c');
    await eventually(() => group.members.size === 3, 'three members');
    await eventually(reconciledEverything, 'every object reconciled');
    for (const c of clusters) expect([...ledger.by(c)], c).to.deep.equal([group.owner(c)]);
    expect(new Set(clusters.map((c) => group.owner(c))).size).to.be.greaterThan(1);
    expect(ledger.overlaps).to.deep.equal([]);
  });

  it('hands a cluster off on a move: its keys stop, its reconcile is aborted and awaited, then the fence goes and the new owner runs', async () => {
    group.assignments.set('c1', 'a');
    ledger.gate('c1');
    const [a, b] = start('a', 'b');
    await eventually(() => ledger.runs.some((r) => r.replica === 'a' && r.req.cluster === 'c1'), 'a reconciles c1 (held)');
    const startedOnA = ledger.runs.filter((r) => r.replica === 'a' && r.req.cluster === 'c1').length;
    expect(startedOnA).to.equal(1);
    group.move('c1', 'b');
    await eventually(() => ledger.aborted.size === 1, "a's reconcile of c1 aborted");
    // The fence stays with a while its reconcile runs: b cannot start.
    await new Promise((r) => setImmediate(r));
    expect(group.fences.get('c1')?.holder).to.equal('a');
    expect(ledger.by('c1').has('b')).to.equal(false);
    expect(() => a!.manager.getCluster('c1')).to.throw(ClusterNotOwnedError);
    ledger.gates.get('c1')!.open();
    await eventually(() => ['x', 'y', 'z'].every((n) => ledger.runs.some((r) => r.replica === 'b' && r.req.cluster === 'c1' && r.req.name === n)), 'b reconciles every object of c1');
    expect(ledger.runs.filter((r) => r.replica === 'a' && r.req.cluster === 'c1').length, 'a ran queued keys of c1 after the move').to.equal(startedOnA);
    expect(group.releases).to.include('a:c1');
    expect(b!.manager.getCluster('c1').name).to.equal('c1');
    expect(ledger.overlaps).to.deep.equal([]);
  });

  it('checks ownership at every dequeue: a request of a cluster that moved is dropped and counted, even before the hand-off', async () => {
    group.assignments.set('c2', 'a');
    const [a] = start('a');
    await eventually(reconciledEverything, 'a reconciled everything');
    // Ownership moves without a notification (a coordinator's view changes before it tells anyone).
    group.members.set('elsewhere', 1);
    group.assignments.set('c2', 'elsewhere');
    endpoint.informer(CM).put('c2', cm('late'));
    const dropped = async () => Number(/kcp_mc_shard_not_owned_dropped_total (\d+)/.exec(await a!.manager.metrics.metrics())?.[1] ?? 0);
    await eventually(async () => (await dropped()) === 1, 'one request dropped at dequeue');
    expect(ledger.runs.some((r) => r.req.cluster === 'c2' && r.req.name === 'late')).to.equal(false);
    expect(await a!.manager.metrics.metrics()).to.match(/kcp_mc_shard_handoffs_total\{direction="gained"\} 6/);
  });

  it('stops working on a cluster whose fence was taken, and refuses it in getCluster (anyOwner answers)', async () => {
    group.assignments.set('c4', 'a');
    const [a] = start('a', 'b');
    await eventually(() => a!.manager.clusters().some((c) => c.name === 'c4' && c.state === 'engaged'), 'a engaged c4');
    group.steal('c4', 'intruder');
    await eventually(() => !a!.manager.clusters().some((c) => c.name === 'c4'), 'a let c4 go');
    let thrown: unknown;
    try {
      a!.manager.getCluster('c4');
    } catch (e) {
      thrown = e;
    }
    // a is still the rendezvous owner but not the fence holder: not owned here.
    expect(isClusterNotOwned(thrown)).to.equal(true);
    expect(a!.manager.getCluster('c4', { anyOwner: true }).name).to.equal('c4');
    const before = ledger.runs.filter((r) => r.req.cluster === 'c4').length;
    endpoint.informer(CM).put('c4', cm('after'));
    await eventually(() => group.fences.get('c4')?.holder === 'intruder', 'the intruder holds c4');
    expect(ledger.runs.filter((r) => r.req.cluster === 'c4').length).to.equal(before);
  });

  it('hands everything off on shutdown after reconciles settle; the others take over at once', async () => {
    const [a, b] = start('a', 'b');
    await eventually(reconciledEverything, 'every object reconciled');
    const ofA = clusters.filter((c) => group.owner(c) === 'a');
    expect(ofA.length).to.be.greaterThan(0);
    await a!.stop();
    replicas.splice(replicas.indexOf(a!), 1);
    for (const c of ofA) expect(group.fences.get(c)?.holder, c).to.not.equal('a');
    await eventually(() => ofA.every((c) => b!.manager.clusters().some((r) => r.name === c && r.state === 'engaged')), 'b engaged every cluster of a');
    expect(ledger.overlaps).to.deep.equal([]);
  });

  it('works on an unsharded cluster on every replica, without a fence', async () => {
    const [a, b] = start('a', 'b');
    for (const r of [a!, b!]) r.provider.add('own').unsharded = true;
    endpoint.informer(CM).put('own', cm('self'));
    await eventually(() => ledger.by('own').size === 2, 'both replicas reconcile the unsharded cluster');
    expect(group.fences.has('own')).to.equal(false);
  });
  it("works on a composite provider's part marked unsharded on every replica, and shards the other part", async () => {
    const ctls: AbortController[] = [];
    const runs: Promise<void>[] = [];
    try {
      for (const id of ['a', 'b']) {
        const tenants = new FakeProvider(endpoint);
        const own = new FakeProvider(endpoint);
        for (const c of clusters) tenants.add(c);
        own.add('self');
        const provider = new CompositeProvider({ tenants, own }, { unsharded: ['own'] });
        const manager = new Manager({ provider, log: new Logger({ level: 'error', write: () => undefined }), sharding: { coordinator: group.coordinator(id) } });
        manager.controller('ledger').for(CM).reconcile((req, ctx) => ledger.run(id, req, ctx.signal));
        const ctl = new AbortController();
        ctls.push(ctl);
        runs.push(manager.start({ signal: ctl.signal }));
      }
      endpoint.informer(CM).put('self', cm('record'));
      await eventually(() => ledger.by('own#self').size === 2, 'both replicas reconcile own#self');
      await eventually(() => clusters.every((c) => ledger.by(`tenants#${c}`).size === 1), 'every tenant reconciled');
      for (const c of clusters) expect([...ledger.by(`tenants#${c}`)]).to.deep.equal([group.owner(`tenants#${c}`)]);
      expect(group.fences.has('own#self')).to.equal(false);
      expect(() => new CompositeProvider({ tenants: new FakeProvider() }, { unsharded: ['own'] })).to.throw(/names no provider/);
    } finally {
      for (const c of ctls) c.abort();
      await Promise.all(runs);
    }
  });
});
