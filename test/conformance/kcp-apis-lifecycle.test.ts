/**
 * The lifecycle of exports and bindings as a controller watching kcp sees it (kcp-wire §2.3–§2.5,
 * §8 K): endpoint slices gain a shard's URL with its first binding and lose it with the last, on
 * one shard and across two; deleting a binding deletes its objects (finalizers honoured, creates
 * refused meanwhile) before the binding itself; claim labels come and go with acceptance.
 */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { WatchStream, eventually, raw, start } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const APIS = '/apis/apis.kcp.io';

/** Creates a schema for `widgets.<group>` and an export `name` of it (plus claims) in a workspace. */
async function provide(srv: RunningServer, ws: string, name: string, opts: { claims?: Obj[]; annotations?: Record<string, string> } = {}): Promise<Obj> {
  const schema = `v1.widgets.${name}.example.com`;
  const schemaRes = await raw(srv, 'POST', `/clusters/${ws}${APIS}/v1alpha1/apiresourceschemas`, {
    metadata: { name: schema },
    spec: {
      group: `${name}.example.com`,
      names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } }],
    },
  });
  expect(schemaRes.status, JSON.stringify(schemaRes.json)).to.equal(201);
  const exp = await raw(srv, 'POST', `/clusters/${ws}${APIS}/v1alpha2/apiexports`, {
    metadata: { name, annotations: opts.annotations },
    spec: { resources: [{ name: 'widgets', group: `${name}.example.com`, schema }], permissionClaims: opts.claims },
  });
  expect(exp.status, JSON.stringify(exp.json)).to.equal(201);
  return (await eventually(async () => {
    const e = (await raw(srv, 'GET', `/clusters/${ws}${APIS}/v1alpha2/apiexports/${name}`)).json as Obj;
    return e['status']?.identityHash ? e : undefined;
  }, `export ${name} identity`))!;
}

/** Binds `ws` to `exportPath:name` and waits for Ready. */
async function bind(srv: RunningServer, ws: string, exportPath: string, name: string, claims?: Obj[]): Promise<Obj> {
  const res = await raw(srv, 'POST', `/clusters/${ws}${APIS}/v1alpha2/apibindings`, {
    metadata: { name },
    spec: { reference: { export: { path: exportPath, name } }, permissionClaims: claims },
  });
  expect(res.status, JSON.stringify(res.json)).to.equal(201);
  return (await eventually(async () => {
    const b = (await raw(srv, 'GET', `/clusters/${ws}${APIS}/v1alpha2/apibindings/${name}`)).json as Obj;
    const ready = (b['status']?.conditions as Obj[] | undefined)?.find((c) => c['type'] === 'Ready');
    return ready?.status === 'True' ? b : undefined;
  }, `binding ${ws}/${name} Ready`))!;
}

async function endpoints(srv: RunningServer, ws: string, slice: string): Promise<string[]> {
  const s = (await raw(srv, 'GET', `/clusters/${ws}${APIS}/v1alpha1/apiexportendpointslices/${slice}`)).json as Obj;
  return ((s['status']?.endpoints ?? []) as Obj[]).map((e) => e['url'] as string);
}

async function gone(srv: RunningServer, p: string): Promise<boolean> {
  return (await raw(srv, 'GET', p)).status === 404;
}

