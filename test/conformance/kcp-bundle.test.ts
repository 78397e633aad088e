/**
 * The provider's day one, as a kcp user does it with kubectl: one bundle with an APIExport that
 * claims configmaps and events, a WorkspaceType whose default binding points at it, and three
 * workspaces of that type. Everything turns Ready, the endpoint slice gains its URL, and the
 * APIExport virtual workspace shows exactly the bound workspaces' objects.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { inCluster, kubectlFor } from '../support/kubectl.js';
import { eventually, raw, serves, start, WatchStream } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const BUNDLE = `apiVersion: apis.kcp.io/v1alpha1
kind: APIResourceSchema
metadata:
  name: v1.gadgets.bundle.example.dev
spec:
  group: bundle.example.dev
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: apis.kcp.io/v1alpha2
kind: APIExport
metadata:
  name: gadgets
spec:
  resources:
  - {name: gadgets, group: bundle.example.dev, schema: v1.gadgets.bundle.example.dev, storage: {crd: {}}}
  permissionClaims:
  - {group: "", resource: configmaps, verbs: ["*"]}
  - {group: "", resource: events, verbs: ["*"]}
---
apiVersion: tenancy.kcp.io/v1alpha1
kind: WorkspaceType
metadata:
  name: gadgeted
spec:
  extend:
    with:
    - {name: universal, path: root}
  defaultAPIBindings:
  - {path: root, export: gadgets}
${['tenant-a', 'tenant-b', 'tenant-c']
  .map((n) => `---\napiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: ${n}\nspec:\n  type: {name: gadgeted}`)
  .join('\n')}
---
apiVersion: tenancy.kcp.io/v1alpha1
kind: Workspace
metadata:
  name: unbound
spec:
  type: {name: universal}
`;

describe('conformance: an APIExport bundle applied with kubectl (reference server)', function () {
  this.timeout(90_000);
  let srv: RunningServer;
  let cacheDir: string;
  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir }));

  before(async function () {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-bundle-'));
    if (!(await serves(srv, 'apis.kcp.io/v1alpha2', 'apiexports')) || !(await serves(srv, 'tenancy.kcp.io/v1alpha1', 'workspaces'))) {
      console.log('    (the reference server does not serve apis.kcp.io and tenancy.kcp.io: skipping)');
      this.skip();
    }
  });
  after(async () => {
    await srv?.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  const clusters: Record<string, string> = {};

  it('turns every workspace Ready with a Ready default binding', async () => {
    const out = await kubectl(['apply', '-f', '-'], BUNDLE);
    expect(out).to.contain('apiexport.apis.kcp.io/gadgets created');
    expect(out).to.contain('workspace.tenancy.kcp.io/tenant-c created');
    for (const name of ['tenant-a', 'tenant-b', 'tenant-c', 'unbound']) {
      const ws = await eventually(async () => {
        const w = await kubectlJSON<Obj>(['get', 'workspace', name]);
        return w['status']?.phase === 'Ready' ? w : undefined;
      }, `${name} Ready`, 30_000);
      clusters[name] = ws!['spec'].cluster as string;
    }
    for (const name of ['tenant-a', 'tenant-b', 'tenant-c']) {
      const bindings = await kubectlJSON<{ items: Obj[] }>([...inCluster(srv, `root:${name}`), 'get', 'apibindings.v1alpha2.apis.kcp.io']);
      expect(bindings.items).to.have.length(1);
      const conds = Object.fromEntries((bindings.items[0]!['status'].conditions as Obj[]).map((c) => [c['type'], c['status']]));
      expect(conds).to.include({ Ready: 'True', InitialBindingCompleted: 'True', PermissionClaimsApplied: 'True' });
    }
    const unbound = await kubectlJSON<{ items: Obj[] }>([...inCluster(srv, 'root:unbound'), 'get', 'apibindings.v1alpha2.apis.kcp.io']);
    expect(unbound.items).to.have.length(0);
  });

  let endpoint = '';

  it('publishes the virtual workspace URL in the endpoint slice', async () => {
    const slice = await eventually(async () => {
      const s = await kubectlJSON<Obj>(['get', 'apiexportendpointslice', 'gadgets']);
      return (s['status']?.endpoints as Obj[] | undefined)?.length ? s : undefined;
    }, 'endpoint URL');
    expect(slice!['status'].endpoints).to.deep.equal([{ url: `${srv.url}/services/apiexport/root/gadgets` }]);
    endpoint = slice!['status'].endpoints[0].url as string;
  });

  it('lists each bound workspace\'s kube-root-ca.crt through the VW, annotated with its cluster, and nothing from the unbound one', async () => {
    const list = await kubectlJSON<{ items: Obj[] }>(['--server', `${endpoint}/clusters/*`, 'get', 'configmaps', '-A']);
    const seen = list.items.map((c) => `${c['metadata'].annotations['kcp.io/cluster']}/${c['metadata'].namespace}/${c['metadata'].name}`).sort();
    const bound = ['tenant-a', 'tenant-b', 'tenant-c'].map((n) => `${clusters[n]}/default/kube-root-ca.crt`).sort();
    expect(seen).to.deep.equal(bound);
    expect(seen.some((s) => s.startsWith(`${clusters['unbound']}/`))).to.equal(false);
  });

  it('sees a ConfigMap created in one workspace on a watch through the VW', async () => {
    const vwPath = new URL(endpoint).pathname;
    const list = (await raw(srv, 'GET', `${vwPath}/clusters/*/api/v1/configmaps`)).json as Obj;
    const w = new WatchStream(srv, `${vwPath}/clusters/*/api/v1/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${list['metadata'].resourceVersion}`);
    try {
      await kubectl([...inCluster(srv, 'root:tenant-b'), 'create', 'configmap', 'hello', '--from-literal=greeting=hi']);
      await kubectl([...inCluster(srv, 'root:unbound'), 'create', 'configmap', 'hello', '--from-literal=greeting=hi']);
      const added = await eventually(() => w.of('ADDED', 'hello')[0], 'ADDED through the VW');
      expect(added!.object['metadata'].annotations['kcp.io/cluster']).to.equal(clusters['tenant-b']);
      expect(added!.object['data']).to.deep.equal({ greeting: 'hi' });
      // The unbound workspace's ConfigMap never shows up: a later event from a bound one arrives alone.
      await kubectl([...inCluster(srv, 'root:tenant-c'), 'create', 'configmap', 'marker']);
      await eventually(() => w.of('ADDED', 'marker').length === 1, 'marker event');
      expect(w.of('ADDED', 'hello')).to.have.length(1);
    } finally {
      await w.close();
    }
  });
});
