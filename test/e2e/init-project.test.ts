/**
 * `kcp-mc init` as a new user meets it: the packed package's CLI writes a project into a temp
 * directory, `npm install` there takes the tarball as its dependency, `npm test` is green at once,
 * `npm run apigen`'s command leaves manifests/ as init wrote it, and `npm start` against a
 * `kcp-mc server` process reconciles the objects kubectl creates in two bound workspaces, with the
 * generated README's commands run as written. A second project, cluster-scoped and written through
 * the `kcp-multicluster-provider` bin (what `npx kcp-multicluster-provider init` runs), compiles
 * with `tsc --skipLibCheck false --noUnusedLocals` and passes its own test. The time of each step
 * is printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { REPO, childEnv, jsonLines } from '../support/cli.js';
import { exec, npm, NPM_FLAGS, packInto, readJSON } from '../support/pack.js';
import { eventually } from '../support/server.js';

const INIT = ['--group', 'example.dev', '--kind', 'Database'];

/** The generated README's ```sh blocks, in order. */
function shellBlocks(readme: string): string[] {
  return [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Every file under `dir` with its content. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

describe('kcp-mc init: a new project from the packed package (e2e)', function () {
  this.timeout(600_000);
  const times: Record<string, number> = {};
  let dir: string;
  let tarball: string;
  let cli: string;
  let project: string;
  let clusterScoped: Promise<string>;

  /** Runs `fn`, recording how long it took under `step`. */
  async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      times[step] = Date.now() - t0;
    }
  }
  const init = (cwd: string, args: string[], bin = cli) => exec(process.execPath, [bin, 'init', ...args], { cwd, env: childEnv() });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-init-'));
    tarball = await timed('npm pack', () => packInto(dir));
    // The tarball's own files run the CLI; its dependencies are the repository's (installing them is the project's step below).
    const tool = path.join(dir, 'tool');
    fs.mkdirSync(tool);
    await exec('tar', ['-xzf', tarball, '-C', tool, '--strip-components=1']);
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(tool, 'node_modules'), 'dir');
    cli = path.join(tool, 'dist/src/cli/main.js');
    project = path.join(dir, 'my-provider');
    await timed('kcp-mc init', () => init(dir, ['my-provider', ...INIT]));
    const pkgFile = path.join(project, 'package.json');
    const pkg = readJSON(pkgFile);
    expect(pkg.dependencies?.['kcp-multicluster-provider']).to.equal(`^${readJSON(path.join(REPO, 'package.json')).version}`);
    // As a user installs a tarball: a file: dependency in place of the registry's version.
    pkg.dependencies!['kcp-multicluster-provider'] = `file:${tarball}`;
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    await timed('npm install', () => exec(npm, ['install', ...NPM_FLAGS], { cwd: project, maxBuffer: 64 << 20 }));
    // CPU-bound and independent of the other steps: runs alongside them, awaited by its own test.
    clusterScoped = timed('cluster-scoped: init, tsc, mocha (alongside)', () => typeCheckClusterScoped());
    clusterScoped.catch(() => undefined);
  });

  /** Writes a cluster-scoped project with the package's `kcp-multicluster-provider` bin and type-checks it; resolves with its directory. */
  async function typeCheckClusterScoped(): Promise<string> {
    const other = path.join(dir, 'backups');
    await exec(path.join(project, 'node_modules/.bin/kcp-multicluster-provider'), ['init', other, '--group', 'example.dev', '--kind', 'Backup', '--cluster-scoped'], { cwd: dir, env: childEnv() });
    fs.symlinkSync(path.join(project, 'node_modules'), path.join(other, 'node_modules'), 'dir');
    const tsc = path.join(project, 'node_modules/.bin/tsc');
    const fail = (what: string) => (e: { stdout?: string; stderr?: string }) => {
      throw new Error(`${what} failed in the cluster-scoped project:\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-8000));
    };
    // The type check of tsc --noEmit, with emit, so that the project's own test runs after it.
    await exec(tsc, ['-p', '.', '--skipLibCheck', 'false', '--noUnusedLocals'], { cwd: other, maxBuffer: 16 << 20 }).catch(fail('tsc'));
    const mocha = path.join(project, 'node_modules/mocha/bin/mocha.js');
    const res = await exec(process.execPath, [mocha], { cwd: other, env: childEnv(), maxBuffer: 16 << 20 }).catch(fail('mocha'));
    if (!/3 passing/.test(res.stdout) || /failing|pending/.test(res.stdout)) throw new Error(`the cluster-scoped project's test:\n${res.stdout}`);
    return other;
  }
  after(() => {
    process.stdout.write(`      step times (ms): ${JSON.stringify(times)}\n`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the project; refuses a non-empty directory and invalid names with one line and exit 2', async () => {
    for (const f of ['package.json', 'tsconfig.json', 'README.md', 'Dockerfile', 'src/api.ts', 'src/controller.ts', 'test/controller.test.ts', 'deploy/deployment.yaml', 'deploy/kcp-rbac.yaml', 'deploy/kubeconfig-secret.yaml']) {
      expect(fs.existsSync(path.join(project, f)), f).to.equal(true);
    }
    expect(fs.readdirSync(path.join(project, 'manifests'))).to.deep.equal(['apiexport-databases.example.dev.yaml', 'apiresourceschema-databases.example.dev.yaml']);
    expect(Object.keys(readJSON(path.join(project, 'package.json')).scripts ?? {})).to.include.members(['build', 'test', 'start', 'apigen', 'server']);
    // npm test's build is the strict type check: declarations included, unused code refused.
    const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(project, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(compilerOptions).to.include({ strict: true, skipLibCheck: false, noUnusedLocals: true });
    const refusals: [string[], RegExp][] = [
      [['my-provider', ...INIT], /^kcp-mc init: .*my-provider is not empty/],
      [['Bad_Name', ...INIT], /^kcp-mc init: project name "Bad_Name" must be a DNS-1123 label/],
      [['ok', '--group', 'example.dev', '--kind', 'database'], /^kcp-mc init: kind "database" must be UpperCamelCase/],
      [['ok', '--group', 'nodot', '--kind', 'Database'], /^kcp-mc init: group "nodot" must be a lowercase DNS subdomain/],
      [['ok', ...INIT, '--version', 'one'], /^kcp-mc init: version "one"/],
    ];
    for (const [args, message] of refusals) {
      const res = await init(dir, args).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(res.code, args.join(' ')).to.equal(2);
      expect(res.stderr.trimEnd().split('\n'), args.join(' ')).to.have.length(1);
      expect(res.stderr).to.match(message);
    }
    expect(fs.existsSync(path.join(dir, 'ok'))).to.equal(false);
  });

  it('npm test passes at once: two bound tenants reconciled, status, the owned ConfigMap, cleanup', async () => {
    const res = await timed('npm test', () => exec(npm, ['test'], { cwd: project, env: childEnv(), maxBuffer: 16 << 20 })).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm test failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-8000));
    });
    expect(res.stdout).to.match(/3 passing/);
    expect(res.stdout).not.to.match(/failing|pending/);
  });

  it("kcp-mc apigen on the built api module leaves manifests/ as init wrote it", async () => {
    const before = snapshot(path.join(project, 'manifests'));
    await timed('kcp-mc apigen', () => exec(path.join(project, 'node_modules/.bin/kcp-mc'), ['apigen', './dist/src/api.js', '--output-dir', 'manifests'], { cwd: project, env: childEnv() }));
    expect(snapshot(path.join(project, 'manifests'))).to.deep.equal(before);
  });

  it("npm start against a kcp-mc server process reconciles objects kubectl creates in two bound workspaces (the README's commands)", async () => {
    const blocks = shellBlocks(fs.readFileSync(path.join(project, 'README.md'), 'utf8'));
    const workspaces = blocks.find((b) => b.includes('kind: Workspace'));
    const tenants = blocks.find((b) => b.includes('kind: APIBinding'));
    expect(blocks.some((b) => b.trim() === 'npm start -- --kubeconfig provider.kubeconfig'), 'the README starts the controller with npm start').to.equal(true);
    expect(workspaces && tenants, 'README blocks').to.be.a('string');
    const kcpMC = path.join(project, 'node_modules/.bin/kcp-mc');
    const server = spawn(kcpMC, ['server', '--port', '0', '--root-dir', path.join(project, '.kcp')], { cwd: project, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let controller: ChildProcess | undefined;
    let log = '';
    try {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const m = await eventually(() => /ready at (https:\/\/127\.0\.0\.1:\d+)\/clusters\/root/.exec(out), 'server ready line', 30_000);
      // The README's variables, pointed at this server's port; kubectl's discovery cache in the temp dir.
      const env = childEnv({ KCP: m![1]!, KUBECONFIG: path.join(project, '.kcp/admin.kubeconfig'), KUBECACHEDIR: path.join(dir, 'kube-cache') });
      const sh = (script: string) => exec('bash', ['-euo', 'pipefail', '-c', script], { cwd: project, env, maxBuffer: 16 << 20 });
      await timed('README: workspaces', () => sh(workspaces!));
      // npm start as the README runs it; the prestart build is already done by npm test.
      controller = spawn(npm, ['start', '--ignore-scripts', '--', '--kubeconfig', 'provider.kubeconfig', '--metrics-bind-address', '0', '--health-probe-bind-address', '127.0.0.1:0'], {
        cwd: project,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      controller.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      controller.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await timed('npm start: installed', () => eventually(() => jsonLines(log).some((l) => l['msg'] === 'installed' && l['kind'] === 'APIExport'), 'the APIExport installed', 60_000));
      const res = await timed('README: bind, create, Ready in both tenants', () => sh(tenants!));
      expect(res.stdout).to.match(/hello-database/);
      const reconciled = new Set(jsonLines(log).filter((l) => l['msg'] === 'configmap').map((l) => l['cluster']));
      expect(reconciled.size, log).to.equal(2);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- npm start output ---\n${log.slice(-6000)}`);
    } finally {
      if (controller?.pid && controller.exitCode === null) {
        const exited = new Promise((r) => controller!.once('exit', r));
        // npm does not forward signals to its script: the whole process group gets SIGTERM.
        process.kill(-controller.pid, 'SIGTERM');
        await exited;
      }
      const stopped = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await stopped;
    }
  });

  it('a cluster-scoped project written through the kcp-multicluster-provider bin compiles (skipLibCheck false, --noUnusedLocals) and its test passes', async () => {
    const other = await clusterScoped;
    expect(fs.readFileSync(path.join(other, 'src/api.ts'), 'utf8')).to.include("scope: 'Cluster'");
    expect(fs.readFileSync(path.join(other, 'src/controller.ts'), 'utf8')).to.include('.watches(CONFIG_MAP');
  });
});
