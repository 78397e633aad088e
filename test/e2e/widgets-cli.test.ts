/**
 * The widgets service as a user runs it: `kcp-mc server` and `kcp-mc run widgets --install` as two
 * separate processes, a tenant binding the export with kubectl, a Widget served (ConfigMap,
 * status), deleted through its finalizer, `--install` run again (idempotent), SIGTERM exits 0.
 * The webhooks are switched off (`ENABLE_WEBHOOKS=false`): widgets-admission.test.ts runs them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { CLI, Run } from '../support/cli.js';
import { eventually } from '../support/server.js';

const exec = promisify(execFile);

describe('kcp-mc run widgets --install against kcp-mc server (e2e, kubectl)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: ChildProcess | undefined;
  let base = '';
  let admin = '';
  const kubectl = async (ws: string, args: string[], stdin?: string): Promise<string> => {
    const child = exec('kubectl', ['--kubeconfig', admin, '--cache-dir', path.join(dir, 'cache'), '--server', `${base}/clusters/${ws}`, ...args], { timeout: 30_000 });
    if (stdin !== undefined) child.child.stdin!.end(stdin);
    return (await child).stdout;
  };
  const workspace = async (name: string): Promise<void> => {
    await kubectl('root', ['create', '-f', '-'], `apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata: {name: ${name}}\n`);
    await eventually(async () => (await kubectl('root', ['get', 'workspace', name, '-o', 'jsonpath={.status.phase}'])) === 'Ready', `${name} Ready`, 30_000);
  };
  const runWidgets = (kubeconfig: string): Run =>
    new Run(['widgets', '--install', '--kubeconfig', kubeconfig, '--metrics-bind-address', '0', '--health-probe-bind-address', '127.0.0.1:0'], { ENABLE_WEBHOOKS: 'false' });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-widgets-'));
    server = spawn(process.execPath, [CLI, 'server', '--port', '0', '--root-dir', path.join(dir, '.kcp')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const m = await eventually(() => /ready at (https:\/\/127\.0\.0\.1:\d+)\/clusters\/root \(port \d+\); kubeconfig: (.+)$/m.exec(out), 'server ready line', 20_000);
    base = m![1]!;
    admin = m![2]!;
  });
  after(async () => {
    if (server && server.exitCode === null) {
      const exit = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
      server.kill('SIGTERM');
      expect(await exit).to.equal(0);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('installs, serves a tenant\'s Widget, deletes it through the finalizer; a second --install is a no-op', async () => {
    await workspace('widgets');
    await workspace('tenant');
    const provider = path.join(dir, 'provider.kubeconfig');
    fs.writeFileSync(provider, fs.readFileSync(admin, 'utf8').replaceAll(`server: ${base}/clusters/root\n`, `server: ${base}/clusters/root:widgets\n`), { mode: 0o600 });

    const first = runWidgets(provider);
    try {
      await first.waitLog((l) => l['msg'] === 'starting', 'the controller started after installing', 30_000);
      expect(first.logs().filter((l) => l['msg'] === 'installed').map((l) => l['kind'])).to.include.members(['APIResourceSchema', 'APIExport']);
      expect(await kubectl('root:widgets', ['get', 'apiexports.apis.kcp.io', 'widgets.example.dev', '-o', 'name'])).to.contain('widgets.example.dev');

      await kubectl('root:tenant', ['apply', '-f', '-'], `apiVersion: apis.kcp.io/v1alpha2
kind: APIBinding
metadata: {name: widgets}
spec:
  reference: {export: {path: root:widgets, name: widgets.example.dev}}
  permissionClaims:
  - {group: "", resource: configmaps, verbs: ["*"], selector: {matchAll: true}, state: Accepted}
  - {group: "", resource: events, verbs: ["*"], selector: {matchAll: true}, state: Accepted}
`);
      await eventually(async () => (await kubectl('root:tenant', ['get', 'apibinding', 'widgets', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 'binding Ready', 30_000);
      await eventually(async () => (await kubectl('root:tenant', ['api-resources', '--api-group', 'example.dev', '-o', 'name'])).includes('widgets'), 'widgets served in the tenant', 30_000);

      await kubectl('root:tenant', ['apply', '-f', '-'], 'apiVersion: example.dev/v1alpha1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 4, color: yellow}\n');
      const data = await eventually(async () => {
        const r = await kubectl('root:tenant', ['get', 'configmap', 'w1-widget', '-o', 'jsonpath={.data}']).catch(() => '');
        return r ? (JSON.parse(r) as Record<string, string>) : undefined;
      }, 'the ConfigMap', 30_000);
      expect(data).to.deep.equal({ size: '4', color: 'yellow' });
      await eventually(async () => (await kubectl('root:tenant', ['get', 'widget', 'w1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'])) === 'Reconciled', 'w1 Ready', 30_000);
      expect(await kubectl('root:tenant', ['get', 'widgets'])).to.match(/w1\s+4\s+yellow\s+True/);

      // kubectl delete waits for the finalizer; the ConfigMap went first.
      await kubectl('root:tenant', ['delete', 'widget', 'w1', '--timeout=30s']);
      expect(await kubectl('root:tenant', ['get', 'configmaps', '-o', 'name'])).to.not.contain('w1-widget');
      expect(first.logs().filter((l) => l['level'] === 'error')).to.deep.equal([]);
    } finally {
      expect((await first.stop('SIGTERM')).code, first.err).to.equal(0);
    }

    const again = runWidgets(provider);
    try {
      await again.waitLog((l) => l['msg'] === 'starting', 'the second run started', 30_000);
      // The schema is named by its content: the same content is the same schema, left alone.
      expect(again.logs().filter((l) => l['msg'] === 'installed').map((l) => l['kind'])).to.deep.equal(['APIExport']);
      expect(again.logs().some((l) => l['msg'] === 'schema unchanged')).to.equal(true);
    } finally {
      expect((await again.stop('SIGTERM')).code, again.err).to.equal(0);
    }
  });
});
