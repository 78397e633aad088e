/**
 * The testing kit (`kcp-multicluster-provider/testing`): every helper of `startTestEnvironment`
 * against the reference server, a user's own controller test as the README shows it, readable
 * timeouts, and a teardown that leaves nothing open (a child process using the kit exits by itself).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { APIExportProvider, ClusterClient, Logger, Manager, Transport, isLogicalClusterName, type KubernetesObject } from '../../src/index.js';
import {
  API_BINDING,
  WORKSPACE,
  WaitTimeoutError,
  parseManifests,
  startTestEnvironment,
  waitFor,
  type TestEnvironment,
} from '../../src/testing/index.js';
import { kubectlFor } from '../support/kubectl.js';
import { rejection } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const quiet = (): Logger => new Logger({ level: 'error' });

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

// A type published and bound in one workspace, one of its objects, an empty document and a List.
const TYPE_AND_OBJECTS = `
apiVersion: apis.kcp.io/v1alpha1
kind: APIResourceSchema
metadata: { name: v1.gadgets.example.dev }
spec:
  group: example.dev
  names: { plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList }
  scope: Namespaced
  versions:
  - { name: v1, served: true, storage: true, schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
---
apiVersion: apis.kcp.io/v1alpha2
kind: APIExport
metadata: { name: gadgets }
spec:
  resources: [{ name: gadgets, group: example.dev, schema: v1.gadgets.example.dev, storage: { crd: {} } }]
---
apiVersion: apis.kcp.io/v1alpha2
kind: APIBinding
metadata: { name: gadgets }
spec: { reference: { export: { path: 'root:apply', name: gadgets } } }
---
apiVersion: example.dev/v1
kind: Gadget
metadata: { name: g1 }
spec: { size: 3 }
---
# an empty document, then a List
---
apiVersion: v1
kind: List
items:
- { apiVersion: v1, kind: Namespace, metadata: { name: kit } }
- { apiVersion: v1, kind: ConfigMap, metadata: { name: from-list, namespace: kit }, data: { a: '1' } }
`;

describe('testing kit: startTestEnvironment', function () {
  this.timeout(60_000);
  let env: TestEnvironment;

  before(async () => {
    env = await startTestEnvironment({ timeoutMs: 20_000 });
  });
  after(() => env?.stop());

  describe('createWorkspace', () => {
    it('creates a workspace by path with its missing parents, Ready, and returns its logical cluster name and path', async () => {
      const team = await env.createWorkspace('root:org:team');
      expect(team.path).to.equal('root:org:team');
      expect(isLogicalClusterName(team.name), team.name).to.equal(true);
      expect(team.workspace.status?.phase).to.equal('Ready');
      const org = await env.client('root').get(WORKSPACE, { name: 'org' });
      expect(org.status?.phase).to.equal('Ready');
      // The workspace answers by path and by its logical cluster name alike.
      const byPath = await env.client('root:org:team').get(CM, { namespace: 'default', name: 'kube-root-ca.crt' });
      const byName = await env.client(team.name).get(CM, { namespace: 'default', name: 'kube-root-ca.crt' });
      expect(byName.metadata?.uid).to.equal(byPath.metadata?.uid);
      // Again: the same workspace, unchanged.
      expect((await env.createWorkspace('root:org:team')).name).to.equal(team.name);
    });

    it('creates Workspace objects in the parent, as kcp users do: kubectl get workspaces lists them', async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), 'kit-kubectl-'));
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
      process.on('warning', onWarning);
      try {
        // Twenty at once share the environment's signal: no MaxListenersExceededWarning for that.
        await Promise.all(Array.from({ length: 20 }, (_, i) => env.createWorkspace(`root:listed:t${i + 1}`)));
        await new Promise((r) => setImmediate(r));
        expect(warnings).to.deep.equal([]);
        const { kubectl } = kubectlFor(() => ({ srv: { kubeconfigPath: env.kubeconfigFile('root:listed') }, cacheDir }));
        const table = (await kubectl(['get', 'workspaces'])).trim().split('\n');
        expect(table[0]).to.match(/^NAME\s+TYPE\s+REGION\s+PHASE\s+URL\s+AGE$/);
        const rows = table.slice(1).map((l) => l.split(/\s+/));
        expect(rows.map((r) => r[0]).sort()).to.deep.equal(Array.from({ length: 20 }, (_, i) => `t${i + 1}`).sort());
        for (const r of rows) expect(r[3], r.join(' ')).to.equal('Ready');
        const { kubectl: inRoot } = kubectlFor(() => ({ srv: { kubeconfigPath: env.kubeconfigFile('root') }, cacheDir }));
        expect(await inRoot(['get', 'workspaces', '-o', 'name'])).to.contain('workspace.tenancy.kcp.io/listed');
      } finally {
        process.off('warning', onWarning);
        rmSync(cacheDir, { recursive: true, force: true });
      }
    });

    it('takes a workspace type, and waits for Initializing when asked', async () => {
      await env.apply('root', [
        { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'WorkspaceType', metadata: { name: 'gated' }, spec: { initializer: true, extend: { with: [{ name: 'universal', path: 'root' }] } } },
      ]);
      const typed = await env.createWorkspace('root:org:plain', { type: 'root:universal' });
      expect(typed.workspace.spec?.type).to.deep.equal({ name: 'universal', path: 'root' });
      const gated = await env.createWorkspace('root:org:gated', { type: { name: 'gated', path: 'root' }, until: 'Initializing' });
      expect(gated.workspace.status?.phase).to.equal('Initializing');
      expect(isLogicalClusterName(gated.name)).to.equal(true);
    });

    it('refuses a path that is not below root, and times out readably on a workspace that never gets Ready', async () => {
      expect(String(await rejection(env.createWorkspace('org:team')))).to.match(/below root/);
      const e = await rejection(env.createWorkspace('root:org:gated', { timeoutMs: 300 }));
      expect(e).to.be.instanceOf(WaitTimeoutError);
      expect((e as Error).message).to.equal('timed out after 300 ms waiting for workspace root:org:gated to be Ready; last seen phase: Initializing');
    });
  });

  describe('apply', () => {
    it('applies multi-document YAML in order: a schema, an export, a binding (waited for until Ready), its object, a List', async () => {
      await env.createWorkspace('root:apply');
      const stored = await env.apply('root:apply', TYPE_AND_OBJECTS);
      expect(stored.map((o) => `${o.kind}/${o.metadata?.name}`)).to.deep.equal([
        'APIResourceSchema/v1.gadgets.example.dev',
        'APIExport/gadgets',
        'APIBinding/gadgets',
        'Gadget/g1',
        'Namespace/kit',
        'ConfigMap/from-list',
      ]);
      const gadget = await env.client('root:apply').get<Obj>({ apiVersion: 'example.dev/v1', kind: 'Gadget' }, { namespace: 'default', name: 'g1' });
      expect(gadget['spec']).to.deep.equal({ size: 3 });
    });

    it('applies objects and files, again without conflict (server-side apply, forced)', async () => {
      const cm: KubernetesObject & Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { v: '1' } };
      await env.apply('root:apply', cm);
      await env.client('root:apply').patch(CM, { namespace: 'default', name: 'one' }, { data: { v: 'changed by someone else' } }, { fieldManager: 'other' });
      const [again] = await env.apply('root:apply', cm);
      expect((again as Obj)['data']).to.deep.equal({ v: '1' });

      const dir = mkdtempSync(join(tmpdir(), 'kit-test-'));
      try {
        const file = join(dir, 'objects.yaml');
        writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: f1 }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: f2, namespace: kit }\n');
        const stored = await env.applyFile('root:apply', file, { namespace: 'kit' });
        expect(stored.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)).to.deep.equal(['kit/f1', 'kit/f2']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('says which document is wrong', () => {
      expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\n---\n- a list\n', 'x.yaml')).to.throw('x.yaml: document 2 is not an object');
      expect(() => parseManifests('metadata: { name: x }\n')).to.throw('manifests: document 1 needs apiVersion and kind');
    });
  });

  describe('bind, kubeconfigs and the virtual workspace', () => {
    let tenant: string;

    before(async () => {
      await env.createWorkspace('root:widgets-provider');
      await env.apply('root:widgets-provider', [
        {
          apiVersion: 'apis.kcp.io/v1alpha1',
          kind: 'APIResourceSchema',
          metadata: { name: 'v1.widgets.example.dev' },
          spec: {
            group: 'example.dev',
            names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
            scope: 'Namespaced',
            versions: [{ name: 'v1', served: true, storage: true, schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }],
          },
        },
        {
          apiVersion: 'apis.kcp.io/v1alpha2',
          kind: 'APIExport',
          metadata: { name: 'widgets' },
          spec: {
            resources: [{ name: 'widgets', group: 'example.dev', schema: 'v1.widgets.example.dev', storage: { crd: {} } }],
            permissionClaims: [
              { group: '', resource: 'configmaps', verbs: ['get', 'list', 'watch'] },
              { group: '', resource: 'secrets', verbs: ['*'] },
            ],
          },
        },
      ]);
      tenant = (await env.createWorkspace('root:org:widget-user')).name;
    });

    it('binds an export with every claim it asks for accepted, and resolves once Ready', async () => {
      const b = await env.bind('root:org:widget-user', { path: 'root:widgets-provider', name: 'widgets' });
      expect(b.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
      expect(b.spec?.permissionClaims).to.deep.equal([
        { group: '', resource: 'configmaps', verbs: ['get', 'list', 'watch'], selector: { matchAll: true }, state: 'Accepted' },
        { group: '', resource: 'secrets', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' },
      ]);
      await env.apply('root:org:widget-user', { apiVersion: 'example.dev/v1', kind: 'Widget', metadata: { name: 'w1' } });
      // Binding again is harmless.
      await env.bind('root:org:widget-user', { path: 'root:widgets-provider', name: 'widgets' });
    });

    it('writes kubeconfig files that client-node loads and that reach the workspace', async () => {
      const file = env.kubeconfigFile('root:org:widget-user');
      expect(env.kubeconfigFile('root:org:widget-user')).to.equal(file);
      expect(file.startsWith(env.dir)).to.equal(true);
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      expect(kc.getCurrentCluster()?.server).to.equal(`${env.server.url}/clusters/root:org:widget-user`);
      for (const config of [kc, env.kubeconfig('root:org:widget-user')]) {
        const transport = Transport.fromKubeConfig(config);
        try {
          const w = await new ClusterClient(transport).get({ apiVersion: 'example.dev/v1', kind: 'Widget' }, { namespace: 'default', name: 'w1' });
          expect(w.metadata?.annotations?.['kcp.io/cluster']).to.equal(tenant);
        } finally {
          transport.close();
        }
      }
    });

    it('gives the export’s virtual workspace URLs and a kubeconfig for them, the view a provider gets', async () => {
      const vw = await env.virtualWorkspace('root:widgets-provider', 'widgets');
      expect(vw.urls).to.have.length(1);
      expect(vw.url).to.match(/\/services\/apiexport\/[a-z0-9]+\/widgets$/);
      const kc = new KubeConfig();
      kc.loadFromFile(vw.file);
      expect(kc.getCurrentCluster()?.server).to.equal(vw.url);
      const transport = Transport.fromKubeConfig(vw.kubeConfig);
      try {
        // Through the VW, every bound workspace at once: /clusters/*.
        const all = await transport.requestJSON<{ items: KubernetesObject[] }>({ url: `${vw.url}/clusters/*/apis/example.dev/v1/widgets` });
        expect(all.items.map((w) => `${w.metadata?.annotations?.['kcp.io/cluster']}/${w.metadata?.name}`)).to.deep.equal([`${tenant}/w1`]);
      } finally {
        transport.close();
      }
    });

    it('reports the last seen conditions when a condition never arrives', async () => {
      const e = await rejection(env.waitForCondition('root:org:widget-user', API_BINDING, { name: 'widgets' }, 'Ready', { status: 'False', timeoutMs: 200 }));
      expect(e).to.be.instanceOf(WaitTimeoutError);
      const msg = (e as Error).message;
      expect(msg).to.match(/^timed out after 200 ms waiting for APIBinding widgets in root:org:widget-user to be Ready=False; last seen conditions: .*Ready=True/);
      const gone = await rejection(env.waitForCondition('root:org:widget-user', API_BINDING, { name: 'never-made' }, 'Ready', { timeoutMs: 100 }));
      expect((gone as Error).message).to.equal('timed out after 100 ms waiting for APIBinding never-made in root:org:widget-user to be Ready=True; the object was not found');
    });
  });

  describe('waitFor', () => {
    it('resolves with the first truthy value', async () => {
      let n = 0;
      expect(await env.waitFor(() => (++n >= 3 ? n : 0), { what: 'three tries' })).to.equal(3);
    });

    it('fails with what was awaited and the last result or error', async () => {
      const e1 = await rejection(waitFor(() => false, { timeoutMs: 50, what: 'the moon to turn blue' }));
      expect((e1 as Error).message).to.equal('timed out after 50 ms waiting for the moon to turn blue; last result: false');
      const e2 = await rejection(waitFor(() => Promise.reject(new Error('connection refused')), { timeoutMs: 50, what: 'the server' }));
      expect((e2 as Error).message).to.equal('timed out after 50 ms waiting for the server; last error: connection refused');
      const e3 = await rejection(waitFor(() => undefined, { timeoutMs: 50, what: 'x', detail: () => 'phase was Pending' }));
      expect((e3 as Error).message).to.equal('timed out after 50 ms waiting for x; phase was Pending');
    });

    it('ends when its signal aborts', async () => {
      const ctl = new AbortController();
      const p = rejection(waitFor(() => false, { timeoutMs: 60_000, signal: ctl.signal }));
      ctl.abort();
      expect(((await p) as Error).name).to.equal('AbortError');
    });
  });
});

// The README's "Testing your controller" example, as written there (but for quiet loggers).
describe('testing kit: a controller test as the README shows it', function () {
  this.timeout(60_000);
  let env: TestEnvironment;
  before(async () => { env = await startTestEnvironment(); });
  after(() => env.stop());

  it('reconciles the ConfigMaps of a bound tenant', async () => {
    await env.createWorkspace('root:provider');
    await env.apply('root:provider', { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport', metadata: { name: 'things' },
      spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }] } });
    const tenant = await env.createWorkspace('root:org:tenant');
    await env.bind(tenant.path, { path: 'root:provider', name: 'things' });

    const seen = new Set<string>();
    const provider = new APIExportProvider(env.kubeconfig('root:provider'), { endpointSlice: 'things', log: quiet() });
    const manager = new Manager({ provider, log: quiet() });
    manager.controller('config').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async (req) => void seen.add(`${req.cluster}/${req.name}`));
    env.startManager(manager);

    await env.apply(tenant.path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hello' } });
    await env.waitFor(() => seen.has(`${tenant.name}/hello`), { what: 'hello reconciled' });
  });
});

describe('testing kit: teardown', function () {
  this.timeout(60_000);

  it('leaves no handle behind in this process', async () => {
    // Mocha arms this test's timeout timer once the test function has returned its promise.
    await Promise.resolve();
    const baseline = process.getActiveResourcesInfo().length;
    const env = await startTestEnvironment();
    await env.createWorkspace('root:provider');
    await env.apply('root:provider', { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport', metadata: { name: 'things' }, spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }] } });
    await env.createWorkspace('root:tenant');
    await env.bind('root:tenant', { path: 'root:provider', name: 'things' });
    const provider = new APIExportProvider(env.kubeconfig('root:provider'), { endpointSlice: 'things', log: quiet() });
    const manager = new Manager({ provider, log: quiet() });
    manager.controller('c').for(CM).reconcile(async () => undefined);
    env.startManager(manager);
    await env.waitFor(() => manager.clusters().length === 1, { what: 'the tenant engaged' });
    const file = env.kubeconfigFile('root:tenant');
    expect(process.getActiveResourcesInfo().length).to.be.greaterThan(baseline);

    await env.stop();
    await env.stop(); // idempotent
    expect(existsSync(file)).to.equal(false);
    expect(existsSync(env.dir)).to.equal(false);
    // Closed sockets leave the handle list within a tick or two; wait for it, with a deadline.
    await waitFor(() => process.getActiveResourcesInfo().length <= baseline, {
      what: 'active handles back to the baseline',
      timeoutMs: 5_000,
      detail: () => `active: ${process.getActiveResourcesInfo().join(', ')} (baseline ${baseline})`,
    });
  });

  it('lets a process that used the kit exit by itself', async () => {
    const testing = fileURLToPath(new URL('../../src/testing/index.js', import.meta.url));
    const library = fileURLToPath(new URL('../../src/index.js', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'kit-child-'));
    const script = join(dir, 'child.mjs');
    writeFileSync(
      script,
      [
        `import { startTestEnvironment } from ${JSON.stringify(testing)};`,
        `import { APIExportProvider, Logger, Manager } from ${JSON.stringify(library)};`,
        `const env = await startTestEnvironment();`,
        `await env.createWorkspace('root:provider');`,
        `await env.apply('root:provider', { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport', metadata: { name: 'things' }, spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }] } });`,
        `const t = await env.createWorkspace('root:org:tenant');`,
        `await env.bind(t.path, { path: 'root:provider', name: 'things' });`,
        `const log = new Logger({ level: 'error' });`,
        `const manager = new Manager({ provider: new APIExportProvider(env.kubeconfig('root:provider'), { endpointSlice: 'things', log }), log });`,
        `const seen = new Set();`,
        `manager.controller('c').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async (req) => void seen.add(req.name));`,
        `env.startManager(manager);`,
        `await env.apply(t.path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hello' } });`,
        `await env.waitFor(() => seen.has('hello'), { what: 'hello reconciled' });`,
        `env.kubeconfigFile(t.path);`,
        `await env.virtualWorkspace('root:provider', 'things');`,
        `await env.stop();`,
        `console.log('stopped ' + env.dir);`,
      ].join('\n'),
    );
    try {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let code: number | null | undefined;
      void exited.then((c) => (code = c));
      try {
        await waitFor(() => code !== undefined, { what: 'the child to exit by itself', timeoutMs: 30_000, detail: () => `output so far: ${out}` });
      } finally {
        if (code === undefined) child.kill('SIGKILL');
      }
      expect(code, out).to.equal(0);
      const childDir = /stopped (\S+)/.exec(out)?.[1];
      expect(childDir, out).to.be.a('string');
      expect(existsSync(childDir!), 'the child environment removed its directory').to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
