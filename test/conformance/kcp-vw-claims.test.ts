/**
 * Claims beyond the built-ins (kcp-wire §2.5, §3.2): an export claiming another export's resource
 * by identity, and a claim on events serving both event groups.
 */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, raw, serves, start } from '../support/server.js';

const COWBOYS = '/apis/wildwest.dev/v1alpha1';

describe('conformance: APIExport virtual workspace claims by identity and on events', () => {
  let srv: RunningServer;
  let producer: string;
  let claimer: string;
  let consumer: string;
  let vw: string;

  async function post(cluster: string, p: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await raw(srv, 'POST', `/clusters/${cluster}${p}`, body);
    expect(r.status, r.text).to.equal(201);
    return r.json;
  }
  async function identity(cluster: string, name: string): Promise<string> {
    return (await eventually(async () => {
      const r = await raw(srv, 'GET', `/clusters/${cluster}/apis/apis.kcp.io/v1alpha2/apiexports/${name}`);
      return (r.json['status'] as { identityHash?: string } | undefined)?.identityHash;
    }, `identity of ${name}`))!;
  }
  async function bound(cluster: string, name: string): Promise<void> {
    await eventually(async () => {
      const r = await raw(srv, 'GET', `/clusters/${cluster}/apis/apis.kcp.io/v1alpha2/apibindings/${name}`);
      return (r.json['status'] as { phase?: string } | undefined)?.phase === 'Bound';
    }, `binding ${name}`);
  }

  before(async function () {
    srv = await start();
    if (!(await serves(srv, 'apis.kcp.io/v1alpha2', 'apiexports'))) {
      await srv.stop();
      this.skip();
    }
    producer = srv.createLogicalCluster(undefined, { path: 'root:claims-producer' });
    claimer = srv.createLogicalCluster(undefined, { path: 'root:claims-claimer' });
    consumer = srv.createLogicalCluster(undefined, { path: 'root:claims-consumer' });
    await post(producer, '/apis/apis.kcp.io/v1alpha1/apiresourceschemas', {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIResourceSchema',
      metadata: { name: 'v1.cowboys.wildwest.dev' },
      spec: {
        group: 'wildwest.dev',
        names: { plural: 'cowboys', singular: 'cowboy', kind: 'Cowboy', listKind: 'CowboyList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }],
      },
    });
    await post(producer, '/apis/apis.kcp.io/v1alpha2/apiexports', {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: 'wildwest' },
      spec: { resources: [{ name: 'cowboys', group: 'wildwest.dev', schema: 'v1.cowboys.wildwest.dev', storage: { crd: {} } }] },
    });
    const id = await identity(producer, 'wildwest');
    const claims = [
      { group: 'wildwest.dev', resource: 'cowboys', identityHash: id, verbs: ['get', 'list', 'watch'] },
      { group: '', resource: 'events', verbs: ['*'] },
    ];
    await post(claimer, '/apis/apis.kcp.io/v1alpha2/apiexports', {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: 'sheriff' },
      spec: { permissionClaims: claims },
    });
    await identity(claimer, 'sheriff');
    await post(consumer, '/apis/apis.kcp.io/v1alpha2/apibindings', {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIBinding',
      metadata: { name: 'wildwest' },
      spec: { reference: { export: { path: 'root:claims-producer', name: 'wildwest' } } },
    });
    await bound(consumer, 'wildwest');
    await post(consumer, `${COWBOYS}/namespaces/default/cowboys`, { apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy', metadata: { name: 'lucky' } });
    await post(consumer, '/apis/apis.kcp.io/v1alpha2/apibindings', {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIBinding',
      metadata: { name: 'sheriff' },
      spec: {
        reference: { export: { path: 'root:claims-claimer', name: 'sheriff' } },
        permissionClaims: claims.map((c) => ({ ...c, selector: { matchAll: true }, state: 'Accepted' })),
      },
    });
    await bound(consumer, 'sheriff');
    vw = `/services/apiexport/${claimer}/sheriff/clusters`;
  });
  after(() => srv?.stop());

  it('serves a resource claimed by identity: listed where the claim is accepted, within the claimed verbs', async () => {
    const disc = await raw(srv, 'GET', `${vw}/%2A${COWBOYS}`);
    expect(disc.status).to.equal(200);
    expect((disc.json['resources'] as { name: string }[]).map((r) => r.name)).to.deep.equal(['cowboys']);
    const list = await eventually(async () => {
      const r = await raw(srv, 'GET', `${vw}/%2A${COWBOYS}/cowboys`);
      const items = (r.json['items'] as { metadata: { name: string } }[] | undefined) ?? [];
      return items.some((i) => i.metadata.name === 'lucky') ? items : undefined;
    }, 'the claimed cowboy to be listed');
    expect(list!.length).to.equal(1);
    expect((await raw(srv, 'GET', `${vw}/${consumer}${COWBOYS}/namespaces/default/cowboys/lucky`)).status).to.equal(200);
    const create = await raw(srv, 'POST', `${vw}/${consumer}${COWBOYS}/namespaces/default/cowboys`, { metadata: { name: 'nope' } });
    expect(create.status).to.equal(403);
  });

  it('a claim on events serves core/v1 and events.k8s.io/v1 events', async () => {
    const core = await raw(srv, 'GET', `${vw}/%2A/api/v1`);
    expect((core.json['resources'] as { name: string }[]).map((r) => r.name)).to.deep.equal(['events']);
    const ev = await raw(srv, 'GET', `${vw}/%2A/apis/events.k8s.io/v1`);
    expect((ev.json['resources'] as { name: string }[]).map((r) => r.name)).to.deep.equal(['events']);
    const made = await raw(srv, 'POST', `${vw}/${consumer}/api/v1/namespaces/default/events`, {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Cowboy', name: 'lucky', namespace: 'default' },
      reason: 'Test',
      message: 'through the VW',
    });
    expect(made.status, made.text).to.equal(201);
    expect((await raw(srv, 'GET', `${vw}/${consumer}/apis/events.k8s.io/v1/namespaces/default/events`)).status).to.equal(200);
  });
});
