/** `kcp-mc server` as a user runs it: a separate process, its kubeconfig, kubectl, Ctrl-C. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { eventually } from '../support/server.js';

const run = promisify(execFile);
const CLI = path.resolve('dist/src/cli/main.js');

async function hasKubectl(): Promise<boolean> {
  try {
    await run('kubectl', ['version', '--client']);
    return true;
  } catch {
    return false;
  }
}

describe('kcp-mc server (e2e)', function () {
  this.timeout(60_000);
  let dir: string;
  let proc: ChildProcess | undefined;

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-e2e-'))));
  afterEach(() => {
    proc?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints its ready line with the chosen port, writes a kcp-style kubeconfig, and stops on SIGINT with exit 0', async function () {
    const rootDir = path.join(dir, '.kcp');
    proc = spawn(process.execPath, [CLI, 'server', '--port', '0', '--root-dir', rootDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const m = await eventually(() => /ready at (https:\/\/127\.0\.0\.1:(\d+))\/clusters\/root \(port \d+\); kubeconfig: (.+)$/m.exec(out), 'ready line', 20_000);
    const [, base, port, kubeconfig] = m!;
    expect(Number(port)).to.be.greaterThan(0);
    expect(kubeconfig).to.equal(path.join(rootDir, 'admin.kubeconfig'));
    const text = fs.readFileSync(kubeconfig!, 'utf8');
    expect(text).to.contain(`server: ${base}/clusters/root`);
    expect(text).to.match(new RegExp(`server: ${base!.replace(/[.]/g, '\\.')}\\n`));
    expect(text).to.contain('current-context: root');
    expect(text).to.contain('- name: kcp-admin');
    if (await hasKubectl()) {
      const cache = path.join(dir, 'cache');
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig!, '--cache-dir', cache, 'get', 'namespaces', '-o', 'name']);
      expect(stdout.trim()).to.equal('namespace/default');
      const base2 = await run('kubectl', ['--kubeconfig', kubeconfig!, '--cache-dir', cache, '--context', 'base', 'get', '--raw', '/clusters/root/api/v1/namespaces/default']);
      expect(JSON.parse(base2.stdout).metadata.name).to.equal('default');
    } else {
      console.log('    (kubectl not found: skipping the kubectl part of this test)');
    }
    const exit = new Promise<number | null>((r) => proc!.once('exit', (code) => r(code)));
    proc.kill('SIGINT');
    expect(await exit).to.equal(0);
    proc = undefined;
  });

  it('kcp-mc demo --workspaces 3: every valid Widget Ready with its ConfigMap, the bad one InvalidColor, kubectl commands that work; SIGINT exits 0', async () => {
    const demo = spawn(process.execPath, [CLI, 'demo', '--workspaces', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    try {
      await eventually(() => out.includes('Press Ctrl-C to stop.'), 'the demo settled', 45_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${out}`);
      });
      expect(out).to.match(/ready at https:\/\/127\.0\.0\.1:\d+\/clusters\/root/);
      expect(out).to.match(/workspaces: 3\/3 created and bound/);
      expect(out).to.match(/^reconcile {2}root:tenant-2 +widget default\/small +success/m);
      expect(out).to.contain('all 6 valid Widgets Ready');
      expect(out).to.match(/^root:tenant-1 +3 +2 +1 +\d+ +odd: InvalidColor$/m);
      // A kubeconfig with a context per workspace, and commands that use them.
      const kubeconfig = /^kubeconfig with a context per workspace \(root, widgets, tenant-1 … tenant-3\): (\S+)$/m.exec(out)?.[1];
      expect(kubeconfig, out).to.be.a('string');
      const commands = out.split('\n').filter((l) => l.startsWith('  kubectl ')).map((l) => l.trim());
      expect(commands, out).to.include(`kubectl --kubeconfig ${kubeconfig} --context tenant-1 get widgets`);
      expect(commands).to.include(`kubectl --kubeconfig ${kubeconfig} get workspaces`);
      if (await hasKubectl()) {
        const cache = path.join(dir, 'cache');
        // Each printed command as printed (a shell line), with a discovery cache of this test's own.
        const sh = async (line: string): Promise<string> => {
          try {
            return (await run('sh', ['-c', line.replace(/^kubectl /, `kubectl --cache-dir '${cache}' `)])).stdout;
          } catch (e) {
            throw new Error(`${line}: ${(e as { stderr?: string }).stderr ?? String(e)}`);
          }
        };
        const printed = await Promise.all(commands.filter((c) => !/ (patch|delete) /.test(c)).map(async (c) => [c, await sh(c)] as const));
        const said = new Map(printed);
        expect(said.get(`kubectl --kubeconfig ${kubeconfig} --context tenant-1 get widgets`)).to.match(/odd\s+3\s+purple\s+False/);
        // kcp users see their workspaces as Workspace objects in root, Ready.
        const workspaces = said.get(`kubectl --kubeconfig ${kubeconfig} get workspaces`)!.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
        expect(workspaces.map((r) => `${r[0]} ${r[3]}`).sort()).to.deep.equal(['tenant-1 Ready', 'tenant-2 Ready', 'tenant-3 Ready', 'widgets Ready']);
        expect(said.get(`kubectl --kubeconfig ${kubeconfig} --context widgets get apiexports`)).to.match(/^widgets\.example\.dev\s/m);
        expect(said.get(`kubectl --kubeconfig ${kubeconfig} --context tenant-1 get configmaps small-widget -o yaml`)).to.match(/^ {2}size: "2"$/m);
        for (const c of commands.filter((x) => / (patch|delete) /.test(x))) await sh(c);
        const k = (ctx: string, args: string[]): Promise<{ stdout: string }> => run('kubectl', ['--kubeconfig', kubeconfig!, '--context', ctx, '--cache-dir', cache, ...args]);
        await eventually(async () => JSON.parse((await k('tenant-1', ['get', 'configmap', 'small-widget', '-o', 'json'])).stdout).data.size === '9', 'the patched Widget reconciled into its ConfigMap');
        expect((await k('tenant-2', ['get', 'configmap', 'large-widget', '-o', 'jsonpath={.data.color}'])).stdout).to.equal('blue');
      }
      demo.kill('SIGINT');
      expect(await exit).to.equal(0);
      expect(out).to.contain('stopped');
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
    }
  });

  it('refuses a bad port with a clear error', async () => {
    try {
      await run(process.execPath, [CLI, 'server', '--port', 'nope', '--root-dir', dir]);
      expect.fail('should have failed');
    } catch (e) {
      expect((e as { stderr: string }).stderr).to.contain('invalid port "nope"');
    }
  });
});
