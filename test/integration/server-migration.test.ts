/**
 * A workspace moving to the other shard (`server.faults.migrateCluster`), as a finished kcp
 * LogicalClusterMigration: same objects there, URLs and the endpoint slice following, watches of
 * the cluster ended, old resume points 410, and a controller on the export's virtual workspace
 * carrying on through the target shard's endpoint.
 */
import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { APIExportProvider, Logger, Manager } from '../../src/index.js';
import { startTestEnvironment, type TestEnvironment, type TestWorkspace } from '../../src/testing/index.js';
import { exportWithTenants } from '../support/shard-tenants.js';
import { eventually, raw, request } from '../support/server.js';

type Obj = { metadata: { uid: string; resourceVersion: string; annotations?: Record<string, string> }; spec?: { URL?: string }; status?: { URL?: string; endpoints?: { url: string }[] } };

const quiet = (): Logger => new Logger({ level: 'error' });

function ended(res: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    res.on('error', () => undefined);
    res.resume();
    res.on('close', () => resolve(res.complete));
  });
}

describe('reference server: a workspace migrating to the other shard', function () {
  this.timeout(60_000);
  let env: TestEnvironment;

  before(async () => (env = await startTestEnvironment({ server: { shards: 2 } })));
  after(() => env?.stop());

  it('moves its objects, URLs and slice endpoint to the target shard; the controller carries on there', async () => {
    const srv = env.server;
    const [mover] = (await exportWithTenants(env, [['mover', 'root']])) as [TestWorkspace];
    const vw = await env.virtualWorkspace('root:provider', 'things');
    expect(vw.urls).to.deep.equal([`${srv.shardURLs[0]}/services/apiexport/${(await env.createWorkspace('root:provider')).name}/things`]);

    const seen = new Set<string>();
    const provider = new APIExportProvider(env.kubeconfig('root:provider'), { endpointSlice: 'things', log: quiet() });
    const manager = new Manager({ provider, log: quiet() });
    manager.controller('config').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async (req) => void seen.add(`${req.cluster}/${req.name}`));
    env.startManager(manager);
    await env.apply(mover.path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' }, data: { a: '1' } });
    await env.waitFor(() => seen.has(`${mover.name}/before`), { what: 'before reconciled' });

    const cm = `/clusters/${mover.path}/api/v1/namespaces/default/configmaps`;
    const lcPath = `/clusters/${mover.path}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`;
    const lcBefore = (await raw(srv, 'GET', lcPath)).json as unknown as Obj;
    const cmBefore = (await raw(srv, 'GET', `${cm}/before`)).json as unknown as Obj;
    const watch = await request(srv, 'GET', `${cm}?watch=true&resourceVersion=${cmBefore.metadata.resourceVersion}`, { headers: { Authorization: `Bearer ${srv.token}` } });
    const watchEnded = ended(watch);
    await eventually(() => srv.openWatches() >= 1, 'watch open');

    srv.faults.migrateCluster(mover.path, 'shard-1');

    // The watch of the cluster on the source shard ends cleanly; its resume point is gone on the target.
    expect(await watchEnded).to.equal(true);
    const again = await raw(srv, 'GET', `${cm}?watch=true&resourceVersion=${cmBefore.metadata.resourceVersion}`);
    expect(again.json).to.deep.include({ type: 'ERROR' });
    expect((again.json['object'] as { code: number }).code).to.equal(410);

    const lc = (await raw(srv, 'GET', lcPath)).json as unknown as Obj;
    expect(lc.metadata.uid).to.equal(lcBefore.metadata.uid);
    expect(lc.metadata.annotations?.['core.kcp.io/shard']).to.equal('shard-1');
    expect(lc.status?.URL).to.equal(`${srv.shardURLs[1]}/clusters/${mover.name}`);
    const moved = (await raw(srv, 'GET', `${cm}/before`)).json as unknown as Obj & { data: Record<string, string> };
    expect(moved.metadata.uid).to.equal(cmBefore.metadata.uid);
    expect(moved.data).to.deep.equal({ a: '1' });
    expect(Number(moved.metadata.resourceVersion)).to.be.greaterThan(Number(cmBefore.metadata.resourceVersion));
    expect(srv.faults.stats()).to.deep.equal({ clusterMigrated: 1 });

    await eventually(async () => {
      const ws = (await raw(srv, 'GET', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/mover')).json as unknown as Obj;
      return ws.spec?.URL?.startsWith(`${srv.shardURLs[1]}/`);
    }, 'Workspace spec.URL on shard-1');
    const shard1VW = vw.urls[0]!.replace(srv.shardURLs[0]!, srv.shardURLs[1]!);
    await eventually(async () => {
      const slice = (await raw(srv, 'GET', '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/things')).json as unknown as Obj;
      return (slice.status?.endpoints ?? []).map((e) => e.url).join() === shard1VW;
    }, 'slice endpoint moved to shard-1');

    // The controller follows the workspace through the target shard's endpoint.
    await env.apply(mover.path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } });
    await env.waitFor(() => seen.has(`${mover.name}/after`), { what: 'after reconciled through shard-1' });
    const direct = await raw({ ...srv, url: srv.shardURLs[1]! }, 'GET', `/services/apiexport/${vw.urls[0]!.split('/').slice(-2).join('/')}/clusters/*/api/v1/configmaps`);
    expect(direct.status, direct.text).to.equal(200);
    const names = (direct.json['items'] as { metadata: { name: string } }[]).map((o) => o.metadata.name);
    expect(names).to.include.members(['before', 'after']);

    expect(() => srv.faults.migrateCluster('root', 'shard-1')).to.throw('the root logical cluster stays on the root shard');
    expect(() => srv.faults.migrateCluster('root:nowhere', 'shard-1')).to.throw('logical cluster "root:nowhere" not found');
    expect(() => srv.faults.migrateCluster(mover.path, 'shard-7')).to.throw(/unknown shard "shard-7"/);
  });
});
