/**
 * The packed package (`npm pack`) as it is installed for real, in two ways:
 *
 * - as the image's runtime stage installs it: the tarball unpacked into an empty folder with the
 *   lockfile, `npm ci --omit=dev`, and `kcp-mc run apiexport-example` started from there against the
 *   reference server. A runtime dependency missing from `dependencies` (or a file missing from
 *   `files`) fails here;
 * - as a user's project installs it: a fresh strict TypeScript project (`skipLibCheck: false`),
 *   `npm install <tarball> @kubernetes/client-node` exactly as a user types it, the README's
 *   TypeScript blocks compiled unchanged, and its controller module run with the project's
 *   `kcp-mc`. A peer dependency that resolves to a second client-node, or a declaration file that
 *   needs types the package does not bring, fails here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { REPO, Run, writeKubeconfig } from '../support/cli.js';
import { bind, createConfigMap, createExport, createWorkspace, type Obj } from '../support/kcp.js';
import { exec, npm, NPM_FLAGS, packInto, readJSON } from '../support/pack.js';
import { eventually, raw, start } from '../support/server.js';

/** The README's ```ts blocks, each named by its `// file.ts` first line, else `readme-<n>.ts`. */
function readmeBlocks(): { file: string; code: string }[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m, i) => ({
    file: /^\/\/ ([\w.-]+\.ts)\n/.exec(m[1]!)?.[1] ?? `readme-${i}.ts`,
    code: m[1]!,
  }));
}

/** Provider workspace, export and a bound tenant holding ConfigMap `shipped`; the provider's kubeconfig file. */
async function boundTenant(srv: RunningServer, dir: string, provider: string, exportName: string, tenant: string): Promise<{ cluster: string; kubeconfig: string }> {
  await createWorkspace(srv, 'root', provider);
  await createExport(srv, `root:${provider}`, exportName);
  const cluster = await createWorkspace(srv, 'root', tenant);
  await bind(srv, `root:${tenant}`, `root:${provider}`, exportName);
  await createConfigMap(srv, `root:${tenant}`, 'shipped', { a: '1' });
  return { cluster, kubeconfig: writeKubeconfig(dir, srv, `root:${provider}`) };
}

/** Waits for an Event about `name` with `reason` in the tenant's `default` namespace. */
async function eventFor(srv: RunningServer, tenant: string, name: string, reason: string): Promise<void> {
  await eventually(async () => {
    const res = await raw(srv, 'GET', `/clusters/root:${tenant}/apis/events.k8s.io/v1/namespaces/default/events`);
    return ((res.json['items'] as Obj[] | undefined) ?? []).some((e) => e['regarding']?.name === name && e['reason'] === reason);
  }, `the ${reason} Event of ${name} in root:${tenant}`);
}