describe('conformance: export and binding lifecycle (reference server)', function () {
  this.timeout(60_000);

  describe('on one shard', () => {
    let srv: RunningServer;
    let provider: string;
    before(async () => {
      srv = await start();
      provider = srv.createLogicalCluster(undefined, { path: 'root:provider' });
      for (const ws of ['a', 'b', 'c']) srv.createLogicalCluster(undefined, { path: `root:${ws}` });
    });
    after(() => srv.stop());

    it('keeps the endpoint slice empty until the first binding and empties it after the last', async () => {
      await provide(srv, 'root:provider', 'slices');
      const slice = (await eventually(async () => {
        const s = (await raw(srv, 'GET', `/clusters/root:provider${APIS}/v1alpha1/apiexportendpointslices/slices`)).json as Obj;
        return s['status']?.conditions ? s : undefined;
      }, 'default slice'))!;
      expect(slice['spec']).to.deep.equal({ export: { name: 'slices', path: 'root:provider' } });
      expect(slice['metadata'].ownerReferences[0]).to.include({ apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExport', name: 'slices' });
      expect(slice['status'].endpoints).to.equal(undefined);
      expect((slice['status'].conditions as Obj[]).map((c) => [c['type'], c['status']])).to.deep.equal([
        ['APIExportValid', 'True'],
        ['PartitionValid', 'True'],
      ]);
      const url = `${srv.url}/services/apiexport/${provider}/slices`;
      await bind(srv, 'root:a', 'root:provider', 'slices');
      await eventually(async () => (await endpoints(srv, 'root:provider', 'slices')).length === 1, 'first URL');
      expect(await endpoints(srv, 'root:provider', 'slices')).to.deep.equal([url]);
      await bind(srv, 'root:b', 'root:provider', 'slices');
      for (const ws of ['root:a', 'root:b']) {
        await raw(srv, 'DELETE', `/clusters/${ws}${APIS}/v1alpha2/apibindings/slices`);
        await eventually(() => gone(srv, `/clusters/${ws}${APIS}/v1alpha2/apibindings/slices`), `binding in ${ws} gone`);
        // One binding is left after the first deletion, so the URL stays until the second.
        const expected = ws === 'root:a' ? [url] : [];
        await eventually(async () => JSON.stringify(await endpoints(srv, 'root:provider', 'slices')) === JSON.stringify(expected), `endpoints after ${ws}`);
      }
    });

    it('skips the default slice for the annotation, serves hand-made slices, and clears them when the export goes', async () => {
      await provide(srv, 'root:provider', 'skipped', { annotations: { 'apiexports.apis.kcp.io/skip-endpointslice': 'true' } });
      await new Promise((r) => setTimeout(r, 100));
      expect(await gone(srv, `/clusters/root:provider${APIS}/v1alpha1/apiexportendpointslices/skipped`)).to.equal(true);
      const made = await raw(srv, 'POST', `/clusters/root:c${APIS}/v1alpha1/apiexportendpointslices`, {
        metadata: { name: 'mine' },
        spec: { export: { path: 'root:provider', name: 'skipped' } },
      });
      expect(made.status).to.equal(201);
      await bind(srv, 'root:c', 'root:provider', 'skipped');
      await eventually(async () => (await endpoints(srv, 'root:c', 'mine')).length === 1, 'hand-made slice URL');
      await raw(srv, 'DELETE', `/clusters/root:provider${APIS}/v1alpha2/apiexports/skipped`);
      const s = (await eventually(async () => {
        const o = (await raw(srv, 'GET', `/clusters/root:c${APIS}/v1alpha1/apiexportendpointslices/mine`)).json as Obj;
        return (o['status'].conditions as Obj[]).some((c) => c['type'] === 'APIExportValid' && c['status'] === 'False') ? o : undefined;
      }, 'APIExportNotFound'))!;
      expect(s['status'].endpoints).to.equal(undefined);
      expect((s['status'].conditions as Obj[]).find((c) => c['type'] === 'APIExportValid')).to.include({ reason: 'APIExportNotFound' });
      // The binding keeps Ready (it mirrors InitialBindingCompleted) and reports the loss elsewhere.
      const b = (await eventually(async () => {
        const o = (await raw(srv, 'GET', `/clusters/root:c${APIS}/v1alpha2/apibindings/skipped`)).json as Obj;
        return (o['status'].conditions as Obj[]).some((c) => c['type'] === 'APIExportValid' && c['status'] === 'False') ? o : undefined;
      }, 'binding APIExportValid False'))!;
      expect((b['status'].conditions as Obj[]).find((c) => c['type'] === 'Ready')).to.include({ status: 'True' });
    });

    it('deletes the bound objects first (finalizers honoured, creates refused), then the binding', async () => {
      await provide(srv, 'root:provider', 'doomed');
      await bind(srv, 'root:a', 'root:provider', 'doomed');
      const widgets = `/clusters/root:a/apis/doomed.example.com/v1/namespaces/default/widgets`;
      expect((await raw(srv, 'POST', widgets, { metadata: { name: 'w1' } })).status).to.equal(201);
      expect((await raw(srv, 'POST', widgets, { metadata: { name: 'w2', finalizers: ['example.com/hold'] } })).status).to.equal(201);
      const rv = srv.resourceVersion();
      const objects = new WatchStream(srv, `/clusters/root:a/apis/doomed.example.com/v1/widgets?watch=1&resourceVersion=${rv}`);
      const allBindings = new WatchStream(srv, `/clusters/*${APIS}/v1alpha2/apibindings?watch=1&resourceVersion=${rv}`);
      try {
        expect((await raw(srv, 'DELETE', `/clusters/root:a${APIS}/v1alpha2/apibindings/doomed`)).status).to.equal(200);
        await eventually(() => objects.of('DELETED', 'w1').length === 1, 'w1 DELETED');
        const held = await eventually(async () => {
          const b = (await raw(srv, 'GET', `/clusters/root:a${APIS}/v1alpha2/apibindings/doomed`)).json as Obj;
          return (b['status'].conditions as Obj[]).find((c) => c['type'] === 'BindingResourceDeleteSuccess');
        }, 'BindingResourceDeleteSuccess');
        expect(held).to.include({ status: 'False', reason: 'SomeFinalizersRemain' });
        expect(held!['message']).to.contain('example.com/hold in 1 resource instances');
        const discovery = (await raw(srv, 'GET', '/clusters/root:a/apis/doomed.example.com/v1')).json['resources'] as Obj[];
        expect(discovery.find((r) => r['name'] === 'widgets')!['verbs']).to.not.include('create');
        const refused = await raw(srv, 'POST', widgets, { metadata: { name: 'w3' } });
        expect(refused.status).to.equal(403);
        expect(refused.json['reason']).to.equal('Forbidden');

        const w2 = (await raw(srv, 'GET', `${widgets}/w2`)).json as Obj;
        expect(w2['metadata'].deletionTimestamp).to.be.a('string');
        expect((await raw(srv, 'PUT', `${widgets}/w2`, { ...w2, metadata: { ...w2['metadata'], finalizers: [] } })).status).to.equal(200);
        await eventually(() => allBindings.of('DELETED', 'doomed').length === 1, 'binding DELETED');
        await eventually(() => objects.of('DELETED', 'w2').length === 1, 'w2 DELETED');
        // Same shard, one resourceVersion space: the objects went before the binding did.
        const rvOf = (e: Obj): number => Number(e['object'].metadata.resourceVersion);
        const last = Math.max(...objects.of('DELETED').map(rvOf));
        expect(rvOf(allBindings.of('DELETED', 'doomed')[0]!)).to.be.greaterThan(last);
        expect(await gone(srv, '/clusters/root:a/apis/doomed.example.com/v1')).to.equal(true);
      } finally {
        await objects.close();
        await allBindings.close();
      }
    });

    it('labels claimed objects while a binding accepts the claim, and unlabels them when it stops', async () => {
      const claims = [{ group: '', resource: 'configmaps', verbs: ['get', 'list', 'watch'] }];
      await provide(srv, 'root:provider', 'claimer', { claims });
      const cms = '/clusters/root:b/api/v1/namespaces/default/configmaps';
      expect((await raw(srv, 'POST', cms, { metadata: { name: 'picked', labels: { app: 'x' } } })).status).to.equal(201);
      expect((await raw(srv, 'POST', cms, { metadata: { name: 'ignored', labels: { app: 'y' } } })).status).to.equal(201);
      const watch = new WatchStream(srv, `${cms}?watch=1&resourceVersion=${srv.resourceVersion()}`);
      try {
        const b = await bind(srv, 'root:b', 'root:provider', 'claimer', [{ ...claims[0], selector: { matchLabels: { app: 'x' } }, state: 'Accepted' }]);
        const key = `claimed.internal.apis.kcp.io/${b['metadata'].labels['internal.apis.kcp.io/export']}`;
        const labelOf = async (n: string): Promise<string | undefined> => ((await raw(srv, 'GET', `${cms}/${n}`)).json as Obj)['metadata'].labels?.[key];
        await eventually(async () => (await labelOf('picked')) !== undefined, 'claim label on the selected ConfigMap');
        expect(await labelOf('picked')).to.match(/^[0-9A-Za-z]+$/);
        expect(await labelOf('ignored')).to.equal(undefined);
        // New objects are labelled at admission.
        expect(((await raw(srv, 'POST', cms, { metadata: { name: 'later', labels: { app: 'x' } } })).json as Obj)['metadata'].labels[key]).to.equal(await labelOf('picked'));
        const bound = (await eventually(async () => {
          const o = (await raw(srv, 'GET', `/clusters/root:b${APIS}/v1alpha2/apibindings/claimer`)).json as Obj;
          return o['status'].appliedPermissionClaims ? o : undefined;
        }, 'applied claims'))!;
        expect(bound['status'].appliedPermissionClaims).to.deep.equal([{ resource: 'configmaps', verbs: ['get', 'list', 'watch'], selector: { matchLabels: { app: 'x' } } }]);
        expect(bound['status'].exportPermissionClaims).to.deep.equal(claims);

        const rejected = { ...bound, spec: { ...bound['spec'], permissionClaims: [{ ...bound['spec'].permissionClaims[0], state: 'Rejected' }] } };
        expect((await raw(srv, 'PUT', `/clusters/root:b${APIS}/v1alpha2/apibindings/claimer`, rejected)).status).to.equal(200);
        await eventually(async () => (await labelOf('picked')) === undefined && (await labelOf('later')) === undefined, 'labels removed');
        const modified = watch.of('MODIFIED', 'picked');
        expect(modified.at(-1)!.object['metadata'].labels).to.deep.equal({ app: 'x' });
      } finally {
        await watch.close();
      }
    });
  });

  describe('on two shards', () => {
    let srv: RunningServer;
    before(async () => {
      srv = await start({ shards: 2 });
      srv.createLogicalCluster('provider2', { path: 'root:provider', shard: 0 });
      srv.createLogicalCluster('near', { path: 'root:near', shard: 0 });
      srv.createLogicalCluster('far', { path: 'root:far', shard: 1 });
    });
    after(() => srv.stop());

    it('publishes one URL per shard that holds a binding, whichever shard the export lives on', async () => {
      await provide(srv, 'root:provider', 'spread');
      await eventually(async () => (await raw(srv, 'GET', `/clusters/root:provider${APIS}/v1alpha1/apiexportendpointslices/spread`)).status === 200, 'slice');
      const [s0, s1] = srv.shardURLs;
      await bind(srv, 'root:far', 'root:provider', 'spread');
      await eventually(async () => (await endpoints(srv, 'root:provider', 'spread')).length === 1, 'far shard URL');
      expect(await endpoints(srv, 'root:provider', 'spread')).to.deep.equal([`${s1}/services/apiexport/provider2/spread`]);
      await bind(srv, 'root:near', 'root:provider', 'spread');
      await eventually(async () => (await endpoints(srv, 'root:provider', 'spread')).length === 2, 'both URLs');
      expect(await endpoints(srv, 'root:provider', 'spread')).to.have.members([`${s0}/services/apiexport/provider2/spread`, `${s1}/services/apiexport/provider2/spread`]);
      // The bound resource is served on the far shard too, stored under the export's identity.
      expect((await raw(srv, 'POST', '/clusters/root:far/apis/spread.example.com/v1/namespaces/default/widgets', { metadata: { name: 'w' } })).status).to.equal(201);
      await raw(srv, 'DELETE', `/clusters/root:far${APIS}/v1alpha2/apibindings/spread`);
      await eventually(async () => (await endpoints(srv, 'root:provider', 'spread')).length === 1, 'far URL removed');
      expect(await endpoints(srv, 'root:provider', 'spread')).to.deep.equal([`${s0}/services/apiexport/provider2/spread`]);
    });
  });
});
