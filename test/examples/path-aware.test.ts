/**
 * examples/path-aware as its README runs it: the bundle applied with kubectl in root, the example
 * on the admin kubeconfig; each reconcile looks its cluster up by workspace path and gets the same
 * cluster; SIGINT → exit 0. Then the same code as `kcp-mc run path-aware-example` (its module
 * brings its own provider and default endpoint slice).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { kcpMcRun, runExample, type Proc } from '../support/example-process.js';
import type { Obj } from '../support/kcp.js';
import { kubectlFor } from '../support/kubectl.js';
import { eventually, start } from '../support/server.js';

const MANIFESTS = path.resolve('examples/path-aware/manifests');

describe('examples/path-aware (e2e: reference server, kubectl, the example process)', function () {
  this.timeout(90_000);
  let dir: string;
  let srv: RunningServer;
  let clusterOf: Map<string, string>;
  const procs: Proc[] = [];
  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache') }));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-ex-paths-'));
    srv = await start();
    await kubectl(['apply', '-f', path.join(MANIFESTS, 'bundle.yaml')]);
    const wss = await eventually(async () => {
      const l = await kubectlJSON<{ items: Obj[] }>(['get', 'workspaces']);
      const ready = l.items.filter((w) => w['status']?.phase === 'Ready');
      return ready.length === 3 ? ready : undefined;
    }, 'example1..3 Ready', 30_000);
    clusterOf = new Map(wss!.map((w) => [`root:${w['metadata'].name as string}`, w['spec'].cluster as string]));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const lookups = (logs: Obj[]) => logs.filter((l) => l['msg'] === 'get(path)' && l['name'] === 'kube-root-ca.crt');
  const allResolved = (logs: Obj[]) => [...clusterOf.keys()].every((p) => lookups(logs).some((l) => l['lookup'] === p));

  it('looks each cluster up by its workspace path and finds the same cluster and ConfigMap; exits 0 on SIGINT', async () => {
    const ex = runExample('path-aware', ['--kubeconfig', srv.kubeconfigPath, '--endpointslice', 'examples-apiexport-multicluster']);
    procs.push(ex);
    await ex.waitFor(allResolved, 'get(path) logged for root:example1..3');
    for (const [p, c] of clusterOf) {
      const l = lookups(ex.logs()).find((x) => x['lookup'] === p)!;
      expect(l).to.include({ controller: 'path-aware-example', cluster: c, path: p, resolved: c, same: true });
      const first = ex.logs().find((x) => x['msg'] === 'reconciled configmap' && x['cluster'] === c && x['name'] === 'kube-root-ca.crt')!;
      expect(l['uid'], 'the ConfigMap read through the handle found by path').to.equal(first['uid']);
    }
    const ev = await eventually(async () => {
      const l = await kubectlJSON<{ items: Obj[] }>(['--server', `${srv.url}/clusters/root:example1`, 'get', 'events.events.k8s.io', '-n', 'default']);
      return l.items.find((e) => e['regarding']?.name === 'kube-root-ca.crt' && e['reason'] === 'Reconciled');
    }, 'an Event in root:example1');
    expect(ev!['note']).to.include('root:example1');
    expect(await ex.stop('SIGINT')).to.equal(0);
    expect(ex.lines((l) => l['level'] === 'error'), ex.err).to.deep.equal([]);
  });

  it('runs as `kcp-mc run path-aware-example` with no --endpointslice (the module supplies provider and slice); exits 0 on SIGTERM', async () => {
    const r = kcpMcRun(['path-aware-example', '--kubeconfig', srv.kubeconfigPath]);
    procs.push(r);
    await r.waitFor(allResolved, 'get(path) logged for root:example1..3 under kcp-mc run');
    expect(r.logs().find((l) => l['msg'] === 'starting')).to.include({ controller: 'path-aware-example' });
    expect(await r.stop('SIGTERM')).to.equal(0);
  });
});
