/** ClusterClient against the reference server: CRUD, conflicts, patch flavours, SSA, status, paging, delete options, name safety. */
import { expect } from 'chai';
import {
  ClusterClient,
  InvalidClusterNameError,
  InvalidObjectNameError,
  isAlreadyExists,
  isConflict,
  isNotFound,
  PatchType,
  Transport,
  UnknownKindError,
  type KubernetesObject,
  type ObjectType,
} from '../../src/client/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { kubeConfigFor, rejection, start } from '../support/server.js';

interface ConfigMap extends KubernetesObject {
  data?: Record<string, string>;
}
interface Lease extends KubernetesObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number };
}
interface LogicalCluster extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: { phase?: string; URL?: string; conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[] };
}

const CM: ObjectType<ConfigMap> = { apiVersion: 'v1', kind: 'ConfigMap' };
const LEASE: ObjectType<Lease> = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
const LC: ObjectType<LogicalCluster> = { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster' };

const cm = (name: string, data: Record<string, string>, extra: Partial<ConfigMap['metadata']> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', ...extra },
  data,
});

describe('client: ClusterClient (reference server)', () => {
  let srv: RunningServer;
  let t: Transport;
  let a: ClusterClient;
  let b: ClusterClient;
  const paths: string[] = [];

  before(async () => {
    srv = await start({ log: (l) => paths.push(l.path) });
    const ca = srv.createLogicalCluster();
    srv.createLogicalCluster(undefined, { path: 'root:team-b' });
    t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    a = new ClusterClient(t, { cluster: ca });
    b = new ClusterClient(t, { cluster: 'root:team-b' });
  });
  after(async () => {
    t.close();
    await srv.stop();
  });

  it('addresses <server>/clusters/<x>, replacing the kubeconfig cluster, or taking it from the URL', () => {
    expect(a.base).to.equal(`${srv.url}/clusters/${a.cluster}`);
    expect(b.base).to.equal(`${srv.url}/clusters/root:team-b`);
    const fromURL = new ClusterClient(t);
    expect(fromURL.cluster).to.equal('root');
    expect(fromURL.base).to.equal(`${srv.url}/clusters/root`);
    const bare = t.withServer(srv.url);
    expect(() => new ClusterClient(bare)).to.throw(/clusters/);
    expect(new ClusterClient(bare, { cluster: 'root' }).base).to.equal(`${srv.url}/clusters/root`);
  });

  it('keeps ConfigMaps of two logical clusters apart through create, get, update and delete', async () => {
    const ca = await a.create(cm('shared', { who: 'a' }));
    const cb = await b.create(cm('shared', { who: 'b' }));
    expect(ca.metadata?.annotations?.['kcp.io/cluster']).to.equal(a.cluster);
    expect(cb.metadata?.annotations?.['kcp.io/cluster']).to.not.equal(a.cluster);
    expect((await a.get(CM, { namespace: 'default', name: 'shared' })).data).to.deep.equal({ who: 'a' });
    expect((await b.get(CM, { namespace: 'default', name: 'shared' })).data).to.deep.equal({ who: 'b' });

    const upd = await a.update({ ...ca, data: { who: 'a2' } });
    expect(upd.data).to.deep.equal({ who: 'a2' });
    expect(upd.metadata?.resourceVersion).to.not.equal(ca.metadata?.resourceVersion);
    expect((await b.get(CM, { namespace: 'default', name: 'shared' })).data).to.deep.equal({ who: 'b' });

    expect(await a.delete(CM, { namespace: 'default', name: 'shared' })).to.equal(undefined);
    expect(isNotFound(await rejection(a.get(CM, { namespace: 'default', name: 'shared' })))).to.equal(true);
    expect((await b.get(CM, { namespace: 'default', name: 'shared' })).data).to.deep.equal({ who: 'b' });
  });

  it('reports conflicts, duplicates and missing objects with typed errors', async () => {
    const first = await a.create(cm('conflict', { v: '1' }));
    await a.update({ ...first, data: { v: '2' } });
    const stale = await rejection(a.update({ ...first, data: { v: '3' } }));
    expect(isConflict(stale)).to.equal(true);
    expect(isAlreadyExists(await rejection(a.create(cm('conflict', {}))))).to.equal(true);
    expect(isNotFound(await rejection(a.get(CM, { namespace: 'default', name: 'never-was' })))).to.equal(true);
    expect(isNotFound(await rejection(a.delete(CM, { namespace: 'default', name: 'never-was' })))).to.equal(true);
  });

  it('does Lease CRUD with merge, JSON and strategic merge patches', async () => {
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader', namespace: 'default' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
    const created = await b.create(lease);
    expect(created.spec?.holderIdentity).to.equal('a');
    const merged = await b.patch(LEASE, { namespace: 'default', name: 'leader' }, { spec: { holderIdentity: 'b' } });
    expect(merged.spec).to.include({ holderIdentity: 'b', leaseDurationSeconds: 15 });
    const jp = await b.patch(LEASE, { namespace: 'default', name: 'leader' }, [{ op: 'replace', path: '/spec/leaseDurationSeconds', value: 30 }], { type: PatchType.JSON });
    expect(jp.spec?.leaseDurationSeconds).to.equal(30);
    const smp = await b.patch(LEASE, { namespace: 'default', name: 'leader' }, { spec: { holderIdentity: 'c' } }, { type: PatchType.StrategicMerge });
    expect(smp.spec).to.include({ holderIdentity: 'c', leaseDurationSeconds: 30 });
    const got = await b.get(LEASE, { namespace: 'default', name: 'leader' });
    got.spec!.holderIdentity = 'd';
    expect((await b.update(got)).spec?.holderIdentity).to.equal('d');
    expect(isNotFound(await rejection(a.get(LEASE, { namespace: 'default', name: 'leader' })))).to.equal(true);
    await b.delete(LEASE, { namespace: 'default', name: 'leader' });
    expect(isNotFound(await rejection(b.get(LEASE, { namespace: 'default', name: 'leader' })))).to.equal(true);
  });

  it('server-side applies with a field manager, conflicts across managers, and force takes over', async () => {
    const one = await a.apply(cm('ssa', { x: '1', y: '1' }), { fieldManager: 'one' });
    expect(one.data).to.deep.equal({ x: '1', y: '1' });
    const managers = (o: ConfigMap): unknown[] => ((o.metadata?.['managedFields'] as { manager: string }[] | undefined) ?? []).map((m) => m.manager);
    expect(managers(one)).to.include('one');
    const clash = await rejection(a.apply(cm('ssa', { x: '2' }), { fieldManager: 'two' }));
    expect(isConflict(clash)).to.equal(true);
    const forced = await a.apply(cm('ssa', { x: '2' }), { fieldManager: 'two', force: true });
    expect(forced.data).to.deep.equal({ x: '2', y: '1' });
    expect(managers(forced)).to.include.members(['one', 'two']);
    // Re-applying without y drops the field that manager one owns alone.
    const again = await a.apply(cm('ssa', { x: '1' }), { fieldManager: 'one', force: true });
    expect(again.data).to.deep.equal({ x: '1' });
  });

  it('writes LogicalCluster status through the status subresource: update, merge patch and apply', async () => {
    const key = { name: 'cluster' };
    const lc = await a.get(LC, key);
    expect(lc.status?.phase).to.equal('Ready');
    const info = await a.resolve(LC);
    expect(info).to.include({ resource: 'logicalclusters', namespaced: false });
    expect(info.subresources).to.include('status');

    const cond = { type: 'ClientTest', status: 'True', reason: 'Updated', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const updated = await a.updateStatus({ ...lc, metadata: { ...lc.metadata, labels: { ignored: 'yes' } }, status: { ...lc.status, conditions: [cond] } });
    expect(updated.status?.conditions?.map((c) => c.type)).to.deep.equal(['ClientTest']);
    expect(updated.metadata?.labels?.['ignored']).to.equal(undefined);

    const patched = await a.patchStatus(LC, key, { status: { conditions: [{ ...cond, reason: 'Patched' }] } });
    expect(patched.status?.conditions?.[0]?.reason).to.equal('Patched');
    expect(patched.status?.phase).to.equal('Ready');

    const applied = await a.applyStatus(
      { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster' }, status: { conditions: [{ ...cond, reason: 'Applied' }] } } as LogicalCluster,
      { fieldManager: 'status-writer', force: true },
    );
    expect(applied.status?.conditions?.[0]?.reason).to.equal('Applied');
    // The other cluster's LogicalCluster is untouched.
    expect((await b.get(LC, key)).status?.conditions ?? []).to.have.length(0);
  });

  it('lists with selectors and pages through everything', async () => {
    for (let i = 0; i < 25; i++) await b.create(cm(`page-${String(i).padStart(2, '0')}`, { i: String(i) }, { labels: { set: 'paging', parity: i % 2 ? 'odd' : 'even' } }));
    const first = await b.list(CM, { namespace: 'default', labelSelector: 'set=paging', limit: 10 });
    expect(first.items).to.have.length(10);
    expect(first.metadata.continue).to.be.a('string').and.not.equal('');
    expect(first.items[0]).to.include({ apiVersion: 'v1', kind: 'ConfigMap' });
    const pages: number[] = [];
    for await (const p of b.listPages(CM, { namespace: 'default', labelSelector: 'set=paging', limit: 10 })) pages.push(p.items.length);
    expect(pages).to.deep.equal([10, 10, 5]);
    const all = await b.listAll(CM, { labelSelector: 'set=paging,parity=odd', limit: 4 });
    expect(all.items.map((o) => o.metadata?.name)).to.have.length(12);
    expect(all.resourceVersion).to.match(/^\d+$/);
    const byField = await b.list(CM, { namespace: 'default', fieldSelector: 'metadata.name=page-03' });
    expect(byField.items.map((o) => o.data)).to.deep.equal([{ i: '3' }]);
    expect((await a.list(CM, { labelSelector: 'set=paging' })).items).to.have.length(0);
  });

  it('deletes with preconditions and propagation policy, and returns objects held by finalizers', async () => {
    const obj = await a.create(cm('guarded', {}, { finalizers: ['example.dev/hold'] }));
    const wrongUID = await rejection(a.delete(CM, { namespace: 'default', name: 'guarded' }, { preconditions: { uid: 'not-the-uid' } }));
    expect(isConflict(wrongUID)).to.equal(true);
    const wrongRV = await rejection(a.delete(CM, { namespace: 'default', name: 'guarded' }, { preconditions: { resourceVersion: '1' } }));
    expect(isConflict(wrongRV)).to.equal(true);
    const marked = await a.delete(CM, { namespace: 'default', name: 'guarded' }, {
      preconditions: { uid: obj.metadata!.uid!, resourceVersion: obj.metadata!.resourceVersion! },
      propagationPolicy: 'Foreground',
    });
    expect(marked?.metadata?.deletionTimestamp).to.be.a('string');
    await a.patch(CM, { namespace: 'default', name: 'guarded' }, { metadata: { finalizers: null } });
    expect(isNotFound(await rejection(a.get(CM, { namespace: 'default', name: 'guarded' })))).to.equal(true);
    await a.create(cm('orphaned', {}));
    expect(await a.delete(CM, { namespace: 'default', name: 'orphaned' }, { propagationPolicy: 'Orphan' })).to.equal(undefined);
  });

  it('supports dry run', async () => {
    const dry = await a.create(cm('dry', { a: '1' }), { dryRun: true });
    expect(dry.data).to.deep.equal({ a: '1' });
    expect(isNotFound(await rejection(a.get(CM, { namespace: 'default', name: 'dry' })))).to.equal(true);
  });

  it('answers an unknown kind with UnknownKindError', async () => {
    const e = await rejection(a.get({ apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy' }, { namespace: 'default', name: 'x' }));
    expect(e).to.be.instanceOf(UnknownKindError);
    const e2 = await rejection(a.get({ apiVersion: 'v1', kind: 'Horse' }, { namespace: 'default', name: 'x' }));
    expect(e2).to.be.instanceOf(UnknownKindError);
  });

  it('requires a namespace for namespaced resources', async () => {
    const e = await rejection(a.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nowhere' } }));
    expect(e).to.be.instanceOf(InvalidObjectNameError);
  });

  it('never lets a hostile cluster, namespace or name reach the wire', async () => {
    const hostile = ['root/../../api/v1/secrets', '../root', 'root?watch=true', 'root%2f..', 'root#frag', '*', 'ROOT', ''];
    for (const h of hostile) expect(() => new ClusterClient(t, { cluster: h }), h).to.throw(InvalidClusterNameError);
    const before = paths.length;
    for (const name of ['../secrets', '..', 'a/b', '%2e%2e', '']) {
      expect(await rejection(a.get(CM, { namespace: 'default', name })), name).to.be.instanceOf(InvalidObjectNameError);
    }
    for (const namespace of ['../kube-system', 'a/b', '..', 'Default']) {
      expect(await rejection(a.get(CM, { namespace, name: 'x' })), namespace).to.be.instanceOf(InvalidObjectNameError);
      expect(await rejection(a.list(CM, { namespace })), namespace).to.be.instanceOf(InvalidObjectNameError);
    }
    // Discovery may run; the object URLs must not.
    const sent = paths.slice(before);
    expect(sent.filter((p) => !/\/(api|apis)(\/[^/]+){0,2}$/.test(p))).to.deep.equal([]);
    expect(paths.some((p) => p.includes('secrets') || p.includes('..') || p.includes('kube-system'))).to.equal(false);
  });

  it('encodes legal names that carry URL-reserved characters', async () => {
    // RBAC names are path-segment names, not DNS names: colons are legal and must be encoded.
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:controller:weird' }, rules: [] };
    expect((await a.create(role)).metadata?.name).to.equal('system:controller:weird');
    const n = paths.length;
    const got = await a.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' }, { name: 'system:controller:weird' });
    expect(got.metadata?.name).to.equal('system:controller:weird');
    expect(paths.slice(n).at(-1)).to.match(/clusterroles\/system(%3A|:)controller(%3A|:)weird$/);
  });

  it('shares one discovery across clients of the same base', async () => {
    const shared = new ClusterClient(t, { cluster: a.cluster, discovery: a.discovery });
    expect(shared.discovery).to.equal(a.discovery);
    const n = paths.length;
    await shared.get(CM, { namespace: 'default', name: 'conflict' });
    expect(paths.slice(n)).to.deep.equal([`/clusters/${a.cluster}/api/v1/namespaces/default/configmaps/conflict`]);
  });
});
