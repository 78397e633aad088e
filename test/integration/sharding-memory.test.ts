/**
 * Memory follows ownership, against the reference server: two managers on real APIExportProviders
 * shard 20 bound workspaces over an in-memory replica group. Each replica's ConfigMap cache holds
 * only its owned clusters' objects (the provider's own view of the bindings stays complete); after
 * clusters move under write churn, each replica's cache of its owned clusters equals a direct LIST
 * of them through the virtual workspace, and no eviction reached handlers as a deletion.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Manager } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createExport, createWorkspace, sliceURLs, type Obj } from '../support/kcp.js';
import { FakeShardGroup } from '../support/fake-shards.js';
import { runManager } from '../support/runtime.js';
import { eventually, raw, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const WORKSPACES = 20;

type Running = Awaited<ReturnType<typeof runManager>>;

describe('sharding: each replica caches only the clusters it owns', function () {
  this.timeout(120_000);
  let srv: RunningServer;
  let kc: KubeConfig;
  let vwPath: string;
  const names: string[] = [];

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    kc = await createExport(srv, 'root:provider', 'things');
    const ws = Array.from({ length: WORKSPACES }, (_, i) => `t${i}`);
    names.push(...(await Promise.all(ws.map((w) => createWorkspace(srv, 'root', w)))));
    await Promise.all(ws.map((w) => bind(srv, `root:${w}`, 'root:provider', 'things')));
    await Promise.all(ws.flatMap((w) => ['a', 'b', 'c'].map((n) => write(`root:${w}`, 'POST', n, { v: '0' }))));
    const urls = await eventually(async () => {
      const u = await sliceURLs(srv, 'root:provider', 'things');
      return u.length > 0 ? u : undefined;
    }, 'the slice lists an endpoint');
    vwPath = new URL(urls![0]!).pathname;
  });
  after(() => srv?.stop());

  async function write(cluster: string, method: 'POST' | 'PATCH' | 'DELETE', name: string, data: Record<string, string> = {}): Promise<number> {
    const base = `/clusters/${cluster}/api/v1/namespaces/default/configmaps`;
    const r =
      method === 'POST'
        ? await raw(srv, 'POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data })
        : method === 'PATCH'
          ? await raw(srv, 'PATCH', `${base}/${name}`, { data }, { 'Content-Type': 'application/merge-patch+json' })
          : await raw(srv, 'DELETE', `${base}/${name}`);
    return r.status;
  }

  /** `name@resourceVersion` of the cluster's ConfigMaps, read directly through the virtual workspace. */
  async function direct(cluster: string): Promise<string[]> {
    const r = await raw(srv, 'GET', `${vwPath}/clusters/${cluster}/api/v1/configmaps`);
    expect(r.status, r.text).to.equal(200);
    return ((r.json as Obj).items as Obj[]).map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
  }

  function cached(m: Manager, cluster: string): string[] {
    return m
      .getCluster(cluster, { anyOwner: true })
      .cache.list(CM)
      .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
      .sort();
  }

  function owned(m: Manager): Set<string> {
    return new Set(m.clusters().filter((c) => c.state === 'engaged').map((c) => c.name));
  }

  /** Every cluster engaged on the replica the group assigns it to, and nowhere else. */
  function settled(group: FakeShardGroup, replicas: Record<string, Running>): boolean {
    return names.every((n) => Object.entries(replicas).every(([id, r]) => owned(r.manager).has(n) === (group.owner(n) === id)));
  }

  /** Clusters with objects in any of the replica's shared caches (the informer stores themselves). */
  async function clustersInCaches(m: Manager): Promise<Set<string>> {
    const inf = await m.getCluster(names[0]!, { anyOwner: true }).informer(CM);
    return new Set(inf.store.clusters());
  }

  it('holds only owned clusters, and after moves under churn each cache equals a direct LIST', async () => {
    const group = new FakeShardGroup();
    // Only the churn deletes (x0..x2): a DELETED delta of any other object would be an eviction seen as a deletion.
    const deletions: string[] = [];
    const setup = (m: Manager) =>
      m
        .controller('cms')
        .for(CM)
        .reconcile(() => undefined);
    const replicas: Record<string, Running> = {
      a: await runManager(kc, 'things', setup, { sharding: { coordinator: group.coordinator('a') } }),
      b: await runManager(kc, 'things', setup, { sharding: { coordinator: group.coordinator('b') } }),
    };
    try {
      await eventually(() => settled(group, replicas), 'every cluster engaged on its owner alone', 30_000);
      for (const [id, r] of Object.entries(replicas)) {
        const mine = owned(r.manager);
        expect(mine.size, `replica ${id} owns some clusters`).to.be.greaterThan(0);
        expect(mine.size, `replica ${id} owns only some clusters`).to.be.lessThan(WORKSPACES);
        const want = new Map<string, string[]>();
        for (const n of names) want.set(n, await direct(n));
        await eventually(() => [...mine].every((n) => JSON.stringify(cached(r.manager, n)) === JSON.stringify(want.get(n))), `replica ${id} cached its clusters`);
        for (const n of names) expect(cached(r.manager, n), `replica ${id}, cluster ${n}`).to.deep.equal(mine.has(n) ? want.get(n) : []);
        expect([...(await clustersInCaches(r.manager))].sort(), `clusters in replica ${id}'s ConfigMap informer`).to.deep.equal([...mine].sort());
        // The provider's own view stays complete: it still reads every binding.
        expect(r.provider.clusterNames().length, `clusters the provider of replica ${id} knows`).to.equal(WORKSPACES);
      }

      for (const r of Object.values(replicas)) {
        const inf = await r.manager.getCluster(names[0]!, { anyOwner: true }).informer(CM);
        const handlers = inf.addEventHandler({ onDelete: (o, c) => void (/^x\d$/.test(o.metadata?.name ?? '') || deletions.push(`${c}/${o.metadata?.name}`)) });
        after(() => handlers.unsubscribe());
      }

      // Churn: updates, creates and deletes in every workspace while clusters move both ways.
      let stop = false;
      let round = 0;
      const churn = (async () => {
        while (!stop) {
          round++;
          await Promise.all(
            names.map((_, i) => {
              const ws = `root:t${i}`;
              const n = `x${round % 3}`;
              return Promise.all([write(ws, 'PATCH', 'a', { v: String(round) }), round % 2 === 0 ? write(ws, 'DELETE', n) : write(ws, 'POST', n, { r: String(round) })]);
            }),
          );
        }
      })();
      const fromA = names.filter((n) => group.owner(n) === 'a').slice(0, 4);
      const fromB = names.filter((n) => group.owner(n) === 'b').slice(0, 4);
      for (const n of fromA) group.move(n, 'b');
      for (const n of fromB) group.move(n, 'a');
      await eventually(() => settled(group, replicas), 'the moved clusters engaged on their new owners', 30_000);
      await eventually(() => round >= 6, 'a few rounds of churn after the moves', 30_000);
      stop = true;
      await churn;

      // The cache differential: once the watches caught up, every owned cluster's cache equals a direct LIST.
      for (const [id, r] of Object.entries(replicas)) {
        const mine = owned(r.manager);
        await eventually(
          async () => {
            for (const n of mine) if (JSON.stringify(cached(r.manager, n)) !== JSON.stringify(await direct(n))) return false;
            return true;
          },
          `replica ${id}'s caches equal direct LISTs of its clusters`,
          20_000,
        );
        for (const n of names) if (!mine.has(n)) expect(cached(r.manager, n), `replica ${id} still caches ${n}, which it does not own`).to.deep.equal([]);
        expect([...(await clustersInCaches(r.manager))].sort(), `clusters in replica ${id}'s ConfigMap informer after the moves`).to.deep.equal([...mine].sort());
      }
      for (const n of fromA) expect(owned(replicas['b']!.manager).has(n)).to.equal(true);
      expect(deletions, 'DELETED deltas of objects nobody deleted').to.deep.equal([]);
      for (const r of Object.values(replicas)) expect(r.errors(), 'errors logged').to.deep.equal([]);
    } finally {
      await Promise.all(Object.values(replicas).map((r) => r.stop()));
    }
  });
});
