/**
 * The Go multicluster-provider's e2e scenarios E1–E16, ported one by one against the reference
 * server with two shards (the fixtures as the Go suite builds them: a cluster-scoped `Thing` /
 * `Widget` schema exported as `example.com`, consumers bound with their claims accepted, a
 * WorkspaceType with an initializer). Each `it` names the scenario it ports.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  APIExportProvider,
  ClusterClient,
  Endpoint,
  FieldIndexes,
  InitializingWorkspacesProvider,
  LOGICAL_CLUSTER,
  Manager,
  Transport,
  hasInitializer,
  isNotFound,
  removeInitializer,
  type KubernetesObject,
} from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createWorkspace, sliceURLs, type Claim, type Obj } from '../support/kcp.js';
import { placed, runWith } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const THING = { apiVersion: 'example.com/v1', kind: 'Thing' } as const;
const WIDGET = { apiVersion: 'example.com/v1', kind: 'Widget' } as const;
const BINDING = { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIBinding' } as const;
const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace' } as const;
const EVENT_CLAIMS: Claim[] = [
  { group: 'events.k8s.io', resource: 'events' },
  { group: '', resource: 'events' },
];
const color = (o: { metadata?: { labels?: Record<string, string> } }): string[] => (o.metadata?.labels?.['color'] ? [o.metadata.labels['color']] : []);
const names = (items: readonly { metadata?: { name?: string } }[]): string[] => items.map((o) => o.metadata?.name ?? '').sort();

/** F-EXPORT: schema `v20250317.<plural>.example.com` (cluster-scoped) and APIExport `example.com` in `path`. */
async function exportOf(srv: RunningServer, path: string, kind: 'Thing' | 'Widget', claims: Claim[] = []): Promise<void> {
  const plural = `${kind.toLowerCase()}s`;
  const schema = `v20250317.${plural}.example.com`;
  const s = await raw(srv, 'POST', `/clusters/${path}/apis/apis.kcp.io/v1alpha1/apiresourceschemas`, {
    apiVersion: 'apis.kcp.io/v1alpha1',
    kind: 'APIResourceSchema',
    metadata: { name: schema },
    spec: {
      group: 'example.com',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Cluster',
      versions: [{ name: 'v1', served: true, storage: true, schema: { type: 'object', properties: { spec: { type: 'object', properties: { value: { type: 'string' } } } } } }],
    },
  });
  expect(s.status, s.text).to.equal(201);
  const e = await raw(srv, 'POST', `/clusters/${path}/apis/apis.kcp.io/v1alpha2/apiexports`, {
    apiVersion: 'apis.kcp.io/v1alpha2',
    kind: 'APIExport',
    metadata: { name: 'example.com' },
    spec: {
      resources: [{ name: plural, group: 'example.com', schema, storage: { crd: {} } }],
      permissionClaims: claims.map((c) => ({ ...c, verbs: ['*'] })),
    },
  });
  expect(e.status, e.text).to.equal(201);
}

async function thing(srv: RunningServer, ws: string, kind: 'Thing' | 'Widget', name: string, colour: string): Promise<void> {
  const plural = `${kind.toLowerCase()}s`;
  await eventually(async () => (await raw(srv, 'GET', `/clusters/${ws}/apis/example.com/v1/${plural}`)).status === 200, `${plural} served in ${ws}`);
  const r = await raw(srv, 'POST', `/clusters/${ws}/apis/example.com/v1/${plural}`, { apiVersion: 'example.com/v1', kind, metadata: { name, labels: { color: colour } }, spec: { value: name } });
  expect(r.status, r.text).to.equal(201);
}

