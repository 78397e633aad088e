/**
 * Workspace termination and the terminating-workspaces virtual workspace, driven with the real
 * kubectl (kcp-terminators.md §6 E1–E6, §8 T3–T18): terminators from WorkspaceTypes (and types
 * extending them) on the LogicalCluster and the Workspace from Initializing on, with their hashed
 * labels and `kcp.io/has-terminators`; phase Terminating while terminators remain; the VW's
 * wildcard discovery and list of deleting clusters, the `terminate` grant, the per-cluster
 * LogicalCluster (405 on the main resource, "remove only your own" on its status), a watch that
 * sees a deleted cluster arrive as MODIFIED and leave as DELETED, bookmarks, the content proxy in
 * both modes (the creator, or `terminatorPermissions`), and the workspace going with the last
 * terminator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import type { Obj } from '../support/kcp.js';
import { kubectlFor, type Kubectl } from '../support/kubectl.js';
import { eventually, serves, start, WatchStream } from '../support/server.js';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789';
const TYPES_WS = 'root:vwt';

/** kcp's hashed terminator label, computed here independently: 36 hex of SHA-224 in the key, all 56 as the value. */
function terminatorLabel(terminator: string): [string, string] {
  const h = createHash('sha224').update(terminator).digest('hex');
  return [`terminator.internal.kcp.io/${h.slice(0, 36)}`, h];
}

