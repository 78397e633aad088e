/**
 * examples/terminating-workspaces as its README runs it: the WorkspaceType (terminator: true) and
 * three workspaces applied with kubectl in root; the example records each tenant in root
 * (`default/tenant-<workspace>`); `kubectl delete workspace tenant1` → the example deletes that
 * record and removes its terminator, and the workspace goes; the others keep theirs; SIGINT → 0.
 * A workspace deleted while nothing runs stays Terminating with our terminator; `kcp-mc run
 * terminating-workspaces-example` then cleans it up.
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

const MANIFESTS = path.resolve('examples/terminating-workspaces/manifests');
const TERMINATOR = 'root:examples-terminatingworkspaces-multicluster';
const LABEL = 'examples.kcp.io/tenant-cluster';

describe('examples/terminating-workspaces (e2e: reference server, kubectl, the example process)', function () {
  this.timeout(90_000);
  let dir: string;
  let srv: RunningServer;
  const clusterOf = new Map<string, string>();
  const procs: Proc[] = [];
  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache') }));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-ex-term-'));
    srv = await start();
    await kubectl(['apply', '-f', path.join(MANIFESTS, 'bundle.yaml')]);
    for (const n of ['tenant1', 'tenant2', 'tenant3']) {
      const ws = await eventually(async () => {
        const w = await kubectlJSON<Obj>(['get', 'workspace', n]);
        return w['status']?.phase === 'Ready' ? w : undefined;
      }, `${n} Ready`, 30_000);
      clusterOf.set(n, ws!['spec'].cluster as string);
    }
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const records = async (): Promise<Map<string, Obj>> => {
    const l = await kubectlJSON<{ items: Obj[] }>(['get', 'configmaps', '-n', 'default', '-l', LABEL]);
    return new Map(l.items.map((c) => [c['metadata'].name as string, c]));
  };
  const gone = async (ws: string): Promise<boolean> => /NotFound|not found/.test(await kubectl(['get', 'workspace', ws]).then(() => '', (e: { stderr?: string }) => e.stderr ?? String(e)));

  it('records each tenant in the provider workspace, and on deletion removes its record and then its terminator so the workspace goes; exits 0 on SIGINT', async () => {
    const ex = runExample('terminating-workspaces', ['--kubeconfig', srv.kubeconfigPath]);
    procs.push(ex);
    const recs = await eventually(async () => {
      const r = await records();
      return r.size === 3 ? r : undefined;
    }, 'three tenant records in root');
    for (const [ws, cluster] of clusterOf) {
      const rec = recs!.get(`tenant-${ws}`)!;
      expect(rec['metadata'].labels[LABEL]).to.equal(cluster);
      expect(rec['data']).to.deep.equal({ workspace: ws, cluster, path: `root:${ws}` });
    }

    await kubectl(['delete', 'workspace', 'tenant1', '--wait=false']);
    await eventually(() => gone('tenant1'), 'tenant1 gone', 30_000);
    expect([...(await records()).keys()].sort()).to.deep.equal(['tenant-tenant2', 'tenant-tenant3']);
    const removed = ex.lines((l) => l['msg'] === 'removed terminator' && l['result'] === 'removed');
    expect(removed).to.have.length(1);
    expect(removed[0]).to.include({ workspace: 'root:tenant1', terminator: TERMINATOR, cluster: `tenants#${clusterOf.get('tenant1')}` });
    // The record went before the terminator.
    const logs = ex.logs();
    const removal = logs.findIndex((l) => l['msg'] === 'removed terminator' && l['result'] === 'removed');
    expect(logs.findIndex((l) => l['msg'] === 'deleted tenant record' && l['record'] === 'default/tenant-tenant1')).to.be.within(0, removal - 1);
    expect(await ex.stop('SIGINT')).to.equal(0);
    expect(ex.lines((l) => l['level'] === 'error'), ex.err).to.deep.equal([]);
  });

  it('a workspace deleted while no provider runs waits with our terminator; `kcp-mc run terminating-workspaces-example` then cleans up and it goes', async () => {
    await kubectl(['delete', 'workspace', 'tenant2', '--wait=false']);
    const ws = await eventually(async () => {
      const w = await kubectlJSON<Obj>(['get', 'workspace', 'tenant2']);
      return w['status']?.phase === 'Terminating' ? w : undefined;
    }, 'tenant2 Terminating');
    expect(ws!['metadata'].deletionTimestamp).to.be.a('string');
    const lc = await kubectlJSON<Obj>(['--server', `${srv.url}/clusters/${clusterOf.get('tenant2')}`, 'get', 'logicalclusters.core.kcp.io', 'cluster']);
    expect(lc['status'].terminators).to.include(TERMINATOR);
    expect((await records()).has('tenant-tenant2')).to.equal(true);

    const r = kcpMcRun(['terminating-workspaces-example', '--kubeconfig', srv.kubeconfigPath]);
    procs.push(r);
    await eventually(() => gone('tenant2'), 'tenant2 gone', 30_000);
    expect([...(await records()).keys()]).to.deep.equal(['tenant-tenant3']);
    await r.waitLog((l) => l['msg'] === 'removed terminator' && l['workspace'] === 'root:tenant2', 'removal logged');
    expect(await r.stop('SIGTERM')).to.equal(0);
    expect(r.lines((l) => l['level'] === 'error'), r.err).to.deep.equal([]);
  });
});
