/**
 * The APIExport virtual workspace (kcp-wire §3, items 57–63), driven as a provider and its
 * consumers would: kubectl applies a schema and an export in a provider workspace and bindings in
 * consumer workspaces, and the provider reads and writes through the endpoint slice's URL.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { bindingTo, cowboysExport, cowboysSchema, inCluster as clusterFlags, kubectlFor } from '../support/kubectl.js';
import { eventually, raw, serves, start, WatchStream, type TestEvent } from '../support/server.js';

const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const COWBOYS = '/apis/wildwest.dev/v1alpha1';

const PROVIDER_BUNDLE = `${cowboysSchema(`  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      type: object
      properties:
        spec: {type: object, properties: {intent: {type: string}}}
        status: {type: object, properties: {result: {type: string}}}
`)}---
${cowboysExport(
  'wildwest',
  `  - {group: '', resource: configmaps, verbs: ['*']}
  - {group: '', resource: secrets, verbs: ['*']}
  - {group: '', resource: serviceaccounts, verbs: [get, list]}
`,
)}---
${cowboysExport('plain')}`;

const BINDING = bindingTo(
  'root:vw-provider',
  'wildwest',
  `  - {group: '', resource: configmaps, verbs: ['*'], selector: {matchAll: true}, state: Accepted}
  - {group: '', resource: secrets, verbs: ['*'], selector: {matchLabels: {share: 'yes'}}, state: Accepted}
  - {group: '', resource: serviceaccounts, verbs: [get, list, watch], selector: {matchAll: true}, state: Accepted}
`,
);

/** The fields of kcp objects these tests read. */
interface KcpObject {
  status?: {
    identityHash?: string;
    phase?: string;
    conditions?: { type: string; status: string }[];
    endpoints?: { url: string }[];
  };
}

const PLAIN_BINDING = bindingTo('root:vw-provider', 'plain');