/** A running `kubectl get --watch --output-watch-events -o json`, its events parsed as they come. */
class KubectlWatch {
  readonly events: { type: string; object: Obj }[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn('kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let doc = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      // kubectl prints one JSON document per event (one line each; an indented one also parses once complete).
      while ((i = buf.indexOf('\n')) >= 0) {
        doc += buf.slice(0, i + 1);
        buf = buf.slice(i + 1);
        try {
          this.events.push(JSON.parse(doc) as { type: string; object: Obj });
          doc = '';
        } catch {
          // not complete yet
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Events of one type for one logical cluster. */
  of(type: string, cluster: string): Obj[] {
    return this.events.filter((e) => e.type === type && e.object['metadata']?.annotations?.['kcp.io/cluster'] === cluster).map((e) => e.object);
  }

  stop(): Promise<void> {
    this.child.kill();
    return this.exited;
  }
}

describe('conformance: terminating-workspaces virtual workspace and workspace termination (kubectl, reference server)', function () {
  this.timeout(120_000);
  let srv: RunningServer;
  let dir: string;
  let typeCluster: string;
  /** Terminators of the types in root:vwt: alpha, beta (extends alpha), perm (with terminatorPermissions). */
  let ALPHA: string;
  let BETA: string;
  let PERM: string;
  /** The terminating VW URL of each type, from its status.virtualWorkspaces. */
  const vwURL: Record<string, string> = {};
  /** Logical cluster names of the workspaces in root:vwt. */
  const lcOf: Record<string, string> = {};

  const { kubectl, kubectlFails, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache') }));
  /** kubectl flags for the types' workspace root:vwt. */
  const typesArgs = (): string[] => ['--server', `${srv.url}/clusters/${TYPES_WS}`];

  /**
   * A kubeconfig of its own whose server is the VW of `type` at `/clusters/<target>`, as `token`'s
   * user; written once per (type, target, user).
   */
  function vwConfig(type: string, target: string, token = srv.token): string {
    const file = path.join(dir, `vw-${type}-${target === '*' ? 'wild' : target}-${createHash('sha224').update(token).digest("hex").slice(0, 8)}.kubeconfig`);
    if (!fs.existsSync(file)) {
      const ca = srv.ca ? [`    certificate-authority-data: ${Buffer.from(srv.ca).toString('base64')}`] : [];
      fs.writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '- name: vw',
          '  cluster:',
          `    server: ${vwURL[type]}/clusters/${target}`,
          ...ca,
          'contexts:',
          '- name: vw',
          '  context: {cluster: vw, user: u}',
          'current-context: vw',
          'users:',
          '- name: u',
          `  user: {token: ${token}}`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
    }
    return file;
  }

  /**
   * kubectl on `vwConfig(type, target, token)`, and the URL path of that server: `kubectl --raw`
   * takes a path from the host on, so raw requests spell the VW prefix out.
   */
  function vw(type: string, target: string, token = srv.token): Kubectl & { base: string } {
    const file = vwConfig(type, target, token);
    const base = `${new URL(vwURL[type]!).pathname}/clusters/${target}`;
    return { ...kubectlFor(() => ({ srv: { kubeconfigPath: file }, cacheDir: path.join(dir, 'cache') })), base };
  }

  async function workspace(name: string): Promise<Obj> {
    return kubectlJSON<Obj>([...typesArgs(), 'get', 'workspace', name]);
  }

  async function phaseOf(name: string): Promise<string | undefined> {
    return ((await workspace(name))['status'] as Obj | undefined)?.['phase'] as string | undefined;
  }

  /** Creates workspace `name` of type `type` (in root:vwt), waits until Ready, returns its logical cluster. */
  async function ready(name: string, type: string): Promise<string> {
    await kubectl([...typesArgs(), 'create', '-f', '-'], `apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata: {name: ${name}}\nspec: {type: {name: ${type}, path: '${TYPES_WS}'}}\n`);
    const ws = await eventually(async () => ((await phaseOf(name)) === 'Ready' ? workspace(name) : undefined), `${name} Ready`, 30_000);
    lcOf[name] = (ws!['spec'] as Obj)['cluster'] as string;
    return lcOf[name]!;
  }

  async function deleteWorkspace(name: string): Promise<void> {
    await kubectl([...typesArgs(), 'delete', 'workspace', name, '--wait=false']);
  }

  async function gone(name: string): Promise<boolean> {
    return (await kubectlFails([...typesArgs(), 'get', 'workspace', name])).includes('NotFound');
  }

  /** A ConfigMap (or Secret) carrying a finalizer, so that content deletion leaves it for the terminator to see. */
  async function heldObject(cluster: string, kind: 'ConfigMap' | 'Secret', name: string): Promise<void> {
    await kubectl(
      ['--server', `${srv.url}/clusters/${cluster}`, 'create', '-f', '-'],
      `apiVersion: v1\nkind: ${kind}\nmetadata: {name: ${name}, namespace: default, finalizers: [example.com/hold]}\ndata: {k: ${kind === 'Secret' ? 'dg==' : 'v'}}\n`,
    );
  }

  /** Sets a logical cluster's `status.terminators` to `remaining` through the VW of `type`, as admin. */
  async function removeOwn(type: string, cluster: string, remaining: string[]): Promise<void> {
    await vw(type, cluster).kubectl(['patch', 'logicalcluster', 'cluster', '--subresource', 'status', '--type', 'merge', '-p', JSON.stringify({ status: { terminators: remaining } })]);
  }

  /** Grants alice `terminate` on the WorkspaceType `type` in root:vwt (kubectl apply: idempotent). */
  async function grantTerminate(type: string): Promise<void> {
    await kubectl(
      [...typesArgs(), 'apply', '-f', '-'],
      [
        `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: terminate-${type}}\nrules:\n- {apiGroups: [tenancy.kcp.io], resources: [workspacetypes], resourceNames: [${type}], verbs: [terminate]}`,
        `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: alice-terminates-${type}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: terminate-${type}}\nsubjects:\n- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}`,
      ].join('\n---\n'),
    );
  }

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-vw-terminating-'));
    const tokens = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokens, `${ALICE},alice,alice-uid,""\n${BOB},bob,bob-uid,""\n`);
    srv = await start({ tokenFile: tokens, bookmarkIntervalMs: 200 });
    if (!(await serves(srv, 'tenancy.kcp.io/v1alpha1', 'workspacetypes', 'workspaces'))) {
      await srv.stop();
      this.skip();
    }
    await kubectl(['create', '-f', '-'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata: {name: vwt}\n');
    const ws = await eventually(async () => {
      const w = await kubectlJSON<Obj>(['get', 'workspace', 'vwt']);
      return w['status']?.phase === 'Ready' ? w : undefined;
    }, 'root:vwt Ready', 30_000);
    typeCluster = ws!['spec'].cluster as string;
    const universal = '{name: universal, path: root}';
    await kubectl(
      [...typesArgs(), 'apply', '-f', '-'],
      [
        `apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata: {name: vt-alpha}\nspec: {terminator: true, extend: {with: [${universal}]}}`,
        `apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata: {name: vt-beta}\nspec: {terminator: true, extend: {with: [${universal}, {name: vt-alpha, path: '${TYPES_WS}'}]}}`,
        [
          'apiVersion: tenancy.kcp.io/v1alpha1',
          'kind: WorkspaceType',
          'metadata: {name: vt-perm}',
          'spec:',
          '  terminator: true',
          `  extend: {with: [${universal}]}`,
          '  terminatorPermissions:',
          '  - {apiGroups: [""], resources: [configmaps], verbs: [get, list, update, delete]}',
        ].join('\n'),
        `apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata: {name: vt-plain}\nspec: {extend: {with: [${universal}]}}`,
      ].join('\n---\n'),
    );
    // The terminator is named by the type's logical cluster NAME, not its path (pitfall 1).
    ALPHA = `${typeCluster}:vt-alpha`;
    BETA = `${typeCluster}:vt-beta`;
    PERM = `${typeCluster}:vt-perm`;
    for (const t of ['vt-alpha', 'vt-beta', 'vt-perm']) {
      const wt = await eventually(async () => {
        const o = await kubectlJSON<Obj>([...typesArgs(), 'get', 'workspacetype', t]);
        return (o['status']?.virtualWorkspaces as Obj[] | undefined)?.find((v) => v['type'] === 'terminating');
      }, `the terminating VW URL of ${t}`);
      vwURL[t] = wt!['url'] as string;
      expect(vwURL[t]).to.equal(`${srv.url}/services/terminatingworkspaces/${typeCluster}:${t}`);
    }
    // alice may terminate vt-perm from the start; vt-alpha only once E2 (or E5) grants it; bob never.
    await grantTerminate('vt-perm');
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('E1: the wildcard discovery lists logicalclusters only (get, list, watch) and an empty v1', async () => {
    const wild = vw('vt-alpha', '*');
    // kubectl's discovery cache reports the empty v1 as a partial failure (kcp's E1 has it empty too),
    // but lists what there is: logicalclusters alone.
    const listed = await wild.kubectlSettled(['api-resources', '--no-headers']);
    if (!listed.ok) expect(listed.stderr.trim()).to.equal('error: unable to retrieve the complete list of server APIs: v1: received empty response for: v1');
    const resources = listed.stdout.trim().split('\n');
    expect(resources).to.have.length(1);
    expect(resources[0]!.split(/\s+/)).to.deep.equal(['logicalclusters', 'core.kcp.io/v1alpha1', 'false', 'LogicalCluster']);
    expect((await wild.kubectlSettled(['api-resources', '-o', 'wide', '--no-headers'])).stdout.trim()).to.match(/^logicalclusters\s+core\.kcp\.io\/v1alpha1\s+false\s+LogicalCluster\s+get,list,watch\s+kcp$/);
    expect((await wild.kubectl(['api-versions'])).trim().split('\n')).to.deep.equal(['core.kcp.io/v1alpha1', 'v1']);
    expect(JSON.parse(await wild.kubectl(['get', '--raw', `${wild.base}/api`]))['versions']).to.deep.equal(['v1']);
    const groups = JSON.parse(await wild.kubectl(['get', '--raw', `${wild.base}/apis`]))['groups'] as Obj[];
    expect(groups.map((g) => g['name'])).to.deep.equal(['core.kcp.io']);
    const lcs = JSON.parse(await wild.kubectl(['get', '--raw', `${wild.base}/apis/core.kcp.io/v1alpha1`]))['resources'] as Obj[];
    expect(lcs.map((r) => r['name'])).to.deep.equal(['logicalclusters', 'logicalclusters/status']);
    expect(lcs[0]!['verbs']).to.deep.equal(['get', 'list', 'watch']);
    expect(lcs[1]!['verbs']).to.deep.equal([]);
    expect(lcs[0]!['singularName']).to.equal('logicalcluster');
    expect(lcs[0]!['kind']).to.equal('LogicalCluster');
    // Not a Workspace in sight: the wildcard serves nothing else.
    expect(await wild.kubectlFails(['get', '--raw', `${wild.base}/apis/tenancy.kcp.io/v1alpha1/workspaces`])).to.contain('NotFound');
  });

  it('terminators are set at creation (type closure order), listed from Ready on with hashed labels and kcp.io/has-terminators, and mirrored on the Workspace', async () => {
    const b = await ready('ws-beta', 'vt-beta');
    const lc = await kubectlJSON<Obj>(['--server', `${srv.url}/clusters/${b}`, 'get', 'logicalcluster', 'cluster']);
    expect(lc['spec'].terminators).to.deep.equal([ALPHA, BETA]);
    expect(lc['status'].terminators).to.deep.equal([ALPHA, BETA]);
    expect(lc['status'].phase).to.equal('Ready');
    expect(lc['metadata'].finalizers).to.include('kcp.io/has-terminators').and.include('core.kcp.io/logicalcluster-deletion');
    const labels = lc['metadata'].labels as Record<string, string>;
    for (const t of [ALPHA, BETA]) {
      const [k, v] = terminatorLabel(t);
      expect(labels[k], t).to.equal(v);
    }
    expect(Object.keys(labels).filter((k) => k.startsWith('terminator.internal.kcp.io/'))).to.have.length(2);
    expect(labels['tenancy.kcp.io/phase']).to.equal('Ready');
    const ws = await workspace('ws-beta');
    expect(ws['status'].phase).to.equal('Ready');
    expect(ws['status'].terminators).to.deep.equal([ALPHA, BETA]);
    // A type without terminator adds none, and no finalizer.
    const p = await ready('ws-plain', 'vt-plain');
    const plain = await kubectlJSON<Obj>(['--server', `${srv.url}/clusters/${p}`, 'get', 'logicalcluster', 'cluster']);
    expect(plain['spec'].terminators ?? []).to.deep.equal([]);
    expect(plain['metadata'].finalizers).to.not.include('kcp.io/has-terminators');
    expect((await workspace('ws-plain'))['status'].terminators).to.equal(undefined);
  });

  it('E2/E3: a kubectl watch opened before the deletion sees the cluster arrive (MODIFIED); only deleting clusters of the type (and types extending it) are listed; kubectl shows Terminating', async () => {
    const a = await ready('ws-alpha', 'vt-alpha');
    const live = await ready('ws-live', 'vt-alpha');
    const b = lcOf['ws-beta'] ?? (await ready('ws-beta', 'vt-beta'));
    // Before any deletion the VW lists nothing: a terminator is no sign of deletion.
    expect(await vw('vt-alpha', '*').kubectl(['get', 'logicalclusters', '-o', 'name'])).to.equal('');
    const watch = new KubectlWatch([
      ...['--kubeconfig', vwConfig('vt-alpha', '*'), '--cache-dir', path.join(dir, 'cache')],
      ...['get', 'logicalclusters', '--watch', '--output-watch-events', '-o', 'json'],
    ]);
    try {
      // ws-alpha first: once it shows (from the initial list or the watch), the watch is surely open.
      await deleteWorkspace('ws-alpha');
      await eventually(() => watch.of('ADDED', a).length + watch.of('MODIFIED', a).length > 0, `ws-alpha in the watch${watch.stderr}`, 20_000);
      await deleteWorkspace('ws-beta');
      const arrived = await eventually(() => watch.of('MODIFIED', b)[0], `ws-beta arriving as MODIFIED: ${watch.stderr}`, 20_000);
      expect(arrived!['metadata'].deletionTimestamp).to.be.a('string');
      expect(watch.of('ADDED', b)).to.deep.equal([]);

      // The Workspace is Terminating, in kubectl's table too, and shows its terminators.
      await eventually(async () => (await phaseOf('ws-beta')) === 'Terminating', 'ws-beta Terminating');
      const table = await kubectl([...typesArgs(), 'get', 'workspace', 'ws-beta']);
      expect(table.split('\n')[1]).to.match(/^ws-beta\s.*\bTerminating\b/);
      const ws = await workspace('ws-beta');
      expect(ws['metadata'].deletionTimestamp).to.be.a('string');
      expect(ws['status'].terminators).to.deep.equal([ALPHA, BETA]);
      const lc = await kubectlJSON<Obj>(['--server', `${srv.url}/clusters/${b}`, 'get', 'logicalcluster', 'cluster']);
      expect(lc['status'].phase).to.equal('Terminating');
      expect(lc['metadata'].labels['tenancy.kcp.io/phase']).to.equal('Terminating');

      // alpha's VW lists ws-alpha and ws-beta (beta extends alpha), not the live one nor the plain type.
      const names = async (type: string): Promise<string[]> =>
        (await vw(type, '*').kubectlJSON<{ items: Obj[] }>(['get', 'logicalclusters'])).items.map((i) => i['metadata'].annotations['kcp.io/cluster'] as string).sort();
      expect(await names('vt-alpha')).to.deep.equal([a, b].sort());
      expect(await names('vt-beta')).to.deep.equal([b]);
      expect(await names('vt-alpha')).to.not.include(live);
      // A live cluster is not there per cluster either.
      expect(await vw('vt-alpha', live).kubectlFails(['get', 'logicalcluster', 'cluster'])).to.contain('NotFound');

      // Once alpha removed itself from ws-beta, the cluster leaves alpha's watch (DELETED) but stays for beta.
      await removeOwn('vt-alpha', b, [BETA]);
      const left = await eventually(() => watch.of('DELETED', b)[0], `ws-beta leaving alpha's watch: ${watch.stderr}`, 20_000);
      expect(left!['metadata'].deletionTimestamp).to.be.a('string');
      expect(await names('vt-alpha')).to.deep.equal([a]);
      expect(await names('vt-beta')).to.deep.equal([b]);
      await eventually(async () => JSON.stringify((await workspace('ws-beta'))['status'].terminators) === JSON.stringify([BETA]), 'ws-beta listing beta only');
      expect(await phaseOf('ws-beta')).to.equal('Terminating');
    } finally {
      await watch.stop();
    }
    // The last terminators go; both workspaces go with them; the live one stays.
    await removeOwn('vt-beta', b, []);
    await removeOwn('vt-alpha', a, []);
    await eventually(() => gone('ws-beta'), 'ws-beta gone', 30_000);
    await eventually(() => gone('ws-alpha'), 'ws-alpha gone', 30_000);
    expect(await phaseOf('ws-live')).to.equal('Ready');
  });

  it('E2: terminate grant (403 without), 405 on the main resource, 422 for removing another or adding one, removing its own OK', async () => {
    const c = await ready('ws-grant', 'vt-beta');
    await deleteWorkspace('ws-grant');
    await eventually(async () => (await phaseOf('ws-grant')) === 'Terminating', 'ws-grant Terminating');

    // Without the grant: 403 for both users, at the wildcard and per cluster.
    const lcList = (k: { base: string }): string[] => ['get', '--raw', `${k.base}/apis/core.kcp.io/v1alpha1/logicalclusters`];
    expect(await vw('vt-alpha', '*', BOB).kubectlFails(lcList(vw('vt-alpha', '*', BOB)))).to.contain('Forbidden');
    expect(await vw('vt-alpha', '*', ALICE).kubectlFails(['get', 'logicalclusters'])).to.match(/[Ff]orbidden/);
    const perCluster = vw('vt-alpha', c, ALICE);
    expect(await perCluster.kubectlFails(['get', '--raw', `${perCluster.base}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`])).to.contain('Forbidden');
    await grantTerminate('vt-alpha');
    // kcp caches denials for up to 5 s; a poll with a deadline covers it.
    const alice = vw('vt-alpha', '*', ALICE);
    const listed = await eventually(async () => (await alice.kubectlJSON<{ items: Obj[] }>(['get', 'logicalclusters'])).items, 'alice may list once granted', 20_000);
    expect(listed!.map((i) => i['metadata'].annotations['kcp.io/cluster'])).to.include(c);
    // The grant is per type: beta's VW still refuses alice, and bob stays out.
    expect(await vw('vt-beta', '*', ALICE).kubectlFails(lcList(vw('vt-beta', '*', ALICE)))).to.contain('Forbidden');
    expect(await vw('vt-alpha', '*', BOB).kubectlFails(lcList(vw('vt-alpha', '*', BOB)))).to.contain('Forbidden');

    const one = vw('vt-alpha', c, ALICE);
    const got = await one.kubectlJSON<Obj>(['get', 'logicalcluster', 'cluster']);
    expect(got['status'].terminators).to.deep.equal([ALPHA, BETA]);
    // Per-cluster discovery is the VW's own: LogicalClusters only (no Workspaces, no ConfigMaps).
    expect((await one.kubectlSettled(['api-resources', '--no-headers'])).stdout.trim().split(/\s+/)).to.deep.equal(['logicalclusters', 'core.kcp.io/v1alpha1', 'false', 'LogicalCluster']);
    expect(await one.kubectlFails(['get', 'workspaces'])).to.contain(`the server doesn't have a resource type "workspaces"`);
    // No per-cluster list.
    expect(await one.kubectlFails(['get', 'logicalclusters'])).to.contain('MethodNotAllowed');

    expect(await one.kubectlFails(['patch', 'logicalcluster', 'cluster', '--type', 'merge', '-p', '{"metadata":{"annotations":{"x":"y"}}}'])).to.contain('MethodNotAllowed');
    expect(await one.kubectlFails(['delete', 'logicalcluster', 'cluster', '--wait=false'])).to.contain('MethodNotAllowed');
    expect(await one.kubectlFails(['replace', '--validate=false', '-f', '-'], JSON.stringify(got))).to.contain('MethodNotAllowed');
    const status = (terminators: string[]): string[] => ['patch', 'logicalcluster', 'cluster', '--subresource', 'status', '--type', 'merge', '-p', JSON.stringify({ status: { terminators } })];
    const only = `only removing the "${ALPHA}" terminator is supported`;
    for (const wrong of [[ALPHA], [ALPHA, BETA, 'root:wrong'], [BETA, 'root:wrong'], ['wrong:wrong'], []]) {
      const err = await one.kubectlFails(status(wrong));
      expect(err, JSON.stringify(wrong)).to.contain('is invalid').and.contain(only);
    }
    expect((await one.kubectl(status([ALPHA, BETA]))).trim()).to.equal('logicalcluster.core.kcp.io/cluster patched (no change)');
    expect((await one.kubectl(status([BETA]))).trim()).to.equal('logicalcluster.core.kcp.io/cluster patched');
    // No longer alpha's: NotFound through alpha's VW, still beta's.
    expect(await one.kubectlFails(['get', 'logicalcluster', 'cluster'])).to.contain('NotFound');
    expect((await vw('vt-beta', c).kubectlJSON<Obj>(['get', 'logicalcluster', 'cluster']))['status'].terminators).to.deep.equal([BETA]);
    await removeOwn('vt-beta', c, []);
    await eventually(() => gone('ws-grant'), 'ws-grant gone', 30_000);
  });

  it('E4: a wildcard watch asking for bookmarks gets them, with no workspace needed', async () => {
    const url = new URL(vwURL['vt-alpha']!);
    const w = new WatchStream(srv, `${url.pathname}/clusters/%2A/apis/core.kcp.io/v1alpha1/logicalclusters?watch=1&allowWatchBookmarks=true`);
    try {
      const bm = await eventually(() => w.of('BOOKMARK')[0], 'a BOOKMARK', 20_000);
      expect(w.status).to.equal(200);
      expect(bm!.object['kind']).to.equal('LogicalCluster');
      expect(bm!.object['metadata'].resourceVersion).to.match(/^\d+$/);
    } finally {
      await w.close();
    }
  });

  it('E5: the content proxy (as the creator) while deleting: a held ConfigMap is readable, updatable, deletable and releasable; others 403; after its removal 403', async () => {
    await grantTerminate('vt-alpha');
    const c = await ready('ws-content', 'vt-beta');
    await heldObject(c, 'ConfigMap', 'held');
    await deleteWorkspace('ws-content');
    await eventually(async () => (await phaseOf('ws-content')) === 'Terminating', 'ws-content Terminating');
    const one = vw('vt-alpha', c, ALICE);
    const cm = `${one.base}/api/v1/namespaces/default/configmaps/held`;
    // Content deletion is not held back by terminators: the ConfigMap is being deleted already.
    const seen = await eventually(async () => {
      const o = JSON.parse(await one.kubectl(['get', '--raw', cm])) as Obj;
      return o['metadata'].deletionTimestamp ? o : undefined;
    }, 'the ConfigMap marked for deletion');
    const cond = await eventually(async () => ((await workspace('ws-content'))['status'].conditions as Obj[] | undefined)?.find((x) => x['type'] === 'WorkspaceContentDeleted'), 'WorkspaceContentDeleted');
    expect(cond!['status']).to.equal('False');
    expect(cond!['reason']).to.equal('SomeResourcesRemain');
    // Discovery-driven kubectl cannot map ConfigMaps here (the VW answers discovery): raw paths work.
    expect(await one.kubectlFails(['get', 'configmaps', '-n', 'default'])).to.contain(`the server doesn't have a resource type "configmaps"`);
    const list = JSON.parse(await one.kubectl(['get', '--raw', `${one.base}/api/v1/namespaces/default/configmaps`])) as { items: Obj[] };
    expect(list.items.map((i) => i['metadata'].name)).to.include('held');

    // Another user: 403 (no terminate grant on alpha).
    expect(await vw('vt-alpha', c, BOB).kubectlFails(['get', '--raw', cm])).to.contain('Forbidden');

    const updated = JSON.parse(await one.kubectl(['replace', '--raw', cm, '-f', '-'], JSON.stringify({ ...seen, data: { k: 'terminated' } }))) as Obj;
    expect(updated['data']).to.deep.equal({ k: 'terminated' });
    expect(updated['metadata'].finalizers).to.deep.equal(['example.com/hold']);
    await one.kubectl(['delete', '--raw', cm]);
    await one.kubectl(['replace', '--raw', cm, '-f', '-'], JSON.stringify({ ...updated, metadata: { ...updated['metadata'], finalizers: [] } }));
    expect(await one.kubectlFails(['get', '--raw', cm])).to.contain('NotFound');
    await eventually(async () => ((await workspace('ws-content'))['status'].conditions as Obj[]).some((x) => x['type'] === 'WorkspaceContentDeleted' && x['status'] === 'True'), 'WorkspaceContentDeleted True');
    // Content is gone, yet the workspace waits for its terminators.
    expect(await phaseOf('ws-content')).to.equal('Terminating');

    await one.kubectl(['patch', 'logicalcluster', 'cluster', '--subresource', 'status', '--type', 'merge', '-p', JSON.stringify({ status: { terminators: [BETA] } })]);
    const refused = await one.kubectlFails(['get', '--raw', `${one.base}/api/v1/namespaces/default/configmaps`]);
    expect(refused).to.contain('Forbidden').and.contain(`terminator "${ALPHA}" cannot access this workspace`);
    await removeOwn('vt-beta', c, []);
    await eventually(() => gone('ws-content'), 'ws-content gone', 30_000);
  });

  it('E6: terminatorPermissions decide in the proxy: ConfigMaps allowed, Secrets 403 "denied by terminatorPermissions"', async () => {
    const c = await ready('ws-perm', 'vt-perm');
    await heldObject(c, 'ConfigMap', 'held');
    await heldObject(c, 'Secret', 'kept');
    await deleteWorkspace('ws-perm');
    await eventually(async () => (await phaseOf('ws-perm')) === 'Terminating', 'ws-perm Terminating');
    const one = vw('vt-perm', c, ALICE);
    const cm = `${one.base}/api/v1/namespaces/default/configmaps/held`;
    const got = JSON.parse(await one.kubectl(['get', '--raw', cm])) as Obj;
    expect(got['metadata'].name).to.equal('held');
    const denied = await one.kubectlFails(['get', '--raw', `${one.base}/api/v1/namespaces/default/secrets/kept`]);
    expect(denied).to.contain('Forbidden').and.contain('denied by terminatorPermissions: no rule allows get on secrets');
    // Create is not among the rules either.
    expect(await one.kubectlFails(['create', '--raw', `${one.base}/api/v1/namespaces/default/configmaps`, '-f', '-'], '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"new"}}')).to.contain(
      'denied by terminatorPermissions',
    );
    expect(await vw('vt-perm', c, BOB).kubectlFails(['get', '--raw', cm])).to.contain('Forbidden');
    const fresh = await eventually(async () => {
      const o = JSON.parse(await one.kubectl(['get', '--raw', cm])) as Obj;
      return o['metadata'].deletionTimestamp ? o : undefined;
    }, 'the ConfigMap marked for deletion');
    await one.kubectl(['delete', '--raw', cm]);
    await one.kubectl(['replace', '--raw', cm, '-f', '-'], JSON.stringify({ ...fresh, metadata: { ...fresh!['metadata'], finalizers: [] } }));
    expect(await one.kubectlFails(['get', '--raw', cm])).to.contain('NotFound');
    // The last terminator goes while the Secret still holds content back: Deleting, the terminator
    // label and kcp.io/has-terminators gone, the LogicalCluster still there.
    await one.kubectl(['patch', 'logicalcluster', 'cluster', '--subresource', 'status', '--type', 'merge', '-p', '{"status":{"terminators":[]}}']);
    await eventually(async () => (await phaseOf('ws-perm')) === 'Deleting', 'ws-perm Deleting');
    const ws = await workspace('ws-perm');
    expect(ws['status'].terminators).to.equal(undefined);
    expect(ws['status'].conditions.find((x: Obj) => x['type'] === 'WorkspaceContentDeleted')?.status).to.equal('False');
    const lc = await eventually(async () => {
      const o = await kubectlJSON<Obj>(['--server', `${srv.url}/clusters/${c}`, 'get', 'logicalcluster', 'cluster']);
      return (o['metadata'].finalizers as string[]).includes('kcp.io/has-terminators') ? undefined : o;
    }, 'kcp.io/has-terminators removed');
    expect(lc!['status'].phase).to.equal('Deleting');
    expect(lc!['metadata'].finalizers).to.deep.equal(['core.kcp.io/logicalcluster-deletion']);
    expect(Object.keys(lc!['metadata'].labels).filter((k) => k.startsWith('terminator.internal.kcp.io/'))).to.deep.equal([]);
    // Not this terminator's any more: the proxy refuses.
    expect(await one.kubectlFails(['get', '--raw', cm])).to.contain(`terminator "${PERM}" cannot access this workspace`);
    // The owner releases the Secret (outside the VW; Deleting still admits content access); then it all goes.
    await kubectl(['--server', `${srv.url}/clusters/${c}`, 'patch', 'secret', 'kept', '-n', 'default', '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(() => gone('ws-perm'), 'ws-perm gone', 30_000);
    expect(await kubectlFails(['--server', `${srv.url}/clusters/${c}`, 'get', 'logicalcluster', 'cluster'])).to.match(/NotFound|Forbidden|not found/);
  });
});
