/**
 * Webhooks from the command line: `kcp-mc certs` makes a CA and a serving certificate, and
 * `kcp-mc run --install` of a module with a webhook serves it and writes its configuration into
 * the provider workspace, so that kcp (here the reference server) calls it for a consumer's
 * bound resource. `--install` without a URL to write is a usage error.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { childEnv, CLI, REPO, Run, killRuns, writeKubeconfig } from '../support/cli.js';
import type { Obj } from '../support/kcp.js';
import { bindingTo, cowboysExport, cowboysSchema, inCluster, kubectlFor } from '../support/kubectl.js';
import { closedPort } from '../support/runtime.js';
import { eventually, start } from '../support/server.js';

const PROVIDER = `${cowboysSchema(
  `  - name: v1alpha1
    served: true
    storage: true
    schema: {type: object, properties: {spec: {type: object, properties: {color: {type: string}}}}}
`,
)}---
${cowboysExport('wildwest')}`;

const MODULE = `import { WebhookDenied } from 'kcp-multicluster-provider';

export const name = 'cowboy-hooks';

export default function setup(manager) {
  manager.webhook({ apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy' }).validate({
    create: (cowboy, ctx) => {
      if (cowboy.spec?.color === 'pink') throw new WebhookDenied('cannot paint pink in ' + ctx.cluster);
    },
  });
}
`;

describe('webhooks from kcp-mc (e2e)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let dir: string;
  let certDir: string;
  let kubeconfig: string;
  let modulePath: string;
  const runs: Run[] = [];
  const k = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'kubectl-cache') }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-webhooks-'));
    certDir = path.join(dir, 'certs');
    srv = await start();
    srv.createLogicalCluster(undefined, { path: 'root:hooks-cli' });
    await kubectl('root:hooks-cli', ['apply', '-f', '-'], PROVIDER);
    kubeconfig = writeKubeconfig(dir, srv, 'root:hooks-cli');
    const project = path.join(dir, 'project');
    fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
    fs.symlinkSync(REPO, path.join(project, 'node_modules', 'kcp-multicluster-provider'), 'dir');
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'hooks', type: 'module', private: true }));
    modulePath = path.join(project, 'hooks.js');
    fs.writeFileSync(modulePath, MODULE);
  });
  afterEach(() => killRuns(runs));
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('kcp-mc certs writes a CA and a serving certificate it signed, for the hosts asked', () => {
    const r = spawnSync(process.execPath, [CLI, 'certs', '--cert-dir', certDir, '--host', '127.0.0.1', 'localhost'], { env: childEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`wrote ca.crt, ca.key, tls.crt and tls.key to ${certDir}`);
    const ca = new X509Certificate(fs.readFileSync(path.join(certDir, 'ca.crt')));
    const leaf = new X509Certificate(fs.readFileSync(path.join(certDir, 'tls.crt')));
    expect(ca.ca).to.equal(true);
    expect(leaf.ca).to.equal(false);
    expect(leaf.verify(ca.publicKey)).to.equal(true);
    expect(leaf.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(leaf.checkHost('localhost')).to.equal('localhost');
    expect(fs.statSync(path.join(certDir, 'tls.key')).mode & 0o077).to.equal(0);
  });

  it('kcp-mc run --install without a webhook URL is a usage error (exit 2)', async () => {
    const r = new Run([modulePath, '--kubeconfig', kubeconfig, '--endpointslice', 'wildwest', '--install', '--webhook-cert-dir', certDir]);
    runs.push(r);
    expect(await r.exited).to.equal(2);
    expect(r.err.trim()).to.equal('kcp-mc run: --install with webhooks needs --webhook-url (the https URL at which kcp reaches this process; `kcp-mc certs --cert-dir DIR` makes a serving certificate for --webhook-cert-dir)');
  });

  it('kcp-mc run --install serves the webhook and writes its configuration; the server calls it for a consumer', async () => {
    const port = await closedPort();
    const r = new Run(
      [modulePath, '--kubeconfig', kubeconfig, '--endpointslice', 'wildwest', '--install', '--webhook-bind-address', `127.0.0.1:${port}`, '--metrics-bind-address', '0', '--health-probe-bind-address', '0'],
      { KCP_MC_WEBHOOK_URL: `https://127.0.0.1:${port}`, KCP_MC_WEBHOOK_CERT_DIR: certDir },
    );
    runs.push(r);
    await r.waitLog((l) => l.msg === 'serving webhooks', 'the webhook server');
    const installed = r.logs().find((l) => l.msg === 'installed' && l.kind === 'ValidatingWebhookConfiguration') as Obj;
    expect(installed).to.deep.include({ name: 'kcp-mc-cowboy-hooks', webhooks: ['vcowboy.wildwest.dev'] });
    const cfg = await k.kubectlJSON<Obj>([...inCluster(srv, 'root:hooks-cli'), 'get', 'validatingwebhookconfiguration', 'kcp-mc-cowboy-hooks']);
    expect(cfg['webhooks'][0]['clientConfig']['url']).to.equal(`https://127.0.0.1:${port}/validate-wildwest-dev-v1alpha1-cowboy`);

    const consumer = srv.createLogicalCluster(undefined, { path: 'root:hooks-cli-consumer' });
    await kubectl('root:hooks-cli-consumer', ['apply', '-f', '-'], bindingTo('root:hooks-cli', 'wildwest'));
    await kubectl('root:hooks-cli-consumer', ['wait', '--for=condition=Ready', 'apibinding/wildwest', '--timeout=20s']);
    const cowboy = JSON.stringify({ apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy', metadata: { name: 'pinky', namespace: 'default' }, spec: { color: 'pink' } });
    const denied = await eventually(async () => {
      const s = await k.kubectlSettled([...inCluster(srv, 'root:hooks-cli-consumer'), 'create', '-f', '-'], cowboy);
      return s.ok ? undefined : s.stderr;
    }, 'the denial');
    expect(denied!.trim()).to.equal(`Error from server (Forbidden): error when creating "STDIN": admission webhook "vcowboy.wildwest.dev" denied the request: cannot paint pink in ${consumer}`);
  });
});
