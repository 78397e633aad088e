/**
 * `kcp-mc apigen` as a user runs it: a defineAPI module's manifests printed in apply order;
 * controller-gen CRDs (two versions, one stored; status and scale; printer columns; preserved
 * fields; int-or-string; CEL) converted into an output directory, applied to the reference server
 * with kubectl and bound from a tenant that then creates and lists objects; unchanged
 * schemas keeping their names on a later run, changed ones renamed; bad input one line per file,
 * exit code 2. And `kcp-mc run <module> --install` installing the module's `apis`, then watching
 * their export's endpoint slice.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { load, loadAll } from 'js-yaml';
import type { RunningServer } from '../../src/server/index.js';
import { CLI, Run, childEnv, writeKubeconfig } from '../support/cli.js';
import { createWorkspace, type Obj } from '../support/kcp.js';
import { eventually, raw, start } from '../support/server.js';

const exec = promisify(execFile);
const CRDS = path.resolve('test/fixtures/crds');
const MODULE = path.resolve('dist/test/support/api-module.js');
const NAME = /^v\d{6}-[0-9a-f]{8}\.(caches|snapshots|databases|backups)\.example\.dev$/;

async function apigen(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, 'apigen', ...args], { env: childEnv(), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout = '', stderr = '' } = e as { code: number; stdout?: string; stderr?: string };
    return { code, stdout, stderr };
  }
}

const readYAML = (file: string): Obj => load(fs.readFileSync(file, 'utf8')) as Obj;

describe('kcp-mc apigen (e2e)', function () {
  this.timeout(90_000);
  let dir: string;
  let srv: RunningServer;
  const kubectl = async (ws: string, args: string[], stdin?: string): Promise<string> => {
    const child = exec('kubectl', ['--kubeconfig', srv.kubeconfigPath, '--cache-dir', path.join(dir, 'cache'), '--server', `${srv.url}/clusters/${ws}`, ...args], { timeout: 30_000 });
    if (stdin !== undefined) child.child.stdin!.end(stdin);
    return (await child).stdout;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-apigen-'));
    srv = await start();
  });
  after(async () => {
    await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints a module\'s schemas, then its export, as YAML', async () => {
    const r = await apigen([MODULE]);
    expect(r.code, r.stderr).to.equal(0);
    const docs = loadAll(r.stdout) as Obj[];
    expect(docs.map((d) => d['kind'])).to.deep.equal(['APIResourceSchema', 'APIResourceSchema', 'APIExport']);
    for (const d of docs.slice(0, 2)) expect(d['metadata'].name).to.match(NAME);
    expect(docs[2]!['spec'].resources.map((x: Obj) => x['schema'])).to.have.members(docs.slice(0, 2).map((d) => d['metadata'].name));
  });

  it('converts controller-gen CRDs into a directory that applies, binds and serves; unchanged schemas keep their names, changed ones do not', async () => {
    const out = path.join(dir, 'kcp');
    const r = await apigen(['--from-crd', CRDS, '--output-dir', out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.readdirSync(out).sort()).to.deep.equal(['apiexport-example.dev.yaml', 'apiresourceschema-caches.example.dev.yaml', 'apiresourceschema-snapshots.example.dev.yaml']);
    const caches = readYAML(path.join(out, 'apiresourceschema-caches.example.dev.yaml'));
    expect(caches['metadata'].name).to.match(NAME);
    expect(caches['spec'].names).to.include({ kind: 'Cache', plural: 'caches', listKind: 'CacheList' });
    expect(caches['spec'].conversion).to.deep.equal({ strategy: 'None' });
    const [v1, v1alpha1] = caches['spec'].versions as Obj[];
    expect([v1!['name'], v1!['storage'], v1alpha1!['name'], v1alpha1!['storage']]).to.deep.equal(['v1', true, 'v1alpha1', false]);
    expect(v1!['schema'].openAPIV3Schema, 'unwrapped').to.equal(undefined);
    expect(v1!['schema'].properties.spec.properties.config['x-kubernetes-preserve-unknown-fields']).to.equal(true);
    expect(v1!['subresources']).to.deep.equal({ status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } });
    expect((v1!['additionalPrinterColumns'] as Obj[]).map((c) => c['name'])).to.deep.equal(['Size', 'Replicas', 'Age']);
    const exp = readYAML(path.join(out, 'apiexport-example.dev.yaml'));
    expect(exp['metadata'].name).to.equal('example.dev');
    expect(exp['spec'].resources.map((x: Obj) => x['name'])).to.deep.equal(['caches', 'snapshots']);

    // Apply as a provider would, bind from a tenant, use the API there.
    await createWorkspace(srv, 'root', 'cache-provider');
    await createWorkspace(srv, 'root', 'cache-tenant');
    await kubectl('root:cache-provider', ['apply', '-f', out]);
    await kubectl('root:cache-tenant', ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIBinding',
      metadata: { name: 'caches' },
      spec: { reference: { export: { path: 'root:cache-provider', name: 'example.dev' } } },
    }));
    await kubectl('root:cache-tenant', ['wait', '--for=condition=Ready', 'apibinding/caches', '--timeout=30s']);
    await eventually(async () => (await kubectl('root:cache-tenant', ['api-resources', '--api-group=example.dev', '-o', 'name'])).includes('caches.example.dev'), 'caches served', 20_000);
    await kubectl('root:cache-tenant', ['apply', '-f', '-'], 'apiVersion: example.dev/v1\nkind: Cache\nmetadata: {name: c1, namespace: default}\nspec: {size: 2Gi, config: {maxmemory-policy: allkeys-lru}}\n');
    const c1 = JSON.parse(await kubectl('root:cache-tenant', ['get', 'cache', 'c1', '-o', 'json'])) as Obj;
    expect(c1['spec']).to.deep.include({ engine: 'redis', replicas: 1, size: '2Gi', config: { 'maxmemory-policy': 'allkeys-lru' } });
    expect(await kubectl('root:cache-tenant', ['get', 'caches'])).to.match(/^NAME\s+SIZE\s+REPLICAS\s+AGE\nc1\s+2Gi\s/);
    // The schema's own checks hold in the tenant: bounds and enums.
    const refused = await kubectl('root:cache-tenant', ['apply', '-f', '-'], 'apiVersion: example.dev/v1\nkind: Cache\nmetadata: {name: c2, namespace: default}\nspec: {size: 1, engine: etcd, replicas: 12}\n').catch((e: { stderr: string }) => e.stderr);
    expect(refused).to.contain('spec.engine: Unsupported value: "etcd"').and.to.contain('spec.replicas: Invalid value: 12');

    // A later run: the unchanged schema keeps its (older) name; a changed CRD gets a new one, and
    // a claim added to the export file by hand stays.
    const cachesFile = path.join(out, 'apiresourceschema-caches.example.dev.yaml');
    const older = (caches['metadata'].name as string).replace(/^v\d{6}/, 'v250101');
    fs.writeFileSync(cachesFile, fs.readFileSync(cachesFile, 'utf8').replace(caches['metadata'].name as string, older));
    const expFile = path.join(out, 'apiexport-example.dev.yaml');
    const withClaim = readYAML(expFile);
    withClaim['spec'].permissionClaims = [{ group: '', resource: 'secrets', verbs: ['get'] }];
    fs.writeFileSync(expFile, JSON.stringify(withClaim));
    const crds = path.join(dir, 'crds');
    fs.mkdirSync(crds);
    fs.copyFileSync(path.join(CRDS, 'example.dev_caches.yaml'), path.join(crds, 'caches.yaml'));
    fs.writeFileSync(path.join(crds, 'snapshots.yaml'), fs.readFileSync(path.join(CRDS, 'example.dev_snapshots.yaml'), 'utf8').replace('cache:\n', 'retain:\n                type: boolean\n              cache:\n'));
    const snapshotsBefore = readYAML(path.join(out, 'apiresourceschema-snapshots.example.dev.yaml'))['metadata'].name as string;
    const again = await apigen(['--from-crd', crds, '--output-dir', out]);
    expect(again.code, again.stderr).to.equal(0);
    expect(readYAML(cachesFile)['metadata'].name).to.equal(older);
    const snapshotsAfter = readYAML(path.join(out, 'apiresourceschema-snapshots.example.dev.yaml'))['metadata'].name as string;
    expect(snapshotsAfter).to.match(NAME).and.not.equal(snapshotsBefore);
    const exp2 = readYAML(expFile);
    expect(exp2['spec'].resources.map((x: Obj) => x['schema'])).to.deep.equal([older, snapshotsAfter]);
    expect(exp2['spec'].permissionClaims).to.deep.equal([{ group: '', resource: 'secrets', verbs: ['get'] }]);
  });

  it('reports bad input one line per file and exits 2, writing nothing', async () => {
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'a-notcrd.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    fs.writeFileSync(path.join(bad, 'b-broken.yaml'), 'apiVersion: apiextensions.k8s.io/v1\nkind: [unclosed\n');
    const crd = fs.readFileSync(path.join(CRDS, 'example.dev_snapshots.yaml'), 'utf8');
    fs.writeFileSync(path.join(bad, 'c-untyped.yaml'), crd.replace('cache:\n                type: string\n', 'cache:\n                description: no type\n'));
    fs.writeFileSync(path.join(bad, 'd-good.yaml'), crd);
    const out = path.join(dir, 'bad-out');
    const r = await apigen(['--from-crd', bad, '--output-dir', out]);
    expect(r.code).to.equal(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.equal(`kcp-mc apigen: ${path.join(bad, 'a-notcrd.yaml')}: document 1 is not a CustomResourceDefinition (kind ConfigMap)`);
    expect(lines[1]).to.match(new RegExp(`^kcp-mc apigen: ${path.join(bad, 'b-broken.yaml')}: invalid YAML: `));
    expect(lines[2]).to.equal(
      `kcp-mc apigen: ${path.join(bad, 'c-untyped.yaml')}: CustomResourceDefinition snapshots.example.dev has no structural schema: spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[cache].type: Required value: must not be empty for specified object fields`,
    );
    expect(fs.existsSync(out)).to.equal(false);
    const neither = await apigen([]);
    expect([neither.code, neither.stderr.trim().split('\n').length]).to.deep.equal([2, 1]);
    const noApis = await apigen([path.resolve('dist/src/log/index.js')]);
    expect(noApis.code).to.equal(2);
    expect(noApis.stderr).to.match(/exports no apis/);
  });

  it('kcp-mc run <module> --install installs the module\'s apis and watches their export\'s endpoint slice', async () => {
    await createWorkspace(srv, 'root', 'run-provider');
    const run = new Run([MODULE, '--install', '--kubeconfig', writeKubeconfig(dir, srv, 'root:run-provider'), '--metrics-bind-address', '0', '--health-probe-bind-address', '127.0.0.1:0']);
    try {
      const started = await run.waitLog((l) => l['msg'] === 'starting', 'starting', 30_000);
      expect(started['endpointSlice']).to.equal('databases.example.dev');
      const installed = run.logs().filter((l) => l['msg'] === 'installed').map((l) => l['kind']);
      expect(installed.slice(0, 3)).to.deep.equal(['APIResourceSchema', 'APIResourceSchema', 'APIExport']);
      const exp = (await raw(srv, 'GET', '/clusters/root:run-provider/apis/apis.kcp.io/v1alpha2/apiexports/databases.example.dev')).json as Obj;
      expect(exp['spec'].resources.map((r: Obj) => r['name'])).to.deep.equal(['backups', 'databases']);
      expect((await run.stop('SIGTERM')).code).to.equal(0);
    } finally {
      if (run.child.exitCode === null) await run.stop('SIGKILL');
    }
  });
});
