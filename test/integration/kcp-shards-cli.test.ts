/** `kcp-mc server --shards 2`: a separate process prints every shard's URL; kubectl sees both Shard objects. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { eventually } from '../support/server.js';

const run = promisify(execFile);
const CLI = path.resolve('dist/src/cli/main.js');

describe('kcp-mc server --shards', function () {
  this.timeout(60_000);
  let dir: string;
  let proc: ChildProcess | undefined;

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-shards-'))));
  afterEach(() => {
    proc?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts two shards, lists their URLs, and serves one Shard object per shard', async () => {
    proc = spawn(process.execPath, [CLI, 'server', '--port', '0', '--shards', '2', '--root-dir', path.join(dir, '.kcp')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const m = await eventually(() => /ready at (\S+)\/clusters\/root .*kubeconfig: (.+)\nshard root: (\S+)\nshard shard-1: (\S+)\n/.exec(out), 'shard lines', 20_000);
    const [, base, kubeconfig, root, second] = m!;
    expect(root).to.equal(base);
    expect(second).to.match(/^https:\/\/127\.0\.0\.1:\d+$/).and.not.equal(base);
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig!, '--cache-dir', path.join(dir, 'cache'), 'get', 'shards', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.baseURL}{"\\n"}{end}']);
    expect(stdout.trim().split('\n')).to.deep.equal([`root=${root}`, `shard-1=${second}`]);
    const exit = new Promise<number | null>((r) => proc!.once('exit', (code) => r(code)));
    proc.kill('SIGINT');
    expect(await exit).to.equal(0);
    proc = undefined;
  });

  it('refuses a shard count that is not a positive integer', async () => {
    const r = await run(process.execPath, [CLI, 'server', '--port', '0', '--shards', '0', '--root-dir', path.join(dir, '.kcp')]).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).to.not.equal(0);
    expect((r as { stderr: string }).stderr).to.contain('invalid shard count "0"');
  });
});