describe('the packed package, installed', function () {
  this.timeout(300_000);
  let dir: string;
  let tarball: string;
  let srv: RunningServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-prod-'));
    tarball = await packInto(dir);
    srv = await start();
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('production install (npm ci --omit=dev) runs kcp-mc', () => {
    let app: string;

    before(async () => {
      app = path.join(dir, 'app');
      fs.mkdirSync(app);
      await exec('tar', ['-xzf', tarball, '-C', app, '--strip-components=1']);
      fs.copyFileSync(path.join(REPO, 'package-lock.json'), path.join(app, 'package-lock.json'));
      await exec(npm, ['ci', '--omit=dev', ...NPM_FLAGS], { cwd: app, maxBuffer: 64 << 20 });
    });

    it('holds the runtime and peer dependencies only, and the CLI and bundled controllers', () => {
      const pkg = readJSON(path.join(REPO, 'package.json'));
      for (const d of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) expect(fs.existsSync(path.join(app, 'node_modules', d)), d).to.equal(true);
      // Type packages may come in as dependencies of a runtime dependency (client-node ships some).
      for (const d of Object.keys(pkg.devDependencies ?? {}).filter((n) => !n.startsWith('@types/'))) expect(fs.existsSync(path.join(app, 'node_modules', d)), `dev dependency ${d} installed`).to.equal(false);
      expect(fs.existsSync(path.join(app, 'dist/src/cli/main.js'))).to.equal(true);
      expect(fs.existsSync(path.join(app, 'dist/controllers/apiexport-example/index.js'))).to.equal(true);
      expect(fs.existsSync(path.join(app, 'dist/test')), 'tests are not shipped').to.equal(false);
    });

    it('kcp-mc run apiexport-example reconciles a bound workspace and records its Event; exit 0 on SIGTERM', async () => {
      const { cluster, kubeconfig } = await boundTenant(srv, dir, 'provider', 'cms', 'tenant');
      const r = new Run(
        ['apiexport-example', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'],
        {},
        app,
        path.join(app, 'dist/src/cli/main.js'),
      );
      try {
        const line = await r.waitLog((l) => l['msg'] === 'reconciled configmap' && l['name'] === 'shipped', 'reconcile of shipped', 30_000);
        expect(line).to.include({ controller: 'apiexport-example', cluster });
        await eventFor(srv, 'tenant', 'shipped', 'Reconciled');
      } finally {
        const { code } = await r.stop('SIGTERM');
        expect(code, r.err).to.equal(0);
      }
    });
  });

  describe("a user's strict TypeScript project (npm install <tarball> @kubernetes/client-node)", () => {
    let user: string;
    const modules = (...p: string[]): string => path.join(user, 'node_modules', ...p);

    before(async () => {
      user = path.join(dir, 'user');
      fs.mkdirSync(user);
      fs.writeFileSync(path.join(user, 'package.json'), JSON.stringify({ name: 'my-provider', version: '1.0.0', private: true, type: 'module' }, null, 2));
      fs.writeFileSync(
        path.join(user, 'tsconfig.json'),
        JSON.stringify(
          {
            compilerOptions: {
              target: 'ES2022',
              module: 'nodenext',
              outDir: 'out',
              strict: true,
              skipLibCheck: false,
              noUnusedLocals: true,
              noUnusedParameters: true,
              exactOptionalPropertyTypes: true,
              noUncheckedIndexedAccess: true,
              noImplicitOverride: true,
              types: ['node', 'mocha'],
            },
            include: ['*.ts'],
          },
          null,
          2,
        ),
      );
      for (const b of readmeBlocks()) fs.writeFileSync(path.join(user, b.file), b.code);
      // client-node unpinned, as a user types it: npm picks the version; the package's peer range must
      // steer it. The compiler and its type packages at this repository's versions, so the check
      // does not move with every TypeScript release (and installs from the npm cache).
      const dev = readJSON(path.join(REPO, 'package.json')).devDependencies ?? {};
      const tools = ['typescript', '@types/node', '@types/mocha'].map((n) => `${n}@${dev[n] ?? 'latest'}`);
      await exec(npm, ['install', tarball, '@kubernetes/client-node', ...tools, ...NPM_FLAGS], { cwd: user, maxBuffer: 64 << 20 });
    });

    it('shares one @kubernetes/client-node 1.x with the package, recorded with the peer range', () => {
      expect(readJSON(modules('@kubernetes/client-node', 'package.json')).version).to.match(/^1\./);
      expect(fs.existsSync(modules('kcp-multicluster-provider', 'node_modules', '@kubernetes')), 'a second client-node under the package').to.equal(false);
      expect(readJSON(path.join(user, 'package.json')).dependencies?.['@kubernetes/client-node']).to.match(/^\^1\./);
    });

    it("compiles every TypeScript block of the README unchanged (strict, skipLibCheck false, noUnusedLocals)", async () => {
      const blocks = readmeBlocks();
      expect(blocks.map((b) => b.file)).to.include.members(['my-controller.ts', 'path-controller.ts']);
      expect(blocks.length).to.be.greaterThanOrEqual(6);
      const tsc = modules('.bin', 'tsc');
      const res = await exec(tsc, ['-p', '.'], { cwd: user, maxBuffer: 16 << 20 }).catch((e: { stdout?: string; stderr?: string }) => {
        throw new Error(`tsc failed in the user project:\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 8000));
      });
      expect(`${res.stdout}${res.stderr}`).to.equal('');
      for (const b of blocks) expect(fs.existsSync(path.join(user, 'out', b.file.replace(/\.ts$/, '.js'))), b.file).to.equal(true);
    });

    it("runs the README's test blocks (the provider conformance fixture, the controller test) green with mocha", async () => {
      const specs = readmeBlocks().filter((b) => /^(describe|providerConformance)\(/m.test(b.code)).map((b) => path.join('out', b.file.replace(/\.ts$/, '.js')));
      expect(specs).to.have.length(2);
      const mocha = path.join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js');
      const res = await exec(process.execPath, [mocha, '--timeout', '60000', '--reporter', 'dot', ...specs], { cwd: user, maxBuffer: 16 << 20 }).catch((e: { stdout?: string; stderr?: string }) => {
        throw new Error(`the README's tests failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 8000));
      });
      // Five conformance checks or more (the suite grows) and the controller test, none failing or skipped.
      expect(Number(/(\d+) passing/.exec(res.stdout)?.[1]), res.stdout).to.be.greaterThanOrEqual(6);
      expect(res.stdout).not.to.match(/failing|pending/);
    });

    it("runs the README's controller module with the project's kcp-mc: the tenant's ConfigMap mirrored, its Event recorded; exit 0 on SIGTERM", async () => {
      const { kubeconfig } = await boundTenant(srv, dir, 'mirror-provider', 'mirrors', 'mirror-tenant');
      const r = new Run(
        ['./out/my-controller.js', '--kubeconfig', kubeconfig, '--endpointslice', 'mirrors', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'],
        {},
        user,
        modules('.bin', 'kcp-mc'),
      );
      try {
        await r.waitLog((l) => l['msg'] === 'mirrored' && l['name'] === 'shipped', 'the mirror of shipped', 30_000);
        const res = await raw(srv, 'GET', '/clusters/root:mirror-tenant/api/v1/namespaces/default/configmaps/shipped-mirror');
        expect(res.status, res.text).to.equal(200);
        expect(res.json['data']).to.deep.equal({ from: 'shipped' });
        await eventFor(srv, 'mirror-tenant', 'shipped', 'Mirrored');
      } finally {
        const { code } = await r.stop('SIGTERM');
        expect(code, r.err).to.equal(0);
      }
    });
  });
});
