/**
 * Who may use a virtual workspace (kcp-wire §3.5, §4, items 61 and 65): a provider needs
 * `apiexports/content` with the request's verb in the export's workspace, an initializer needs
 * `initialize` on its WorkspaceType; admins pass. Users come from a token file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, raw, serves, start } from '../support/server.js';

const USER_TOKEN = 'provider-token-0123456789';

describe('conformance: virtual workspace authorization', () => {
  let srv: RunningServer;
  let dir: string;
  let provider: string;
  const as = (method: string, p: string, body?: unknown) => raw(srv, method, p, body, { Authorization: `Bearer ${USER_TOKEN}` });

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-vw-auth-'));
    const tokens = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokens, `${USER_TOKEN},provider-user,uid-1,"providers"\n`);
    srv = await start({ tokenFile: tokens });
    if (!(await serves(srv, 'apis.kcp.io/v1alpha2', 'apiexports'))) {
      await srv.stop();
      this.skip();
    }
    provider = srv.createLogicalCluster(undefined, { path: 'root:auth-provider' });
    const schema = await raw(srv, 'POST', `/clusters/${provider}/apis/apis.kcp.io/v1alpha1/apiresourceschemas`, {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIResourceSchema',
      metadata: { name: 'v1.widgets.example.dev' },
      spec: {
        group: 'example.dev',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        scope: 'Cluster',
        versions: [{ name: 'v1', served: true, storage: true, schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }],
      },
    });
    expect(schema.status, schema.text).to.equal(201);
    const exp = await raw(srv, 'POST', `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports`, {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: 'widgets' },
      spec: { resources: [{ name: 'widgets', group: 'example.dev', schema: 'v1.widgets.example.dev', storage: { crd: {} } }] },
    });
    expect(exp.status, exp.text).to.equal(201);
    await eventually(async () => {
      const r = await raw(srv, 'GET', `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports/widgets`);
      return !!(r.json['status'] as { identityHash?: string } | undefined)?.identityHash;
    }, 'the export identity');
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a provider without apiexports/content (403), then allows exactly the granted verbs', async () => {
    const list = () => as('GET', `/services/apiexport/${provider}/widgets/clusters/%2A/apis/example.dev/v1/widgets`);
    const denied = await list();
    expect(denied.status).to.equal(403);
    expect(denied.json['reason']).to.equal('Forbidden');
    expect(String(denied.json['message'])).to.contain('User "provider-user" cannot list resource "widgets"');
    // Discovery is a request like any other: verb get.
    expect((await as('GET', `/services/apiexport/${provider}/widgets/clusters/%2A/apis`)).status).to.equal(403);
    // The admin passes.
    expect((await raw(srv, 'GET', `/services/apiexport/${provider}/widgets/clusters/%2A/apis/example.dev/v1/widgets`)).status).to.equal(200);

    const role = await raw(srv, 'POST', `/clusters/${provider}/apis/rbac.authorization.k8s.io/v1/clusterroles`, {
      metadata: { name: 'widgets-content' },
      rules: [{ apiGroups: ['apis.kcp.io'], resources: ['apiexports/content'], resourceNames: ['widgets'], verbs: ['get', 'list'] }],
    });
    expect(role.status, role.text).to.equal(201);
    const binding = await raw(srv, 'POST', `/clusters/${provider}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, {
      metadata: { name: 'widgets-content' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'widgets-content' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'provider-user' }],
    });
    expect(binding.status, binding.text).to.equal(201);
    expect((await list()).status).to.equal(200);
    expect((await as('GET', `/services/apiexport/${provider}/widgets/clusters/%2A/apis`)).status).to.equal(200);
    // watch was not granted.
    const watch = await as('GET', `/services/apiexport/${provider}/widgets/clusters/%2A/apis/example.dev/v1/widgets?watch=1&timeoutSeconds=1`);
    expect(watch.status).to.equal(403);
    // Content rights on one export say nothing about another.
    expect((await as('GET', `/services/apiexport/${provider}/other/clusters/%2A/apis`)).status).to.equal(403);
  });

  it('refuses an initializer without initialize on its WorkspaceType (403), then lets it in', async function () {
    if (!(await serves(srv, 'tenancy.kcp.io/v1alpha1', 'workspacetypes'))) this.skip();
    const vw = '/services/initializingworkspaces/root:auth-init/clusters/%2A/apis/core.kcp.io/v1alpha1/logicalclusters';
    const denied = await as('GET', vw);
    expect(denied.status).to.equal(403);
    expect((await raw(srv, 'GET', vw)).status).to.equal(200);
    await raw(srv, 'POST', '/clusters/root/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'auth-init' },
      rules: [{ apiGroups: ['tenancy.kcp.io'], resources: ['workspacetypes'], resourceNames: ['auth-init'], verbs: ['initialize'] }],
    });
    await raw(srv, 'POST', '/clusters/root/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'auth-init' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'auth-init' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'providers' }],
    });
    expect((await as('GET', vw)).status).to.equal(200);
    // System initializers are for admins only.
    expect((await as('GET', '/services/initializingworkspaces/system:apibindings/clusters/%2A/apis/core.kcp.io/v1alpha1/logicalclusters')).status).to.equal(403);
  });
});
