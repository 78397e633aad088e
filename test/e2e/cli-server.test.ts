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

  it('kcp-mc demo starts the server, prints commands that work, and stops by itself', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'demo', '--port', '0', '--seconds', '1']);
    expect(stdout).to.match(/ready at https:\/\/127\.0\.0\.1:\d+\/clusters\/root/);
    expect(stdout).to.contain('/clusters/root:team');
    expect(stdout).to.contain('kubectl --kubeconfig');
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
