/**
 * The kcp providers beyond APIExport, against the reference server with two shards: the
 * path-aware provider (lookup by workspace path, path in handles and logs, isolation of scoped
 * caches and clients, recorders writing into each consumer's own workspace), the initializing
 * provider (clusters of its type engaged on both shards, APIs of their own, its initializer removed
 * and the workspace Ready), and the composite provider with the kubeconfig's own workspace.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import {
  CompositeProvider,
  Endpoint,
  EndpointCluster,
  InitializingWorkspacesProvider,
  InvalidClusterNameError,
  LOGICAL_CLUSTER,
  LocalClusterProvider,
  APIExportProvider,
  PathAwareProvider,
  hasInitializer,
  isClusterNotFound,
  removeInitializer,
  type Cluster,
} from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, unbind, type Obj } from '../support/kcp.js';
import { placed, recording, runWith, saw } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';

function notFoundName(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isClusterNotFound(e), String(e)).to.equal(true);
    return (e as Error).message;
  }
  throw new Error('expected ClusterNotFoundError');
}

describe('providers: path-aware, initializing and composite (reference server, two shards)', function () {
  this.timeout(90_000);
  let srv: RunningServer;
  let kc: KubeConfig;

  before(async () => {
    srv = await start({ shards: 2 });
    await createWorkspace(srv, 'root', 'provider', { location: { selector: { matchLabels: { name: 'root' } } } });
    kc = kubeConfigFor(srv, 'root:provider');
  });
  after(() => srv?.stop());

  describe('PathAwareProvider', () => {
    let a: string;
    let b: string;
    before(async () => {
      await createExport(srv, 'root:provider', 'paths');
      a = await placed(srv, 'pa-a', 'root');
      b = await placed(srv, 'pa-b', 'shard-1');
      await bind(srv, 'root:pa-a', 'root:provider', 'paths');
      await bind(srv, 'root:pa-b', 'root:provider', 'paths');
      await createConfigMap(srv, 'root:pa-a', 'only-in-a', { tenant: 'a' });
      await createConfigMap(srv, 'root:pa-b', 'only-in-b', { tenant: 'b' });
    });

    it('finds a cluster by path and by name, keeps the path on the handle and in reconcile logs, and forgets it when the cluster leaves', async () => {
      let rec!: ReturnType<typeof recording>;
      const rt = await runWith((log) => new PathAwareProvider(kc, { endpointSlice: 'paths', log }), (m) => {
        rec = recording(m, 'paths', async (_req, ctx) => void ctx.log.info('reconciled'));
      });
      try {
        await eventually(() => saw(rec.seen, a, 'only-in-a') && saw(rec.seen, b, 'only-in-b'), 'both shards reconciled');
        const byName = rt.provider.get(a);
        expect(rt.provider.get('root:pa-a')).to.equal(byName);
        expect(byName.path).to.equal('root:pa-a');
        expect(rt.provider.get('root:pa-b')).to.equal(rt.provider.get(b));
        const line = rt.entries.find((e) => e.msg === 'reconciled' && e['controller'] === 'paths' && e['cluster'] === a && e['name'] === 'only-in-a');
        expect(line, 'a reconcile log line for only-in-a').to.not.equal(undefined);
        expect(line!['path']).to.equal('root:pa-a');
        // Requests still carry the logical cluster name.
        expect([...rec.seen.keys()].sort()).to.deep.equal([a, b].sort());

        await unbind(srv, 'root:pa-b', 'paths');
        await eventually(() => !rt.provider.clusterNames().includes(b), 'pa-b disengaged');
        notFoundName(() => rt.provider.get('root:pa-b'));
        notFoundName(() => rt.provider.get(b));
        await bind(srv, 'root:pa-b', 'root:provider', 'paths');
        await eventually(() => rt.provider.clusterNames().includes(b), 'pa-b engaged again');
        expect(rt.provider.get('root:pa-b').name).to.equal(b);
      } finally {
        await rt.stop();
      }
    });

    it('the plain APIExport provider does not take paths (as Go), but knows them', async () => {
      const rt = await runWith((log) => new APIExportProvider(kc, { endpointSlice: 'paths', log }), (m) => void recording(m, 'plain'));
      try {
        await eventually(() => rt.provider.clusterNames().includes(a), 'engaged');
        expect(rt.provider.get(a).path).to.equal('root:pa-a');
        notFoundName(() => rt.provider.get('root:pa-a'));
      } finally {
        await rt.stop();
      }
    });

    it("isolates clusters: a handle reads and writes only its own workspace, hostile names never reach a URL, events land in the object's own workspace", async () => {
      const handles = new Map<string, Cluster>();
      let rec!: ReturnType<typeof recording>;
      const rt = await runWith((log) => new PathAwareProvider(kc, { endpointSlice: 'paths', log }), (m) => {
        rec = recording(m, 'iso', async (req, ctx) => {
          handles.set(req.cluster, ctx.cluster);
          const obj = ctx.cluster.cache.get(CM, req);
          if (obj && req.name.startsWith('only-in-')) await ctx.cluster.events.publish(obj, { type: 'Normal', reason: 'Seen', note: `seen in ${req.cluster}` });
        });
      });
      try {
        await eventually(() => saw(rec.seen, a, 'only-in-a') && saw(rec.seen, b, 'only-in-b'), 'both reconciled');
        const ha = handles.get(a)!;
        // A's cache and client know nothing of B's object.
        expect(ha.cache.get(CM, { namespace: 'default', name: 'only-in-b' })).to.equal(undefined);
        expect(ha.cache.list(CM).map((o) => o.metadata?.name)).to.include('only-in-a').and.not.include('only-in-b');
        const read = await ha.client.get(CM, { namespace: 'default', name: 'only-in-b' }).then(
          () => 'found',
          (e: { code?: number }) => e.code,
        );
        expect(read).to.equal(404);
        await ha.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'written-by-a', namespace: 'default' } });
        expect((await raw(srv, 'GET', '/clusters/root:pa-a/api/v1/namespaces/default/configmaps/written-by-a')).status).to.equal(200);
        expect((await raw(srv, 'GET', '/clusters/root:pa-b/api/v1/namespaces/default/configmaps/written-by-a')).status).to.equal(404);
        // Hostile names: no lookup, no handle, no request.
        for (const hostile of ['../root', `${a}/../${b}`, '*', 'root:pa-a/../x', '%2e%2e']) notFoundName(() => rt.provider.get(hostile));
        const endpoint = (ha as EndpointCluster).endpoint as Endpoint;
        expect(() => endpoint.cluster('../root', undefined, { mode: 'own' })).to.throw(InvalidClusterNameError);
        // Each recorder wrote into its own workspace only.
        for (const [ws, mine, other] of [['pa-a', 'only-in-a', 'only-in-b'], ['pa-b', 'only-in-b', 'only-in-a']] as const) {
          const events = await eventually(async () => {
            const r = await raw(srv, 'GET', `/clusters/root:${ws}/apis/events.k8s.io/v1/namespaces/default/events`);
            const items = (r.json['items'] as Obj[] | undefined) ?? [];
            return items.some((e) => e['regarding']?.name === mine) ? items : undefined;
          }, `an Event about ${mine} in ${ws}`);
          expect(events!.some((e) => e['regarding']?.name === other)).to.equal(false);
        }
      } finally {
        await rt.stop();
      }
    });
  });

  describe('InitializingWorkspacesProvider', () => {
    it('engages new workspaces of its type on both shards, gives each its own APIs, and its removal of the initializer makes them Ready', async () => {
      const wst = await raw(srv, 'POST', '/clusters/root:provider/apis/tenancy.kcp.io/v1alpha1/workspacetypes', {
        apiVersion: 'tenancy.kcp.io/v1alpha1',
        kind: 'WorkspaceType',
        metadata: { name: 'gated' },
        spec: { initializer: true, extend: { with: [{ name: 'universal', path: 'root' }] } },
      });
      expect(wst.status, wst.text).to.equal(201);
      const seenConfigMaps = new Map<string, Set<string>>();
      const initialized = new Set<string>();
      const rt = await runWith(
        (log) => new InitializingWorkspacesProvider(kc, { workspaceType: 'gated', log }),
        (m) => {
          m.controller('initializer')
            .for(LOGICAL_CLUSTER)
            .reconcile(async (req, ctx) => {
              const init = rt.provider.initializer();
              const lc = ctx.cluster.cache.get(LOGICAL_CLUSTER, req);
              if (!init || !lc || !hasInitializer(lc, init)) return;
              // Each cluster's own discovery: ConfigMaps are served although the wildcard serves LogicalClusters only.
              await ctx.cluster.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'initialized', namespace: 'default' }, data: { by: 'gated' } }, { fieldManager: 'init', force: true });
              // Wait until this cluster's own ConfigMap informer (another controller) saw it, then let go.
              if (!seenConfigMaps.get(req.cluster)?.has('initialized')) return { requeueAfter: 50 };
              await ctx.cluster.events.publish(lc, { type: 'Normal', reason: 'Initialized', note: 'done' });
              expect(await removeInitializer(ctx.cluster.client, init)).to.equal('removed');
              initialized.add(req.cluster);
            });
          m.controller('configmaps')
            .for(CM)
            .reconcile(async (req) => {
              let s = seenConfigMaps.get(req.cluster);
              if (!s) seenConfigMaps.set(req.cluster, (s = new Set()));
              s.add(req.name);
            });
        },
      );
      try {
        await eventually(() => rt.provider.endpointURLs().length === 2, 'one initializing URL per shard');
        const names: string[] = [];
        for (const [ws, shard] of [['gated-a', 'root'], ['gated-b', 'shard-1']] as const) {
          const r = await raw(srv, 'POST', `/clusters/root:provider${WS}`, {
            apiVersion: 'tenancy.kcp.io/v1alpha1',
            kind: 'Workspace',
            metadata: { name: ws },
            spec: { type: { name: 'gated', path: 'root:provider' }, location: { selector: { matchLabels: { name: shard } } } },
          });
          expect(r.status, r.text).to.equal(201);
        }
        for (const ws of ['gated-a', 'gated-b']) {
          const got = await eventually(async () => {
            const g = (await raw(srv, 'GET', `/clusters/root:provider${WS}/${ws}`)).json as Obj;
            return g['status']?.phase === 'Ready' ? g : undefined;
          }, `${ws} Ready`, 30_000);
          names.push(got!['spec'].cluster as string);
          const cm = await raw(srv, 'GET', `/clusters/root:provider:${ws}/api/v1/namespaces/default/configmaps/initialized`);
          expect(cm.status, cm.text).to.equal(200);
          const lc = (await raw(srv, 'GET', `/clusters/root:provider:${ws}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
          expect(lc['status'].initializers ?? []).to.not.include(rt.provider.initializer());
        }
        expect([...initialized].sort()).to.deep.equal([...names].sort());
        // Once initialized, the VW no longer shows them: disengaged.
        await eventually(() => names.every((n) => !rt.provider.clusterNames().includes(n)), 'initialized workspaces disengaged');
        for (const n of names) notFoundName(() => rt.provider.get(n));
        expect(rt.errors(), JSON.stringify(rt.errors())).to.deep.equal([]);
      } finally {
        await rt.stop();
      }
    });
  });

  describe('CompositeProvider with the local cluster', () => {
    it("runs tenants and the provider's own workspace side by side under qualified names", async () => {
      await createExport(srv, 'root:provider', 'combo');
      const t = await placed(srv, 'combo-t', 'shard-1');
      await bind(srv, 'root:combo-t', 'root:provider', 'combo');
      await createConfigMap(srv, 'root:combo-t', 'tenant-object');
      const seen = new Map<string, Set<string>>();
      const rt = await runWith(
        (log) =>
          new CompositeProvider({
            tenants: new APIExportProvider(kc, { endpointSlice: 'combo', log }),
            self: new LocalClusterProvider(kc, { log }),
          }),
        (m) => {
          recording(m, 'combo', async (req, ctx) => {
            let s = seen.get(req.cluster);
            if (!s) seen.set(req.cluster, (s = new Set()));
            s.add(req.name);
            if (!req.cluster.startsWith('tenants#')) return;
            // A tenant's object is recorded in the provider's own workspace.
            const own = m.getCluster('self#local');
            await own.client.apply(
              { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `record-${ctx.cluster.name.replace('tenants#', '')}`, namespace: 'default' }, data: { object: req.name } },
              { fieldManager: 'combo', force: true },
            );
          });
        },
      );
      try {
        const q = CompositeProvider.qualify('tenants', t);
        await eventually(() => seen.get(q)?.has('tenant-object'), 'tenant object reconciled under its qualified name');
        await eventually(() => seen.get('self#local')?.has(`record-${t}`), "the record reconciled in the provider's own workspace");
        expect(rt.provider.clusterNames().sort()).to.deep.equal([q, 'self#local'].sort());
        expect(rt.provider.get(q).name).to.equal(q);
        expect(rt.provider.get('self#local').path).to.equal('root:provider');
        notFoundName(() => rt.provider.get(t));
        notFoundName(() => rt.provider.get('nobody#local'));
        const rec = await raw(srv, 'GET', `/clusters/root:provider/api/v1/namespaces/default/configmaps/record-${t}`);
        expect(rec.status, rec.text).to.equal(200);
        // The tenant's cache under the qualified name is still the tenant's own.
        expect(rt.provider.get(q).cache.list(CM).map((o) => o.metadata?.name)).to.include('tenant-object').and.not.include(`record-${t}`);
        expect(rt.errors(), JSON.stringify(rt.errors())).to.deep.equal([]);
      } finally {
        await rt.stop();
      }
    });
  });
});
