/**
 * examples/deploy as a user applies it: the Deployment passes `kubectl apply --dry-run=client`
 * (against a discovery-only API server: the reference server serves no apps/v1) and its probes and
 * flags are the ones `kcp-mc run` serves and accepts; kcp-rbac.yaml, applied with kubectl to the
 * reference server, is all a provider token needs: a manager on that token (leader election on)
 * reconciles a tenant's ConfigMaps, and a token without the binding is refused.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { load as loadYaml } from 'js-yaml';
import { APIExportProvider } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { CLI, REPO } from '../support/cli.js';
import { bind, createConfigMap, createExport, createWorkspace, sliceURLs, type Obj } from '../support/kcp.js';
import { kubectlFor } from '../support/kubectl.js';
import { recording, runWith, saw } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const exec = promisify(execFile);
const DEPLOY = path.join(REPO, 'examples/deploy');
const PROVIDER_TOKEN = 'kcp-mc-provider-token-0123456789';
const STRANGER_TOKEN = 'stranger-token-0123456789';

/** An API server that answers discovery for apps/v1 and 404 for every object. */
async function discoveryOnly(): Promise<{ url: string; close(): Promise<void> }> {
  const json = (res: http.ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/version') return json(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0' });
    if (p === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (p === '/api/v1') return json(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [] });
    if (p === '/apis') return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }] });
    if (p === '/apis/apps/v1') {
      return json(res, 200, { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }] });
    }
    json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('examples/deploy', function () {
  this.timeout(90_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-deploy-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [file, name] of [['deployment.yaml', 'kcp-mc-apiexport-example'], ['deployment-sharded.yaml', 'kcp-mc-apiexport-example-sharded']] as const) {
    it(`${file} passes kubectl apply --dry-run=client; its probes and flags are what kcp-mc run serves and accepts`, async () => {
      const api = await discoveryOnly();
      try {
        const kubeconfig = path.join(dir, 'stub.kubeconfig');
        fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${api.url}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\ncurrent-context: x\n`);
        const { kubectl } = kubectlFor(() => ({ srv: { kubeconfigPath: kubeconfig }, cacheDir: path.join(dir, `cache-stub-${file}`) }));
        const out = await kubectl(['apply', '--dry-run=client', '--validate=false', '-f', path.join(DEPLOY, file)]);
        expect(out).to.contain(`deployment.apps/${name} created (dry run)`);
      } finally {
        await api.close();
      }
      const d = loadYaml(fs.readFileSync(path.join(DEPLOY, file), 'utf8')) as Obj;
      const pod = d['spec'].template.spec as Obj;
      const c = pod['containers'][0] as Obj;
      expect(c['livenessProbe'].httpGet).to.include({ path: '/healthz', port: 'probes' });
      expect(c['readinessProbe'].httpGet).to.include({ path: '/readyz', port: 'probes' });
      expect(pod['securityContext'].runAsNonRoot).to.equal(true);
      expect(pod['volumes'][0].secret.secretName).to.equal('kcp-mc-kubeconfig');
      // Every flag and KCP_MC_* variable the container passes is one `kcp-mc run` documents.
      const { stdout: help } = await exec(process.execPath, [CLI, 'run', '--help']);
      const args = c['args'] as string[];
      expect(args.slice(0, 2)).to.deep.equal(['run', 'apiexport-example']);
      for (const a of args.slice(2)) expect(help, a).to.contain(a.split('=')[0]);
      for (const e of (c['env'] as Obj[] | undefined) ?? []) expect(help, e['name']).to.contain(e['name']);
    });
  }

  describe('kcp-rbac.yaml on the reference server', () => {
    let srv: RunningServer;
    let tenant: string;
    before(async () => {
      const tokens = path.join(dir, 'tokens.csv');
      fs.writeFileSync(tokens, `${PROVIDER_TOKEN},kcp-mc-provider,uid-p,""\n${STRANGER_TOKEN},stranger,uid-s,""\n`);
      srv = await start({ tokenFile: tokens });
      await createWorkspace(srv, 'root', 'provider');
      await createExport(srv, 'root:provider', 'cms');
      tenant = await createWorkspace(srv, 'root', 'tenant');
      await bind(srv, 'root:tenant', 'root:provider', 'cms');
      await createConfigMap(srv, 'root:tenant', 'deployed');
      const { kubectl } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache-kcp') }));
      const out = await kubectl(['--server', `${srv.url}/clusters/root:provider`, 'apply', '-f', path.join(DEPLOY, 'kcp-rbac.yaml')]);
      expect(out).to.contain('clusterrolebinding.rbac.authorization.k8s.io/kcp-mc-provider created');
    });
    after(() => srv?.stop());

    it('a manager on a token bound only by it reconciles the tenant (leader election on); another token is refused', async () => {
      const kc = kubeConfigFor(srv, 'root:provider', PROVIDER_TOKEN);
      let seen = new Map<string, Set<string>>();
      const rt = await runWith(
        (log) => new APIExportProvider(kc, { endpointSlice: 'cms', log }),
        (m) => void (seen = recording(m, 'deployed').seen),
        { kubeconfig: kc, leaderElection: { id: 'kcp-mc-apiexport-example', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 } },
      );
      try {
        await eventually(() => saw(seen, tenant, 'deployed'), 'the tenant ConfigMap reconciled with the provider token', 30_000);
        expect(rt.errors(), JSON.stringify(rt.errors())).to.deep.equal([]);
        const lease = await raw(srv, 'GET', '/clusters/root:provider/apis/coordination.k8s.io/v1/namespaces/default/leases/kcp-mc-apiexport-example');
        expect(lease.status, lease.text).to.equal(200);
        expect((lease.json['spec'] as Obj)['holderIdentity']).to.be.a('string');
      } finally {
        await rt.stop();
      }
      const strangerSlice = await raw(srv, 'GET', '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/cms', undefined, { Authorization: `Bearer ${STRANGER_TOKEN}` });
      expect(strangerSlice.status).to.equal(403);
      // Through the virtual workspace: the binding's user lists the tenant's ConfigMaps, the stranger is refused.
      const [url] = await sliceURLs(srv, 'root:provider', 'cms');
      const list = `${new URL(url!).pathname}/clusters/*/api/v1/configmaps`;
      const as = async (token: string): Promise<number> => (await raw(srv, 'GET', list, undefined, { Authorization: `Bearer ${token}` })).status;
      expect(await as(PROVIDER_TOKEN)).to.equal(200);
      expect(await as(STRANGER_TOKEN)).to.equal(403);
    });
  });
});
