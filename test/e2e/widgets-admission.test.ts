/**
 * The widgets service's admission as a user meets it with kubectl: `kcp-mc server`, `kcp-mc certs`
 * and `kcp-mc run widgets --install` with its webhooks, as separate processes, two tenants bound
 * to the export. The defaulting webhook fills `spec.size` and sees each tenant's logical cluster;
 * the validating one denies a color widgets cannot paint; the schema's CEL rule refuses a shrinking
 * size; with the webhook process gone, `Fail` denies with kube's message and `Ignore` admits.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { Widgets } from '../../controllers/widgets/index.js';
import { apiBinding } from '../../src/index.js';
import { CLI, Run, childEnv, killRuns } from '../support/cli.js';
import { kcpMcServer, type Proc } from '../support/example-process.js';
import { inCluster, kubectlFor } from '../support/kubectl.js';
import { closedPort } from '../support/runtime.js';
import { eventually } from '../support/server.js';

const TENANTS = ['tenant-a', 'tenant-b'];
// The APIBinding as `apiBinding` writes it: the export's claims accepted.
const BINDING = JSON.stringify(apiBinding(Widgets, 'root:widgets', 'widgets'));
const widget = (name: string, spec: string): string => `apiVersion: example.dev/v1alpha1\nkind: Widget\nmetadata: {name: ${name}, namespace: default}\nspec: ${spec}\n`;

describe('widgets admission: webhooks and a CEL rule, with kubectl against kcp-mc server (e2e)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: { proc: Proc; url: string; kubeconfigPath: string };
  let port = 0;
  const runs: Run[] = [];
  const clusters = new Map<string, string>();
  const k = kubectlFor(() => ({ srv: server, cacheDir: path.join(dir, 'cache') }));
  const kubectl = (ws: string, a: string[], stdin?: string): Promise<string> => k.kubectl([...inCluster(server, ws), ...a], stdin);
  const refused = async (ws: string, a: string[], stdin?: string): Promise<string> => (await k.kubectlFails([...inCluster(server, ws), ...a], stdin)).trim();
  const workspace = async (name: string): Promise<void> => {
    await kubectl('root', ['create', '-f', '-'], `apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata: {name: ${name}}\n`);
    await eventually(async () => (await kubectl('root', ['get', 'workspace', name, '-o', 'jsonpath={.status.phase}'])) === 'Ready', `${name} Ready`, 30_000);
    clusters.set(name, await kubectl('root', ['get', 'workspace', name, '-o', 'jsonpath={.spec.cluster}']));
  };
  const runWidgets = (kubeconfig: string, certDir: string): Run => {
    const r = new Run([
      'widgets', '--install', '--kubeconfig', kubeconfig, '--metrics-bind-address', '0', '--health-probe-bind-address', '0',
      '--webhook-bind-address', `127.0.0.1:${port}`, '--webhook-cert-dir', certDir, '--webhook-url', `https://127.0.0.1:${port}`,
    ]);
    runs.push(r);
    return r;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-widgets-admission-'));
    server = await kcpMcServer(path.join(dir, '.kcp'));
    port = await closedPort();
  });
  afterEach(() => killRuns(runs));
  after(async () => {
    if (server) expect(await server.proc.stop('SIGTERM')).to.equal(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('defaults size and sees each tenant\'s cluster, denies an unpaintable color, refuses a shrinking size by CEL', async () => {
    for (const ws of ['widgets', ...TENANTS]) await workspace(ws);
    const certDir = path.join(dir, 'certs');
    const certs = spawnSync(process.execPath, [CLI, 'certs', '--cert-dir', certDir, '--host', '127.0.0.1'], { env: childEnv(), encoding: 'utf8' });
    expect(certs.status, certs.stderr).to.equal(0);
    const provider = path.join(dir, 'provider.kubeconfig');
    fs.writeFileSync(provider, fs.readFileSync(server.kubeconfigPath, 'utf8').replaceAll(`server: ${server.url}/clusters/root\n`, `server: ${server.url}/clusters/root:widgets\n`), { mode: 0o600 });
    const run = runWidgets(provider, certDir);
    await run.waitLog((l) => l['msg'] === 'serving webhooks', 'the webhook server', 30_000);
    await run.waitLog((l) => l['msg'] === 'starting', 'the controller', 30_000);
    expect(run.logs().filter((l) => l['msg'] === 'installed').map((l) => l['kind'])).to.include.members(['APIResourceSchema', 'APIExport', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    for (const t of TENANTS) {
      await kubectl(`root:${t}`, ['apply', '-f', '-'], BINDING);
      await kubectl(`root:${t}`, ['wait', '--for=condition=Ready', 'apibinding/widgets', '--timeout=30s']);
      await eventually(async () => (await kubectl(`root:${t}`, ['api-resources', '--api-group', 'example.dev', '-o', 'name'])).includes('widgets'), `widgets served in ${t}`, 30_000);
    }

    // Defaulted by the mutating webhook, which sees the tenant's own logical cluster.
    for (const t of TENANTS) {
      await kubectl(`root:${t}`, ['create', '-f', '-'], widget('plain', '{color: green}'));
      expect(await kubectl(`root:${t}`, ['get', 'widget', 'plain', '-o', 'jsonpath={.spec.size}'])).to.equal('1');
    }
    const seen = run.logs().filter((l) => l['msg'] === 'defaulted size').map((l) => l['cluster']);
    expect(seen).to.deep.equal(TENANTS.map((t) => clusters.get(t)));
    expect(new Set(seen).size).to.equal(2);

    // Denied by the validating webhook, with its message as kube relays it.
    expect(await refused('root:tenant-a', ['create', '-f', '-'], widget('pink', '{size: 2, color: pink}'))).to.equal(
      'Error from server (Forbidden): error when creating "STDIN": admission webhook "vwidget.example.dev" denied the request: spec.color: Unsupported value: "pink": supported values: "red", "green", "blue", "yellow"',
    );
    expect(await refused('root:tenant-a', ['patch', 'widget', 'plain', '--type', 'merge', '-p', '{"spec":{"color":"pink"}}'])).to.contain('denied the request: spec.color: Unsupported value: "pink"');

    // The CEL rule: size may only grow.
    await kubectl('root:tenant-b', ['patch', 'widget', 'plain', '--type', 'merge', '-p', '{"spec":{"size":3}}']);
    expect(await refused('root:tenant-b', ['patch', 'widget', 'plain', '--type', 'merge', '-p', '{"spec":{"size":2}}'])).to.equal(
      'The Widget "plain" is invalid: spec.size: Invalid value: 2: size may only grow',
    );
    expect(await kubectl('root:tenant-b', ['get', 'widget', 'plain', '-o', 'jsonpath={.spec.size}'])).to.equal('3');
    await eventually(async () => (await kubectl('root:tenant-b', ['get', 'configmap', 'plain-widget', '-o', 'jsonpath={.data.size}']).catch(() => '')) === '3', 'the ConfigMap follows', 30_000);
    expect(run.logs().filter((l) => l['level'] === 'error')).to.deep.equal([]);
    expect((await run.stop('SIGTERM')).code, run.err).to.equal(0);
  });

  it('with the webhook process gone, failurePolicy Fail denies with kube\'s message and Ignore admits (the controller still refuses the color)', async () => {
    const fail = await refused('root:tenant-a', ['create', '-f', '-'], widget('down', '{size: 2}'));
    expect(fail).to.match(/^Error from server \(InternalError\): error when creating "STDIN": Internal error occurred: failed calling webhook "mwidget\.example\.dev": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/mutate-example-dev-v1alpha1-widget\?timeout=10s": /);
    for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
      await kubectl('root:widgets', ['patch', kind, 'kcp-mc-widgets', '--type', 'json', '-p', '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]']);
    }
    await eventually(async () => (await kubectl('root:tenant-a', ['create', '-f', '-'], widget('pink', '{size: 2, color: pink}')).catch(() => undefined)) !== undefined, 'admitted under Ignore', 20_000);
    expect(await kubectl('root:tenant-a', ['get', 'widget', 'pink', '-o', 'jsonpath={.spec.color}'])).to.equal('pink');
    // Without the webhook, the schema's own rules still hold: no size is a required-field error.
    expect(await refused('root:tenant-a', ['create', '-f', '-'], widget('nosize', '{color: red}'))).to.contain('spec.size: Required value');

    // The controller alone (webhooks off) refuses what slipped through.
    const controller = new Run(['widgets', '--kubeconfig', path.join(dir, 'provider.kubeconfig'), '--metrics-bind-address', '0', '--health-probe-bind-address', '0'], { ENABLE_WEBHOOKS: 'false' });
    runs.push(controller);
    await eventually(async () => (await kubectl('root:tenant-a', ['get', 'widget', 'pink', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'])) === 'InvalidColor', 'pink refused by the controller', 30_000);
    expect((await controller.stop('SIGTERM')).code, controller.err).to.equal(0);
  });
});
