/**
 * The APIExportProvider behind a proxy that rewrites the endpoint slice: an endpoint that answers
 * 503 for a while, URLs that leave the slice and come back, and a cluster that two URLs serve.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { EndpointCluster, PathAwareProvider, isClusterNotFound } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { bind, createConfigMap, createExport, createWorkspace, sliceURLs } from '../support/kcp.js';
import { runManager, runWith, recording, saw, placed, vwURL, touchSlice, plainKubeConfig } from '../support/runtime.js';
import { eventually, raw, start } from '../support/server.js';

describe('runtime: the APIExport provider behind a proxy (503 endpoints, URLs leaving)', function () {
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

  it('keeps a 503 endpoint unready and unengaged, retrying, and engages it within the backoff once it serves', async () => {
    await createExport(srv, 'root:provider', 'flaky');
    const ws = await placed(srv, 'flaky-a', 'shard-1');
    await bind(srv, 'root:flaky-a', 'root:provider', 'flaky');
    await createConfigMap(srv, 'root:flaky-a', 'hello');
    await eventually(async () => (await sliceURLs(srv, 'root:provider', 'flaky')).length === 1, 'the slice URL');
    const url = proxy.rewritten(vwURL(srv, 1, providerCluster, 'flaky'));
    proxy.failing = true;
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'flaky', (m) => (rec = recording(m, 'x')));
    try {
      await eventually(() => rt.provider.endpointURLs().length === 1, 'the endpoint watched');
      expect(rt.provider.endpointURLs()).to.deep.equal([url]);
      const before = proxy.refused;
      await eventually(() => proxy.refused >= before + 2, 'the endpoint retried', 15_000);
      const r = rt.provider.ready();
      expect(r.ready).to.equal(false);
      expect(r.reason).to.include(url);
      const health = await rt.manager.health.run('readyz');
      expect(health.healthy).to.equal(false);
      expect(health.statuses.find((s) => s.name === 'provider')?.reason).to.include(url);
      expect(rt.manager.clusters()).to.deep.equal([]);
      expect(rt.provider.clusterNames()).to.deep.equal([]);
      expect(rt.crashed()).to.equal(undefined);
      expect(rt.entries.some((e) => e.event === 'retry' && String(e['error']).match(/503|not serving/))).to.equal(true);

      proxy.failing = false;
      const flipped = Date.now();
      await eventually(() => saw(rec.seen, ws, 'hello'), 'reconciled after the endpoint serves', 35_000);
      const took = Date.now() - flipped;
      expect(took, 'within the informer backoff').to.be.below(35_000);
      expect(rt.provider.ready()).to.deep.equal({ ready: true });
      await eventually(async () => (await rt.manager.health.run('readyz')).healthy, 'manager ready');
    } finally {
      await rt.stop();
    }
  });

  it('stops only the endpoint that leaves the slice, while the other shard keeps reconciling, and restarts it when it returns', async () => {
    await createExport(srv, 'root:provider', 'split');
    const a = await placed(srv, 'split-a', 'root');
    const b = await placed(srv, 'split-b', 'shard-1');
    await bind(srv, 'root:split-a', 'root:provider', 'split');
    await bind(srv, 'root:split-b', 'root:provider', 'split');
    await eventually(async () => (await sliceURLs(srv, 'root:provider', 'split')).length === 2, 'both URLs');
    const [url0, url1] = [vwURL(srv, 0, providerCluster, 'split'), vwURL(srv, 1, providerCluster, 'split')];
    const aborted: unknown[] = [];
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'split', (m) => {
      rec = recording(m, 'x', async (req, ctx) => {
        if (req.name !== 'hold' || aborted.length > 0) return;
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        aborted.push(ctx.signal.reason);
      });
    }, { controllerDefaults: { maxConcurrentReconciles: 2 } });
    try {
      await eventually(() => rt.provider.clusterNames().length === 2 && rt.manager.clusters().every((c) => c.state === 'engaged'), 'both engaged');
      const handleA = rt.provider.get(a);
      await createConfigMap(srv, 'root:split-b', 'hold');
      await eventually(() => saw(rec.seen, b, 'hold'), 'a reconcile in flight on shard-1');

      // The binding stays; only the slice stops listing shard-1.
      proxy.hidden.add(url1);
      await touchSlice(srv, 'split', '1');
      await eventually(() => JSON.stringify(rt.provider.endpointURLs()) === JSON.stringify([proxy.rewritten(url0)]), 'shard-1 endpoint stopped');
      await eventually(() => aborted.length === 1, 'the in-flight reconcile aborted');
      expect(String(aborted[0])).to.match(/disengaged/);
      expect(rt.provider.clusterNames()).to.deep.equal([a]);
      await eventually(() => rt.manager.clusters().map((c) => c.name).join() === a, 'only shard root in the manager');
      expect(rt.provider.get(a)).to.equal(handleA);
      await createConfigMap(srv, 'root:split-b', 'unseen');
      await createConfigMap(srv, 'root:split-a', 'seen');
      await eventually(() => saw(rec.seen, a, 'seen'), 'shard root reconciles');
      expect(saw(rec.seen, b, 'unseen')).to.equal(false);

      proxy.hidden.delete(url1);
      await touchSlice(srv, 'split', '2');
      await eventually(() => saw(rec.seen, b, 'unseen'), 'shard-1 reconciles again once its URL is back');
      expect(rt.provider.endpointURLs().sort()).to.deep.equal([proxy.rewritten(url0), proxy.rewritten(url1)].sort());
      expect(rt.provider.get(a)).to.equal(handleA);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('keeps a cluster that a remaining URL also serves: it moves there when its first URL leaves', async () => {
    await createExport(srv, 'root:provider', 'moved');
    const ws = await placed(srv, 'moved-a', 'root');
    await bind(srv, 'root:moved-a', 'root:provider', 'moved');
    await eventually(async () => (await sliceURLs(srv, 'root:provider', 'moved')).length === 1, 'the slice URL');
    const url = vwURL(srv, 0, providerCluster, 'moved');
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'moved', (m) => (rec = recording(m, 'x')));
    const endpointOf = (): string | undefined => (rt.provider.clusterNames().includes(ws) ? (rt.provider.get(ws) as EndpointCluster).endpoint.url : undefined);
    try {
      await eventually(() => rt.manager.clusters().find((c) => c.name === ws)?.state === 'engaged', 'engaged');
      expect(endpointOf()).to.equal(proxy.rewritten(url));
      // The shard's URL is replaced in two steps: the new one appears, then the old one goes.
      proxy.aliased.add(url);
      await touchSlice(srv, 'moved', '1');
      await eventually(() => rt.provider.endpointURLs().length === 2, 'both URLs watched');
      proxy.hidden.add(url);
      await touchSlice(srv, 'moved', '2');
      await eventually(() => JSON.stringify(rt.provider.endpointURLs()) === JSON.stringify([proxy.aliasOf(url)]), 'only the new URL watched');
      await eventually(() => endpointOf() === proxy.aliasOf(url), 'the cluster engaged through the new URL');
      await eventually(() => rt.manager.clusters().find((c) => c.name === ws)?.state === 'engaged', 'engaged again');
      await createConfigMap(srv, 'root:moved-a', 'after-move');
      await eventually(() => saw(rec.seen, ws, 'after-move'), 'reconciled through the new URL');
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      proxy.aliased.clear();
      proxy.hidden.clear();
      await rt.stop();
    }
  });

  it('path-aware: a path seen late or changed is re-registered and the old one dropped (Go #103)', async () => {
    await createExport(srv, 'root:provider', 'moving');
    const ws = await placed(srv, 'moving-a', 'shard-1');
    await bind(srv, 'root:moving-a', 'root:provider', 'moving');
    // The endpoint shows an older path first, as if kcp had not written the real one yet.
    proxy.paths.set('root:moving-a', 'root:before');
    const rt = await runWith((log) => new PathAwareProvider(kc, { endpointSlice: 'moving', log }), (m) => void recording(m, 'x'));
    try {
      await eventually(() => rt.provider.clusterNames().includes(ws), 'engaged');
      expect(rt.provider.get('root:before').name).to.equal(ws);
      proxy.paths.clear();
      // Any change of the binding brings its real path.
      const r = await raw(srv, 'PATCH', '/clusters/root:moving-a/apis/apis.kcp.io/v1alpha2/apibindings/moving', { metadata: { labels: { touched: '1' } } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(r.status, r.text).to.equal(200);
      await eventually(() => rt.provider.get(ws).path === 'root:moving-a', 'the new path on the handle');
      expect(rt.provider.get('root:moving-a').name).to.equal(ws);
      expect(() => rt.provider.get('root:before')).to.throw().that.satisfies(isClusterNotFound);
      expect(rt.entries.some((e) => e.msg === 'workspace path changed' && e['path'] === 'root:moving-a' && e['before'] === 'root:before')).to.equal(true);
    } finally {
      proxy.paths.clear();
      await rt.stop();
    }
  });
});
