/**
 * examples/initializing-workspaces as its README runs it: the WorkspaceType (initializer: true)
 * and three workspaces applied with kubectl in root stay Initializing; the example creates
 * `default/kcp-initializer-cm` in each and removes exactly its initializer, so they turn Ready;
 * a workspace created while it runs goes the same way; SIGINT → exit 0. Then
 * `kcp-mc run initializing-workspaces-example` (no endpoint slice) does the same for a new one.
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

const MANIFESTS = path.resolve('examples/initializing-workspaces/manifests');
const TYPE = 'examples-initializingworkspaces-multicluster';
const INITIALIZER = `root:${TYPE}`;

describe('examples/initializing-workspaces (e2e: reference server, kubectl, the example process)', function () {
  this.timeout(90_000);
  let dir: string;
  let srv: RunningServer;
  const procs: Proc[] = [];
  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache') }));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-ex-init-'));
    srv = await start();
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const workspace = async (name: string): Promise<Obj> => kubectlJSON<Obj>(['get', 'workspace', name]);
  const phaseOf = async (name: string): Promise<string | undefined> => (await workspace(name))['status']?.phase as string | undefined;
  const inWs = (name: string) => ['--server', `${srv.url}/clusters/root:${name}`];

  async function initialized(name: string): Promise<void> {
    await eventually(async () => (await phaseOf(name)) === 'Ready', `${name} Ready`, 30_000);
    const cm = await kubectlJSON<Obj>([...inWs(name), 'get', 'configmap', 'kcp-initializer-cm', '-n', 'default']);
    expect(cm['data']).to.deep.equal({ 'test-data': 'example-value' });
    const lc = await kubectlJSON<Obj>([...inWs(name), 'get', 'logicalclusters.core.kcp.io', 'cluster']);
    expect(lc['status'].initializers ?? []).to.not.include(INITIALIZER);
  }

  it('initializes each workspace of its type (ConfigMap, then its own initializer removed) so that it turns Ready; exits 0 on SIGINT', async () => {
    await kubectl(['apply', '-f', path.join(MANIFESTS, 'bundle.yaml')]);
    const names = ['initializing1', 'initializing2', 'initializing3'];
    for (const n of names) {
      const ws = await eventually(async () => ((await phaseOf(n)) === 'Initializing' ? workspace(n) : undefined), `${n} Initializing`);
      expect(ws!['spec'].type).to.deep.include({ name: TYPE });
    }
    const lc = await kubectlJSON<Obj>([...inWs('initializing1'), 'get', 'logicalclusters.core.kcp.io', 'cluster']);
    expect(lc['status'].initializers).to.include(INITIALIZER);

    const ex = runExample('initializing-workspaces', ['--kubeconfig', srv.kubeconfigPath]);
    procs.push(ex);
    for (const n of names) await initialized(n);
    for (const n of names) {
      const l = await ex.waitLog((x) => x['msg'] === 'removed initializer' && x['workspace'] === `root:${n}`, `removal logged for ${n}`);
      expect(l).to.include({ controller: 'initializing-workspaces-example', initializer: INITIALIZER, result: 'removed' });
    }
    // manifests/workspace.yaml while the example runs.
    const created = (await kubectl(['create', '-f', path.join(MANIFESTS, 'workspace.yaml'), '-o', 'name'])).trim().split('/').pop()!;
    expect(created).to.match(/^initializing-/);
    await initialized(created);
    expect(await ex.stop('SIGINT')).to.equal(0);
    expect(ex.lines((l) => l['level'] === 'error'), ex.err).to.deep.equal([]);
  });

  it('does the same as `kcp-mc run initializing-workspaces-example` (the module builds its own provider; no endpoint slice)', async () => {
    const created = (await kubectl(['create', '-f', path.join(MANIFESTS, 'workspace.yaml'), '-o', 'name'])).trim().split('/').pop()!;
    await eventually(async () => (await phaseOf(created)) === 'Initializing', `${created} Initializing`);
    const r = kcpMcRun(['initializing-workspaces-example', '--kubeconfig', srv.kubeconfigPath]);
    procs.push(r);
    await initialized(created);
    expect(await r.stop('SIGTERM')).to.equal(0);
  });
});