describe('Go e2e scenarios E1–E16 (reference server, two shards)', function () {
  this.timeout(90_000);
  let srv: RunningServer;

  before(async () => {
    srv = await start({ shards: 2 });
  });
  after(() => srv?.stop());

  it('E1: a cluster client reaches the root workspace', async () => {
    const client = new ClusterClient(Transport.fromKubeConfig(kubeConfigFor(srv, 'root')));
    expect((await client.get(NAMESPACE, { name: 'default' })).metadata?.name).to.equal('default');
  });

  it('E2: a cluster client reaches a newly created workspace by path', async () => {
    await createWorkspace(srv, 'root', 'e2-new');
    const client = new ClusterClient(Transport.fromKubeConfig(kubeConfigFor(srv, 'root')), { cluster: 'root:e2-new' });
    expect((await client.get(NAMESPACE, { name: 'default' })).metadata?.name).to.equal('default');
  });

  describe('APIExport provider (E3–E7)', () => {
    let consumer: string;
    let other: string;
    let kc: KubeConfig;
    let rt: Awaited<ReturnType<typeof runWith<APIExportProvider>>>;
    const engaged = new Set<string>();
    const reconciles = new Map<string, number>();

    before(async () => {
      await createWorkspace(srv, 'root', 'e3-provider');
      consumer = await placed(srv, 'e3-consumer', 'root');
      other = await placed(srv, 'e3-other', 'shard-1');
      await exportOf(srv, 'root:e3-provider', 'Thing', EVENT_CLAIMS);
      await bind(srv, 'root:e3-other', 'root:e3-provider', 'example.com', { claims: EVENT_CLAIMS });
      await bind(srv, 'root:e3-consumer', 'root:e3-provider', 'example.com', { claims: EVENT_CLAIMS });
      await eventually(async () => (await sliceURLs(srv, 'root:e3-provider', 'example.com')).length === 2, 'an endpoint per consumer shard');
      await thing(srv, 'root:e3-consumer', 'Thing', 'stone', 'gray');
      await thing(srv, 'root:e3-other', 'Thing', 'box', 'white');
      kc = kubeConfigFor(srv, 'root:e3-provider');
      rt = await runWith(
        (log) => new APIExportProvider(kc, { endpointSlice: 'example.com', log }),
        (m: Manager) => {
          m.provider.indexField(THING, 'color', color);
          m.controller('apibindings')
            .for(BINDING)
            .reconcile(async (req, ctx) => {
              engaged.add(req.cluster);
              const cluster = m.getCluster(req.cluster);
              const b = await cluster.client.get(BINDING, req);
              await ctx.cluster.events.publish(b as KubernetesObject, { type: 'Normal', reason: 'reason', action: 'message', note: 'note' });
              reconciles.set(req.cluster, (reconciles.get(req.cluster) ?? 0) + 1);
            });
          // The scoped cache of Things needs a controller that watches them.
          m.controller('things').for(THING).reconcile(async () => undefined);
        },
      );
    });
    after(() => rt?.stop());

    it('E3: a consumer workspace with a Ready binding is engaged, under its logical cluster name', async () => {
      await eventually(() => engaged.has(consumer), 'consumer engaged');
      expect(consumer).to.not.include(':');
    });

    it("E4: the scoped cache shows only that cluster's objects", async () => {
      const items = await eventually(() => {
        const list = rt.manager.getCluster(consumer).cache.list(THING);
        return list.length > 0 ? list : undefined;
      }, 'stone in the consumer cache');
      expect(names(items!)).to.deep.equal(['stone']);
    });

    it('E5: a field index registered before start works per cluster', async () => {
      const items = await eventually(() => {
        const list = rt.manager.getCluster(consumer).cache.list(THING, { fields: { color: 'gray' } });
        return list.length > 0 ? list : undefined;
      }, 'stone by color');
      expect(names(items!)).to.deep.equal(['stone']);
      expect(rt.manager.getCluster(consumer).cache.list(THING, { fields: { color: 'white' } })).to.deep.equal([]);
    });

    it('E6: per-cluster event recorders write exactly one Event into each consumer workspace', async () => {
      for (const ws of ['root:e3-consumer', 'root:e3-other']) {
        const items = await eventually(async () => {
          const r = await raw(srv, 'GET', `/clusters/${ws}/apis/events.k8s.io/v1/events`);
          const list = (r.json['items'] as Obj[] | undefined) ?? [];
          return list.length > 0 ? list : undefined;
        }, `an Event in ${ws}`);
        expect(items!.map((e) => `${e['regarding']?.name}/${e['reason']}`)).to.deep.equal(['example.com/reason']);
      }
      // Repeated reconciles fold into the series of the one Event.
      const before = reconciles.get(consumer) ?? 0;
      const r = await raw(srv, 'PATCH', '/clusters/root:e3-consumer/apis/apis.kcp.io/v1alpha2/apibindings/example.com', { metadata: { labels: { again: '1' } } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(r.status, r.text).to.equal(200);
      await eventually(() => (reconciles.get(consumer) ?? 0) > before, 'reconciled again');
      const items = (await raw(srv, 'GET', '/clusters/root:e3-consumer/apis/events.k8s.io/v1/events')).json['items'] as Obj[];
      expect(items).to.have.length(1);
    });

    it('E7: provider.lister() lists across shards, and by the field index', async () => {
      const all = await eventually(async () => {
        const l = await rt.provider.lister().list(THING);
        return names(l.items.map((i) => i.object)).join() === 'box,stone' ? l : undefined;
      }, 'stone and box across shards');
      expect(all!.partial).to.equal(false);
      expect(new Set(all!.items.map((i) => i.endpoint)).size).to.equal(2);
      expect(names((await rt.provider.lister().list(THING, { fields: { color: 'gray' } })).items.map((i) => i.object))).to.deep.equal(['stone']);
      expect(names((await rt.provider.lister().list(THING, { fields: { color: 'white' } })).items.map((i) => i.object))).to.deep.equal(['box']);
    });
  });

  it('E8: one endpoint wildcard cache lists across logical clusters, with and without a field index', async () => {
    await createWorkspace(srv, 'root', 'wc-provider');
    await placed(srv, 'wc-consumer', 'root');
    await placed(srv, 'wc-other', 'root');
    await exportOf(srv, 'root:wc-provider', 'Thing');
    await bind(srv, 'root:wc-consumer', 'root:wc-provider', 'example.com', { claims: [] });
    await bind(srv, 'root:wc-other', 'root:wc-provider', 'example.com', { claims: [] });
    const urls = await eventually(async () => {
      const u = await sliceURLs(srv, 'root:wc-provider', 'example.com');
      return u.length > 0 ? u : undefined;
    }, 'an endpoint');
    const url = urls![0];
    await thing(srv, 'root:wc-consumer', 'Thing', 'stone', 'gray');
    await thing(srv, 'root:wc-other', 'Thing', 'box', 'white');
    const indexes = new FieldIndexes();
    indexes.add(THING, 'color', color);
    const endpoint = new Endpoint({
      transport: Transport.fromKubeConfig(kubeConfigFor(srv, 'root:wc-provider')),
      url: url!,
      indexes,
      recorder: () => ({ publish: async () => undefined, stop: () => undefined }),
    });
    try {
      const inf = await endpoint.informer(THING);
      const sub = inf.events$.subscribe();
      await inf.whenSynced();
      await eventually(() => inf.store.list().length >= 2, 'both things');
      expect(names(inf.store.list())).to.include.members(['stone', 'box']);
      expect(names(inf.store.byIndex('field:color', 'gray'))).to.deep.equal(['stone']);
      expect(names(inf.store.byIndex('field:color', 'white'))).to.deep.equal(['box']);
      sub.unsubscribe();
    } finally {
      endpoint.close();
    }
  });

  describe('aggregate views over two shards (E9–E13)', () => {
    let c1: string;
    let c2: string;
    let rt: Awaited<ReturnType<typeof runWith<APIExportProvider>>>;
    const engaged = new Set<string>();

    before(async () => {
      await createWorkspace(srv, 'root', 'ac-provider');
      await exportOf(srv, 'root:ac-provider', 'Widget');
      c1 = await placed(srv, 'ac-consumer1', 'root');
      c2 = await placed(srv, 'ac-consumer2', 'shard-1');
      await bind(srv, 'root:ac-consumer1', 'root:ac-provider', 'example.com', { claims: [] });
      await bind(srv, 'root:ac-consumer2', 'root:ac-provider', 'example.com', { claims: [] });
      await eventually(async () => (await sliceURLs(srv, 'root:ac-provider', 'example.com')).length === 2, 'exactly two endpoints');
      await thing(srv, 'root:ac-consumer1', 'Widget', 'red-widget', 'red');
      await thing(srv, 'root:ac-consumer2', 'Widget', 'blue-widget', 'blue');
      rt = await runWith(
        (log) => new APIExportProvider(kubeConfigFor(srv, 'root:ac-provider'), { endpointSlice: 'example.com', log }),
        (m) => {
          m.provider.indexField(WIDGET, 'color', color);
          m.controller('aggregate-cache-test')
            .for(BINDING)
            .reconcile(async (req) => void engaged.add(req.cluster));
          m.controller('widgets').for(WIDGET).reconcile(async () => undefined);
        },
      );
    });
    after(() => rt?.stop());

    it('E9: a provider spanning two shards engages clusters on both', async () => {
      await eventually(() => engaged.has(c1) && engaged.has(c2), 'both consumers engaged');
      expect(rt.provider.endpointURLs()).to.have.length(2);
    });

    it('E10: scoped caches on different shards are isolated', async () => {
      for (const [c, want] of [[c1, 'red-widget'], [c2, 'blue-widget']] as const) {
        const got = await eventually(() => {
          try {
            const l = rt.manager.getCluster(c).cache.list(WIDGET);
            return l.length > 0 ? l : undefined;
          } catch {
            return undefined;
          }
        }, `${want} in its cache`);
        expect(names(got!)).to.deep.equal([want]);
      }
    });

    it('E11 and E12: the aggregate list spans shards, and filters by the field index across them', async () => {
      await eventually(async () => names((await rt.provider.lister().list(WIDGET)).items.map((i) => i.object)).join() === 'blue-widget,red-widget', 'both widgets');
      expect(names((await rt.provider.lister().list(WIDGET, { fields: { color: 'red' } })).items.map((i) => i.object))).to.deep.equal(['red-widget']);
      expect(names((await rt.provider.lister().list(WIDGET, { fields: { color: 'blue' } })).items.map((i) => i.object))).to.deep.equal(['blue-widget']);
    });

    it('E13: the aggregate informer delivers existing objects of both shards, then new ones', async () => {
      const seen = new Set<string>();
      const reg = rt.provider.aggregateInformer(WIDGET).addEventHandler({ onAdd: (o) => void seen.add(o.metadata?.name ?? '') });
      try {
        await eventually(() => seen.has('red-widget') && seen.has('blue-widget'), 'existing widgets replayed');
        await thing(srv, 'root:ac-consumer1', 'Widget', 'green-widget', 'green');
        await eventually(() => seen.has('green-widget'), 'the new widget');
      } finally {
        reg.remove();
      }
    });
  });

  describe('initializing provider (E14–E16)', () => {
    const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
    let initializer: string;
    const paths = ['root:initializers:init-ws1', 'root:initializers:init-ws2'];

    before(async () => {
      const c = await createWorkspace(srv, 'root', 'initializers');
      initializer = `${c}:e2e-test-ws-type`;
      const t = await raw(srv, 'POST', '/clusters/root:initializers/apis/tenancy.kcp.io/v1alpha1/workspacetypes', {
        apiVersion: 'tenancy.kcp.io/v1alpha1',
        kind: 'WorkspaceType',
        metadata: { name: 'e2e-test-ws-type' },
        spec: { initializer: true, extend: { with: [{ name: 'universal', path: 'root' }] } },
      });
      expect(t.status, t.text).to.equal(201);
      await eventually(async () => {
        const w = (await raw(srv, 'GET', '/clusters/root:initializers/apis/tenancy.kcp.io/v1alpha1/workspacetypes/e2e-test-ws-type')).json as Obj;
        return (w['status']?.virtualWorkspaces ?? []).length > 0;
      }, 'virtualWorkspaces published');
      for (const [i, shard] of [[1, 'root'], [2, 'shard-1']] as const) {
        const r = await raw(srv, 'POST', `/clusters/root:initializers${WS}`, {
          apiVersion: 'tenancy.kcp.io/v1alpha1',
          kind: 'Workspace',
          metadata: { name: `init-ws${i}` },
          spec: { type: { path: 'root:initializers', name: 'e2e-test-ws-type' }, location: { selector: { matchLabels: { name: shard } } } },
        });
        expect(r.status, r.text).to.equal(201);
        await eventually(async () => ((await raw(srv, 'GET', `/clusters/root:initializers${WS}/init-ws${i}`)).json as Obj)['status']?.phase === 'Initializing', `init-ws${i} Initializing`);
      }
    });

    it('E14: new workspaces of an initializer type carry the initializer', async () => {
      for (const p of paths) {
        const lc = (await raw(srv, 'GET', `/clusters/${p}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
        expect(lc['status'].initializers).to.include(initializer);
      }
    });

    it('E15 and E16: both initializing clusters are engaged, the reconciler removes its initializer, and the provider lets them go', async () => {
      const engaged = new Set<string>();
      const removed = new Set<string>();
      const rt = await runWith(
        (log) => new InitializingWorkspacesProvider(kubeConfigFor(srv, 'root:initializers'), { workspaceType: 'e2e-test-ws-type', log }),
        (m) => {
          m.controller('kcp-initializer-controller')
            .for(LOGICAL_CLUSTER)
            .reconcile(async (req, ctx) => {
              const cluster = m.getCluster(req.cluster);
              let lc;
              try {
                lc = await cluster.client.get(LOGICAL_CLUSTER, req);
              } catch (e) {
                // The last reconcile after the removal: the VW no longer shows the cluster.
                if (isNotFound(e)) {
                  ctx.log.info('logicalcluster not found', { err: String(e) });
                  return;
                }
                throw e;
              }
              engaged.add(req.cluster);
              if (hasInitializer(lc, initializer) && (await removeInitializer(cluster.client, initializer)) === 'removed') removed.add(req.cluster);
            });
        },
      );
      try {
        const clusters: string[] = [];
        for (const p of paths) {
          const lc = (await raw(srv, 'GET', `/clusters/${p}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
          clusters.push(lc['metadata'].annotations['kcp.io/cluster'] as string);
        }
        await eventually(() => clusters.every((c) => engaged.has(c)), 'both engaged');
        await eventually(() => clusters.every((c) => removed.has(c)), 'both initializers removed');
        for (const p of paths) {
          const lc = (await raw(srv, 'GET', `/clusters/${p}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
          expect(lc['status'].initializers ?? []).to.not.include(initializer);
        }
        await eventually(() => clusters.every((c) => !rt.provider.clusterNames().includes(c)), 'disengaged once out of the VW');
      } finally {
        await rt.stop();
      }
    });
  });
});
