/**
 * examples/apiexport as its README runs it: `kcp-mc server`, `kubectl apply` of the bundle in
 * root, the example on the admin kubeconfig; each workspace's kube-root-ca.crt reconciled, a
 * ConfigMap created with kubectl reconciled with a Normal Event in its own workspace, a workspace
 * created later engaged, SIGINT → exit 0.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { kcpMcServer, runExample, type Proc } from '../support/example-process.js';
import type { Obj } from '../support/kcp.js';
import { inCluster, kubectlFor } from '../support/kubectl.js';
import { eventually } from '../support/server.js';

const MANIFESTS = path.resolve('examples/apiexport/manifests');

describe('examples/apiexport (e2e: kcp-mc server, kubectl, the example process)', function () {
  this.timeout(90_000);
  let dir: string;
  let server: Awaited<ReturnType<typeof kcpMcServer>>;
  let ex: Proc | undefined;
  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv: server, cacheDir: path.join(dir, 'cache') }));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-ex-apiexport-'));
    server = await kcpMcServer(path.join(dir, 'kcp'));
  });
  after(async () => {
    await ex?.kill();
    await server?.proc.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reconciles every ConfigMap of the three workspaces, records Events in their own workspace, engages a new workspace, and exits 0 on SIGINT', async () => {
    await kubectl(['apply', '-f', path.join(MANIFESTS, 'bundle.yaml')]);
    const wss = await eventually(async () => {
      const l = await kubectlJSON<{ items: Obj[] }>(['get', 'workspaces']);
      const ready = l.items.filter((w) => w['status']?.phase === 'Ready');
      return ready.length === 3 ? ready : undefined;
    }, 'example1..3 Ready', 30_000);
    const clusterOf = new Map(wss!.map((w) => [`root:${w['metadata'].name as string}`, w['spec'].cluster as string]));

    ex = runExample('apiexport', ['--kubeconfig', server.kubeconfigPath]);
    const reconciled = (name: string) => (l: Obj) => l['msg'] === 'reconciled configmap' && l['name'] === name;
    await ex.waitFor((logs) => [...clusterOf.values()].every((c) => logs.some((l) => reconciled('kube-root-ca.crt')(l) && l['cluster'] === c)), 'kube-root-ca.crt reconciled in each workspace');
    for (const [p, c] of clusterOf) {
      const line = ex.lines(reconciled('kube-root-ca.crt')).find((l) => l['cluster'] === c)!;
      expect(line).to.include({ controller: 'apiexport-example', path: p, namespace: 'default' });
      expect(line['uid']).to.be.a('string');
    }

    await kubectl([...inCluster(server, 'root:example2'), 'create', 'configmap', 'hello', '-n', 'default', '--from-literal=greeting=hi']);
    const line = await ex.waitLog(reconciled('hello'), 'hello reconciled');
    expect(line).to.include({ cluster: clusterOf.get('root:example2'), path: 'root:example2', keys: 1 });
    const ev = await eventually(async () => {
      const l = await kubectlJSON<{ items: Obj[] }>([...inCluster(server, 'root:example2'), 'get', 'events.events.k8s.io', '-n', 'default']);
      return l.items.find((e) => e['regarding']?.name === 'hello' && e['reason'] === 'Reconciled');
    }, 'the Reconciled Event on hello in root:example2');
    expect(ev).to.deep.include({ type: 'Normal', reportingController: 'apiexport-example' });
    for (const other of ['root:example1', 'root:example3']) {
      const l = await kubectlJSON<{ items: Obj[] }>([...inCluster(server, other), 'get', 'events.events.k8s.io', '-n', 'default']);
      expect(l.items.some((e) => e['regarding']?.name === 'hello'), `no Event about hello in ${other}`).to.equal(false);
    }
    // One line per reconcile: each has its own reconcileID.
    const ids = ex.lines((l) => l['msg'] === 'reconciled configmap').map((l) => l['reconcileID'] as string);
    expect(new Set(ids).size).to.equal(ids.length);

    // manifests/workspace.yaml: one more workspace of the type, with a generated name.
    const created = (await kubectl(['create', '-f', path.join(MANIFESTS, 'workspace.yaml'), '-o', 'name'])).trim();
    const wsName = created.split('/').pop()!;
    expect(wsName).to.match(/^apiexport-/);
    await ex.waitLog((l) => reconciled('kube-root-ca.crt')(l) && l['path'] === `root:${wsName}`, `kube-root-ca.crt of root:${wsName} reconciled`);

    expect(await ex.stop('SIGINT')).to.equal(0);
    expect(ex.lines((l) => l['level'] === 'error'), ex.err).to.deep.equal([]);
    expect(ex.logs().at(-1)).to.include({ msg: 'stopped' });
  });
});
