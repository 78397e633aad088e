/**
 * Bindings deleted and recreated and workspaces deleted while every fault of the reference server
 * is on (watch cuts mid-frame, 429s, 503 windows on the virtual workspaces, compaction, slow lists):
 * the API does them, and a controller on the export's virtual workspace keeps up.
 */
import { expect } from 'chai';
import { APIExportProvider, Logger, Manager } from '../../src/index.js';
import { startTestEnvironment, type TestEnvironment, type TestWorkspace } from '../../src/testing/index.js';
import { exportWithTenants } from '../support/shard-tenants.js';
import { eventually, raw } from '../support/server.js';

const quiet = (): Logger => new Logger({ level: 'error' });

describe('reference server: bindings and workspaces come and go under faults', function () {
  this.timeout(60_000);
  let env: TestEnvironment;

  before(async () => (env = await startTestEnvironment({ server: { shards: 2 } })));
  after(() => env?.stop());

  it('binding deleted and recreated, workspace deleted: done by the API, followed by the controller', async () => {
    const srv = env.server;
    /** Raw API calls with the admin token; injected 429s are waited out as clients do. */
    const api = async (method: string, path: string, body?: unknown) => {
      for (;;) {
        const r = await raw(srv, method, path, body);
        if (r.status !== 429) return r;
      }
    };
    const tenants = await exportWithTenants(env, [['t1', 'root'], ['t2', 'shard-1']]);
    const [t1, t2] = tenants as [TestWorkspace, TestWorkspace];
    await env.virtualWorkspace('root:provider', 'things', { endpoints: 2 });

    const seen = new Set<string>();
    const provider = new APIExportProvider(env.kubeconfig('root:provider'), { endpointSlice: 'things', log: quiet() });
    const manager = new Manager({ provider, log: quiet() });
    manager.controller('config').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async (req) => void seen.add(`${req.cluster}/${req.name}`));
    env.startManager(manager);

    srv.faults.set({
      seed: 20,
      watchCuts: { minIntervalMs: 200, maxIntervalMs: 600, midFrame: true },
      errors: { rate: 0.05, codes: [429], retryAfterSeconds: 0 },
      unavailable: { everyMs: 1500, forMs: 200 },
      compaction: { everyMs: 700 },
      listLatency: { minMs: 0, maxMs: 50 },
    });
    const cm = (path: string, name: string) => api('POST', `/clusters/${path}/api/v1/namespaces/default/configmaps`, { metadata: { name } });
    for (const t of tenants) expect((await cm(t.path, 'first')).status).to.equal(201);
    await eventually(() => seen.has(`${t1.name}/first`) && seen.has(`${t2.name}/first`), 'first reconciled in both', 20_000);

    const binding = `/clusters/${t2.path}/apis/apis.kcp.io/v1alpha2/apibindings/things`;
    expect((await api('DELETE', binding)).status).to.equal(200);
    await eventually(async () => (await api('GET', binding)).status === 404, 'binding gone', 20_000);
    expect((await api('POST', `/clusters/${t2.path}/apis/apis.kcp.io/v1alpha2/apibindings`, {
      metadata: { name: 'things' },
      spec: { reference: { export: { path: 'root:provider', name: 'things' } }, permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' }] },
    })).status).to.equal(201);
    expect((await cm(t2.path, 'back')).status).to.equal(201);
    await eventually(() => seen.has(`${t2.name}/back`), 'reconciled after the binding came back', 20_000);

    const ws = '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/t1';
    expect((await api('DELETE', ws)).status).to.equal(200);
    await eventually(async () => (await api('GET', ws)).status === 404, 'workspace deleted', 20_000);
    expect((await api('GET', `/clusters/${t1.name}/api/v1/namespaces/default/configmaps`)).status).to.equal(403);
    expect((await cm(t2.path, 'last')).status).to.equal(201);
    await eventually(() => seen.has(`${t2.name}/last`), 'the remaining tenant still reconciled', 20_000);

    // Short runs may end before a fault of each kind came round; the faults stay on until they have.
    await eventually(async () => {
      await api('GET', `/clusters/${t2.path}/api/v1/namespaces/default/configmaps`);
      const stats = srv.faults.stats();
      return ['watchCut', 'compaction', 'error429'].every((kind) => (stats[kind] ?? 0) > 0);
    }, 'a fault of each kind injected', 20_000);
    srv.faults.clear();
  });
});
