/**
 * Tenancy with the real kubectl, as a kcp user works (kcp-wire §5, items 47–49): the bootstrap of
 * root, applying a WorkspaceType with Workspaces of it, the phase sequence of §5.2, addressing a
 * workspace by path and by name, nested workspaces, and deletion of a workspace's content.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { kubectlFor } from '../support/kubectl.js';
import { eventually, raw, start, WatchStream } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** kcp's hashed initializer label. */
function initializerLabel(initializer: string): [string, string] {
  const h = createHash('sha224').update(initializer).digest('hex');
  return [`initializer.internal.kcp.io/${h.slice(0, 35)}`, h];
}

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';

describe('conformance: workspaces and workspace types with kubectl (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-tenancy-kubectl-'));
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  const { kubectl, kubectlFails, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir }));
  const getJSON = (args: string[]) => kubectlJSON<Obj>(args);

  async function readyWorkspace(name: string, parent = 'root'): Promise<Obj> {
    const ready = await eventually(async () => {
      const ws = await getJSON(['--server', `${srv.url}/clusters/${parent}`, 'get', 'workspace', name]);
      return ws['status']?.phase === 'Ready' ? ws : undefined;
    }, `workspace ${parent}:${name} Ready`, 20_000);
    return ready!;
  }

  it('bootstraps root: its LogicalCluster, the Shard, and the types root, universal, organization and team', async () => {
    const lc = await getJSON(['get', 'logicalcluster', 'cluster']);
    expect(lc['metadata'].annotations['kcp.io/path']).to.equal('root');
    expect(lc['metadata'].annotations['internal.tenancy.kcp.io/type']).to.equal('root:root');
    expect(lc['metadata'].labels['tenancy.kcp.io/phase']).to.equal('Ready');
    expect(lc['status']).to.include({ phase: 'Ready', URL: `${srv.url}/clusters/root` });

    const shards = (await getJSON(['get', 'shards'])) as { items: Obj[] };
    expect(shards.items.map((s) => s['metadata'].name)).to.deep.equal(['root']);
    expect(shards.items[0]!['metadata'].labels).to.deep.equal({ name: 'root' });
    expect(shards.items[0]!['spec']).to.deep.equal({ baseURL: srv.url, externalURL: srv.url, virtualWorkspaceURL: srv.url });

    const types = (await getJSON(['get', 'workspacetypes'])) as { items: Obj[] };
    expect(types.items.map((t) => t['metadata'].name)).to.deep.equal(['organization', 'root', 'team', 'universal']);
    const universal = types.items.find((t) => t['metadata'].name === 'universal')!;
    expect(universal['spec'].initializer).to.equal(true);
    expect(universal['metadata'].annotations['kcp.io/path']).to.equal('root');
    const org = types.items.find((t) => t['metadata'].name === 'organization')!;
    expect(org['spec'].limitAllowedParents).to.deep.equal({ types: [{ name: 'root', path: 'root' }] });
    const wt = await eventually(async () => {
      const t = await getJSON(['get', 'workspacetype', 'universal']);
      return t['status']?.virtualWorkspaces ? t : undefined;
    }, 'virtual workspace URLs');
    expect(wt!['status'].virtualWorkspaces).to.deep.equal([
      { url: `${srv.url}/services/initializingworkspaces/root:universal`, type: 'initializing' },
      { url: `${srv.url}/services/terminatingworkspaces/root:universal`, type: 'terminating' },
    ]);
    expect(wt!['status'].conditions.map((c: Obj) => [c['type'], c['status']])).to.deep.equal([
      ['Ready', 'True'],
      ['VirtualWorkspaceURLsReady', 'True'],
    ]);
    const api = JSON.parse(await kubectl(['get', '--raw', '/clusters/root/apis/tenancy.kcp.io/v1alpha1'])) as { resources: Obj[] };
    const ws = api.resources.find((r) => r['name'] === 'workspaces')!;
    expect(ws['shortNames']).to.deep.equal(['ws']);
    expect(ws['categories']).to.deep.equal(['kcp']);
    expect(api.resources.map((r) => r['name'])).to.include('workspaces/status');
  });

  it('applies a WorkspaceType and three Workspaces of it; all become Ready with cluster, URL and LogicalCluster', async () => {
    const bundle = [
      'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: tenant\nspec:\n  extend:\n    with:\n    - name: universal\n      path: root',
      ...['t1', 't2', 't3'].map((n) => `apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: ${n}\nspec:\n  type:\n    name: tenant`),
    ].join('\n---\n');
    const out = await kubectl(['apply', '-f', '-'], bundle);
    expect(out).to.contain('workspacetype.tenancy.kcp.io/tenant created').and.contain('workspace.tenancy.kcp.io/t3 created');
    const list = await eventually(async () => {
      const l = (await getJSON(['get', 'workspaces'])) as { items: Obj[] };
      const ours = l.items.filter((w) => ['t1', 't2', 't3'].includes(w['metadata'].name));
      return ours.length === 3 && ours.every((w) => w['status']?.phase === 'Ready') ? ours : undefined;
    }, 'three Ready workspaces', 20_000);
    const names = new Set<string>();
    for (const ws of list!) {
      const name = ws['metadata'].name as string;
      const cluster = ws['spec'].cluster as string;
      names.add(cluster);
      expect(cluster).to.match(/^[a-z0-9]{16}$/);
      expect(ws['spec'].type).to.deep.equal({ name: 'tenant', path: 'root' });
      expect(ws['spec'].URL).to.equal(`${srv.url}/clusters/root:${name}`);
      expect(ws['metadata'].finalizers).to.deep.equal(['core.kcp.io/logicalcluster']);
      expect(ws['metadata'].labels['tenancy.kcp.io/phase']).to.equal('Ready');
      const ann = ws['metadata'].annotations;
      expect(ann['internal.tenancy.kcp.io/cluster']).to.equal(cluster);
      expect(ann['core.kcp.io/shard']).to.equal('root');
      expect(ann['internal.tenancy.kcp.io/shard']).to.match(/^[a-z0-9]{8}$/);
      expect(JSON.parse(ann['experimental.tenancy.kcp.io/owner'])).to.include({ username: 'kcp-admin' });
      expect(ws['status'].conditions.map((c: Obj) => [c['type'], c['status']])).to.deep.equal([
        ['WorkspaceInitialized', 'True'],
        ['WorkspaceScheduled', 'True'],
      ]);

      const lc = await getJSON(['--server', `${srv.url}/clusters/root:${name}`, 'get', 'logicalcluster', 'cluster']);
      expect(lc['metadata'].annotations).to.include({
        'kcp.io/cluster': cluster,
        'kcp.io/path': `root:${name}`,
        'internal.tenancy.kcp.io/type': 'root:tenant',
        'core.kcp.io/shard': 'root',
      });
      expect(lc['metadata'].annotations['experimental.tenancy.kcp.io/owner']).to.equal('{"username":"kcp-admin"}');
      expect(lc['metadata'].labels).to.deep.equal({ 'tenancy.kcp.io/phase': 'Ready' });
      expect(lc['spec'].owner).to.deep.equal({ apiVersion: 'tenancy.kcp.io/v1alpha1', resource: 'workspaces', name, cluster: 'root', uid: ws['metadata'].uid });
      expect(lc['spec'].initializers).to.deep.equal(['root:universal']);
      expect(lc['status'].URL).to.equal(`${srv.url}/clusters/${cluster}`);
      expect(lc['status'].phase).to.equal('Ready');
      // root:universal created the default namespace; the CA publisher followed.
      const cms = await kubectl(['--server', `${srv.url}/clusters/${cluster}`, 'get', 'configmaps', '-A', '-o', 'name']);
      expect(cms.trim()).to.equal('configmap/kube-root-ca.crt');
    }
    expect(names.size).to.equal(3);

    const table = await kubectl(['get', 'ws']);
    expect(table.split('\n')[0]).to.match(/^NAME\s+TYPE\s+REGION\s+PHASE\s+URL\s+AGE$/);
    expect(table).to.match(new RegExp(`\\nt1\\s+tenant\\s+<none>\\s+Ready\\s+${srv.url.replace(/\./g, '\\.')}/clusters/root:t1\\s`));
  });

  it('answers the create with the defaulted spec.type and moves through Scheduling, Initializing, Ready as separate events', async () => {
    const list = await raw(srv, 'GET', `/clusters/root${WS}`);
    const rv = (list.json['metadata'] as Obj)['resourceVersion'] as string;
    const w = new WatchStream(srv, `/clusters/root${WS}?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name%3Dseq`);
    try {
      const created = JSON.parse(await kubectl(['create', '-f', '-', '-o', 'json'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: seq\n')) as Obj;
      expect(created['spec'].type).to.deep.equal({ name: 'organization', path: 'root' });
      expect(created['status']).to.deep.equal({ phase: 'Scheduling' });
      expect(created['metadata'].generation).to.equal(1);
      expect(created['metadata'].annotations['kcp.io/cluster']).to.equal('root');
      await readyWorkspace('seq');
      await eventually(() => w.events.some((e) => e.object['status']?.phase === 'Ready'), 'Ready event');
      const phases = w.events.map((e) => e.object['status']?.phase as string);
      expect(w.events[0]!.type).to.equal('ADDED');
      expect(phases.filter((p, i) => i === 0 || p !== phases[i - 1])).to.deep.equal(['Scheduling', 'Initializing', 'Ready']);
      const rvs = w.events.map((e) => Number(e.object['metadata'].resourceVersion));
      expect(rvs).to.deep.equal([...rvs].sort((a, b) => a - b));
      // The label appears with the first controller write, not on the create.
      expect(w.events[0]!.object['metadata'].labels).to.equal(undefined);
      expect(w.events.find((e) => e.object['spec'].cluster)!.object['status'].phase).to.equal('Scheduling');
    } finally {
      await w.close();
    }
  });

  it('addresses a workspace by path and by logical cluster name, on its own content', async () => {
    const ws = await readyWorkspace('t1');
    const cluster = ws['spec'].cluster as string;
    // Manifests, not `kubectl create configmap`: kubectl's imperative commands send protobuf.
    await kubectl(['--server', `${srv.url}/clusters/root:t1`, 'create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: by-path\n  namespace: default\ndata:\n  k: v\n');
    const byName = await getJSON(['--server', `${srv.url}/clusters/${cluster}`, 'get', 'configmap', 'by-path', '-n', 'default']);
    expect(byName['data']).to.deep.equal({ k: 'v' });
    expect(byName['metadata'].annotations['kcp.io/cluster']).to.equal(cluster);
    expect(await kubectlFails(['--server', `${srv.url}/clusters/root:t2`, 'get', 'configmap', 'by-path', '-n', 'default'])).to.contain('NotFound');
    expect((await raw(srv, 'GET', '/clusters/root:nope/api/v1/namespaces')).status).to.equal(404);
  });

  it('nests workspaces: an organization defaults its children to universal, addressable by the longer path', async () => {
    await kubectl(['create', '-f', '-'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: org\n');
    await readyWorkspace('org');
    const child = JSON.parse(
      await kubectl(['--server', `${srv.url}/clusters/root:org`, 'create', '-f', '-', '-o', 'json'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: team-a\n'),
    ) as Obj;
    expect(child['spec'].type).to.deep.equal({ name: 'universal', path: 'root' });
    const ready = await readyWorkspace('team-a', 'root:org');
    expect(ready['spec'].URL).to.equal(`${srv.url}/clusters/root:org:team-a`);
    const lc = await getJSON(['--server', `${srv.url}/clusters/root:org:team-a`, 'get', 'logicalcluster', 'cluster']);
    expect(lc['metadata'].annotations['kcp.io/path']).to.equal('root:org:team-a');
    expect(lc['spec'].owner.cluster).to.equal((await readyWorkspace('org'))['spec'].cluster);
    // A type defined in a workspace carries that workspace's path, and refuses another.
    const wt = JSON.parse(
      await kubectl(['--server', `${srv.url}/clusters/root:org`, 'create', '-f', '-', '-o', 'json'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: local\n'),
    ) as Obj;
    expect(wt['metadata'].annotations['kcp.io/path']).to.equal('root:org');
    const err = await kubectlFails(
      ['--server', `${srv.url}/clusters/root:org`, 'create', '-f', '-'],
      'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: forged\n  annotations:\n    kcp.io/path: root\n',
    );
    expect(err).to.contain('Forbidden').and.contain('annotation "kcp.io/path" must match canonical path "root:org"');
  });

  it('deletes a workspace with its logical cluster and everything in it, then releases the finalizer', async () => {
    await kubectl(['create', '-f', '-'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: doomed\n');
    const ws = await readyWorkspace('doomed');
    const cluster = ws['spec'].cluster as string;
    const base = ['--server', `${srv.url}/clusters/root:doomed`];
    await kubectl(
      [...base, 'apply', '-f', '-'],
      [
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: data\n  namespace: extra\ndata:\n  a: b',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules:\n- apiGroups: [""]\n  resources: [configmaps]\n  verbs: [get]',
      ].join('\n---\n'),
    );
    await eventually(async () => (await raw(srv, 'GET', `/clusters/${cluster}/api/v1/namespaces/extra/configmaps/kube-root-ca.crt`)).status === 200, 'CA in extra');
    const w = new WatchStream(srv, `/clusters/*/api/v1/configmaps?watch=1&resourceVersion=${srv.resourceVersion()}`);
    try {
      await kubectl(['delete', 'workspace', 'doomed', '--wait=true', '--timeout=20s']);
      await eventually(() => w.of('DELETED').filter((e) => e.object['metadata'].annotations['kcp.io/cluster'] === cluster).length === 3, 'DELETED for the three configmaps');
    } finally {
      await w.close();
    }
    expect(await kubectlFails(['get', 'workspace', 'doomed'])).to.contain('NotFound');
    expect((await raw(srv, 'GET', `/clusters/${cluster}/api/v1/namespaces`)).status).to.equal(403);
    expect((await raw(srv, 'GET', '/clusters/root:doomed/api/v1/namespaces')).status).to.equal(404);
    for (const p of ['/api/v1/namespaces', '/api/v1/configmaps', '/apis/rbac.authorization.k8s.io/v1/clusterroles', '/apis/core.kcp.io/v1alpha1/logicalclusters']) {
      const items = (await raw(srv, 'GET', `/clusters/*${p}`)).json['items'] as Obj[];
      expect(items.filter((i) => i['metadata'].annotations['kcp.io/cluster'] === cluster), p).to.deep.equal([]);
    }
  });

  it('keeps a workspace of an initializer type Initializing until its initializer is removed from the LogicalCluster', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: gated\nspec:\n  initializer: true\n---\napiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: waits\nspec:\n  type:\n    name: gated\n    path: root\n',
    );
    const ws = await eventually(async () => {
      const w = await getJSON(['get', 'workspace', 'waits']);
      return w['status']?.phase === 'Initializing' && w['status'].initializers ? w : undefined;
    }, 'Initializing with initializers');
    if (!ws) throw new Error('unreachable');
    expect(ws['status'].initializers).to.deep.equal(['root:gated']);
    expect(ws['status'].conditions.find((c: Obj) => c['type'] === 'WorkspaceInitialized')).to.include({ status: 'False', reason: 'InitializerExists' });
    const cluster = ws['spec'].cluster as string;
    const lcPath = `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`;
    const lc = (await raw(srv, 'GET', lcPath)).json as Obj;
    const [key, value] = initializerLabel('root:gated');
    expect(lc['metadata'].labels).to.deep.equal({ 'tenancy.kcp.io/phase': 'Initializing', [key]: value });
    expect(lc['spec'].initializers).to.deep.equal(['root:gated']);
    expect(lc['status'].initializers).to.deep.equal(['root:gated']);
    // Nothing else moves it.
    await new Promise((r) => setTimeout(r, 300));
    expect((await getJSON(['get', 'workspace', 'waits']))['status'].phase).to.equal('Initializing');

    const patched = await raw(srv, 'PATCH', `${lcPath}/status`, { status: { initializers: [] } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status, patched.text).to.equal(200);
    expect((patched.json['metadata'] as Obj)['labels']).to.deep.equal({ 'tenancy.kcp.io/phase': 'Initializing' });
    const done = await readyWorkspace('waits');
    expect(done['status'].initializers).to.equal(undefined);
    const after = (await raw(srv, 'GET', lcPath)).json as Obj;
    expect(after['status'].phase).to.equal('Ready');
    expect(after['metadata'].labels).to.deep.equal({ 'tenancy.kcp.io/phase': 'Ready' });
  });

  it('lists every initializer of the extend closure, root:universal first, and runs root:universal itself', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: gated-universal\nspec:\n  initializer: true\n  extend:\n    with:\n    - name: universal\n      path: root\n---\napiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: closure\nspec:\n  type:\n    name: gated-universal\n',
    );
    const ws = await eventually(async () => {
      const w = await getJSON(['get', 'workspace', 'closure']);
      // root:universal removes itself; only the type's own initializer remains.
      return w['status']?.phase === 'Initializing' && w['status'].initializers?.length === 1 ? w : undefined;
    }, 'Initializing with the type initializer left');
    if (!ws) throw new Error('unreachable');
    expect(ws['status'].initializers).to.deep.equal(['root:gated-universal']);
    const lc = (await raw(srv, 'GET', `/clusters/${ws['spec'].cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
    expect(lc['spec'].initializers).to.deep.equal(['root:universal', 'root:gated-universal']);
    expect((await raw(srv, 'GET', `/clusters/${ws['spec'].cluster}/api/v1/namespaces/default`)).status).to.equal(200);
  });
});