describe('conformance: APIExport virtual workspace', () => {
  let srv: RunningServer;
  let cacheDir: string;
  let provider: string;
  let c1: string;
  let c2: string;
  /** No binding at all. */
  let unbound: string;
  /** A binding, but to another export. */
  let other: string;
  /** `/services/apiexport/<provider>/wildwest` as the endpoint slice publishes it (path part). */
  let base: string;

  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir }));
  const inCluster = (cluster: string) => clusterFlags(srv, cluster);
  const getJSON = (cluster: string, what: string[]) => kubectlJSON<KcpObject>([...inCluster(cluster), 'get', ...what]);
  const vw = (x: string, rest: string) => `${base}/clusters/${x === '*' ? '%2A' : x}${rest}`;

  async function bind(cluster: string, manifest: string, name: string): Promise<void> {
    await kubectl([...inCluster(cluster), 'apply', '-f', '-'], manifest);
    await eventually(async () => {
      const b = await getJSON(cluster, ['apibinding', name]);
      const ready = (b.status?.conditions ?? []).find((c) => c.type === 'Ready');
      return b.status?.phase === 'Bound' && ready?.status === 'True';
    }, `binding ${name} in ${cluster} to be Bound and Ready`);
  }

  before(async function () {
    srv = await start({ bookmarkIntervalMs: 200 });
    if (!(await serves(srv, 'apis.kcp.io/v1alpha2', 'apiexports', 'apibindings'))) {
      // The apis.kcp.io layer is separate; these run once it serves exports and bindings.
      await srv.stop();
      this.skip();
    }
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-vw-kubectl-'));
    provider = srv.createLogicalCluster(undefined, { path: 'root:vw-provider' });
    c1 = srv.createLogicalCluster(undefined, { path: 'root:vw-c1' });
    c2 = srv.createLogicalCluster(undefined, { path: 'root:vw-c2' });
    unbound = srv.createLogicalCluster(undefined, { path: 'root:vw-unbound' });
    other = srv.createLogicalCluster(undefined, { path: 'root:vw-other' });
    await kubectl([...inCluster(provider), 'apply', '-f', '-'], PROVIDER_BUNDLE);
    await eventually(async () => !!(await getJSON(provider, ['apiexport', 'wildwest'])).status?.identityHash, 'the export identity');
    await eventually(async () => !!(await getJSON(provider, ['apiexport', 'plain'])).status?.identityHash, 'the plain export identity');
    await bind(c1, BINDING, 'wildwest');
    await bind(c2, BINDING, 'wildwest');
    await bind(other, PLAIN_BINDING, 'plain');
    const slice = await eventually(async () => {
      const s = await getJSON(provider, ['apiexportendpointslice', 'wildwest']);
      return (s.status?.endpoints ?? [])[0]?.url;
    }, 'the endpoint slice URL');
    expect(slice).to.equal(`${srv.url}/services/apiexport/${provider}/wildwest`);
    base = new URL(slice!).pathname;
  });
  after(async () => {
    await srv?.stop();
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('serves legacy discovery of the export, identical for * and a cluster name', async () => {
    const docs: Record<string, Record<string, unknown>>[] = [];
    for (const x of ['*', c1, unbound]) {
      const api = await raw(srv, 'GET', vw(x, '/api'));
      expect(api.status).to.equal(200);
      expect(api.json['versions']).to.deep.equal(['v1']);
      const v1 = await raw(srv, 'GET', vw(x, '/api/v1'));
      const apis = await raw(srv, 'GET', vw(x, '/apis'));
      const ww = await raw(srv, 'GET', vw(x, COWBOYS));
      const ab1 = await raw(srv, 'GET', vw(x, '/apis/apis.kcp.io/v1alpha1'));
      const ab2 = await raw(srv, 'GET', vw(x, '/apis/apis.kcp.io/v1alpha2'));
      docs.push({ v1: v1.json, apis: apis.json, ww: ww.json, ab1: ab1.json, ab2: ab2.json });
    }
    expect(docs[1]).to.deep.equal(docs[0]);
    expect(docs[2]).to.deep.equal(docs[0]);
    const d = docs[0]!;
    const core = (d['v1']!['resources'] as { name: string; verbs: string[] }[]).map((r) => r.name);
    expect(core).to.have.members(['configmaps', 'secrets', 'serviceaccounts']);
    const groups = (d['apis']!['groups'] as { name: string; preferredVersion: { version: string } }[]).map((g) => `${g.name}@${g.preferredVersion.version}`);
    expect(groups).to.have.members(['apis.kcp.io@v1alpha2', 'wildwest.dev@v1alpha1']);
    const cowboys = d['ww']!['resources'] as { name: string; verbs: string[]; namespaced: boolean; kind: string }[];
    expect(cowboys.map((r) => r.name)).to.deep.equal(['cowboys', 'cowboys/status']);
    expect(cowboys[0]!.verbs).to.deep.equal(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    expect(cowboys[1]!.verbs).to.deep.equal(['get', 'patch', 'update']);
    for (const k of ['ab1', 'ab2']) {
      const r = d[k]!['resources'] as { name: string; verbs: string[] }[];
      expect(r.map((x) => `${x.name}:${x.verbs.join(',')}`)).to.deep.equal(['apibindings:get,list,watch']);
    }
  });

  it('answers /api/v1 with 404 when the export claims nothing from the core group', async () => {
    const plain = `/services/apiexport/${provider}/plain/clusters/%2A`;
    expect((await raw(srv, 'GET', `${plain}/api`)).json['versions']).to.deep.equal(['v1']);
    expect((await raw(srv, 'GET', `${plain}/api/v1`)).status).to.equal(404);
    expect((await raw(srv, 'GET', `${plain}/api/v1/configmaps`)).status).to.equal(404);
  });

  it('lists exported resources across the bound clusters, then resumes a watch from the list resourceVersion', async () => {
    for (const c of [c1, c2]) {
      await kubectl([...inCluster(c), 'apply', '-f', '-'], `apiVersion: wildwest.dev/v1alpha1\nkind: Cowboy\nmetadata: {name: woody, namespace: default}\nspec: {intent: ride}\n`);
    }
    const list = await raw(srv, 'GET', vw('*', `${COWBOYS}/cowboys`));
    expect(list.status).to.equal(200);
    const items = list.json['items'] as { metadata: { name: string; annotations: Record<string, string> } }[];
    expect(items.map((i) => `${i.metadata.annotations['kcp.io/cluster']}/${i.metadata.name}`)).to.have.members([`${c1}/woody`, `${c2}/woody`]);
    const rv = (list.json['metadata'] as { resourceVersion: string }).resourceVersion;
    expect(Number(rv)).to.equal(srv.resourceVersion());

    const w = new WatchStream(srv, vw('*', `${COWBOYS}/cowboys?watch=1&resourceVersion=${rv}`));
    await kubectl([...inCluster(c2), 'apply', '-f', '-'], `apiVersion: wildwest.dev/v1alpha1\nkind: Cowboy\nmetadata: {name: buzz, namespace: default}\n`);
    const added = await eventually(() => w.of('ADDED', 'buzz')[0], 'ADDED buzz');
    expect(added!.object.metadata.annotations['kcp.io/cluster']).to.equal(c2);
    expect(w.events.filter((e) => e.object.metadata.name === 'woody')).to.deep.equal([]);
    await w.close();
  });

  it('pages a wildcard list with limit/continue in one snapshot and honours label selectors', async () => {
    const first = await raw(srv, 'GET', vw('*', `${COWBOYS}/cowboys?limit=1`));
    const meta = first.json['metadata'] as { continue: string; resourceVersion: string };
    expect(first.json['items']).to.have.length(1);
    const rest = await raw(srv, 'GET', vw('*', `${COWBOYS}/cowboys?limit=10&continue=${encodeURIComponent(meta.continue)}`));
    expect((rest.json['metadata'] as { resourceVersion: string }).resourceVersion).to.equal(meta.resourceVersion);
    expect((rest.json['items'] as unknown[]).length).to.equal(2);
    await raw(srv, 'PATCH', `/clusters/${c1}${COWBOYS}/namespaces/default/cowboys/woody`, { metadata: { labels: { hat: 'white' } } }, MERGE);
    const sel = await raw(srv, 'GET', vw('*', `${COWBOYS}/cowboys?labelSelector=hat%3Dwhite`));
    expect((sel.json['items'] as { metadata: { annotations: Record<string, string> } }[]).map((i) => i.metadata.annotations['kcp.io/cluster'])).to.deep.equal([c1]);
  });

  it('answers a compacted resourceVersion with a 410 ERROR event, and a relist works', async () => {
    const old = srv.resourceVersion();
    await raw(srv, 'POST', `/clusters/${c1}${COWBOYS}/namespaces/default/cowboys`, { metadata: { name: 'jessie' } });
    srv.compact();
    const w = new WatchStream(srv, vw('*', `${COWBOYS}/cowboys?watch=1&resourceVersion=${old}`));
    await w.done;
    expect(w.events.map((e) => e.type)).to.deep.equal(['ERROR']);
    expect(w.events[0]!.object['code']).to.equal(410);
    expect(w.events[0]!.object['reason']).to.equal('Expired');
    const relist = await raw(srv, 'GET', vw('*', `${COWBOYS}/cowboys`));
    expect(relist.status).to.equal(200);
    expect((relist.json['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name)).to.include('jessie');
  });

  it('sends bookmarks to watchers that ask for them, and only to them', async () => {
    const withB = new WatchStream(srv, vw('*', `${COWBOYS}/cowboys?watch=1&allowWatchBookmarks=true&resourceVersion=${srv.resourceVersion()}`));
    const without = new WatchStream(srv, vw('*', `${COWBOYS}/cowboys?watch=1&resourceVersion=${srv.resourceVersion()}`));
    const b = await eventually(() => withB.of('BOOKMARK')[0], 'a bookmark');
    expect(b!.object['kind']).to.equal('Cowboy');
    expect(b!.object['apiVersion']).to.equal('wildwest.dev/v1alpha1');
    expect(Number(b!.object['metadata'].resourceVersion)).to.be.at.least(1);
    expect(without.of('BOOKMARK')).to.deep.equal([]);
    await withB.close();
    await without.close();
  });

  it('serves this export\'s APIBindings read-only in both versions, filtered by the export label', async () => {
    for (const v of ['v1alpha1', 'v1alpha2']) {
      const list = await raw(srv, 'GET', vw('*', `/apis/apis.kcp.io/${v}/apibindings`));
      expect(list.status).to.equal(200);
      const items = list.json['items'] as { apiVersion: string; metadata: { annotations: Record<string, string> } }[];
      expect(items.map((i) => i.metadata.annotations['kcp.io/cluster'])).to.have.members([c1, c2]);
      expect(items.every((i) => i.apiVersion === `apis.kcp.io/${v}`)).to.equal(true);
    }
    const get = await raw(srv, 'GET', vw(c1, '/apis/apis.kcp.io/v1alpha1/apibindings/wildwest'));
    expect(get.status).to.equal(200);
    const put = await raw(srv, 'PATCH', vw(c1, '/apis/apis.kcp.io/v1alpha2/apibindings/wildwest'), { metadata: { labels: { x: 'y' } } }, MERGE);
    expect(put.status).to.equal(403);
    expect(String(put.json['message'])).to.contain('write access to APIBinding is not allowed from virtual workspace');
    expect((await raw(srv, 'DELETE', vw(c1, '/apis/apis.kcp.io/v1alpha2/apibindings/wildwest'))).status).to.equal(403);
  });

  it('allows only list and watch on *, and refuses a namespaced wildcard with 400', async () => {
    expect((await raw(srv, 'POST', vw('*', `${COWBOYS}/namespaces/default/cowboys`), { metadata: { name: 'x' } })).status).to.be.oneOf([400, 405]);
    expect((await raw(srv, 'POST', vw('*', `${COWBOYS}/cowboys`), { metadata: { name: 'x' } })).status).to.equal(405);
    expect((await raw(srv, 'DELETE', vw('*', `${COWBOYS}/cowboys`))).status).to.equal(405);
    const ns = await raw(srv, 'GET', vw('*', `${COWBOYS}/namespaces/default/cowboys`));
    expect(ns.status).to.equal(400);
    expect(String(ns.json['message'])).to.equal('cross-cluster LIST and WATCH are required to be cross-namespace, not scoped to namespace default');
  });

  it('serves CRUD and status in a bound cluster; SSA creates, a merge patch on a missing object is 404', async () => {
    const col = vw(c1, `${COWBOYS}/namespaces/default/cowboys`);
    const created = await raw(srv, 'POST', col, { apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy', metadata: { name: 'crud' }, spec: { intent: 'a' } });
    expect(created.status, created.text).to.equal(201);
    expect((created.json['metadata'] as { annotations: Record<string, string> }).annotations['kcp.io/cluster']).to.equal(c1);
    const got = await raw(srv, 'GET', `${col}/crud`);
    expect(got.status).to.equal(200);
    const upd = await raw(srv, 'PUT', `${col}/crud`, { ...got.json, spec: { intent: 'b' } });
    expect(upd.status, upd.text).to.equal(200);
    const st = await raw(srv, 'PATCH', `${col}/crud/status`, { status: { result: 'done' } }, MERGE);
    expect(st.status).to.equal(200);
    expect(st.json['status']).to.deep.equal({ result: 'done' });
    expect((await raw(srv, 'PATCH', `${col}/missing`, { spec: { intent: 'x' } }, MERGE)).status).to.equal(404);
    const ssa = await raw(
      srv,
      'PATCH',
      `${col}/applied?fieldManager=provider`,
      JSON.stringify({ apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy', metadata: { name: 'applied' }, spec: { intent: 'ssa' } }),
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    expect(ssa.status, ssa.text).to.equal(201);
    // The consumer sees it in its own workspace, without any CRD there.
    expect((await raw(srv, 'GET', `/clusters/${c1}${COWBOYS}/namespaces/default/cowboys/applied`)).status).to.equal(200);
    expect((await raw(srv, 'GET', `/clusters/${c1}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`)).status).to.be.oneOf([200, 404]);
    expect((await raw(srv, 'DELETE', `${col}/crud`)).status).to.equal(200);
    expect((await raw(srv, 'GET', `${col}/crud`)).status).to.equal(404);
  });

  it('serves claimed resources within the claim: label-selected objects only, matchLabels filled in, verbs intersected', async () => {
    const secrets = vw(c1, '/api/v1/namespaces/default/secrets');
    const made = await raw(srv, 'POST', secrets, { metadata: { name: 'shared' }, stringData: { k: 'v' } });
    expect(made.status, made.text).to.equal(201);
    expect((made.json['metadata'] as { labels: Record<string, string> }).labels['share']).to.equal('yes');
    const wrong = await raw(srv, 'POST', secrets, { metadata: { name: 'private', labels: { share: 'no' } } });
    expect(wrong.status).to.equal(403);
    expect(String(wrong.json['message'])).to.contain('protected label share must have value yes');
    // A secret the provider did not make, outside the selector, stays invisible.
    await raw(srv, 'POST', `/clusters/${c1}/api/v1/namespaces/default/secrets`, { metadata: { name: 'mine' } });
    const listed = await raw(srv, 'GET', vw('*', '/api/v1/secrets'));
    const names = (listed.json['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    expect(names).to.include('shared').and.not.include('mine');
    // serviceaccounts: the export claims get,list; the binding accepts get,list,watch.
    expect((await raw(srv, 'GET', vw(c1, '/api/v1/namespaces/default/serviceaccounts'))).status).to.equal(200);
    const watch = await raw(srv, 'GET', vw(c1, '/api/v1/namespaces/default/serviceaccounts?watch=1&timeoutSeconds=1'));
    expect(watch.status).to.equal(403);
    expect((await raw(srv, 'POST', vw(c1, '/api/v1/namespaces/default/serviceaccounts'), { metadata: { name: 'sa' } })).status).to.equal(403);
  });

  it('CVE-2025-29922: every resource request into a cluster without a binding to this export is 403', async () => {
    for (const target of [unbound, other]) {
      const requests: [string, string, unknown?][] = [
        ['GET', `${COWBOYS}/namespaces/default/cowboys`],
        ['GET', `${COWBOYS}/cowboys`],
        ['GET', `${COWBOYS}/namespaces/default/cowboys/woody`],
        ['POST', `${COWBOYS}/namespaces/default/cowboys`, { metadata: { name: 'intruder' } }],
        ['GET', '/api/v1/namespaces/default/configmaps'],
        ['GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt'],
        ['POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'intruder' } }],
        ['DELETE', '/api/v1/namespaces/default/configmaps'],
        ['GET', '/api/v1/namespaces/default/secrets?watch=1'],
        ['GET', '/apis/apis.kcp.io/v1alpha2/apibindings'],
        ['GET', '/apis/apis.kcp.io/v1alpha1/apibindings/plain'],
        ['GET', '/api/v1/namespaces'],
        ['GET', '/apis/no.such.group/v1/things'],
      ];
      for (const [method, rest, body] of requests) {
        const r = await raw(srv, method, vw(target, rest), body);
        expect(r.status, `${method} ${rest} in ${target}`).to.equal(403);
        expect(String(r.json['message'])).to.contain('could not find suitable APIBinding in target logical cluster');
      }
    }
    // Nothing was written there.
    expect((await raw(srv, 'GET', `/clusters/${unbound}/api/v1/namespaces/default/configmaps/intruder`)).status).to.equal(404);
    // A bound cluster of the same shard is reachable, so the refusal is about the binding.
    expect((await raw(srv, 'GET', vw(c1, `${COWBOYS}/namespaces/default/cowboys`))).status).to.equal(200);
  });

  it('a claim no longer accepted makes claimed objects leave the wildcard watch with a synthetic DELETED', async () => {
    await raw(srv, 'POST', `/clusters/${c2}/api/v1/namespaces/default/configmaps`, { metadata: { name: 'claimed-cm' } });
    await eventually(async () => {
      const l = await raw(srv, 'GET', vw('*', '/api/v1/configmaps'));
      return (l.json['items'] as { metadata: { name: string } }[]).some((i) => i.metadata.name === 'claimed-cm');
    }, 'the claimed ConfigMap to be visible');
    const w = new WatchStream(srv, vw('*', `/api/v1/configmaps?watch=1&resourceVersion=${srv.resourceVersion()}`));
    const b = await raw(srv, 'GET', `/clusters/${c2}/apis/apis.kcp.io/v1alpha2/apibindings/wildwest`);
    const claims = ((b.json['spec'] as { permissionClaims: Record<string, unknown>[] }).permissionClaims).map((c) =>
      c['resource'] === 'configmaps' ? { ...c, state: 'Rejected' } : c,
    );
    const p = await raw(srv, 'PATCH', `/clusters/${c2}/apis/apis.kcp.io/v1alpha2/apibindings/wildwest`, { spec: { permissionClaims: claims } }, MERGE);
    expect(p.status, p.text).to.equal(200);
    const del = await eventually(() => w.of('DELETED', 'claimed-cm')[0], 'synthetic DELETED for claimed-cm');
    expect(del!.object.metadata.annotations['kcp.io/cluster']).to.equal(c2);
    // The object still exists in its workspace: the provider just may not see it any more.
    expect((await raw(srv, 'GET', `/clusters/${c2}/api/v1/namespaces/default/configmaps/claimed-cm`)).status).to.equal(200);
    expect(w.of('DELETED').every((e: TestEvent) => e.object.metadata.annotations['kcp.io/cluster'] === c2)).to.equal(true);
    await w.close();
  });

  it('ends open watches when the export\'s API set changes', async () => {
    const plain = `/services/apiexport/${provider}/plain/clusters/%2A`;
    const w = new WatchStream(srv, `${plain}${COWBOYS}/cowboys?watch=1`);
    await eventually(() => w.status === 200, 'the watch to open');
    const p = await raw(
      srv,
      'PATCH',
      `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports/plain`,
      { spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['get'] }] } },
      MERGE,
    );
    expect(p.status, p.text).to.equal(200);
    await Promise.race([w.done, new Promise((_, reject) => setTimeout(() => reject(new Error('the watch did not end')), 5000))]);
    expect((await raw(srv, 'GET', `${plain}/api/v1`)).status).to.equal(200);
  });

  it('kubectl reads through the endpoint URL: get -A across clusters, and get --raw', async () => {
    const endpoint = `${srv.url}${base}`;
    const out = await kubectl(['--server', `${endpoint}/clusters/*`, 'get', 'cowboys', '-A', '-o', 'json']);
    const items = (JSON.parse(out) as { items: { metadata: { name: string; annotations: Record<string, string> } }[] }).items;
    expect(items.map((i) => i.metadata.annotations['kcp.io/cluster'])).to.include.members([c1, c2]);
    const table = await kubectl(['--server', `${endpoint}/clusters/*`, 'get', 'cowboys', '-A']);
    expect(table.split('\n')[0]).to.match(/^NAMESPACE\s+NAME\s+AGE/);
    expect(table).to.contain('woody');
    const rawOut = await kubectl(['get', '--raw', `${endpoint}/clusters/*/apis/wildwest.dev/v1alpha1/cowboys`]);
    expect((JSON.parse(rawOut) as { kind: string }).kind).to.equal('CowboyList');
  });

  it('deleting a binding deletes its objects (DELETED each) before the binding itself goes (DELETED last)', async () => {
    const rv = srv.resourceVersion();
    const cowboys = new WatchStream(srv, vw('*', `${COWBOYS}/cowboys?watch=1&resourceVersion=${rv}`));
    const bindings = new WatchStream(srv, vw('*', `/apis/apis.kcp.io/v1alpha1/apibindings?watch=1&resourceVersion=${rv}`));
    const before = (await raw(srv, 'GET', `/clusters/${c2}${COWBOYS}/cowboys`)).json['items'] as { metadata: { name: string } }[];
    expect(before.length).to.be.greaterThan(0);
    await kubectl([...inCluster(c2), 'delete', 'apibinding', 'wildwest', '--wait=false']);
    const gone = await eventually(() => bindings.of('DELETED').find((e) => e.object.metadata.annotations['kcp.io/cluster'] === c2), 'the binding DELETED');
    const deleted = cowboys.of('DELETED').filter((e) => e.object.metadata.annotations['kcp.io/cluster'] === c2);
    expect(deleted.map((e) => e.object.metadata.name)).to.have.members(before.map((b) => b.metadata.name));
    for (const e of deleted) expect(Number(e.object.metadata.resourceVersion)).to.be.lessThan(Number(gone!.object.metadata.resourceVersion));
    expect(cowboys.events.every((e) => e.object.metadata.annotations['kcp.io/cluster'] === c2)).to.equal(true);
    // From now on c2 is like any unbound cluster.
    expect((await raw(srv, 'GET', vw(c2, `${COWBOYS}/cowboys`))).status).to.equal(403);
    await cowboys.close();
    await bindings.close();
  });
});
