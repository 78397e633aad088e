/** The reference server's object semantics, driven by @kubernetes/client-node. */
import { ApiException, CoreV1Api, CoordinationV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
  return 200;
}

describe('reference server: objects (client-node)', () => {
  let srv: RunningServer;
  let core: CoreV1Api;

  before(async () => {
    srv = await start();
    core = kubeConfigFor(srv).makeApiClient(CoreV1Api);
  });
  after(() => srv.stop());

  it('bootstraps root with namespace default and kube-root-ca.crt', async () => {
    const ns = await core.readNamespace({ name: 'default' });
    expect(ns.status?.phase).to.equal('Active');
    const cm = await eventually(() => core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'default' }), 'root CA');
    expect(cm.metadata?.annotations?.['kcp.io/cluster']).to.equal('root');
  });

  it('creates with uid, timestamps, resourceVersion, generation and the cluster annotation', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'one', annotations: { 'kcp.io/cluster': 'someone-else' } }, data: { a: '1' } },
    });
    expect(cm.metadata?.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(cm.metadata?.creationTimestamp).to.be.instanceOf(Date);
    expect(Number(cm.metadata?.resourceVersion)).to.be.greaterThan(0);
    expect(cm.metadata?.annotations?.['kcp.io/cluster']).to.equal('root');
    expect(cm.kind).to.equal('ConfigMap');
    expect(await code(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'one' } } }))).to.equal(409);
    expect(await code(core.createNamespacedConfigMap({ namespace: 'nope', body: { metadata: { name: 'x' } } }))).to.equal(404);
  });

  it('supports generateName and dryRun', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    expect(cm.metadata?.name).to.match(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const dry = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'dry' } }, dryRun: 'All' });
    expect(dry.metadata?.name).to.equal('dry');
    expect(await code(core.readNamespacedConfigMap({ namespace: 'default', name: 'dry' }))).to.equal(404);
  });

  it('refuses a stale update with 409 and bumps resourceVersion on every write; no-op writes change nothing', async () => {
    const a = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'rv' }, data: { x: '1' } } });
    const b = await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'rv', body: { ...a, data: { x: '2' } } });
    expect(Number(b.metadata?.resourceVersion)).to.be.greaterThan(Number(a.metadata?.resourceVersion));
    expect(await code(core.replaceNamespacedConfigMap({ namespace: 'default', name: 'rv', body: { ...a, data: { x: '3' } } }))).to.equal(409);
    const c = await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'rv', body: b });
    expect(c.metadata?.resourceVersion).to.equal(b.metadata?.resourceVersion);
  });

  it('bumps generation only for changes outside metadata and status', async () => {
    const lease = kubeConfigFor(srv).makeApiClient(CoordinationV1Api);
    const l1 = await lease.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a' } } });
    expect(l1.metadata?.generation).to.equal(1);
    const l2 = await lease.replaceNamespacedLease({ namespace: 'default', name: 'l', body: { ...l1, metadata: { ...l1.metadata, labels: { x: 'y' } } } });
    expect(l2.metadata?.generation).to.equal(1);
    const l3 = await lease.replaceNamespacedLease({ namespace: 'default', name: 'l', body: { ...l2, spec: { holderIdentity: 'b' } } });
    expect(l3.metadata?.generation).to.equal(2);
  });

  it('patches with merge, JSON and strategic merge patch', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'p', labels: { a: '1' } }, data: { k: 'v' } } });
    const merged = await core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'p', body: { data: { k: null, n: 'new' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.data).to.deep.equal({ n: 'new' });
    const json = await core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'p', body: [{ op: 'add', path: '/data/j', value: 'x' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.data).to.deep.equal({ n: 'new', j: 'x' });
    const smp = await core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'p', body: { metadata: { labels: { b: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.metadata?.labels).to.deep.equal({ a: '1', b: '2' });
    expect(await code(core.patchNamespacedConfigMap({ namespace: 'default', name: 'missing', body: {} }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))).to.equal(404);
  });

  it('answers strategic merge patch on a kcp type with 415', async () => {
    const r = await raw(srv, 'PATCH', '/clusters/root/apis/core.kcp.io/v1alpha1/logicalclusters/cluster', { metadata: { labels: { a: 'b' } } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
    expect(r.status).to.equal(415);
    expect(r.json['reason']).to.equal('UnsupportedMediaType');
  });

  it('server-side applies, with fieldManager required', async () => {
    const objs = KubernetesObjectApi.makeApiClient(kubeConfigFor(srv));
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data: { a: '1' } };
    const created = await objs.patch(body, undefined, undefined, 'tester', true, PatchStrategy.ServerSideApply);
    expect(created.data).to.deep.equal({ a: '1' });
    const updated = await objs.patch({ ...body, data: { b: '2' } }, undefined, undefined, 'tester', true, PatchStrategy.ServerSideApply);
    expect(updated.data).to.deep.equal({ b: '2' });
    const noManager = await raw(srv, 'PATCH', '/clusters/root/api/v1/namespaces/default/configmaps/ssa', body, { 'Content-Type': 'application/apply-patch+yaml' });
    expect(noManager.status).to.equal(422);
  });

  it('deletes through finalizers: marked first, gone when the last finalizer is removed', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fin', finalizers: ['example.dev/hold'] } } });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'fin' });
    const marked = await core.readNamespacedConfigMap({ namespace: 'default', name: 'fin' });
    expect(marked.metadata?.deletionTimestamp).to.be.instanceOf(Date);
    // Adding a finalizer to a deleting object is refused.
    expect(
      await code(core.replaceNamespacedConfigMap({ namespace: 'default', name: 'fin', body: { ...marked, metadata: { ...marked.metadata, finalizers: ['example.dev/hold', 'more'] } } })),
    ).to.equal(422);
    await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'fin', body: { ...marked, metadata: { ...marked.metadata, finalizers: [] } } });
    expect(await code(core.readNamespacedConfigMap({ namespace: 'default', name: 'fin' }))).to.equal(404);
  });

  it('checks delete preconditions', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'pre' } } });
    expect(await code(core.deleteNamespacedConfigMap({ namespace: 'default', name: 'pre', body: { preconditions: { uid: 'wrong' } } }))).to.equal(409);
    expect(await code(core.deleteNamespacedConfigMap({ namespace: 'default', name: 'pre', body: { preconditions: { resourceVersion: '1' } } }))).to.equal(409);
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'pre', body: { preconditions: { uid: cm.metadata!.uid! } } });
  });

  it('garbage-collects dependents in the same logical cluster, and orphans on request', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner' } } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! };
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'dep', ownerReferences: [ref] } } });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'owner' });
    await eventually(async () => (await code(core.readNamespacedSecret({ namespace: 'default', name: 'dep' }))) === 404, 'dependent collected');

    const owner2 = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner2' } } });
    await core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'dep2', ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata!.uid! }] } },
    });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'owner2', propagationPolicy: 'Orphan' });
    const kept = await core.readNamespacedSecret({ namespace: 'default', name: 'dep2' });
    expect(kept.metadata?.ownerReferences ?? []).to.have.length(0);
  });

  it('deletes a namespace with its contents', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'c', finalizers: ['x/y'] } } });
    await core.deleteNamespace({ name: 'doomed' });
    const ns = await core.readNamespace({ name: 'doomed' });
    expect(ns.status?.phase).to.equal('Terminating');
    expect(await code(core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }))).to.equal(403);
    const c = await eventually(async () => {
      const o = await core.readNamespacedConfigMap({ namespace: 'doomed', name: 'c' });
      return o.metadata?.deletionTimestamp ? o : undefined;
    }, 'content marked for deletion');
    await core.replaceNamespacedConfigMap({ namespace: 'doomed', name: 'c', body: { ...c!, metadata: { ...c!.metadata, finalizers: [] } } });
    await eventually(async () => (await code(core.readNamespace({ name: 'doomed' }))) === 404, 'namespace gone');
  });

  it('serves the status subresource: status writes change only status, main writes ignore status', async () => {
    const path = '/clusters/root/apis/core.kcp.io/v1alpha1/logicalclusters/cluster';
    const lc = (await raw(srv, 'GET', path)).json as { metadata: Record<string, unknown>; status: Record<string, unknown>; spec?: unknown };
    const main = await raw(srv, 'PUT', path, { ...lc, status: { phase: 'Unavailable' }, metadata: { ...lc.metadata, labels: { l: 'v' } } });
    expect(main.status).to.equal(200);
    expect((main.json['status'] as Record<string, unknown>)['phase']).to.equal('Ready');
    const st = await raw(srv, 'PUT', path + '/status', { ...main.json, status: { ...(main.json['status'] as object), phase: 'Ready', URL: 'x' }, metadata: { ...(main.json['metadata'] as object), labels: {} } });
    expect(st.status).to.equal(200);
    expect((st.json['metadata'] as { labels: Record<string, string> }).labels['l']).to.equal('v');
    expect((st.json['status'] as Record<string, unknown>)['URL']).to.equal('x');
    expect((st.json['metadata'] as { generation: number }).generation).to.equal((lc.metadata['generation'] as number));
  });

  it('lists with label and field selectors, and pages with continue from one snapshot', async () => {
    await core.createNamespace({ body: { metadata: { name: 'paging' } } });
    for (let i = 0; i < 25; i++) {
      await core.createNamespacedConfigMap({ namespace: 'paging', body: { metadata: { name: `cm-${String(i).padStart(2, '0')}`, labels: { tier: i % 2 ? 'odd' : 'even', idx: String(i) } } } });
    }
    const odd = await core.listNamespacedConfigMap({ namespace: 'paging', labelSelector: 'tier=odd' });
    expect(odd.items).to.have.length(12);
    const notIn = await core.listNamespacedConfigMap({ namespace: 'paging', labelSelector: 'tier,idx notin (1,3,5),tier!=even' });
    expect(notIn.items).to.have.length(9);
    const byName = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=cm-07' });
    expect(byName.items.map((c) => c.metadata?.name)).to.deep.equal(['cm-07']);
    expect(await code(core.listNamespacedConfigMap({ namespace: 'paging', labelSelector: 'in in in' }))).to.equal(400);
    expect(await code(core.listNamespacedConfigMap({ namespace: 'paging', fieldSelector: 'spec.foo=bar' }))).to.equal(400);

    const page1 = await core.listNamespacedConfigMap({ namespace: 'paging', limit: 10, labelSelector: 'tier' });
    expect(page1.items).to.have.length(10);
    const snapshotRV = page1.metadata?.resourceVersion;
    await core.deleteNamespacedConfigMap({ namespace: 'paging', name: 'cm-20' });
    await core.createNamespacedConfigMap({ namespace: 'paging', body: { metadata: { name: 'cm-99', labels: { tier: 'odd' } } } });
    const names = page1.items.map((c) => c.metadata!.name!);
    let cont = page1.metadata?._continue;
    while (cont) {
      const page = await core.listNamespacedConfigMap({ namespace: 'paging', limit: 10, labelSelector: 'tier', _continue: cont });
      expect(page.metadata?.resourceVersion).to.equal(snapshotRV);
      names.push(...page.items.map((c) => c.metadata!.name!));
      cont = page.metadata?._continue;
    }
    expect(names).to.have.length(25);
    expect(names).to.include('cm-20');
    expect(names).to.not.include('cm-99');
    expect([...names].sort()).to.deep.equal(names);
  });

  it('answers resourceVersionMatch=Exact from history, 410 once compacted, 422 without resourceVersion', async () => {
    const before = await core.listNamespacedConfigMap({ namespace: 'default' });
    const rv = before.metadata!.resourceVersion!;
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-exact' } } });
    const exact = await core.listNamespacedConfigMap({ namespace: 'default', resourceVersion: rv, resourceVersionMatch: 'Exact' });
    expect(exact.items.map((c) => c.metadata?.name)).to.deep.equal(before.items.map((c) => c.metadata?.name));
    expect(await code(core.listNamespacedConfigMap({ namespace: 'default', resourceVersionMatch: 'Exact' }))).to.equal(422);
    srv.compact();
    expect(await code(core.listNamespacedConfigMap({ namespace: 'default', resourceVersion: rv, resourceVersionMatch: 'Exact' }))).to.equal(410);
    const tooNew = await raw(srv, 'GET', `/clusters/root/api/v1/configmaps?resourceVersion=${srv.resourceVersion() + 1000}&resourceVersionMatch=NotOlderThan`);
    expect(tooNew.status).to.equal(504);
    expect((tooNew.json['details'] as { causes: { reason: string }[] }).causes[0]!.reason).to.equal('ResourceVersionTooLarge');
  });
});
