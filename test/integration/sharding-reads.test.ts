/**
 * Reads on a sharded replica, against the reference server with an in-memory replica group: the
 * provider's lister and aggregate informer, each cluster's cache and `Manager.getCluster` see only
 * the clusters this replica owns (`ClusterNotOwnedError` for the others unless bypassed), also with
 * the path-aware provider, whose clusters are admitted and evicted as their bindings (and paths)
 * come and go; and readiness names a gained cluster whose cache fill keeps failing, and the error.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { isClusterNotFound, isClusterNotOwned, PathAwareProvider, type Manager } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { FakeShardGroup } from '../support/fake-shards.js';
import { bind, createConfigMap, createExport, createWorkspace, unbind } from '../support/kcp.js';
import { recording, runManager, runWith } from '../support/runtime.js';
import { eventually, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const TENANTS = 6;

type Running = Awaited<ReturnType<typeof runManager>>;

/** The error `fn` throws (fails when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('sharding: reads on a replica see only the clusters it owns', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let kc: KubeConfig;
  /** Logical cluster names of root:t0 … root:t5, each with one ConfigMap `cm-<i>`. */
  const names: string[] = [];
  /** Other replicas of the group (no manager: they only take their share). */
  const others: AbortController[] = [];

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    kc = await createExport(srv, 'root:provider', 'things');
    const ws = Array.from({ length: TENANTS }, (_, i) => `t${i}`);
    names.push(...(await Promise.all(ws.map((w) => createWorkspace(srv, 'root', w)))));
    await Promise.all(ws.map((w) => bind(srv, `root:${w}`, 'root:provider', 'things')));
    await Promise.all(ws.map((w, i) => createConfigMap(srv, `root:${w}`, `cm-${i}`)));
  });
  afterEach(() => {
    for (const c of others.splice(0)) c.abort();
    srv.faults.clear();
  });
  after(() => srv?.stop());

  /** A group in which replica `b` runs (without a manager); `mine` go to `a`, the rest to `b`. */
  function group(mine: readonly string[]): FakeShardGroup {
    const g = new FakeShardGroup();
    const ctl = new AbortController();
    others.push(ctl);
    void g.coordinator('b').start(ctl.signal);
    for (const n of names) g.assignments.set(n, mine.includes(n) ? 'a' : 'b');
    return g;
  }

  const engaged = (m: Manager): string[] =>
    m
      .clusters()
      .filter((c) => c.state === 'engaged')
      .map((c) => c.name)
      .sort();

  const clustersOf = (items: readonly { cluster: string }[]): string[] => [...new Set(items.map((i) => i.cluster))].sort();

  /** The clusters the lister, the aggregate informer and the ConfigMap informer's store hold. */
  async function reads(rt: Running): Promise<{ lister: string[]; aggregate: string[]; store: string[] }> {
    const listed = await rt.provider.lister().list(CM);
    expect(listed.errors).to.deep.equal([]);
    const store = (await rt.manager.getCluster(names[0]!, { anyOwner: true }).informer(CM)).store.clusters();
    return { lister: clustersOf(listed.items), aggregate: clustersOf(rt.provider.aggregateInformer(CM).list()), store: [...store].sort() };
  }

  it('the lister, the aggregate informer and the caches hold owned clusters only; getCluster throws ClusterNotOwnedError for the others unless bypassed; both follow moves', async () => {
    const mine = names.slice(0, 3).sort();
    const g = group(mine);
    const rt = await runManager(kc, 'things', (m) => void recording(m, 'cms'), { sharding: { coordinator: g.coordinator('a') } });
    try {
      await eventually(() => JSON.stringify(engaged(rt.manager)) === JSON.stringify(mine), 'the owned clusters engaged');
      await eventually(async () => JSON.stringify(await reads(rt)) === JSON.stringify({ lister: mine, aggregate: mine, store: mine }), 'reads hold the owned clusters');
      // An aggregate handler registered now is given the owned clusters' objects only.
      const added: string[] = [];
      const reg = rt.provider.aggregateInformer(CM).addEventHandler({ onAdd: (_o, cluster) => void added.push(cluster) });
      expect([...new Set(added)].sort()).to.deep.equal(mine);
      reg.remove();

      const notMine = names[4]!;
      const err = thrown(() => rt.manager.getCluster(notMine));
      expect(isClusterNotOwned(err), String(err)).to.equal(true);
      expect((err as { owner?: string }).owner).to.equal('b');
      const bypass = rt.manager.getCluster(notMine, { anyOwner: true });
      expect(bypass.name).to.equal(notMine);
      expect(bypass.cache.list(CM), 'a not-owned cluster read from the cache').to.deep.equal([]);
      expect(rt.manager.getCluster(names[0]!).cache.list(CM).map((o) => o.metadata?.name)).to.include('cm-0');

      // Ownership moves both ways: reads follow.
      g.move(notMine, 'a');
      g.move(names[0]!, 'b');
      const now = [...names.slice(1, 3), notMine].sort();
      await eventually(() => JSON.stringify(engaged(rt.manager)) === JSON.stringify(now), 'the moved clusters engaged or let go');
      await eventually(async () => JSON.stringify(await reads(rt)) === JSON.stringify({ lister: now, aggregate: now, store: now }), 'reads follow the moves');
      expect(rt.manager.getCluster(notMine).cache.list(CM).map((o) => o.metadata?.name)).to.include('cm-4');
      expect(isClusterNotOwned(thrown(() => rt.manager.getCluster(names[0]!)))).to.equal(true);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('a replica that owns no cluster caches none, yet its provider knows every cluster', async () => {
    const g = group([]);
    const rt = await runManager(kc, 'things', (m) => void recording(m, 'cms'), { sharding: { coordinator: g.coordinator('a') } });
    try {
      await eventually(() => names.every((n) => rt.provider.clusterNames().includes(n)), 'the provider reports every cluster');
      const listed = await rt.provider.lister().list(CM);
      expect(clustersOf(listed.items), 'clusters the lister returns').to.deep.equal([]);
      expect(clustersOf(rt.provider.aggregateInformer(CM).list()), 'clusters the aggregate informer holds').to.deep.equal([]);
      for (const n of names) expect(isClusterNotOwned(thrown(() => rt.manager.getCluster(n)))).to.equal(true);
      expect(engaged(rt.manager)).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('path-aware provider: getCluster by path honours ownership; a cluster is admitted as its binding and path appear and evicted as they go', async () => {
    const mine = [names[0]!];
    const g = group(mine);
    const rt = await runWith((log) => new PathAwareProvider(kc, { endpointSlice: 'things', log }), (m) => void recording(m, 'paths'), { sharding: { coordinator: g.coordinator('a') } });
    try {
      await eventually(() => JSON.stringify(engaged(rt.manager)) === JSON.stringify(mine), 'the owned cluster engaged');
      expect(rt.manager.getCluster('root:t0').name).to.equal(names[0]);
      const err = thrown(() => rt.manager.getCluster('root:t1'));
      expect(isClusterNotOwned(err), String(err)).to.equal(true);
      expect((err as { owner?: string }).owner).to.equal('b');
      expect(rt.manager.getCluster('root:t1', { anyOwner: true }).name).to.equal(names[1]);

      // A new workspace this replica owns: admitted (its objects cached, reachable by path) once bound…
      const fresh = await createWorkspace(srv, 'root', 'late');
      const elsewhere = await createWorkspace(srv, 'root', 'late-b');
      g.assignments.set(fresh, 'a');
      g.assignments.set(elsewhere, 'b');
      await Promise.all([createConfigMap(srv, 'root:late', 'cm-late'), createConfigMap(srv, 'root:late-b', 'cm-late-b')]);
      await Promise.all([bind(srv, 'root:late', 'root:provider', 'things'), bind(srv, 'root:late-b', 'root:provider', 'things')]);
      await eventually(() => rt.manager.clusters().some((c) => c.name === fresh && c.state === 'engaged'), 'the new owned cluster engaged');
      await eventually(() => rt.manager.getCluster('root:late').cache.list(CM).some((o) => o.metadata?.name === 'cm-late'), 'its objects cached');
      await eventually(() => rt.provider.clusterNames().includes(elsewhere), 'the provider knows the other new cluster');
      expect(rt.provider.get('root:late-b').name, 'the provider resolves the path of a cluster it does not own').to.equal(elsewhere);
      expect(isClusterNotOwned(thrown(() => rt.manager.getCluster('root:late-b')))).to.equal(true);
      const inf = await rt.manager.getCluster('root:late').informer(CM);
      expect([...inf.store.clusters()].sort()).to.deep.equal([names[0]!, fresh].sort());

      // …and evicted, path and all, once its binding goes.
      await unbind(srv, 'root:late', 'things');
      await eventually(() => !inf.store.clusters().includes(fresh), 'its objects evicted');
      await eventually(() => isClusterNotFound(thrown(() => rt.manager.getCluster('root:late'))), 'its path forgotten');
      expect(engaged(rt.manager)).to.deep.equal(mine);
      expect(clustersOf((await rt.provider.lister().list(CM)).items)).to.deep.equal(mine);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it("readiness fails naming a gained cluster whose cache fill keeps failing, with the error, and recovers once the fill succeeds", async () => {
    const g = group(names.slice(0, 2));
    const rt = await runManager(kc, 'things', (m) => void recording(m, 'cms'), { sharding: { coordinator: g.coordinator('a') }, healthProbeBindAddress: '127.0.0.1:0' });
    const probe = async (path: string): Promise<{ status: number; text: string }> => {
      const r = await fetch(`${rt.manager.addresses.health}${path}`);
      return { status: r.status, text: await r.text() };
    };
    try {
      await eventually(async () => (await probe('/readyz')).status === 200, 'ready');
      // Every request fails from now on: the watches already open keep running, the fill of a gained cluster cannot.
      srv.faults.set({ errors: { rate: 1, codes: [500] } });
      const gained = names[3]!;
      g.move(gained, 'a');
      const failing = await eventually(async () => {
        const r = await probe('/readyz/clusters');
        return r.status === 500 && r.text.includes(gained) && r.text.includes('injected fault') ? r : undefined;
      }, 'readiness names the cluster and the error', 20_000);
      expect(failing!.text).to.match(/filling the cache of cluster \S+ fails: \/api\/v1\/configmaps: /);
      expect((await probe('/readyz')).status).to.equal(500);
      srv.faults.clear();
      await eventually(async () => (await probe('/readyz')).status === 200, 'ready again once the fill succeeded', 20_000);
      expect(rt.manager.getCluster(gained).cache.list(CM).map((o) => o.metadata?.name)).to.include('cm-3');
    } finally {
      await rt.stop();
    }
  });
});
