/**
 * The package as the image's runtime stage installs it: `npm pack`, the tarball unpacked into an
 * empty folder with the lockfile, `npm ci --omit=dev`, and `kcp-mc run apiexport-example` started
 * from there against the reference server. A runtime dependency missing from `dependencies` (or a
 * file missing from `files`) fails here.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { REPO, Run, writeKubeconfig } from '../support/cli.js';
import { bind, createConfigMap, createExport, createWorkspace, type Obj } from '../support/kcp.js';
import { eventually, raw, start } from '../support/server.js';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('production install (npm pack, npm ci --omit=dev) runs kcp-mc', function () {
  this.timeout(240_000);
  let dir: string;
  let app: string;
  let srv: RunningServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-prod-'));
    app = path.join(dir, 'app');
    fs.mkdirSync(app);
    const { stdout } = await exec(npm, ['pack', '--json', '--pack-destination', dir], { cwd: REPO, maxBuffer: 64 << 20 });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    await exec('tar', ['-xzf', path.join(dir, packed!.filename), '-C', app, '--strip-components=1']);
    fs.copyFileSync(path.join(REPO, 'package-lock.json'), path.join(app, 'package-lock.json'));
    // From the local cache when it holds the packages (as after the repository's own npm ci).
    await exec(npm, ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, maxBuffer: 64 << 20 });
    srv = await start();
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds the runtime dependencies only, and the CLI and bundled controllers', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const d of Object.keys(pkg.dependencies)) expect(fs.existsSync(path.join(app, 'node_modules', d)), d).to.equal(true);
    // Type packages may come in as dependencies of a runtime dependency (client-node ships some).
    for (const d of Object.keys(pkg.devDependencies).filter((n) => !n.startsWith('@types/'))) expect(fs.existsSync(path.join(app, 'node_modules', d)), `dev dependency ${d} installed`).to.equal(false);
    expect(fs.existsSync(path.join(app, 'dist/src/cli/main.js'))).to.equal(true);
    expect(fs.existsSync(path.join(app, 'dist/controllers/apiexport-example/index.js'))).to.equal(true);
    expect(fs.existsSync(path.join(app, 'dist/test')), 'tests are not shipped').to.equal(false);
  });

  it('kcp-mc run apiexport-example reconciles a bound workspace and records its Event; exit 0 on SIGTERM', async () => {
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'cms');
    const tenant = await createWorkspace(srv, 'root', 'tenant');
    await bind(srv, 'root:tenant', 'root:provider', 'cms');
    await createConfigMap(srv, 'root:tenant', 'shipped', { a: '1' });
    const kubeconfig = writeKubeconfig(dir, srv, 'root:provider');
    const r = new Run(
      ['apiexport-example', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'],
      {},
      app,
      path.join(app, 'dist/src/cli/main.js'),
    );
    try {
      const line = await r.waitLog((l) => l['msg'] === 'reconciled configmap' && l['name'] === 'shipped', 'reconcile of shipped', 30_000);
      expect(line).to.include({ controller: 'apiexport-example', cluster: tenant });
      await eventually(async () => {
        const res = await raw(srv, 'GET', '/clusters/root:tenant/apis/events.k8s.io/v1/namespaces/default/events');
        return ((res.json['items'] as Obj[] | undefined) ?? []).some((e) => e['regarding']?.name === 'shipped' && e['reason'] === 'Reconciled');
      }, 'the Reconciled Event in the tenant workspace');
    } finally {
      const { code } = await r.stop('SIGTERM');
      expect(code, r.err).to.equal(0);
    }
  });
});
