/**
 * `kubectl auth can-i` and `kubectl auth whoami` against the reference server: access reviews,
 * rules reviews and SelfSubjectReview per workspace, answered by the authorizer that decides real
 * requests, so every "yes" is a 2xx and every "no" a 403. Users come from a token file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { inCluster, kubectlFor } from '../support/kubectl.js';
import { raw, start } from '../support/server.js';

const TENANT = 'tenant-token-0123456789';
const PROVIDER = 'provider-token-0123456789';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** One can-i question and the request that asks the same for real. */
interface Case {
  who: 'tenant' | 'provider';
  ws: string;
  verb: string;
  /** kubectl's resource argument (`configmaps`, `logicalclusters.core.kcp.io/cluster`). */
  resource: string;
  subresource?: string;
  namespace?: string;
  /** The request: method and path inside the workspace. */
  method: string;
  path: string;
  allowed: boolean;
}

describe('reference server: access reviews and kubectl auth', function () {
  this.timeout(120_000);
  let srv: RunningServer;
  let dir: string;
  const { kubectl } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache') }));
  const tokenOf = (who: 'tenant' | 'provider') => (who === 'tenant' ? TENANT : PROVIDER);
  /** kubectl in a workspace, as a user (the admin when no token). */
  const k = (ws: string, args: string[], token?: string) => kubectl([...inCluster(srv, ws), ...(token ? ['--token', token] : []), ...args]);
  /** What `kubectl auth can-i` prints (it exits 1 on "no"). */
  const canI = async (ws: string, args: string[], token?: string): Promise<string> => {
    try {
      return (await k(ws, ['auth', 'can-i', ...args], token)).trim();
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      if (!stdout?.trim()) throw new Error(`kubectl auth can-i ${args.join(' ')} failed: ${stderr}`);
      return stdout.trim();
    }
  };
  const post = (ws: string, p: string, body: unknown, token?: string) =>
    raw(srv, 'POST', `/clusters/${ws}${p}`, body, token ? { Authorization: `Bearer ${token}` } : {});
  const created = async (ws: string, p: string, body: unknown) => {
    const r = await post(ws, p, body);
    expect(r.status, r.text).to.equal(201);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-auth-reviews-'));
    const tokenFile = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokenFile, `${TENANT},alice,1001,"tenants"\n${PROVIDER},provider-user,uid-p,"providers"\n`);
    srv = await start({ tokenFile });
    srv.createLogicalCluster('reviews-tenant', { path: 'root:reviews-tenant' });
    srv.createLogicalCluster('reviews-provider', { path: 'root:reviews-provider' });

    // The tenant: read and create ConfigMaps in default; read its LogicalCluster's status only.
    await created('root:reviews-tenant', `${RBAC}/namespaces/default/roles`, {
      metadata: { name: 'cm-editor' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create'] }],
    });
    await created('root:reviews-tenant', `${RBAC}/namespaces/default/rolebindings`, {
      metadata: { name: 'tenants-cm' },
      subjects: [{ kind: 'Group', name: 'tenants', apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'Role', name: 'cm-editor', apiGroup: 'rbac.authorization.k8s.io' },
    });
    await created('root:reviews-tenant', `${RBAC}/clusterroles`, {
      metadata: { name: 'lc-status' },
      rules: [{ apiGroups: ['core.kcp.io'], resources: ['logicalclusters/status'], resourceNames: ['cluster'], verbs: ['get'] }],
    });
    await created('root:reviews-tenant', `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'alice-lc-status' },
      subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'ClusterRole', name: 'lc-status', apiGroup: 'rbac.authorization.k8s.io' },
    });
    // The provider: what its controller needs where the endpoint slice lives, plus /metrics.
    await created('root:reviews-provider', `${RBAC}/clusterroles`, {
      metadata: { name: 'provider' },
      rules: [
        { apiGroups: ['apis.kcp.io'], resources: ['apiexportendpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apis.kcp.io'], resources: ['apiexports'], verbs: ['get', 'list'] },
        { apiGroups: ['apis.kcp.io'], resources: ['apiexports/content'], verbs: ['*'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ],
    });
    await created('root:reviews-provider', `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'providers' },
      subjects: [{ kind: 'Group', name: 'providers', apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'ClusterRole', name: 'provider', apiGroup: 'rbac.authorization.k8s.io' },
    });
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const T = 'root:reviews-tenant';
  const P = 'root:reviews-provider';
  const cms = '/api/v1/namespaces/default/configmaps';
  const lc = '/apis/core.kcp.io/v1alpha1/logicalclusters/cluster';
  const slices = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';
  const exportsPath = '/apis/apis.kcp.io/v1alpha2/apiexports';
  const cases: Case[] = [
    { who: 'tenant', ws: T, verb: 'list', resource: 'configmaps', namespace: 'default', method: 'GET', path: cms, allowed: true },
    { who: 'tenant', ws: T, verb: 'get', resource: 'configmaps/missing', namespace: 'default', method: 'GET', path: `${cms}/missing`, allowed: true },
    { who: 'tenant', ws: T, verb: 'create', resource: 'configmaps', namespace: 'default', method: 'POST', path: cms, allowed: true },
    { who: 'tenant', ws: T, verb: 'delete', resource: 'configmaps/x', namespace: 'default', method: 'DELETE', path: `${cms}/x`, allowed: false },
    { who: 'tenant', ws: T, verb: 'list', resource: 'configmaps', namespace: 'kube-system', method: 'GET', path: '/api/v1/namespaces/kube-system/configmaps', allowed: false },
    { who: 'tenant', ws: T, verb: 'list', resource: 'secrets', namespace: 'default', method: 'GET', path: '/api/v1/namespaces/default/secrets', allowed: false },
    { who: 'tenant', ws: T, verb: 'get', resource: 'logicalclusters.core.kcp.io/cluster', subresource: 'status', method: 'GET', path: `${lc}/status`, allowed: true },
    { who: 'tenant', ws: T, verb: 'get', resource: 'logicalclusters.core.kcp.io/cluster', method: 'GET', path: lc, allowed: false },
    { who: 'tenant', ws: T, verb: 'update', resource: 'logicalclusters.core.kcp.io/cluster', subresource: 'status', method: 'PUT', path: `${lc}/status`, allowed: false },
    { who: 'tenant', ws: P, verb: 'list', resource: 'configmaps', namespace: 'default', method: 'GET', path: cms, allowed: false },
    { who: 'provider', ws: P, verb: 'list', resource: 'apiexportendpointslices', method: 'GET', path: slices, allowed: true },
    { who: 'provider', ws: P, verb: 'get', resource: 'apiexportendpointslices/missing', method: 'GET', path: `${slices}/missing`, allowed: true },
    { who: 'provider', ws: P, verb: 'create', resource: 'apiexportendpointslices', method: 'POST', path: slices, allowed: false },
    { who: 'provider', ws: P, verb: 'list', resource: 'apiexports', method: 'GET', path: exportsPath, allowed: true },
    { who: 'provider', ws: P, verb: 'delete', resource: 'apiexports/widgets', method: 'DELETE', path: `${exportsPath}/widgets`, allowed: false },
    { who: 'provider', ws: P, verb: 'list', resource: 'configmaps', namespace: 'default', method: 'GET', path: cms, allowed: false },
    { who: 'provider', ws: T, verb: 'list', resource: 'apiexportendpointslices', method: 'GET', path: slices, allowed: false },
  ];

  for (const c of cases) {
    const sub = c.subresource ? ` --subresource ${c.subresource}` : '';
    const where = c.namespace ? ` -n ${c.namespace}` : '';
    it(`${c.who} in ${c.ws}: can-i ${c.verb} ${c.resource}${sub}${where} is ${c.allowed ? 'yes' : 'no'}, and the request is ${c.allowed ? 'allowed' : '403'}`, async () => {
      const args = [c.verb, c.resource, ...(c.namespace ? ['-n', c.namespace] : ['--all-namespaces']), ...(c.subresource ? ['--subresource', c.subresource] : [])];
      expect(await canI(c.ws, args, tokenOf(c.who))).to.equal(c.allowed ? 'yes' : 'no');
      const body = c.method === 'POST' ? { metadata: { generateName: 'can-i-' } } : c.method === 'PUT' ? { metadata: { name: 'cluster' } } : undefined;
      const r = await raw(srv, c.method, `/clusters/${c.ws}${c.path}`, body, { Authorization: `Bearer ${tokenOf(c.who)}` });
      if (c.allowed) expect(r.status, r.text).to.not.equal(403);
      else expect(r.status, r.text).to.equal(403);
      // A missing object is still an allowed request: authorization comes before the lookup.
      if (c.allowed) expect([200, 201, 404], r.text).to.include(r.status);
    });
  }

  it('answers can-i for content access of an export (a subresource with the request verb)', async () => {
    expect(await canI(P, ['list', 'apiexports.apis.kcp.io', '--subresource', 'content', '-A'], PROVIDER)).to.equal('yes');
    expect(await canI(T, ['list', 'apiexports.apis.kcp.io', '--subresource', 'content', '-A'], TENANT)).to.equal('no');
  });

  it('answers non-resource URLs the way the server serves them', async () => {
    expect(await canI(T, ['get', '/healthz'], TENANT)).to.equal('yes');
    expect(await canI(T, ['get', '/apis'], TENANT)).to.equal('yes');
    expect((await raw(srv, 'GET', `/clusters/${T}/apis`, undefined, { Authorization: `Bearer ${TENANT}` })).status).to.equal(200);
    expect(await canI(T, ['post', '/apis'], TENANT)).to.equal('no');
    expect((await raw(srv, 'POST', `/clusters/${T}/apis`, {}, { Authorization: `Bearer ${TENANT}` })).status).to.equal(403);
    expect(await canI(T, ['get', '/metrics'], TENANT)).to.equal('no');
    const denied = await raw(srv, 'GET', `/clusters/${T}/metrics`, undefined, { Authorization: `Bearer ${TENANT}` });
    expect(denied.status).to.equal(403);
    expect(denied.json['message']).to.equal('forbidden: User "alice" cannot get path "/metrics"');
    // Granted by a ClusterRole's nonResourceURLs: allowed, and then simply not served here.
    expect(await canI(P, ['get', '/metrics'], PROVIDER)).to.equal('yes');
    expect((await raw(srv, 'GET', `/clusters/${P}/metrics`, undefined, { Authorization: `Bearer ${PROVIDER}` })).status).to.equal(404);
  });

  it('lists the rules of a namespace with can-i --list, from the same grants', async () => {
    const inDefault = await canI(T, ['--list', '-n', 'default'], TENANT);
    expect(inDefault).to.match(/^configmaps\s+\[\]\s+\[\]\s+\[get list create\]$/m);
    expect(inDefault).to.match(/^logicalclusters\.core\.kcp\.io\/status\s+\[\]\s+\[cluster\]\s+\[get\]$/m);
    expect(inDefault).to.match(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(inDefault).to.match(/^\s+\[\/healthz\]\s+\[\]\s+\[get\]$/m);
    expect(inDefault).to.not.contain('*.*');
    const elsewhere = await canI(T, ['--list', '-n', 'kube-system'], TENANT);
    expect(elsewhere).to.not.match(/^configmaps\s/m);
    expect(elsewhere).to.match(/^logicalclusters\.core\.kcp\.io\/status\s/m);
    const provider = await canI(P, ['--list'], PROVIDER);
    expect(provider).to.match(/^apiexportendpointslices\.apis\.kcp\.io\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(provider).to.match(/^\s+\[\/metrics\]\s+\[\]\s+\[get\]$/m);
    expect(await canI(P, ['--list'])).to.match(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);

    const r = await post(T, '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', spec: { namespace: 'default' } }, TENANT);
    expect(r.status, r.text).to.equal(201);
    const status = r.json['status'] as { incomplete: boolean; resourceRules: unknown[]; nonResourceRules: unknown[] };
    expect(status.incomplete).to.equal(false);
    expect(status.resourceRules).to.deep.include({ verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['configmaps'] });
    expect(status.nonResourceRules).to.deep.include({ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'] });
    const noNamespace = await post(T, '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: {} }, TENANT);
    expect(noNamespace.status).to.equal(400);
  });

  it('shows who the caller is with kubectl auth whoami', async () => {
    const table = await k(T, ['auth', 'whoami'], TENANT);
    expect(table).to.match(/^Username\s+alice$/m);
    expect(table).to.match(/^UID\s+1001$/m);
    expect(table).to.match(/^Groups\s+\[tenants system:authenticated\]$/m);
    const json = JSON.parse(await k(P, ['auth', 'whoami', '-o', 'json'], PROVIDER)) as { kind: string; status: { userInfo: Record<string, unknown> } };
    expect(json.kind).to.equal('SelfSubjectReview');
    expect(json.status.userInfo).to.deep.equal({ username: 'provider-user', uid: 'uid-p', groups: ['providers', 'system:authenticated'] });
  });

  it('answers for the impersonated user with --as, and lets only who may impersonate do it', async () => {
    expect(await canI(T, ['list', 'configmaps', '-n', 'default', '--as', 'alice', '--as-group', 'tenants'])).to.equal('yes');
    expect(await canI(T, ['list', 'configmaps', '-n', 'default', '--as', 'bob'])).to.equal('no');
    // Enforcement agrees: the admin impersonating bob is refused the list.
    const asBob = await raw(srv, 'GET', `/clusters/${T}${cms}`, undefined, { 'Impersonate-User': 'bob' });
    expect(asBob.status).to.equal(403);
    expect(asBob.json['message']).to.contain('User "bob" cannot list resource "configmaps"');
    // Header names are case-insensitive; impersonating extras alone is refused, as kube does.
    expect((await raw(srv, 'GET', `/clusters/${T}${cms}`, undefined, { 'IMPERSONATE-USER': 'bob' })).status).to.equal(403);
    expect((await raw(srv, 'GET', `/clusters/${T}${cms}`, undefined, { 'impersonate-extra-scopes': 'x' })).status).to.equal(400);
    const who = JSON.parse(await k(T, ['auth', 'whoami', '-o', 'json', '--as', 'bob', '--as-group', 'devs', '--as-uid', 'u-7'])) as { status: { userInfo: unknown } };
    expect(who.status.userInfo).to.deep.equal({ username: 'bob', uid: 'u-7', groups: ['devs', 'system:authenticated'] });

    // A tenant may not impersonate until RBAC grants it, and then only whom it names.
    const refused = await raw(srv, 'GET', `/clusters/${T}${cms}`, undefined, { Authorization: `Bearer ${TENANT}`, 'Impersonate-User': 'bob' });
    expect(refused.status).to.equal(403);
    expect(refused.json['message']).to.contain('User "alice" cannot impersonate resource "users"');
    await created(T, `${RBAC}/clusterroles`, { metadata: { name: 'impersonate-bob' }, rules: [{ apiGroups: [''], resources: ['users'], resourceNames: ['bob'], verbs: ['impersonate'] }] });
    await created(T, `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'alice-impersonates-bob' },
      subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'ClusterRole', name: 'impersonate-bob', apiGroup: 'rbac.authorization.k8s.io' },
    });
    expect(await canI(T, ['impersonate', 'users/bob', '-A'], TENANT)).to.equal('yes');
    expect(await canI(T, ['impersonate', 'users/carol', '-A'], TENANT)).to.equal('no');
    expect(await k(T, ['auth', 'whoami', '--as', 'bob'], TENANT)).to.match(/^Username\s+bob$/m);
    expect((await raw(srv, 'GET', `/clusters/${T}/apis`, undefined, { Authorization: `Bearer ${TENANT}`, 'Impersonate-User': 'carol' })).status).to.equal(403);
    // Groups need their own grant, and privileged groups are the admin's to hand out.
    const group = await raw(srv, 'GET', `/clusters/${T}/apis`, undefined, { Authorization: `Bearer ${TENANT}`, 'Impersonate-User': 'bob', 'Impersonate-Group': 'system:masters' });
    expect(group.status).to.equal(403);
    // Impersonation is decided per workspace: the grant in the tenant's says nothing in the provider's.
    expect((await raw(srv, 'GET', `/clusters/${P}/apis`, undefined, { Authorization: `Bearer ${TENANT}`, 'Impersonate-User': 'bob' })).status).to.equal(403);
  });

  it('serves SubjectAccessReview to admins only, and LocalSubjectAccessReview in a namespace', async () => {
    const sar = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: 'alice', groups: ['tenants'], resourceAttributes: { verb: 'list', resource: 'configmaps', namespace: 'default' } },
    };
    const byAdmin = await post(T, '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar);
    expect(byAdmin.status, byAdmin.text).to.equal(201);
    expect(byAdmin.json['status']).to.deep.equal({ allowed: true, reason: 'RBAC: allowed by RoleBinding "tenants-cm/default" of Role "cm-editor" to Group "tenants"' });
    // Without the group the RoleBinding names, alice may not (no groups are implied).
    const noGroup = await post(T, '/apis/authorization.k8s.io/v1/subjectaccessreviews', { ...sar, spec: { ...sar.spec, groups: [] } });
    expect(noGroup.json['status']).to.deep.equal({ allowed: false });
    const byTenant = await post(T, '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar, TENANT);
    expect(byTenant.status).to.equal(403);
    expect(byTenant.json['message']).to.contain('User "alice" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io"');
    const invalidSar = await post(T, '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { resourceAttributes: { verb: 'get' } } });
    expect(invalidSar.status).to.equal(422);
    // kubectl create sends it as a plain JSON object. With no PATCH to probe for server-side field
    // validation, kubectl looks the kind up in /openapi/v2, finds no schema there and sends it on.
    const viaKubectl = JSON.parse(await kubectl([...inCluster(srv, T), 'create', '-f', '-', '-o', 'json'], JSON.stringify({ ...sar, spec: { ...sar.spec, resourceAttributes: { verb: 'delete', resource: 'configmaps', namespace: 'default' } } }))) as { status: unknown };
    expect(viaKubectl.status).to.deep.equal({ allowed: false });

    const lsar = '/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews';
    const local = await post(T, lsar, { spec: { user: 'alice', groups: ['tenants'], resourceAttributes: { verb: 'get', resource: 'configmaps' } } });
    expect(local.status, local.text).to.equal(201);
    expect((local.json['status'] as { allowed: boolean }).allowed).to.equal(true);
    expect((local.json['metadata'] as { namespace?: string }).namespace).to.equal('default');
    expect((await post(T, lsar, { spec: { user: 'alice', resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: 'other' } } })).status).to.equal(400);
    expect((await post(T, lsar, { spec: { user: 'alice', nonResourceAttributes: { verb: 'get', path: '/healthz' } } })).status).to.equal(422);
  });

  it('lists the reviews in discovery as create-only, and refuses every other verb', async () => {
    const authz = (await raw(srv, 'GET', `/clusters/${T}/apis/authorization.k8s.io/v1`, undefined, { Authorization: `Bearer ${TENANT}` })).json as {
      resources: { name: string; verbs: string[]; namespaced: boolean }[];
    };
    expect(authz.resources.map((r) => [r.name, r.namespaced, r.verbs])).to.have.deep.members([
      ['selfsubjectaccessreviews', false, ['create']],
      ['selfsubjectrulesreviews', false, ['create']],
      ['subjectaccessreviews', false, ['create']],
      ['localsubjectaccessreviews', true, ['create']],
    ]);
    const authn = (await raw(srv, 'GET', `/clusters/${T}/apis/authentication.k8s.io/v1`)).json as { resources: { name: string; verbs: string[] }[] };
    expect(authn.resources).to.deep.equal([{ name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] }]);
    expect((await raw(srv, 'GET', `/clusters/${T}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`)).status).to.equal(405);
    expect((await raw(srv, 'GET', `/clusters/${T}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x`)).status).to.equal(405);
    // Nothing is stored: the wildcard view has no reviews at all.
    expect((await raw(srv, 'GET', '/clusters/*/apis/authorization.k8s.io/v1')).status).to.equal(404);
  });
});
