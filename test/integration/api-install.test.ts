/**
 * defineAPI on the reference server: installAPIs (twice: the second reuses every schema name)
 * serves two kinds through one export with merged claims and its endpoint slice; a tenant binds
 * with apiBinding() and writes typed objects, the schema's defaults and bounds applied; a changed
 * API is installed under a new schema name the export then points at; and the server refuses a
 * non-structural schema as kcp does.
 */
import { expect } from 'chai';
import { ClusterClient, Logger, Transport, apiBinding, defineAPI, installAPIs, Type, type APIExport, type APIResourceSchema, type KubernetesObject } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { Backups, Databases, apis } from '../support/api-module.js';
import { createWorkspace, type Obj } from '../support/kcp.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const SCHEMAS = '/apis/apis.kcp.io/v1alpha1/apiresourceschemas';

describe('defineAPI and installAPIs (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  const logged: Obj[] = [];
  const log = new Logger({ level: 'info', write: (line: string) => void logged.push(JSON.parse(line) as Obj) });

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'db-provider');
    await createWorkspace(srv, 'root', 'db-tenant');
  });
  after(() => srv?.stop());

  it('installs idempotently, binds with the claims accepted, and serves typed objects with defaults and bounds', async () => {
    const kc = kubeConfigFor(srv, 'root:db-provider');
    const first = await installAPIs(kc, apis, log);
    const second = await installAPIs(kc, apis, log);
    expect(second.map((m) => m.metadata.name)).to.deep.equal(first.map((m) => m.metadata.name));
    expect(logged.filter((l) => l['msg'] === 'schema unchanged')).to.have.length(2);
    const listed = (await raw(srv, 'GET', `/clusters/root:db-provider${SCHEMAS}`)).json as { items: APIResourceSchema[] };
    expect(listed.items.map((s) => s.metadata.name).sort()).to.deep.equal(first.slice(0, 2).map((m) => m.metadata.name).sort());
    const slice = await raw(srv, 'GET', '/clusters/root:db-provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/databases.example.dev');
    expect(slice.status).to.equal(200);

    const binding = await raw(srv, 'POST', '/clusters/root:db-tenant/apis/apis.kcp.io/v1alpha2/apibindings', apiBinding(apis, 'root:db-provider'));
    expect(binding.status, binding.text).to.equal(201);
    await eventually(async () => {
      const b = (await raw(srv, 'GET', '/clusters/root:db-tenant/apis/apis.kcp.io/v1alpha2/apibindings/databases.example.dev')).json as Obj;
      return (b['status']?.conditions as Obj[] | undefined)?.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
    }, 'binding Ready', 20_000);

    const transport = Transport.fromKubeConfig(kubeConfigFor(srv, 'root:db-tenant'));
    try {
      const client = new ClusterClient(transport);
      await eventually(async () => client.list(Databases.type, { namespace: 'default' }).then(() => true, () => false), 'databases served', 20_000);
      const made = await client.create({ ...Databases.type, metadata: { name: 'orders', namespace: 'default' }, spec: { replicas: 2, storage: '10Gi' } });
      expect(made.spec).to.deep.equal({ engine: 'postgres', replicas: 2, storage: '10Gi' });
      const status = await client.patchStatus(Databases.type, { namespace: 'default', name: 'orders' }, { status: { phase: 'Ready' } });
      expect(status.status?.phase).to.equal('Ready');
      const old = await client.get(Databases.versions.v1alpha1, { namespace: 'default', name: 'orders' });
      expect(old.spec.replicas).to.equal(2);
      const tooMany = await client.create({ ...Databases.type, metadata: { name: 'big', namespace: 'default' }, spec: { replicas: 9, storage: 1 } }).then(() => undefined, (e: Error) => e.message);
      expect(tooMany).to.contain('spec.replicas');
      const backup = await client.create({ ...Backups.type, metadata: { name: 'nightly' }, spec: { database: 'orders' } });
      expect((backup as KubernetesObject).metadata?.namespace).to.equal(undefined);
    } finally {
      transport.close();
    }
  });

  it('installs a changed API under a new schema name and points the export at it; the old schema stays', async () => {
    const kc = kubeConfigFor(srv, 'root:db-provider');
    const before = await installAPIs(kc, [Backups, Databases], log);
    const changed = defineAPI({
      group: 'example.dev',
      kind: 'Backup',
      scope: 'Cluster',
      versions: { v1alpha1: { spec: Type.Object({ database: Type.String(), keep: Type.Optional(Type.Integer({ minimum: 1 })) }) } },
      exportName: 'databases.example.dev',
    });
    const after = await installAPIs(kc, [changed, Databases], log);
    expect(after[0]!.metadata.name).to.not.equal(before[0]!.metadata.name);
    const exp = (await raw(srv, 'GET', '/clusters/root:db-provider/apis/apis.kcp.io/v1alpha2/apiexports/databases.example.dev')).json as unknown as APIExport;
    expect(exp.spec.resources.find((r) => r.name === 'backups')?.schema).to.equal(after[0]!.metadata.name);
    expect(after[1]!.metadata.name, 'unchanged schema, same name').to.equal(before[1]!.metadata.name);
    expect(exp.spec.resources.find((r) => r.name === 'databases')?.schema).to.equal(before[1]!.metadata.name);
    expect((await raw(srv, 'GET', `/clusters/root:db-provider${SCHEMAS}/${before[0]!.metadata.name}`)).status).to.equal(200);
  });

  it('refuses a non-structural APIResourceSchema with a 403 naming the field, as kcp does', async () => {
    const r = await raw(srv, 'POST', `/clusters/root:db-provider${SCHEMAS}`, {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIResourceSchema',
      metadata: { name: 'v1.things.example.dev' },
      spec: {
        group: 'example.dev',
        names: { plural: 'things', singular: 'thing', kind: 'Thing', listKind: 'ThingList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { type: 'object', properties: { spec: { type: 'object', properties: { color: { anyOf: [{ const: 'red', type: 'string' }] } } } } } }],
      },
    });
    expect(r.status, r.text).to.equal(403);
    expect(r.text).to.contain('spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[color].type: Required value: must not be empty for specified object fields');
  });
});
