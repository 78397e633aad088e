/**
 * The cross-shard views of an APIExportProvider in a Manager, against the reference server with
 * two shards behind a proxy that can hide a shard's URL from the endpoint slice: one list over
 * both shards' caches (by field index too), a dead shard reported next to the others' items, and
 * an aggregate informer that sees both shards, deletes a leaving shard's objects and replays a
 * joining one's, and stops calling a removed handler.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { Transport, type KubernetesObject } from '../../src/client/index.js';
import { AggregateLister, FieldNotIndexedError, type AggregateItem } from '../../src/provider/aggregate.js';
import { EndpointSet } from '../../src/provider/endpoint-set.js';
import { Endpoint } from '../../src/provider/endpoint.js';
import { FieldIndexes } from '../../src/provider/indexes.js';
import type { RunningServer } from '../../src/server/index.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { bind, createConfigMap, createExport, createWorkspace, sliceURLs, updateConfigMap } from '../support/kcp.js';
import { closedPort, placed, plainKubeConfig, runManager, touchSlice, vwURL } from '../support/runtime.js';
import { eventually, rejection, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
type ConfigMap = KubernetesObject & { data?: Record<string, string> };

const names = (items: AggregateItem[], prefix: string): string[] =>
  items
    .filter((i) => i.object.metadata?.name?.startsWith(prefix))
    .map((i) => `${i.cluster}/${i.object.metadata?.name}@${i.endpoint}`)
    .sort();

describe('provider: cross-shard lister and aggregate informer on two shards', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let proxy: FlakyProxy;
  let kc: KubeConfig;
  let providerCluster: string;

  before(async () => {
    srv = await start({ shards: 2, tls: false });
    providerCluster = await createWorkspace(srv, 'root', 'provider', { location: { selector: { matchLabels: { name: 'root' } } } });
    proxy = await startFlakyProxy(srv.url);
    kc = plainKubeConfig(`${proxy.url}/clusters/root:provider`, srv.token);
  });
  after(async () => {
    await proxy?.close();
    await srv?.stop();
  });

  /** An export with one bound consumer on each shard; returns the clusters and the proxied VW URLs. */
  async function twoShardExport(name: string): Promise<{ a: string; b: string; url0: string; url1: string; raw0: string; raw1: string }> {
    await createExport(srv, 'root:provider', name);
    const a = await placed(srv, `${name}-a`, 'root');
    const b = await placed(srv, `${name}-b`, 'shard-1');
    await bind(srv, `root:${name}-a`, 'root:provider', name);
    await bind(srv, `root:${name}-b`, 'root:provider', name);
    await eventually(async () => (await sliceURLs(srv, 'root:provider', name)).length === 2, 'both shard URLs in the slice');
    const [raw0, raw1] = [vwURL(srv, 0, providerCluster, name), vwURL(srv, 1, providerCluster, name)];
    return { a, b, raw0, raw1, url0: proxy.rewritten(raw0), url1: proxy.rewritten(raw1) };
  }

  it('lists both shards at once, by field index too, and reports a dead shard next to the others', async () => {
    const { a, b, url0, url1 } = await twoShardExport('agg-list');
    await createConfigMap(srv, `root:agg-list-a`, 'item-1', { owner: 'alice' });
    await createConfigMap(srv, `root:agg-list-a`, 'item-2', { owner: 'bob' });
    await createConfigMap(srv, `root:agg-list-b`, 'item-3', { owner: 'alice' });
    const rt = await runManager(kc, 'agg-list', () => undefined);
    try {
      await eventually(() => rt.provider.endpointURLs().length === 2, 'both endpoints watched');
      const lister = rt.provider.lister();
      const all = await lister.list<ConfigMap>(CM);
      expect(all.errors).to.deep.equal([]);
      expect(all.partial).to.equal(false);
      expect(names(all.items, 'item-')).to.deep.equal([`${a}/item-1@${url0}`, `${a}/item-2@${url0}`, `${b}/item-3@${url1}`].sort());
      // Held: a second list reads the caches the first started, which follow changes.
      for (const ep of rt.provider.endpointSet.list()) expect(ep.watched(CM), ep.url).to.not.equal(undefined);
      await createConfigMap(srv, `root:agg-list-b`, 'item-4', { owner: 'carol' });
      await eventually(async () => names((await lister.list(CM)).items, 'item-4').length === 1, 'the new object in the held cache');

      expect(await rejection(lister.list(CM, { fields: { 'data.owner': 'alice' } }))).to.be.instanceOf(FieldNotIndexedError);
      rt.provider.indexField<ConfigMap>(CM, 'data.owner', (o) => (o.data?.['owner'] ? [o.data['owner']] : []));
      const alice = await lister.list(CM, { fields: { 'data.owner': 'alice' } });
      expect(names(alice.items, 'item-')).to.deep.equal([`${a}/item-1@${url0}`, `${b}/item-3@${url1}`].sort());
      const aliceOnB = await lister.list(CM, { fields: { 'data.owner': 'alice' }, cluster: b, namespace: 'default' });
      expect(names(aliceOnB.items, 'item-')).to.deep.equal([`${b}/item-3@${url1}`]);
      expect(names((await lister.sequentialList(CM, { fields: { 'data.owner': 'alice' } })).items, 'item-')).to.deep.equal(names(alice.items, 'item-'));

      // The same endpoints plus one whose URL nothing serves.
      const set = new EndpointSet();
      for (const ep of rt.provider.endpointSet.list()) set.add(ep);
      const deadURL = `http://127.0.0.1:${await closedPort()}/services/apiexport/${providerCluster}/agg-list`;
      const dead = new Endpoint({ transport: Transport.fromKubeConfig(kc), url: deadURL, indexes: new FieldIndexes(), recorder: () => ({ publish: async () => undefined, stop: () => undefined }) });
      set.add(dead);
      const partial = new AggregateLister(set);
      try {
        const t0 = Date.now();
        const r = await partial.list(CM, { syncTimeoutMs: 5_000 });
        expect(Date.now() - t0, 'bounded by the sync deadline').to.be.below(8_000);
        expect(r.partial).to.equal(true);
        expect(r.errors.map((e) => e.endpoint)).to.deep.equal([deadURL]);
        expect(r.errors[0]!.error.message).to.match(/ECONNREFUSED|did not sync|connect/i);
        expect(names(r.items, 'item-')).to.have.length(4);
      } finally {
        partial.close();
        dead.close();
      }
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('delivers both shards, existing and new objects; a shard leaving yields deletes, one joining is replayed; a removed handler hears nothing', async () => {
    const { a, b, raw1, url0, url1 } = await twoShardExport('agg-inf');
    await createConfigMap(srv, 'root:agg-inf-a', 'old-a');
    await createConfigMap(srv, 'root:agg-inf-b', 'old-b');
    const rt = await runManager(kc, 'agg-inf', () => undefined);
    const events: string[] = [];
    const seen = (e: string): boolean => events.includes(e);
    try {
      await eventually(() => rt.provider.endpointURLs().length === 2, 'both endpoints watched');
      const agg = rt.provider.aggregateInformer<ConfigMap>(CM);
      expect(rt.provider.aggregateInformer(CM), 'one view per type').to.equal(agg);
      const track = (prefix: string) => ({
        onAdd: (o: ConfigMap, c: string, e: string) => void (o.metadata?.name?.startsWith(prefix) && events.push(`add ${c}/${o.metadata.name}@${e}`)),
        onUpdate: (_: ConfigMap, o: ConfigMap, c: string, e: string) => void (o.metadata?.name?.startsWith(prefix) && events.push(`update ${c}/${o.metadata.name}@${e}`)),
        onDelete: (o: ConfigMap, c: string, e: string) => void (o.metadata?.name?.startsWith(prefix) && events.push(`delete ${c}/${o.metadata.name}@${e}`)),
      });
      const reg = agg.addEventHandler(track(''));
      await eventually(() => reg.synced && agg.synced, 'synced on both shards');
      await eventually(() => seen(`add ${a}/old-a@${url0}`) && seen(`add ${b}/old-b@${url1}`), 'existing objects of both shards');

      await createConfigMap(srv, 'root:agg-inf-a', 'new-a');
      await createConfigMap(srv, 'root:agg-inf-b', 'new-b');
      await updateConfigMap(srv, 'root:agg-inf-b', 'old-b', { v: '2' });
      await eventually(() => seen(`add ${a}/new-a@${url0}`) && seen(`add ${b}/new-b@${url1}`) && seen(`update ${b}/old-b@${url1}`), 'new objects and an update on both shards');
      expect(agg.list().filter((i) => /^(old|new)-/.test(i.object.metadata?.name ?? ''))).to.have.length(4);

      // Shard-1 leaves the slice while its binding and objects stay: the view deletes what it delivered.
      const onB = agg.list().filter((i) => i.endpoint === url1).map((i) => `delete ${i.cluster}/${i.object.metadata?.name}@${url1}`);
      expect(onB.length).to.be.at.least(2);
      events.length = 0;
      proxy.hidden.add(raw1);
      await touchSlice(srv, 'agg-inf', '1');
      await eventually(() => rt.provider.endpointURLs().length === 1, 'shard-1 endpoint stopped');
      await eventually(() => onB.every(seen), 'a delete for every object of the leaving shard');
      expect(events.filter((e) => e.startsWith('delete')).sort()).to.deep.equal([...onB].sort());
      expect(events.filter((e) => !e.startsWith('delete'))).to.deep.equal([]);
      expect(agg.endpoints()).to.deep.equal([url0]);
      expect(agg.synced).to.equal(true);

      // It comes back: its objects, including one written while it was away, arrive as adds.
      await createConfigMap(srv, 'root:agg-inf-b', 'while-away');
      events.length = 0;
      proxy.hidden.delete(raw1);
      await touchSlice(srv, 'agg-inf', '2');
      await eventually(() => seen(`add ${b}/while-away@${url1}`) && seen(`add ${b}/old-b@${url1}`) && seen(`add ${b}/new-b@${url1}`), 'the joining shard replayed');
      await eventually(() => agg.synced && reg.synced, 'synced again on both shards');

      // A second handler registered now gets both shards' state; the first, once removed, hears nothing.
      const late: string[] = [];
      const reg2 = agg.addEventHandler({ onAdd: (o, c, e) => void late.push(`${c}/${o.metadata?.name}@${e}`) });
      expect(late).to.include.members([`${a}/old-a@${url0}`, `${b}/old-b@${url1}`]);
      agg.removeEventHandler(reg);
      events.length = 0;
      await createConfigMap(srv, 'root:agg-inf-a', 'unheard');
      await eventually(() => late.includes(`${a}/unheard@${url0}`), 'the remaining handler sees the write');
      expect(events).to.deep.equal([]);
      reg2.remove();
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      proxy.hidden.clear();
      await rt.stop();
    }
    // The provider closed its views: no informer of the export's endpoints is left running.
    expect(rt.provider.endpointSet.list()).to.deep.equal([]);
    await eventually(() => srv.openWatches() === 0, 'every watch closed');
  });
});
