/**
 * controllers/widgets in-process on the reference server: install (twice), two tenants bound with
 * the claims accepted, Widgets served with their ConfigMaps, status and conditions, a spec change
 * followed, a bad color refused once without a retry storm, the finalizer deleting the ConfigMap
 * before the Widget, the schema's range, default and CEL rule enforced, nothing crossing workspaces.
 */
import { expect } from 'chai';
import { EXPORT_NAME, FINALIZER, WIDGET, apis, setupController as setup } from '../../controllers/widgets/index.js';
import { APIExportProvider, Logger, installAPIs } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createWorkspace, type Claim, type Obj } from '../support/kcp.js';
import { runWith } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const WIDGETS = '/apis/example.dev/v1alpha1/namespaces/default/widgets';
const CLAIMS: Claim[] = [
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'events' },
];

describe('controllers/widgets (reference server)', function () {
  this.timeout(90_000);
  let srv: RunningServer;
  const reconciles: string[] = [];

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'widgets-provider');
    const kc = kubeConfigFor(srv, 'root:widgets-provider');
    const quiet = new Logger({ level: 'error', write: () => undefined });
    await installAPIs(kc, apis, quiet);
    await installAPIs(kc, apis, quiet); // idempotent
    for (const t of ['wa', 'wb']) {
      await createWorkspace(srv, 'root', t);
      await bind(srv, `root:${t}`, 'root:widgets-provider', EXPORT_NAME, { claims: CLAIMS });
    }
  });
  after(() => srv?.stop());

  const widget = (name: string, spec: Obj): Obj => ({ apiVersion: 'example.dev/v1alpha1', kind: 'Widget', metadata: { name }, spec });
  const get = async (ws: string, path: string): Promise<{ status: number; json: Obj }> => {
    const r = await raw(srv, 'GET', `/clusters/root:${ws}${path}`);
    return { status: r.status, json: r.json as Obj };
  };
  const ready = (w: Obj): Obj | undefined => (w['status']?.conditions as Obj[] | undefined)?.find((c) => c['type'] === 'Ready');

  it('serves Widgets in every bound workspace: ConfigMap, observedGeneration, Ready; follows spec changes; refuses a bad color once; cleans up under its finalizer', async () => {
    const rt = await runWith(
      (log) => new APIExportProvider(kubeConfigFor(srv, 'root:widgets-provider'), { endpointSlice: EXPORT_NAME, log }),
      (m) => {
        setup(m);
        m.controller('count').for(WIDGET).reconcile((req) => void reconciles.push(`${req.cluster}/${req.name}`));
      },
    );
    try {
      // The schema: size in 1..10, color defaults to blue.
      const big = await raw(srv, 'POST', `/clusters/root:wa${WIDGETS}`, widget('big', { size: 11 }));
      expect(big.status, big.text).to.equal(422);
      expect(big.text).to.contain('spec.size in body should be less than or equal to 10');
      const made = await raw(srv, 'POST', `/clusters/root:wa${WIDGETS}`, widget('plain', { size: 3 }));
      expect(made.status, made.text).to.equal(201);
      expect((made.json as Obj)['spec'].color).to.equal('blue');
      expect((await raw(srv, 'POST', `/clusters/root:wb${WIDGETS}`, widget('red', { size: 5, color: 'red' }))).status).to.equal(201);
      expect((await raw(srv, 'POST', `/clusters/root:wb${WIDGETS}`, widget('bad', { size: 2, color: 'purple' }))).status).to.equal(201);

      for (const [ws, name, size, color] of [['wa', 'plain', '3', 'blue'], ['wb', 'red', '5', 'red']] as const) {
        const w = await eventually(async () => {
          const g = (await get(ws, `${WIDGETS}/${name}`)).json;
          return ready(g)?.['status'] === 'True' && g['status'].observedGeneration === g['metadata'].generation ? g : undefined;
        }, `${ws}/${name} Ready`);
        expect(ready(w!)).to.include({ reason: 'Reconciled' });
        expect(w!['metadata'].finalizers).to.include(FINALIZER);
        const cm = (await get(ws, `/api/v1/namespaces/default/configmaps/${name}-widget`)).json;
        expect(cm['data']).to.deep.equal({ size, color });
        expect(cm['metadata'].ownerReferences[0]).to.include({ kind: 'Widget', name, controller: true, uid: w!['metadata'].uid });
      }
      // Nothing crosses workspaces.
      expect((await get('wb', '/api/v1/namespaces/default/configmaps/plain-widget')).status).to.equal(404);
      expect((await get('wa', '/api/v1/namespaces/default/configmaps/red-widget')).status).to.equal(404);

      // A spec change reaches the ConfigMap and the status.
      const p = await raw(srv, 'PATCH', `/clusters/root:wa${WIDGETS}/plain`, { spec: { size: 7, color: 'green' } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(p.status, p.text).to.equal(200);
      await eventually(async () => (await get('wa', '/api/v1/namespaces/default/configmaps/plain-widget')).json['data']?.size === '7', 'the ConfigMap follows the spec');
      await eventually(async () => {
        const g = (await get('wa', `${WIDGETS}/plain`)).json;
        return g['status'].observedGeneration === g['metadata'].generation && g['metadata'].generation > 1;
      }, 'observedGeneration follows');
      // The schema's CEL rule: size may only grow.
      const shrink = await raw(srv, 'PATCH', `/clusters/root:wa${WIDGETS}/plain`, { spec: { size: 6 } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(shrink.status, shrink.text).to.equal(422);
      expect((shrink.json as Obj)['message']).to.equal('Widget.example.dev "plain" is invalid: spec.size: Invalid value: 6: size may only grow');
      // An edited ConfigMap is put back (owned: a change of it reconciles its Widget).
      await raw(srv, 'PATCH', `/clusters/root:wa/api/v1/namespaces/default/configmaps/plain-widget`, { data: { size: '1' } }, { 'Content-Type': 'application/merge-patch+json' });
      await eventually(async () => (await get('wa', '/api/v1/namespaces/default/configmaps/plain-widget')).json['data']?.size === '7', 'the ConfigMap restored');

      // The bad color: Ready False InvalidColor, one Warning in its own workspace, no ConfigMap, no retry storm.
      const bad = await eventually(async () => {
        const g = (await get('wb', `${WIDGETS}/bad`)).json;
        return ready(g)?.['reason'] === 'InvalidColor' ? g : undefined;
      }, 'bad refused');
      expect(ready(bad!)).to.include({ status: 'False' });
      const warning = await eventually(async () => {
        const items = ((await get('wb', '/apis/events.k8s.io/v1/namespaces/default/events')).json['items'] as Obj[]) ?? [];
        return items.find((e) => e['regarding']?.name === 'bad' && e['type'] === 'Warning' && e['reason'] === 'InvalidColor');
      }, 'the Warning Event');
      expect(String(warning!['note'])).to.contain('purple');
      expect((await get('wb', '/api/v1/namespaces/default/configmaps/bad-widget')).status).to.equal(404);
      const wa = (((await get('wa', '/apis/events.k8s.io/v1/namespaces/default/events')).json['items'] as Obj[]) ?? []).filter((e) => e['regarding']?.name === 'bad');
      expect(wa).to.have.length(0);
      // A later change elsewhere reconciles; bad is not retried meanwhile.
      const badBefore = reconciles.filter((r) => r.endsWith('/bad')).length;
      await raw(srv, 'PATCH', `/clusters/root:wb${WIDGETS}/red`, { spec: { size: 6 } }, { 'Content-Type': 'application/merge-patch+json' });
      await eventually(async () => (await get('wb', '/api/v1/namespaces/default/configmaps/red-widget')).json['data']?.size === '6', 'red follows');
      expect(reconciles.filter((r) => r.endsWith('/bad')).length).to.be.at.most(badBefore + 1);
      expect(badBefore).to.be.below(6);

      // Delete: the finalizer deletes the ConfigMap, then the Widget goes.
      const d = await raw(srv, 'DELETE', `/clusters/root:wb${WIDGETS}/red`);
      expect(d.status, d.text).to.be.oneOf([200, 202]);
      await eventually(async () => (await get('wb', `${WIDGETS}/red`)).status === 404, 'red gone');
      expect((await get('wb', '/api/v1/namespaces/default/configmaps/red-widget')).status).to.equal(404);
      expect(rt.errors(), JSON.stringify(rt.errors())).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });
  it('writes nothing on a restart when every Widget is in sync: no ConfigMap re-applied, no status write, no Event', async () => {
    const provider = (log: Logger) => new APIExportProvider(kubeConfigFor(srv, 'root:widgets-provider'), { endpointSlice: EXPORT_NAME, log });
    expect((await raw(srv, 'POST', `/clusters/root:wa${WIDGETS}`, widget('steady', { size: 4 }))).status).to.equal(201);
    const first = await runWith(provider, setup);
    try {
      await eventually(async () => ready((await get('wa', `${WIDGETS}/steady`)).json)?.['status'] === 'True', 'steady Ready');
    } finally {
      await first.stop();
    }
    const events = async (): Promise<number> => {
      let n = 0;
      for (const ws of ['wa', 'wb']) n += (((await get(ws, '/apis/events.k8s.io/v1/namespaces/default/events')).json['items'] as Obj[]) ?? []).length;
      return n;
    };
    const before = {
      events: await events(),
      cm: (await get('wa', '/api/v1/namespaces/default/configmaps/steady-widget')).json['metadata'].resourceVersion as string,
      widget: (await get('wa', `${WIDGETS}/steady`)).json['metadata'].resourceVersion as string,
    };
    for (let run = 0; run < 3; run++) {
      let done = false;
      const again = await runWith(provider, (m) => {
        setup(m);
        const widgets = m.getControllers().find((c) => c.name === 'widgets')!;
        widgets.onReconcile((o) => {
          if (o.request.name === 'steady' && o.result === 'success') done = true;
        });
      });
      try {
        await eventually(() => done, `restart ${run + 1}: steady reconciled`);
      } finally {
        await again.stop();
      }
      expect(again.entries.filter((e) => e.msg === 'configmap in sync'), `restart ${run + 1}: the ConfigMap was re-applied`).to.deep.equal([]);
      expect((await get('wa', '/api/v1/namespaces/default/configmaps/steady-widget')).json['metadata'].resourceVersion).to.equal(before.cm);
      expect((await get('wa', `${WIDGETS}/steady`)).json['metadata'].resourceVersion).to.equal(before.widget);
      expect(await events(), `restart ${run + 1}: Events published`).to.equal(before.events);
    }
  });
});
