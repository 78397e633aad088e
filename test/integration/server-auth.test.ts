/** Bearer-token authentication and per-workspace RBAC of the reference server. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseCSVLine, parseTokenFile } from '../../src/server/auth/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { raw, start } from '../support/server.js';

describe('reference server: authentication and RBAC', () => {
  let srv: RunningServer;
  let dir: string;
  const lines: string[] = [];
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-auth-'));
    const tokenFile = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokenFile, ['# tenants', 'alice-token,alice,1001,"tenants,team-a"', 'bob-token,bob,1002', ''].join('\n'));
    srv = await start({ tokenFile, log: (l) => lines.push(JSON.stringify(l)) });
    srv.createLogicalCluster('team-a', { path: 'root:team-a' });
    srv.createLogicalCluster('team-b', { path: 'root:team-b' });
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses kube-apiserver token files', () => {
    expect(parseCSVLine('t,u,1,"a,b"')).to.deep.equal(['t', 'u', '1', 'a,b']);
    const users = parseTokenFile('t1,u1,1\n# c\n\nt2,u2,2,"g1,g2"\n');
    expect(users.get('t2')).to.deep.equal({ name: 'u2', uid: '2', groups: ['g1', 'g2', 'system:authenticated'] });
    expect(() => parseTokenFile('justatoken')).to.throw(/line 1/);
  });

  it('answers 401 without a token or with a bad one', async () => {
    for (const headers of [{ Authorization: '' }, as('nope'), { Authorization: 'Basic YTpi' }]) {
      const r = await raw(srv, 'GET', '/clusters/root/api/v1/namespaces', undefined, headers);
      expect(r.status).to.equal(401);
      expect(r.json).to.include({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    }
  });

  it('denies a tenant without RBAC, and allows exactly what a Role grants in that workspace', async () => {
    const cm = '/clusters/root:team-a/api/v1/namespaces/default/configmaps';
    const denied = await raw(srv, 'GET', cm, undefined, as('alice-token'));
    expect(denied.status).to.equal(403);
    expect(denied.json['message']).to.contain('User "alice" cannot list resource "configmaps"');

    await raw(srv, 'POST', '/clusters/root:team-a/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', {
      metadata: { name: 'cm-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    });
    await raw(srv, 'POST', '/clusters/root:team-a/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      metadata: { name: 'team-a-readers' },
      subjects: [{ kind: 'Group', name: 'team-a', apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'Role', name: 'cm-reader', apiGroup: 'rbac.authorization.k8s.io' },
    });
    expect((await raw(srv, 'GET', cm, undefined, as('alice-token'))).status).to.equal(200);
    expect((await raw(srv, 'POST', cm, { metadata: { name: 'x' } }, as('alice-token'))).status).to.equal(403);
    expect((await raw(srv, 'GET', '/clusters/root:team-a/api/v1/namespaces/kube-system/configmaps', undefined, as('alice-token'))).status).to.equal(403);
    // Another tenant, and the same tenant in another workspace, get nothing.
    expect((await raw(srv, 'GET', cm, undefined, as('bob-token'))).status).to.equal(403);
    expect((await raw(srv, 'GET', '/clusters/root:team-b/api/v1/namespaces/default/configmaps', undefined, as('alice-token'))).status).to.equal(403);
  });

  it('honours resourceNames and subresources in ClusterRoles', async () => {
    await raw(srv, 'POST', '/clusters/root:team-b/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'one-lc-status' },
      rules: [{ apiGroups: ['core.kcp.io'], resources: ['logicalclusters/status'], resourceNames: ['cluster'], verbs: ['get'] }],
    });
    await raw(srv, 'POST', '/clusters/root:team-b/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'bob-lc' },
      subjects: [{ kind: 'User', name: 'bob' }],
      roleRef: { kind: 'ClusterRole', name: 'one-lc-status', apiGroup: 'rbac.authorization.k8s.io' },
    });
    const base = '/clusters/root:team-b/apis/core.kcp.io/v1alpha1/logicalclusters/cluster';
    expect((await raw(srv, 'GET', base + '/status', undefined, as('bob-token'))).status).to.equal(200);
    expect((await raw(srv, 'GET', base, undefined, as('bob-token'))).status).to.equal(403);
    expect((await raw(srv, 'PUT', base + '/status', {}, as('bob-token'))).status).to.equal(403);
  });

  it('reserves /clusters/* for system:masters', async () => {
    expect((await raw(srv, 'GET', '/clusters/*/api/v1/configmaps', undefined, as('alice-token'))).status).to.equal(403);
    expect((await raw(srv, 'GET', '/clusters/*/api/v1/configmaps')).status).to.equal(200);
  });

  it('never logs a token', () => {
    const all = lines.join('\n');
    expect(lines.length).to.be.greaterThan(5);
    for (const t of [srv.token, 'alice-token', 'bob-token']) expect(all).to.not.contain(t);
  });
});
