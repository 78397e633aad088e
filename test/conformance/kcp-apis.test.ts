/**
 * APIResourceSchemas, APIExports and APIBindings with the real kubectl, as in kcp's quickstart
 * (kcp-wire §2, items 50–53): schema and export in a provider workspace, a binding in a consumer,
 * custom objects served there without any CRD; plus kcp's admission refusals and the
 * v1alpha1 ↔ v1alpha2 round trip of exports and bindings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { inCluster, kubectlFor } from '../support/kubectl.js';
import { eventually, raw, start } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const SCHEMA = 'v250101-abc.cowboys.wildwest.dev';
const PROVIDER_YAML = `
apiVersion: apis.kcp.io/v1alpha1
kind: APIResourceSchema
metadata:
  name: ${SCHEMA}
spec:
  group: wildwest.dev
  names: {kind: Cowboy, listKind: CowboyList, plural: cowboys, singular: cowboy, shortNames: [cb]}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      type: object
      properties:
        spec: {type: object, properties: {intent: {type: string}, horses: {type: integer}}}
        status: {type: object, properties: {result: {type: string}}}
---
apiVersion: apis.kcp.io/v1alpha2
kind: APIExport
metadata:
  name: cowboys
spec:
  resources:
  - {name: cowboys, group: wildwest.dev, schema: ${SCHEMA}, storage: {crd: {}}}
`;
const BINDING_YAML = `
apiVersion: apis.kcp.io/v1alpha2
kind: APIBinding
metadata:
  name: cowboys
spec:
  reference:
    export: {path: "root:provider", name: cowboys}
`;

describe('conformance: APIExports and APIBindings with kubectl (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;
  let provider: string;
  let consumer: string;

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-apis-kubectl-'));
    provider = srv.createLogicalCluster(undefined, { path: 'root:provider' });
    consumer = srv.createLogicalCluster(undefined, { path: 'root:consumer' });
    srv.createLogicalCluster(undefined, { path: 'root:bystander' });
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  // Every run here names its workspace.
  const k = kubectlFor(() => ({ srv, cacheDir }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);
  const kubectlFails = (ws: string, args: string[], stdin?: string) => k.kubectlFails([...inCluster(srv, ws), ...args], stdin);
  const getJSON = (ws: string, args: string[]) => k.kubectlJSON<Obj>([...inCluster(srv, ws), ...args]);

  it('runs the quickstart: schema and export in one workspace, binding and custom objects in another', async () => {
    const applied = await kubectl('root:provider', ['apply', '-f', '-'], PROVIDER_YAML);
    expect(applied).to.contain(`apiresourceschema.apis.kcp.io/${SCHEMA} created`).and.to.contain('apiexport.apis.kcp.io/cowboys created');
    const exp = (await eventually(async () => {
      const e = await getJSON('root:provider', ['get', 'apiexport', 'cowboys']);
      return e['status']?.identityHash ? e : undefined;
    }, 'export identity'))!;
    expect(exp['apiVersion']).to.equal('apis.kcp.io/v1alpha2');
    expect(exp['metadata'].annotations['kcp.io/path']).to.equal('root:provider');
    expect(exp['spec'].identity).to.deep.equal({ secretRef: { namespace: 'kcp-system', name: 'cowboys' } });
    expect(exp['status'].identityHash).to.match(/^[0-9a-f]{64}$/);
    expect(exp['status'].conditions.map((c: Obj) => [c['type'], c['status']])).to.deep.equal([['IdentityValid', 'True']]);

    expect(await kubectl('root:consumer', ['apply', '-f', '-'], BINDING_YAML)).to.contain('apibinding.apis.kcp.io/cowboys created');
    await kubectl('root:consumer', ['wait', '--for=condition=Ready', 'apibinding/cowboys', '--timeout=20s']);
    const b = await getJSON('root:consumer', ['get', 'apibinding', 'cowboys']);
    expect(b['metadata'].finalizers).to.deep.equal(['apis.kcp.io/apibinding-finalizer']);
    expect(b['metadata'].annotations['kcp.io/path']).to.equal('root:consumer');
    expect(b['metadata'].labels['internal.apis.kcp.io/export']).to.match(/^[0-9A-Za-z]+$/);
    expect(b['status'].phase).to.equal('Bound');
    expect(b['status'].apiExportClusterName).to.equal(provider);
    const schema = await getJSON('root:provider', ['get', 'apiresourceschema', SCHEMA]);
    expect(b['status'].boundResources).to.deep.equal([
      {
        group: 'wildwest.dev',
        resource: 'cowboys',
        schema: { name: SCHEMA, UID: schema['metadata'].uid, identityHash: exp['status'].identityHash },
        storageVersions: ['v1alpha1'],
      },
    ]);
    await eventually(async () => (await getJSON('root:consumer', ['get', 'apibinding', 'cowboys']))['status'].conditions.length === 6, 'claim conditions');
    const conds = (await getJSON('root:consumer', ['get', 'apibinding', 'cowboys']))['status'].conditions as Obj[];
    expect(conds.map((c) => [c['type'], c['status']])).to.deep.equal([
      ['Ready', 'True'],
      ['APIExportValid', 'True'],
      ['BindingUpToDate', 'True'],
      ['InitialBindingCompleted', 'True'],
      ['PermissionClaimsApplied', 'True'],
      ['PermissionClaimsValid', 'True'],
    ]);

    const resources = await kubectl('root:consumer', ['api-resources', '--api-group=wildwest.dev']);
    expect(resources).to.match(/cowboys\s+cb\s+wildwest\.dev\/v1alpha1\s+true\s+Cowboy/);
    expect(await kubectlFails('root:consumer', ['get', 'customresourcedefinitions'])).to.contain("doesn't have a resource type");

    const cowboy = 'apiVersion: wildwest.dev/v1alpha1\nkind: Cowboy\nmetadata:\n  name: joe\n  namespace: default\nspec:\n  intent: ride\n';
    expect(await kubectl('root:consumer', ['apply', '-f', '-'], cowboy)).to.contain('cowboy.wildwest.dev/joe created');
    await kubectl('root:consumer', ['patch', 'cowboy', 'joe', '-n', 'default', '--type=merge', '-p', '{"spec":{"horses":2}}']);
    const joe = await getJSON('root:consumer', ['get', 'cb', 'joe', '-n', 'default']);
    expect(joe['spec']).to.deep.equal({ intent: 'ride', horses: 2 });
    expect(joe['metadata'].annotations['kcp.io/cluster']).to.equal(consumer);
    const bad = await kubectlFails('root:consumer', ['create', '-f', '-'], cowboy.replace('joe', 'jim').replace('intent: ride', 'horses: many'));
    expect(bad).to.contain('Invalid value').and.to.contain('spec.horses');
    expect(await kubectl('root:consumer', ['delete', 'cowboy', 'joe', '-n', 'default'])).to.contain('cowboy.wildwest.dev "joe" deleted');

    for (const ws of ['root:bystander', 'root:provider']) {
      expect(await kubectlFails(ws, ['get', 'cowboys'])).to.contain('the server doesn\'t have a resource type "cowboys"');
    }
  });

  it('serves the apis.kcp.io kinds with kcp discovery: v1alpha2 preferred, category kcp, status subresources', async () => {
    const group = (await raw(srv, 'GET', '/clusters/root:consumer/apis/apis.kcp.io')).json;
    expect(group['preferredVersion']).to.deep.equal({ groupVersion: 'apis.kcp.io/v1alpha2', version: 'v1alpha2' });
    const v1 = (await raw(srv, 'GET', '/clusters/root:consumer/apis/apis.kcp.io/v1alpha1')).json['resources'] as Obj[];
    expect(v1.map((r) => r['name']).sort()).to.deep.equal([
      'apibindings',
      'apibindings/status',
      'apiexportendpointslices',
      'apiexportendpointslices/status',
      'apiexports',
      'apiexports/status',
      'apiresourceschemas',
    ]);
    const v2 = (await raw(srv, 'GET', '/clusters/root:consumer/apis/apis.kcp.io/v1alpha2')).json['resources'] as Obj[];
    expect(v2.map((r) => r['name']).sort()).to.deep.equal(['apibindings', 'apibindings/status', 'apiexports', 'apiexports/status']);
    expect(v2.find((r) => r['name'] === 'apiexports')!['categories']).to.deep.equal(['kcp']);
    const smp = await raw(srv, 'PATCH', '/clusters/root:provider/apis/apis.kcp.io/v1alpha2/apiexports/cowboys', '{}', { 'Content-Type': 'application/strategic-merge-patch+json' });
    expect(smp.status).to.equal(415);
  });

  it('refuses what kcp admission refuses', async () => {
    const bindings = '/clusters/root:consumer/apis/apis.kcp.io/v1alpha2/apibindings';
    const binding = (name: string, p: string | undefined, exportName: string): Obj => ({
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIBinding',
      metadata: { name },
      spec: { reference: { export: p === undefined ? { name: exportName } : { path: p, name: exportName } } },
    });
    const missing = await raw(srv, 'POST', bindings, binding('missing', 'root:provider', 'nope'));
    expect(missing.status).to.equal(403);
    expect(missing.json['message']).to.equal('apibindings.apis.kcp.io "missing" is forbidden: unable to create APIBinding: no permission to bind to export root:provider:nope');
    const stderr = await kubectlFails('root:consumer', ['create', '-f', '-'], 'apiVersion: apis.kcp.io/v1alpha2\nkind: APIBinding\nmetadata: {name: gone}\nspec: {reference: {export: {path: "root:nowhere", name: x}}}\n');
    expect(stderr).to.contain('unable to create APIBinding: no permission to bind to export root:nowhere:x');

    // A local (empty path) or root export may be bound before it exists; the binding then waits.
    expect((await raw(srv, 'POST', bindings, binding('local', undefined, 'later'))).status).to.equal(201);
    expect((await raw(srv, 'POST', bindings, binding('rooted', 'root', 'later'))).status).to.equal(201);
    const local = (await eventually(async () => {
      const b = (await raw(srv, 'GET', `${bindings}/local`)).json as Obj;
      return b['status']?.conditions?.some((c: Obj) => c['type'] === 'APIExportValid') ? b : undefined;
    }, 'APIExportValid on local binding'))!;
    expect(local['status'].phase).to.equal('Binding');
    const byType = Object.fromEntries((local['status'].conditions as Obj[]).map((c) => [c['type'], c]));
    expect(byType['APIExportValid']).to.include({ status: 'False', reason: 'APIExportNotFound', severity: 'Error' });
    expect(byType['Ready']).to.include({ status: 'False', reason: 'WaitingForEstablished' });

    const moved = (await raw(srv, 'GET', `${bindings}/local`)).json as Obj;
    moved['spec'].reference.export.name = 'other';
    const immutable = await raw(srv, 'PUT', `${bindings}/local`, moved);
    expect(immutable.status).to.equal(422);
    expect(immutable.json['message']).to.contain('APIExport reference must not be changed');

    const schemas = '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiresourceschemas';
    const schemaBody = (name: string, version = 'v1'): Obj => ({
      metadata: { name },
      spec: {
        group: 'wildwest.dev',
        names: { kind: 'Horse', listKind: 'HorseList', plural: 'horses', singular: 'horse' },
        scope: 'Cluster',
        versions: [{ name: version, served: true, storage: true, schema: { type: 'object' } }],
      },
    });
    const wrongName = await raw(srv, 'POST', schemas, schemaBody('today.horses.example.com'));
    // kcp's APIResourceSchema admission answers with admission.NewForbidden, a 403.
    expect(wrongName.status).to.equal(403);
    expect(wrongName.json['message']).to.contain('metadata.name: Invalid value: "today.horses.example.com": must end in .horses.wildwest.dev');
    const badVersion = await raw(srv, 'POST', schemas, schemaBody('today.horses.wildwest.dev', 'V1'));
    expect(badVersion.status).to.equal(422);
    // The CRD spelling `schema: {openAPIV3Schema: ...}` nests the schema one level too deep: no root type.
    const nested = schemaBody('nested.horses.wildwest.dev');
    nested['spec'].versions[0].schema = { openAPIV3Schema: { type: 'object' } };
    const nestedRes = await raw(srv, 'POST', schemas, nested);
    // kcp's structural checks run in APIResourceSchema admission too: a 403 listing the field errors.
    expect(nestedRes.status).to.equal(403);
    expect(nestedRes.json['message']).to.contain('spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root');
    const scalar = schemaBody('scalar.horses.wildwest.dev');
    scalar['spec'].versions[0].schema = { type: 'integer' };
    const scalarRes = await raw(srv, 'POST', schemas, scalar);
    expect(scalarRes.status).to.equal(403);
    expect(scalarRes.json['message']).to.contain('spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "integer": must be object at the root');
    const open = schemaBody('open.horses.wildwest.dev');
    open['spec'].versions[0].schema = { 'x-kubernetes-preserve-unknown-fields': true };
    expect((await raw(srv, 'POST', schemas, open)).status).to.equal(201);
    const created = await raw(srv, 'POST', schemas, schemaBody('today.horses.wildwest.dev'));
    expect(created.status).to.equal(201);
    const changed = { ...created.json, spec: { ...(created.json['spec'] as Obj), scope: 'Namespaced' } };
    const immutableSpec = await raw(srv, 'PUT', `${schemas}/today.horses.wildwest.dev`, changed);
    expect(immutableSpec.status).to.equal(403);
    expect(immutableSpec.json['message']).to.contain('is immutable');

    const wrongPath = await raw(srv, 'POST', '/clusters/root:provider/apis/apis.kcp.io/v1alpha2/apiexports', {
      metadata: { name: 'elsewhere', annotations: { 'kcp.io/path': 'root:someone-else' } },
    });
    expect(wrongPath.status).to.equal(403);
    expect(wrongPath.json['message']).to.contain('annotation "kcp.io/path" must match canonical path "root:provider"');
  });

  it('round-trips an APIExport written as v1alpha1 and as v1alpha2', async () => {
    const base = '/clusters/root:provider/apis/apis.kcp.io';
    const v1Spec = {
      latestResourceSchemas: [SCHEMA],
      permissionClaims: [
        { resource: 'configmaps', all: true },
        { resource: 'secrets', resourceSelector: [{ namespace: 'default' }] },
      ],
    };
    expect((await raw(srv, 'POST', `${base}/v1alpha1/apiexports`, { metadata: { name: 'old-style' }, spec: v1Spec })).status).to.equal(201);
    const asV1 = (await raw(srv, 'GET', `${base}/v1alpha1/apiexports/old-style`)).json as Obj;
    expect(asV1['spec'].latestResourceSchemas).to.deep.equal(v1Spec.latestResourceSchemas);
    expect(asV1['spec'].permissionClaims).to.deep.equal(v1Spec.permissionClaims);
    expect(asV1['metadata'].annotations).to.not.have.property('apis.v1alpha2.kcp.io/v1alpha1-permission-claims');
    const asV2 = (await raw(srv, 'GET', `${base}/v1alpha2/apiexports/old-style`)).json as Obj;
    expect(asV2['spec'].resources).to.deep.equal([{ name: 'cowboys', group: 'wildwest.dev', schema: SCHEMA, storage: { crd: {} } }]);
    expect(asV2['spec'].permissionClaims).to.deep.equal([
      { resource: 'configmaps', verbs: ['*'] },
      { resource: 'secrets', verbs: ['*'] },
    ]);
    expect(JSON.parse(asV2['metadata'].annotations['apis.v1alpha2.kcp.io/v1alpha1-permission-claims'])).to.deep.equal(v1Spec.permissionClaims);

    const v2Spec = {
      resources: [
        { name: 'cowboys', group: 'wildwest.dev', schema: SCHEMA, storage: { crd: {} } },
        { name: 'ghosts', group: 'wildwest.dev', schema: 'v1.ghosts.wildwest.dev', storage: { virtual: { reference: { kind: 'Thing', name: 'x' } } } },
      ],
      permissionClaims: [{ resource: 'configmaps', verbs: ['get', 'list'] }, { resource: 'secrets', verbs: ['*'] }],
    };
    expect((await raw(srv, 'POST', `${base}/v1alpha2/apiexports`, { metadata: { name: 'new-style' }, spec: v2Spec })).status).to.equal(201);
    await eventually(async () => ((await raw(srv, 'GET', `${base}/v1alpha2/apiexports/new-style`)).json as Obj)['status']?.identityHash, 'identity');
    const down = (await raw(srv, 'GET', `${base}/v1alpha1/apiexports/new-style`)).json as Obj;
    expect(down['spec'].latestResourceSchemas).to.deep.equal([SCHEMA]);
    expect(down['metadata'].annotations).to.have.property('apis.v1alpha2.kcp.io/resource-schemas');
    expect(JSON.parse(down['metadata'].annotations['apis.v1alpha2.kcp.io/permission-claims'])).to.deep.equal([{ resource: 'configmaps', verbs: ['get', 'list'] }]);
    // Writing the v1alpha1 form back loses nothing of the v1alpha2 object.
    expect((await raw(srv, 'PUT', `${base}/v1alpha1/apiexports/new-style`, down)).status).to.equal(200);
    const up = (await raw(srv, 'GET', `${base}/v1alpha2/apiexports/new-style`)).json as Obj;
    expect(up['spec'].resources).to.deep.equal(v2Spec.resources);
    expect(up['spec'].permissionClaims).to.deep.equal(v2Spec.permissionClaims);
    expect(up['metadata'].annotations).to.not.have.property('apis.v1alpha2.kcp.io/resource-schemas');
  });

  it('round-trips an APIBinding written as v1alpha1 and as v1alpha2', async () => {
    const base = '/clusters/root:consumer/apis/apis.kcp.io';
    const ref = { export: { path: 'root:provider', name: 'cowboys' } };
    const v1Claims = [{ resource: 'configmaps', all: true, state: 'Accepted' }];
    expect((await raw(srv, 'POST', `${base}/v1alpha1/apibindings`, { metadata: { name: 'v1-binding' }, spec: { reference: ref, permissionClaims: v1Claims } })).status).to.equal(201);
    expect(((await raw(srv, 'GET', `${base}/v1alpha1/apibindings/v1-binding`)).json as Obj)['spec']).to.deep.equal({ reference: ref, permissionClaims: v1Claims });
    const stored = ((await raw(srv, 'GET', `${base}/v1alpha2/apibindings/v1-binding`)).json as Obj)['spec'];
    expect(stored.permissionClaims).to.deep.equal([{ resource: 'configmaps', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' }]);

    const v2Claims = [{ resource: 'configmaps', verbs: ['get'], selector: { matchLabels: { app: 'x' } }, state: 'Accepted' }];
    expect((await raw(srv, 'POST', `${base}/v1alpha2/apibindings`, { metadata: { name: 'v2-binding' }, spec: { reference: ref, permissionClaims: v2Claims } })).status).to.equal(201);
    const down = (await raw(srv, 'GET', `${base}/v1alpha1/apibindings/v2-binding`)).json as Obj;
    expect(down['spec'].permissionClaims).to.deep.equal([{ resource: 'configmaps', state: 'Accepted' }]);
    expect(JSON.parse(down['metadata'].annotations['apis.v1alpha2.kcp.io/acceptable-permission-claims'])).to.deep.equal(v2Claims);
    await eventually(async () => (await raw(srv, 'PUT', `${base}/v1alpha1/apibindings/v2-binding`, (await raw(srv, 'GET', `${base}/v1alpha1/apibindings/v2-binding`)).json)).status === 200, 'v1alpha1 write-back');
    const up = (await raw(srv, 'GET', `${base}/v1alpha2/apibindings/v2-binding`)).json as Obj;
    expect(up['spec']).to.deep.equal({ reference: ref, permissionClaims: v2Claims });
  });
  describe('the bind check for users other than admins', () => {
    let tsrv: RunningServer;
    let dir: string;
    const alice = { Authorization: 'Bearer alice-token' };
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-apis-bind-'));
      fs.writeFileSync(path.join(dir, 'tokens.csv'), 'alice-token,alice,1001,"tenants"\n');
      tsrv = await start({ tokenFile: path.join(dir, 'tokens.csv') });
      tsrv.createLogicalCluster('bindprovider', { path: 'root:provider' });
      tsrv.createLogicalCluster('bindconsumer', { path: 'root:consumer' });
      await raw(tsrv, 'POST', '/clusters/root:provider/apis/apis.kcp.io/v1alpha2/apiexports', { metadata: { name: 'guarded' } });
      // Alice may manage APIBindings in the consumer workspace, nothing in the provider's.
      await raw(tsrv, 'POST', '/clusters/root:consumer/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        metadata: { name: 'binder' },
        rules: [{ apiGroups: ['apis.kcp.io'], resources: ['apibindings'], verbs: ['*'] }],
      });
      await raw(tsrv, 'POST', '/clusters/root:consumer/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        metadata: { name: 'alice-binder' },
        subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
        roleRef: { kind: 'ClusterRole', name: 'binder', apiGroup: 'rbac.authorization.k8s.io' },
      });
    });
    after(async () => {
      await tsrv.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('needs the bind verb on the export in the export workspace', async () => {
      const body = { metadata: { name: 'guarded' }, spec: { reference: { export: { path: 'root:provider', name: 'guarded' } } } };
      const bindings = '/clusters/root:consumer/apis/apis.kcp.io/v1alpha2/apibindings';
      const refused = await raw(tsrv, 'POST', bindings, body, alice);
      expect(refused.status).to.equal(403);
      expect(refused.json['message']).to.contain('unable to create APIBinding: no permission to bind to export root:provider:guarded');
      await raw(tsrv, 'POST', '/clusters/root:provider/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        metadata: { name: 'guarded-binder' },
        rules: [{ apiGroups: ['apis.kcp.io'], resources: ['apiexports'], resourceNames: ['guarded'], verbs: ['bind'] }],
      });
      await raw(tsrv, 'POST', '/clusters/root:provider/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        metadata: { name: 'alice-guarded-binder' },
        subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
        roleRef: { kind: 'ClusterRole', name: 'guarded-binder', apiGroup: 'rbac.authorization.k8s.io' },
      });
      expect((await raw(tsrv, 'POST', bindings, body, alice)).status).to.equal(201);
    });
  });
});
