/**
 * The APIExportProvider and the Manager against the reference server's topology: workspaces on two
 * shards behind one export, URLs that appear late, a slice deleted and recreated, a shard's URL
 * leaving, engagement retried until a type is served, and the manager's metrics and probes.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { EndpointCluster } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, sliceURLs, unbind, type Obj } from '../support/kcp.js';
import { runManager, recording, saw, placed, vwURL, closedPort } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const SECRET = { apiVersion: 'v1', kind: 'Secret' } as const;
const SLICE_API = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';

describe('runtime: the APIExport provider across shards and endpoint changes', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let kc: KubeConfig;
  let providerCluster: string;

  before(async () => {
    srv = await start({ shards: 2 });
    providerCluster = await createWorkspace(srv, 'root', 'provider', { location: { selector: { matchLabels: { name: 'root' } } } });
    kc = kubeConfigFor(srv, 'root:provider');
  });
  after(() => srv?.stop());

  it('reconciles workspaces on both shards, one endpoint per shard, each client writing into its own shard', async () => {
    await createExport(srv, 'root:provider', 'multi');
    const a = await placed(srv, 'multi-a', 'root');
    const b = await placed(srv, 'multi-b', 'shard-1');
    await bind(srv, 'root:multi-a', 'root:provider', 'multi');
    await bind(srv, 'root:multi-b', 'root:provider', 'multi');
    const urls = [vwURL(srv, 0, providerCluster, 'multi'), vwURL(srv, 1, providerCluster, 'multi')];
    await eventually(async () => (await sliceURLs(srv, 'root:provider', 'multi')).length === 2, 'both shard URLs in the slice');
    expect((await sliceURLs(srv, 'root:provider', 'multi')).sort()).to.deep.equal([...urls].sort());
    await createConfigMap(srv, 'root:multi-a', 'seed');
    await createConfigMap(srv, 'root:multi-b', 'seed');

    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'multi', (m) => {
      rec = recording(m, 'x', async (req, ctx) => {
        if (req.name !== 'seed') return;
        await ctx.cluster.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'written', namespace: 'default' }, data: { by: req.cluster } }, { fieldManager: 'x', force: true });
      });
    });
    try {
      await eventually(() => saw(rec.seen, a, 'seed') && saw(rec.seen, b, 'seed'), 'seed reconciled on both shards');
      expect(rt.provider.endpointURLs().sort()).to.deep.equal([...urls].sort());
      expect(rt.provider.clusterNames().sort()).to.deep.equal([a, b].sort());
      for (const [cluster, i, ws] of [[a, 0, 'multi-a'], [b, 1, 'multi-b']] as const) {
        const handle = rt.provider.get(cluster);
        expect(handle).to.be.instanceOf(EndpointCluster);
        expect((handle as EndpointCluster).endpoint.url).to.equal(urls[i]);
        const got = await eventually(async () => {
          const r = await raw(srv, 'GET', `/clusters/root:${ws}/api/v1/namespaces/default/configmaps/written`);
          return r.status === 200 ? (r.json as Obj) : undefined;
        }, `written in ${ws}`);
        expect(got!['data']).to.deep.equal({ by: cluster });
        // The object lives on the workspace's own shard: only that shard's wildcard list has it.
        for (const j of [0, 1]) {
          const list = (await raw({ ...srv, url: srv.shardURLs[j]! }, 'GET', '/clusters/*/api/v1/configmaps')).json['items'] as Obj[];
          const here = list.some((o) => o['metadata'].name === 'written' && o['metadata'].annotations['kcp.io/cluster'] === cluster);
          expect(here, `${ws}'s ConfigMap on shard ${j}`).to.equal(i === j);
        }
      }
      await eventually(() => rt.manager.clusters().filter((c) => c.state === 'engaged').length === 2, 'both engaged');
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('waits quietly on a slice without URLs, ready once it synced, and engages a workspace that binds later', async () => {
    await createExport(srv, 'root:provider', 'late');
    await eventually(async () => (await raw(srv, 'GET', `/clusters/root:provider${SLICE_API}/late`)).status === 200, 'the default slice');
    expect(await sliceURLs(srv, 'root:provider', 'late')).to.deep.equal([]);
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'late', (m) => (rec = recording(m, 'x')));
    try {
      await eventually(() => rt.provider.ready().ready, 'provider ready on an empty slice');
      expect((await rt.manager.health.run('readyz')).healthy).to.equal(true);
      expect(rt.provider.endpointURLs()).to.deep.equal([]);
      expect(rt.manager.clusters()).to.deep.equal([]);
      const ws = await placed(srv, 'late-a', 'shard-1');
      await createConfigMap(srv, 'root:late-a', 'hello');
      await bind(srv, 'root:late-a', 'root:provider', 'late');
      await eventually(() => saw(rec.seen, ws, 'hello'), 'the late workspace reconciled');
      expect(rt.provider.endpointURLs()).to.deep.equal([vwURL(srv, 1, providerCluster, 'late')]);
      // Quiet: no errors, and the slice watch never failed.
      expect(rt.errors()).to.deep.equal([]);
      expect(rt.entries.filter((e) => e.event === 'retry' && e['path'] === SLICE_API)).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('disengages everything when the slice is deleted and engages again once it is recreated', async () => {
    await createExport(srv, 'root:provider', 'again');
    const a = await placed(srv, 'again-a', 'root');
    const b = await placed(srv, 'again-b', 'shard-1');
    await bind(srv, 'root:again-a', 'root:provider', 'again');
    await bind(srv, 'root:again-b', 'root:provider', 'again');
    await createConfigMap(srv, 'root:again-a', 'hold');
    await createConfigMap(srv, 'root:again-b', 'hold');
    await eventually(async () => (await sliceURLs(srv, 'root:provider', 'again')).length === 2, 'both URLs');
    const aborted = new Map<string, unknown>();
    let round = 1;
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'again', (m) => {
      rec = recording(m, 'x', async (req, ctx) => {
        if (req.name !== 'hold' || round !== 1) return;
        // Held until the cluster leaves.
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        aborted.set(req.cluster, ctx.signal.reason);
      });
    }, { controllerDefaults: { maxConcurrentReconciles: 2 } });
    try {
      await eventually(() => saw(rec.seen, a, 'hold') && saw(rec.seen, b, 'hold'), 'both held');
      const del = await raw(srv, 'DELETE', `/clusters/root:provider${SLICE_API}/again`);
      expect(del.status, del.text).to.equal(200);
      await eventually(() => aborted.size === 2, 'both in-flight reconciles aborted');
      for (const reason of aborted.values()) expect(String(reason)).to.match(/disengaged/);
      expect(rt.provider.clusterNames()).to.deep.equal([]);
      expect(rt.provider.endpointURLs()).to.deep.equal([]);
      await eventually(() => rt.manager.clusters().length === 0, 'the manager has no clusters');
      round = 2;
      rec.seen.clear();
      // The reference server does not recreate a deleted default slice (its export is not reconciled
      // again); should it ever do so, as a kcp controller might, the recreated one is used instead.
      if ((await raw(srv, 'GET', `/clusters/root:provider${SLICE_API}/again`)).status === 404) {
        const made = await raw(srv, 'POST', `/clusters/root:provider${SLICE_API}`, {
          apiVersion: 'apis.kcp.io/v1alpha1',
          kind: 'APIExportEndpointSlice',
          metadata: { name: 'again' },
          spec: { export: { path: 'root:provider', name: 'again' } },
        });
        expect(made.status, made.text).to.equal(201);
      }
      await eventually(async () => (await sliceURLs(srv, 'root:provider', 'again')).length === 2, 'the recreated slice lists both URLs');
      await eventually(() => saw(rec.seen, a, 'hold') && saw(rec.seen, b, 'hold'), 'both reconciled again');
      expect(rt.provider.clusterNames().sort()).to.deep.equal([a, b].sort());
      expect(rt.provider.endpointURLs()).to.have.length(2);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('stops the endpoint of a shard whose last binding went, and only its clusters', async () => {
    await createExport(srv, 'root:provider', 'shrink');
    const a = await placed(srv, 'shrink-a', 'root');
    const b = await placed(srv, 'shrink-b', 'shard-1');
    await bind(srv, 'root:shrink-a', 'root:provider', 'shrink');
    await bind(srv, 'root:shrink-b', 'root:provider', 'shrink');
    const [url0, url1] = [vwURL(srv, 0, providerCluster, 'shrink'), vwURL(srv, 1, providerCluster, 'shrink')];
    await eventually(async () => (await sliceURLs(srv, 'root:provider', 'shrink')).length === 2, 'both URLs');
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'shrink', (m) => (rec = recording(m, 'x')));
    try {
      await eventually(() => rt.provider.clusterNames().length === 2 && rt.manager.clusters().every((c) => c.state === 'engaged'), 'both engaged');
      const handleA = rt.provider.get(a);
      await unbind(srv, 'root:shrink-b', 'shrink');
      await eventually(async () => JSON.stringify(await sliceURLs(srv, 'root:provider', 'shrink')) === JSON.stringify([url0]), 'the server dropped shard-1 from the slice');
      await eventually(() => JSON.stringify(rt.provider.endpointURLs()) === JSON.stringify([url0]), 'the provider stopped watching shard-1');
      await eventually(() => !rt.manager.clusters().some((c) => c.name === b), 'shard-1 cluster gone');
      expect(rt.provider.clusterNames()).to.deep.equal([a]);
      expect(rt.provider.get(a), 'the other shard was not re-engaged').to.equal(handleA);
      await createConfigMap(srv, 'root:shrink-a', 'after');
      await eventually(() => saw(rec.seen, a, 'after'), 'shard root still reconciles');
      expect(url1).to.not.equal(url0);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('retries engagement while a watched type is not served, and engages once the export claims it', async () => {
    await createExport(srv, 'root:provider', 'claims');
    const ws = await placed(srv, 'claims-a', 'root');
    await bind(srv, 'root:claims-a', 'root:provider', 'claims');
    const r = await raw(srv, 'POST', '/clusters/root:claims-a/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' }, stringData: { k: 'v' } });
    expect(r.status, r.text).to.equal(201);
    const secrets = new Set<string>();
    const rt = await runManager(kc, 'claims', (m) => {
      m.controller('secrets')
        .for(SECRET)
        .reconcile((req) => {
          if (req.cluster === ws) secrets.add(req.name);
        });
    });
    try {
      const retrying = await eventually(() => rt.manager.clusters().find((c) => c.name === ws && c.state === 'retrying'), 'engagement retrying');
      expect(retrying!.failures).to.be.at.least(1);
      expect(retrying!.lastError).to.match(/Secret/);
      expect(rt.provider.clusterNames()).to.deep.equal([ws]);
      // Claim secrets on the export and accept the claim in the binding: the VW serves them now.
      const claims = [
        { group: '', resource: 'configmaps', verbs: ['*'] },
        { group: '', resource: 'events', verbs: ['*'] },
        { group: '', resource: 'secrets', verbs: ['*'] },
      ];
      const pe = await raw(srv, 'PATCH', '/clusters/root:provider/apis/apis.kcp.io/v1alpha2/apiexports/claims', { spec: { permissionClaims: claims } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(pe.status, pe.text).to.equal(200);
      const pb = await raw(srv, 'PATCH', '/clusters/root:claims-a/apis/apis.kcp.io/v1alpha2/apibindings/claims', { spec: { permissionClaims: claims.map((c) => ({ ...c, selector: { matchAll: true }, state: 'Accepted' })) } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(pb.status, pb.text).to.equal(200);
      await eventually(() => rt.manager.clusters().find((c) => c.name === ws)?.state === 'engaged', 'engaged after the claim', 20_000);
      expect(rt.manager.clusters().find((c) => c.name === ws)!.lastError).to.equal(undefined);
      await eventually(() => secrets.has('token'), 'the secret reconciled');
    } finally {
      await rt.stop();
    }
  });

  it('serves controller-runtime metrics and probes, and stays up, not ready, while kcp is unreachable', async () => {
    await createExport(srv, 'root:provider', 'metrics');
    await placed(srv, 'metrics-a', 'root');
    await placed(srv, 'metrics-b', 'shard-1');
    await bind(srv, 'root:metrics-a', 'root:provider', 'metrics');
    await bind(srv, 'root:metrics-b', 'root:provider', 'metrics');
    await createConfigMap(srv, 'root:metrics-a', 'm1');
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'metrics', (m) => (rec = recording(m, 'x')), { metricsBindAddress: '127.0.0.1:0', healthProbeBindAddress: '127.0.0.1:0' });
    try {
      await eventually(() => rt.manager.clusters().length === 2 && rt.manager.clusters().every((c) => c.state === 'engaged'), 'both engaged');
      await eventually(() => [...rec.seen.values()].some((s) => s.has('m1')), 'm1 reconciled');
      const { metrics, health } = rt.manager.addresses;
      expect(metrics).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(health).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const body = await (await fetch(`${metrics}/metrics`)).text();
      for (const series of [
        /^controller_runtime_reconcile_total\{[^}]*controller="x"[^}]*result="success"[^}]*\} [1-9]/m,
        /^controller_runtime_reconcile_errors_total\{[^}]*controller="x"/m,
        /^controller_runtime_terminal_reconcile_errors_total\{[^}]*controller="x"/m,
        /^controller_runtime_reconcile_time_seconds_bucket\{[^}]*controller="x"/m,
        /^controller_runtime_max_concurrent_reconciles\{[^}]*controller="x"[^}]*\} 1$/m,
        /^controller_runtime_active_workers\{[^}]*controller="x"[^}]*\} 0$/m,
        /^workqueue_adds_total\{(?=[^}]*controller="x")(?=[^}]*name="x")[^}]*\} [1-9]/m,
        /^workqueue_depth\{[^}]*name="x"/m,
        /^workqueue_queue_duration_seconds_bucket\{[^}]*name="x"/m,
        /^workqueue_work_duration_seconds_bucket\{[^}]*name="x"/m,
        /^workqueue_retries_total\{[^}]*name="x"/m,
        /^workqueue_unfinished_work_seconds\{[^}]*name="x"/m,
        /^workqueue_longest_running_processor_seconds\{[^}]*name="x"/m,
        /^kcp_mc_engaged_clusters\{provider="kcp"\} 2$/m,
      ]) {
        expect(body, String(series)).to.match(series);
      }
      const ready = await fetch(`${health}/readyz`);
      expect(ready.status).to.equal(200);
      const verbose = await (await fetch(`${health}/readyz?verbose`)).text();
      expect(verbose).to.include('[+]provider ok').and.include('[+]clusters ok').and.include('readyz check passed');
    } finally {
      await rt.stop();
    }

    const down = kubeConfigFor({ ...srv, url: `${new URL(srv.url).protocol}//127.0.0.1:${await closedPort()}` }, 'root:provider');
    const off = await runManager(down, 'metrics', (m) => recording(m, 'x'), { metricsBindAddress: '127.0.0.1:0', healthProbeBindAddress: '127.0.0.1:0' });
    try {
      await eventually(() => off.manager.addresses.health, 'probes listening');
      // Two failed lists: the provider keeps retrying.
      await eventually(() => off.entries.filter((e) => e.event === 'retry').length >= 2, 'the slice list retried', 15_000);
      const { health, metrics } = off.manager.addresses;
      expect((await fetch(`${health}/readyz`)).status).to.equal(500);
      expect((await fetch(`${health}/healthz`)).status).to.equal(200);
      expect((await fetch(`${metrics}/metrics`)).status).to.equal(200);
      const why = await off.manager.health.run('readyz');
      expect(why.statuses.find((s) => s.name === 'provider')?.reason).to.match(/^cannot list APIExportEndpointSlice "metrics" in workspace root:provider \(retrying\): .*connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
      expect(off.crashed()).to.equal(undefined);
    } finally {
      await off.stop();
    }
  });
});
