/** `kcp-mc watch` as a user runs it: a separate process against a separately started `kcp-mc server`. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Transport } from '../../src/client/index.js';
import { eventually } from '../support/server.js';

const CLI = path.resolve('dist/src/cli/main.js');

/** A child process with its output collected. */
class Proc {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  lines(): string[] {
    return this.out.split('\n').filter(Boolean);
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}

interface Server {
  proc: Proc;
  base: string;
  port: number;
  kubeconfig: string;
}

async function startServer(dir: string, args: string[] = [], port = 0): Promise<Server> {
  const proc = new Proc(['server', '--port', String(port), '--root-dir', path.join(dir, 'root'), ...args]);
  const m = await eventually(() => /ready at (https:\/\/127\.0\.0\.1:(\d+))\/clusters\/root \(port \d+\); kubeconfig: (.+)$/m.exec(proc.out), 'server ready line', 20_000);
  return { proc, base: m![1]!, port: Number(m![2]), kubeconfig: m![3]!.trim() };
}

function writer(srv: Server): Transport {
  const kc = new KubeConfig();
  kc.loadFromFile(srv.kubeconfig);
  return Transport.fromKubeConfig(kc).withServer(srv.base);
}

const create = (t: Transport, name: string, labels: Record<string, string> = {}, ns = 'default') =>
  t.requestJSON({ method: 'POST', url: `/clusters/root/api/v1/namespaces/${ns}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } } });

describe('kcp-mc watch (e2e)', function () {
  this.timeout(60_000);
  let dir: string;
  const procs: Proc[] = [];
  const transports: Transport[] = [];

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-watch-'))));
  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    for (const p of procs.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints CLUSTER NAMESPACE NAME RESOURCEVERSION per object once synced, then one line per change, and exits 0 on Ctrl-C', async () => {
    const srv = await startServer(dir);
    procs.push(srv.proc);
    const t = writer(srv);
    transports.push(t);
    const a = (await create(t, 'a')) as { metadata: { resourceVersion: string } };
    const w = new Proc(['watch', 'configmaps', '--kubeconfig', srv.kubeconfig, '--server', srv.base]);
    procs.push(w);
    await eventually(() => /synced, \d+ configmaps/.test(w.err), 'synced on stderr', 20_000);
    expect(w.lines()).to.include(`root default a ${a.metadata.resourceVersion}`);
    expect(w.lines().every((l) => l.split(' ').length === 4)).to.equal(true);
    const b = (await create(t, 'b')) as { metadata: { resourceVersion: string } };
    await eventually(() => w.lines().includes(`ADDED root default b ${b.metadata.resourceVersion}`), 'ADDED line');
    await t.requestJSON({ method: 'PATCH', url: '/clusters/root/api/v1/namespaces/default/configmaps/a', body: { data: { x: '1' } }, contentType: 'application/merge-patch+json' });
    await eventually(() => w.lines().some((l) => l.startsWith('MODIFIED root default a ')), 'MODIFIED line');
    await t.requestJSON({ method: 'DELETE', url: '/clusters/root/api/v1/namespaces/default/configmaps/b' });
    await eventually(() => w.lines().some((l) => l.startsWith('DELETED root default b ')), 'DELETED line');
    expect(await w.stop()).to.equal(0);
  });

  it('-l selects, -o json prints one JSON object per line', async () => {
    const srv = await startServer(dir);
    procs.push(srv.proc);
    const t = writer(srv);
    transports.push(t);
    await create(t, 'picked', { app: 'x' });
    await create(t, 'ignored', { app: 'y' });
    const w = new Proc(['watch', 'cm', '--kubeconfig', srv.kubeconfig, '--server', `${srv.base}/clusters/root`, '-l', 'app=x', '-o', 'json']);
    procs.push(w);
    await eventually(() => w.lines().length >= 1 && /synced/.test(w.err), 'initial JSON line', 20_000);
    const first = JSON.parse(w.lines()[0]!) as { type: string; cluster: string; server: string; object: { metadata: { name: string } } };
    expect(first).to.include({ type: 'INITIAL', cluster: 'root', server: `${srv.base}/clusters/root` });
    expect(first.object.metadata.name).to.equal('picked');
    expect(w.lines()).to.have.length(1);
    await create(t, 'picked2', { app: 'x' });
    await eventually(() => w.lines().some((l) => (JSON.parse(l) as { type: string }).type === 'ADDED'), 'ADDED JSON line');
    expect(await w.stop()).to.equal(0);
  });

  it('keeps going through a server restart and a 410, reporting both on stderr', async () => {
    const data = path.join(dir, 'data');
    let srv = await startServer(dir, ['--data-dir', data, '--history-window', '5']);
    procs.push(srv.proc);
    let t = writer(srv);
    transports.push(t);
    await create(t, 'before');
    const w = new Proc(['watch', 'configmaps', '--kubeconfig', srv.kubeconfig, '--server', srv.base]);
    procs.push(w);
    await eventually(() => /synced/.test(w.err), 'synced', 20_000);
    expect(await srv.proc.stop()).to.equal(0);
    // Two failed reconnects: the next attempt is at least 1.6 s away, time enough to outrun history.
    await eventually(() => (w.err.match(/retrying in/g) ?? []).length >= 2, 'reconnect failures reported', 20_000);
    srv = await startServer(dir, ['--data-dir', data, '--history-window', '5'], srv.port);
    procs.push(srv.proc);
    t = writer(srv);
    transports.push(t);
    for (let i = 0; i < 20; i++) await create(t, `after-${i}`);
    await eventually(() => w.lines().filter((l) => /^ADDED root default after-\d+ /.test(l)).length === 20, 'changes after the restart', 30_000);
    expect(w.err).to.match(/410|expired|Expired/);
    expect(w.lines().filter((l) => / before /.test(l) && l.startsWith('ADDED'))).to.have.length(0);
    expect(await w.stop()).to.equal(0);
  });

  it('refuses an unknown resource with a clear error and exit code 1', async () => {
    const srv = await startServer(dir);
    procs.push(srv.proc);
    const w = new Proc(['watch', 'nosuchthings', '--kubeconfig', srv.kubeconfig]);
    expect(await w.exited).to.equal(1);
    expect(w.err).to.contain("doesn't have a resource type \"nosuchthings\"");
  });
});

describe('kcp-mc watch: kubeconfig mistakes', () => {
  it('a kubeconfig without a current context is named, with its contexts, instead of "no kubeconfig found"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-watch-kc-'));
    try {
      const file = path.join(dir, 'no-current.kubeconfig');
      fs.writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters:\n- name: kcp\n  cluster: {server: "https://127.0.0.1:1"}\ncontexts:\n- name: root\n  context: {cluster: kcp, user: admin}\nusers:\n- name: admin\n  user: {token: t}\n');
      const w = new Proc(['watch', 'configmaps', '--kubeconfig', file]);
      expect(await w.exited).to.equal(1);
      expect(w.err).to.contain(`kubeconfig ${file} has no current context: set current-context (contexts: root)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kcp-mc watch: server URLs', () => {
  it('appends /clusters/* to endpoint and base URLs, keeps /clusters/<x> URLs as they are', async () => {
    const { watchURL } = await import('../../src/cli/watch.js');
    expect(watchURL('https://h:6443')).to.equal('https://h:6443/clusters/*');
    expect(watchURL('https://h/services/apiexport/root:org/widgets/')).to.equal('https://h/services/apiexport/root:org/widgets/clusters/*');
    expect(watchURL('https://h/services/apiexport/root:org/widgets/clusters/*')).to.equal('https://h/services/apiexport/root:org/widgets/clusters/*');
    expect(watchURL('https://h/clusters/root:org')).to.equal('https://h/clusters/root:org');
  });
});
