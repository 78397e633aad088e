/**
 * The real kubectl against the reference server, exactly as a kcp user drives it: the server's admin
 * kubeconfig (HTTPS, bearer token, current context `root`), a fresh discovery cache per server, and
 * a second logical cluster reached by its workspace path `root:team` through `--server`. Every
 * scenario runs in both logical clusters with the same object names, and a separate block proves
 * that the two never see each other's objects (kcp-wire §8 items 1–46, node-ecosystem §7.4).
 *
 * kubectl is run with execFile (no shell); waits are on conditions with deadlines, never sleeps.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { load as loadYaml } from 'js-yaml';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, start } from '../support/server.js';

/** What one kubectl run produced. */
interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Objects read back from kubectl's JSON output; tests inspect arbitrary shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** Whether an executable named `kubectl` is on the PATH. */
function kubectlOnPath(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, 'kubectl');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A kubectl still running (watch, delete --wait, wait), with its output so far. */
class Background {
  stdout = '';
  stderr = '';
  readonly done: Promise<Run>;
  private readonly child: ChildProcess;

  constructor(args: string[], timeoutMs: number) {
    let resolveDone!: (r: Run) => void;
    this.done = new Promise((r) => (resolveDone = r));
    this.child = execFile('kubectl', args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, () =>
      resolveDone({ code: this.child.exitCode, signal: this.child.signalCode, stdout: this.stdout, stderr: this.stderr }),
    );
    this.child.stdin?.end();
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits until stdout matches. */
  async waitFor(re: RegExp, what: string, timeoutMs = 15_000): Promise<void> {
    await eventually(() => {
      if (this.exited && !re.test(this.stdout)) throw new Error(`kubectl ended early: ${this.stderr || this.stdout}`);
      return re.test(this.stdout);
    }, what, timeoutMs);
  }

  /** Sends a signal and resolves once the process has ended; fails if it outlives the deadline. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Run> {
    if (!this.exited) this.child.kill(signal);
    await eventually(() => this.exited, `kubectl to exit after ${signal}`, timeoutMs);
    return this.done;
  }
}

/** One logical cluster as kubectl reaches it. */
interface Target {
  /** The workspace path. */
  path: string;
  /** The kubectl flags that select it: kubeconfig, discovery cache, and server or context. */
  flags: () => string[];
  /** The logical cluster name, as stamped in `kcp.io/cluster`. */
  cluster: () => string;
}

describe('conformance: kubectl', function () {
  // Every kubectl run costs a process start, /version and discovery from the cache.
  this.timeout(90_000);
  let srv: RunningServer;
  let cacheDir: string;
  let workDir: string;
  let teamCluster: string;

  before(async function () {
    if (!kubectlOnPath()) {
      console.log('    kubectl is not on the PATH: skipping the kubectl conformance suite');
      this.skip();
    }
    srv = await start();
    teamCluster = srv.createLogicalCluster(undefined, { path: 'root:team' });
    // Never share discovery caches between servers: a cache from another run describes another server.
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-cache-'));
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-work-'));
  });
  after(async () => {
    await srv?.stop();
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  // root is the admin kubeconfig's current context; root:team is reached by its workspace URL.
  const ROOT: Target = { path: 'root', flags: () => ['--kubeconfig', srv.kubeconfigPath, '--cache-dir', cacheDir], cluster: () => 'root' };
  const TEAM: Target = { path: 'root:team', flags: () => [...ROOT.flags(), '--server', `${srv.url}/clusters/root:team`], cluster: () => teamCluster };

  /** Runs kubectl to completion. */
  function kubectl(t: Target, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        [...t.flags(), ...args],
        { timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
      );
      child.stdin?.end(opts.stdin ?? '');
    });
  }

  /** Runs kubectl and expects exit code 0. */
  async function ok(t: Target, args: string[], opts: { stdin?: string } = {}): Promise<string> {
    const r = await kubectl(t, args, opts);
    expect(r.code, `kubectl ${args.join(' ')} failed: ${r.stderr}`).to.equal(0);
    return r.stdout;
  }

  /** Runs kubectl and expects a non-zero exit; returns stderr. */
  async function fails(t: Target, args: string[], opts: { stdin?: string } = {}): Promise<string> {
    const r = await kubectl(t, args, opts);
    expect(r.code, `kubectl ${args.join(' ')} unexpectedly succeeded: ${r.stdout}`).to.not.equal(0);
    return r.stderr;
  }

  /** `kubectl get ... -o json`, parsed. */
  async function getJson(t: Target, args: string[]): Promise<Obj> {
    return JSON.parse(await ok(t, ['get', ...args, '-o', 'json'])) as Obj;
  }

  /** Writes a manifest file for `-f`. */
  function manifest(name: string, text: string): string {
    const file = path.join(workDir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  /** Starts a long-running kubectl. */
  function background(t: Target, args: string[], timeoutMs = 60_000): Background {
    return new Background([...t.flags(), ...args], timeoutMs);
  }

  const lines = (s: string) => s.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');

  for (const t of [ROOT, TEAM]) {
    describe(`in ${t.path}`, () => {
      const appManifest = (value: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: app
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  namespace: app
  labels: {app: web, tier: front}
data:
  greeting: ${JSON.stringify(value)}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: db
  namespace: app
  labels: {app: db}
data:
  engine: postgres
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: app
stringData:
  password: hunter2
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: app
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: app
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: alice
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: leader
  namespace: app
spec:
  holderIdentity: pod-a
  leaseDurationSeconds: 15
`;

      it('apply -f of a multi-document manifest with default validation, then re-apply', async () => {
        const file = manifest(`app-${t.path}.yaml`, appManifest('hello'));
        expect(lines(await ok(t, ['apply', '-f', file]))).to.deep.equal([
          'namespace/app created',
          'configmap/web created',
          'configmap/db created',
          'secret/creds created',
          'role.rbac.authorization.k8s.io/reader created',
          'rolebinding.rbac.authorization.k8s.io/reader created',
          'lease.coordination.k8s.io/leader created',
        ]);
        const web = await getJson(t, ['configmap', 'web', '-n', 'app']);
        expect(web['data']).to.deep.equal({ greeting: 'hello' });
        expect(web['metadata']['annotations']['kcp.io/cluster']).to.equal(t.cluster());
        expect(web['metadata']['annotations']).to.have.property('kubectl.kubernetes.io/last-applied-configuration');
        const lease = await getJson(t, ['lease', 'leader', '-n', 'app']);
        expect(lease['spec']).to.deep.equal({ holderIdentity: 'pod-a', leaseDurationSeconds: 15 });
        const rb = await getJson(t, ['rolebinding', 'reader', '-n', 'app']);
        expect(rb['roleRef']).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });

        // stringData is write-only: the server folds it into data, base64-encoded, and defaults the type.
        const secret = await getJson(t, ['secret', 'creds', '-n', 'app']);
        expect(secret['data']).to.deep.equal({ password: Buffer.from('hunter2').toString('base64') });
        expect(secret).to.not.have.property('stringData');
        expect(secret['type']).to.equal('Opaque');

        // Re-applying the same manifest changes nothing. kubectl always sends stringData again (its
        // three-way patch sees it missing from the live object), so kube reports the Secret as
        // "configured" every time (kubernetes/kubernetes#87736), without a new resourceVersion.
        const again = lines(await ok(t, ['apply', '-f', file]));
        expect(again).to.deep.equal([
          'namespace/app unchanged',
          'configmap/web unchanged',
          'configmap/db unchanged',
          'secret/creds configured',
          'role.rbac.authorization.k8s.io/reader unchanged',
          'rolebinding.rbac.authorization.k8s.io/reader unchanged',
          'lease.coordination.k8s.io/leader unchanged',
        ]);
        const secretAgain = await getJson(t, ['secret', 'creds', '-n', 'app']);
        expect(secretAgain['metadata']['resourceVersion']).to.equal(secret['metadata']['resourceVersion']);

        const changed = manifest(`app2-${t.path}.yaml`, appManifest('bonjour'));
        const out = lines(await ok(t, ['apply', '-f', changed]));
        expect(out).to.include('configmap/web configured');
        expect(out).to.include('configmap/db unchanged');
        expect((await getJson(t, ['configmap', 'web', '-n', 'app']))['data']).to.deep.equal({ greeting: 'bonjour' });
      });

      it('apply -f refuses unknown fields (strict server-side field validation)', async () => {
        const top = manifest(`bad-${t.path}.yaml`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: default\ndata: {a: b}\nbogus: 1\n');
        expect(await fails(t, ['apply', '-f', top])).to.contain('unknown field "bogus"');
        const nested = manifest(
          `bad2-${t.path}.yaml`,
          'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  holderIdentityX: a\n',
        );
        expect(await fails(t, ['apply', '-f', nested])).to.contain('unknown field "spec.holderIdentityX"');
        // Nothing was stored.
        expect(await fails(t, ['get', 'configmap', 'bad', '-n', 'default'])).to.contain('configmaps "bad" not found');
        expect(await fails(t, ['get', 'lease', 'bad', '-n', 'default'])).to.contain('leases.coordination.k8s.io "bad" not found');
        // --validate=false turns strict validation off: the unknown field is dropped and the object created.
        await ok(t, ['apply', '--validate=false', '-f', top]);
        const created = await getJson(t, ['configmap', 'bad', '-n', 'default']);
        expect(created).to.not.have.property('bogus');
        await ok(t, ['delete', 'configmap', 'bad', '-n', 'default']);
      });

      it('apply and create of a kind whose API is not bound here: kubectl\'s own "no matches for kind"', async () => {
        // Missing from /openapi/v3, the kind sends kubectl to /openapi/v2 (as gnostic protobuf).
        const db = manifest(`db-${t.path}.yaml`, 'apiVersion: example.dev/v1\nkind: Database\nmetadata:\n  name: orders\n  namespace: default\nspec: {size: 1}\n');
        for (const verb of ['apply', 'create']) {
          const stderr = await fails(t, [verb, '-f', db]);
          expect(stderr, `kubectl ${verb}`).to.contain('no matches for kind "Database" in version "example.dev/v1"').and.contain('ensure CRDs are installed first');
          expect(stderr, `kubectl ${verb}`).to.not.contain('content type');
        }
        const v2 = JSON.parse(await ok(t, ['get', '--raw', `/clusters/${t.path}/openapi/v2`])) as Obj;
        expect(v2).to.include({ swagger: '2.0' });
      });

      it('apply --server-side, a conflicting second manager, then --force-conflicts', async () => {
        const first = manifest(`ssa-${t.path}.yaml`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\ndata:\n  owner: first\n');
        expect(lines(await ok(t, ['apply', '--server-side', '-f', first]))).to.deep.equal(['configmap/ssa serverside-applied']);
        // Applying the same configuration again is fine (same manager, same value).
        expect(lines(await ok(t, ['apply', '--server-side', '-f', first]))).to.deep.equal(['configmap/ssa serverside-applied']);
        let cm = await getJson(t, ['configmap', 'ssa', '-n', 'default', '--show-managed-fields']);
        const managers = (o: Obj) => (o['metadata']['managedFields'] as Obj[]).map((e) => `${e['manager']}/${e['operation']}`);
        expect(managers(cm)).to.deep.equal(['kubectl/Apply']);

        const second = manifest(`ssa2-${t.path}.yaml`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\ndata:\n  owner: second\n');
        const err = await fails(t, ['apply', '--server-side', '--field-manager', 'other', '-f', second]);
        expect(err).to.contain('Apply failed with 1 conflict');
        expect(err).to.contain('conflict with "kubectl": .data.owner');
        expect((await getJson(t, ['configmap', 'ssa', '-n', 'default']))['data']).to.deep.equal({ owner: 'first' });

        expect(lines(await ok(t, ['apply', '--server-side', '--field-manager', 'other', '--force-conflicts', '-f', second]))).to.deep.equal([
          'configmap/ssa serverside-applied',
        ]);
        cm = await getJson(t, ['configmap', 'ssa', '-n', 'default', '--show-managed-fields']);
        expect(cm['data']).to.deep.equal({ owner: 'second' });
        // The field moved to the forcing manager; the first one owns nothing and is dropped.
        expect(managers(cm)).to.deep.equal(['other/Apply']);
        expect(cm['metadata']['managedFields'][0]['fieldsV1']).to.deep.equal({ 'f:data': { 'f:owner': {} } });
      });

      it('get -o yaml, -o json, -o name, label and field selectors, -A', async () => {
        await ok(t, ['apply', '-f', '-'], {
          stdin: `apiVersion: v1
kind: Namespace
metadata:
  name: sel
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: sel, labels: {svc: web, layer: front}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: sel, labels: {svc: db}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: sel, labels: {svc: cache, layer: back}}
`,
        });
        const asYaml = loadYaml(await ok(t, ['get', 'configmap', 'a', '-n', 'sel', '-o', 'yaml'])) as Obj;
        expect(asYaml['kind']).to.equal('ConfigMap');
        expect(asYaml['apiVersion']).to.equal('v1');
        expect(asYaml['metadata']['labels']).to.deep.equal({ svc: 'web', layer: 'front' });
        expect(asYaml['metadata']['annotations']['kcp.io/cluster']).to.equal(t.cluster());
        const list = await getJson(t, ['configmaps', '-n', 'sel']);
        expect(list['kind']).to.equal('List');
        expect((list['items'] as Obj[]).map((i) => i['metadata']['name'])).to.deep.equal(['a', 'b', 'c', 'kube-root-ca.crt']);

        const names = async (...args: string[]) => lines(await ok(t, ['get', 'configmaps', '-n', 'sel', '-o', 'name', ...args]));
        expect(await names()).to.deep.equal(['configmap/a', 'configmap/b', 'configmap/c', 'configmap/kube-root-ca.crt']);
        expect(await names('-l', 'svc=web')).to.deep.equal(['configmap/a']);
        expect(await names('-l', 'svc!=web,svc')).to.deep.equal(['configmap/b', 'configmap/c']);
        expect(await names('-l', 'svc in (db,cache)')).to.deep.equal(['configmap/b', 'configmap/c']);
        expect(await names('-l', 'svc notin (db,cache),svc')).to.deep.equal(['configmap/a']);
        expect(await names('-l', 'layer')).to.deep.equal(['configmap/a', 'configmap/c']);
        expect(await names('-l', '!layer')).to.deep.equal(['configmap/b', 'configmap/kube-root-ca.crt']);
        expect(await names('-l', 'layer=front,svc=web')).to.deep.equal(['configmap/a']);
        expect(await names('--field-selector', 'metadata.name=b')).to.deep.equal(['configmap/b']);
        expect(await names('--field-selector', 'metadata.name!=b,metadata.name!=kube-root-ca.crt')).to.deep.equal(['configmap/a', 'configmap/c']);
        expect(await names('--field-selector', 'metadata.namespace=sel', '-l', 'layer=back')).to.deep.equal(['configmap/c']);
        // A bad selector is the server's 400.
        expect(await fails(t, ['get', 'configmaps', '-n', 'sel', '--field-selector', 'spec.nope=x'])).to.match(/BadRequest|field label not supported/);

        // The table kubectl prints comes from the server's Table answer: kube's ConfigMap columns.
        const table = lines(await ok(t, ['get', 'configmaps', '-n', 'sel', '-l', 'svc=web']));
        expect(table[0]).to.match(/^NAME\s+DATA\s+AGE$/);
        expect(table[1]).to.match(/^a\s+0\s+\S+$/);

        const all = lines(await ok(t, ['get', 'configmaps', '-A', '-l', 'svc']));
        expect(all[0]).to.match(/^NAMESPACE\s+NAME\s+DATA\s+AGE$/);
        expect(all.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).to.deep.equal(['sel/a', 'sel/b', 'sel/c']);
        const allNames = lines(await ok(t, ['get', 'configmaps', '-A', '-o', 'name']));
        expect(allNames).to.include('configmap/a');
        const allJson = await getJson(t, ['configmaps', '-A']);
        const keys = (allJson['items'] as Obj[]).map((i) => `${i['metadata']['namespace']}/${i['metadata']['name']}`);
        expect(keys).to.include.members(['default/kube-root-ca.crt', 'sel/a', 'sel/b', 'sel/c', 'sel/kube-root-ca.crt']);
        // Every object is from this logical cluster only.
        expect(new Set((allJson['items'] as Obj[]).map((i) => i['metadata']['annotations']['kcp.io/cluster']))).to.deep.equal(new Set([t.cluster()]));
      });

      it('get -w receives an update made by another kubectl, and ends cleanly when killed', async () => {
        await ok(t, ['create', 'configmap', 'watched', '-n', 'default', '--from-literal=k=v']);
        const watchesBefore = srv.openWatches();
        const w = background(t, [
          'get', 'configmap', 'watched', '-n', 'default', '-w', '--output-watch-events',
          '-o', 'jsonpath={.type} {.object.metadata.name} {.object.metadata.labels.color}{"\\n"}',
        ]);
        try {
          await w.waitFor(/^ADDED watched \n/m, 'the initial ADDED event');
          await eventually(() => srv.openWatches() > watchesBefore, 'the watch to be open on the server');
          expect(lines(await ok(t, ['label', 'configmap', 'watched', '-n', 'default', 'color=blue']))).to.deep.equal(['configmap/watched labeled']);
          await w.waitFor(/^MODIFIED watched blue$/m, 'the MODIFIED event with the new label');
          await ok(t, ['label', 'configmap', 'watched', '-n', 'default', 'color=green', '--overwrite']);
          await w.waitFor(/^MODIFIED watched green$/m, 'the second MODIFIED event');
          expect(w.exited).to.equal(false);
        } finally {
          // What a user does: Ctrl-C. kubectl stops its watch and exits (status 1, nothing on stderr).
          const end = await w.kill('SIGINT');
          expect(end.code !== null || end.signal !== null).to.equal(true);
        }
        expect(w.stderr).to.equal('');
        expect(lines(w.stdout)).to.deep.equal(['ADDED watched', 'MODIFIED watched blue', 'MODIFIED watched green']);
        // The server notices the closed connection and drops the watch.
        await eventually(() => srv.openWatches() === watchesBefore, 'the server to close the watch');
      });

      it('label, annotate and patch with --type=merge, json and strategic', async () => {
        await ok(t, ['create', 'configmap', 'patched', '-n', 'default', '--from-literal=k=v']);
        const cm = () => getJson(t, ['configmap', 'patched', '-n', 'default']);
        expect(lines(await ok(t, ['label', 'configmap', 'patched', '-n', 'default', 'color=blue', 'size=s']))).to.deep.equal(['configmap/patched labeled']);
        expect((await cm())['metadata']['labels']).to.deep.equal({ color: 'blue', size: 's' });
        // An existing label is not overwritten without --overwrite.
        expect(await fails(t, ['label', 'configmap', 'patched', '-n', 'default', 'color=red'])).to.contain("'color' already has a value (blue)");
        expect(lines(await ok(t, ['label', 'configmap', 'patched', '-n', 'default', 'size-']))).to.deep.equal(['configmap/patched unlabeled']);
        expect((await cm())['metadata']['labels']).to.deep.equal({ color: 'blue' });
        expect(lines(await ok(t, ['annotate', 'configmap', 'patched', '-n', 'default', 'note=hello']))).to.deep.equal(['configmap/patched annotated']);
        expect((await cm())['metadata']['annotations']).to.include({ note: 'hello', 'kcp.io/cluster': t.cluster() });

        const patch = (type: string, p: string) => ok(t, ['patch', 'configmap', 'patched', '-n', 'default', `--type=${type}`, '-p', p]);
        expect(lines(await patch('merge', '{"data":{"k":null,"m":"1"}}'))).to.deep.equal(['configmap/patched patched']);
        expect((await cm())['data']).to.deep.equal({ m: '1' });
        await patch('json', '[{"op":"add","path":"/data/j","value":"2"},{"op":"replace","path":"/data/m","value":"one"}]');
        expect((await cm())['data']).to.deep.equal({ m: 'one', j: '2' });
        // A failing JSON patch test operation changes nothing.
        expect(await fails(t, ['patch', 'configmap', 'patched', '-n', 'default', '--type=json', '-p', '[{"op":"test","path":"/data/j","value":"nope"},{"op":"remove","path":"/data/j"}]'])).to.contain('test failed');
        expect((await cm())['data']).to.deep.equal({ m: 'one', j: '2' });
        await patch('strategic', '{"data":{"s":"3"}}');
        expect((await cm())['data']).to.deep.equal({ m: 'one', j: '2', s: '3' });
        // A patch that changes nothing is reported as such.
        expect(lines(await patch('merge', '{"data":{"s":"3"}}'))).to.deep.equal(['configmap/patched patched (no change)']);

        // Strategic merge patch merges ServiceAccount.secrets by name (a merge patch would replace
        // the list) and honours `$patch: delete`.
        await ok(t, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n  namespace: default\nsecrets:\n- name: a\n' });
        const secrets = async () => ((await getJson(t, ['serviceaccount', 'robot', '-n', 'default']))['secrets'] as Obj[]).map((s) => s['name']);
        await ok(t, ['patch', 'serviceaccount', 'robot', '-n', 'default', '-p', '{"secrets":[{"name":"b"}]}']);
        expect(await secrets()).to.deep.equal(['a', 'b']);
        await ok(t, ['patch', 'serviceaccount', 'robot', '-n', 'default', '--type=strategic', '-p', '{"secrets":[{"name":"a","$patch":"delete"}]}']);
        expect(await secrets()).to.deep.equal(['b']);
        await ok(t, ['patch', 'serviceaccount', 'robot', '-n', 'default', '--type=merge', '-p', '{"secrets":[{"name":"c"}]}']);
        expect(await secrets()).to.deep.equal(['c']);
      });

      it('patch --type=strategic on logicalclusters.core.kcp.io fails with 415; merge works', async () => {
        const err = await fails(t, ['patch', 'logicalcluster', 'cluster', '--type=strategic', '-p', '{"metadata":{"labels":{"x":"y"}}}']);
        expect(err).to.contain('application/strategic-merge-patch+json is not supported by core.kcp.io/v1alpha1, Kind=LogicalCluster');
        expect(err).to.contain('accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
        expect((await getJson(t, ['logicalcluster', 'cluster']))['metadata']['labels'] ?? {}).to.not.have.property('x');
        expect(lines(await ok(t, ['patch', 'logicalcluster', 'cluster', '--type=merge', '-p', '{"metadata":{"labels":{"x":"y"}}}']))).to.deep.equal([
          'logicalcluster.core.kcp.io/cluster patched',
        ]);
        const lc = await getJson(t, ['logicalcluster', 'cluster']);
        expect(lc['metadata']['labels']).to.include({ x: 'y' });
        expect(lc['status']['phase']).to.equal('Ready');
        await ok(t, ['label', 'logicalcluster', 'cluster', 'x-']);
      });

      it('replace with a stale resourceVersion is a conflict; a fresh one succeeds', async () => {
        await ok(t, ['create', 'configmap', 'replaced', '-n', 'default', '--from-literal=v=1']);
        const stale = await getJson(t, ['configmap', 'replaced', '-n', 'default']);
        await ok(t, ['label', 'configmap', 'replaced', '-n', 'default', 'bumped=yes']);
        const file = manifest(`stale-${t.path}.json`, JSON.stringify({ ...stale, data: { v: '2' } }));
        const err = await fails(t, ['replace', '-f', file]);
        expect(err).to.contain('Error from server (Conflict)');
        expect(err).to.contain(
          'Operation cannot be fulfilled on configmaps "replaced": the object has been modified; please apply your changes to the latest version and try again',
        );
        expect((await getJson(t, ['configmap', 'replaced', '-n', 'default']))['data']).to.deep.equal({ v: '1' });

        const fresh = await getJson(t, ['configmap', 'replaced', '-n', 'default']);
        fs.writeFileSync(file, JSON.stringify({ ...fresh, data: { v: '3' } }));
        expect(lines(await ok(t, ['replace', '-f', file]))).to.deep.equal(['configmap/replaced replaced']);
        const now = await getJson(t, ['configmap', 'replaced', '-n', 'default']);
        expect(now['data']).to.deep.equal({ v: '3' });
        expect(now['metadata']['labels']).to.deep.equal({ bumped: 'yes' });
      });

      it('delete --wait blocks on a finalizer and returns once a patch removes it', async () => {
        await ok(t, ['create', '-f', '-'], {
          stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: default\n  finalizers: [example.com/hold]\ndata: {k: v}\n',
        });
        const del = background(t, ['delete', 'configmap', 'held', '-n', 'default', '--wait', '--timeout=45s']);
        try {
          await eventually(async () => (await kubectl(t, ['get', 'configmap', 'held', '-n', 'default', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout !== '', 'deletionTimestamp');
          // Marked, still readable, and kubectl is still waiting for it to go.
          expect(del.exited).to.equal(false);
          const held = await getJson(t, ['configmap', 'held', '-n', 'default']);
          expect(held['metadata']['finalizers']).to.deep.equal(['example.com/hold']);
          // No new finalizers on an object being deleted.
          expect(await fails(t, ['patch', 'configmap', 'held', '-n', 'default', '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]'])).to.contain(
            'no new finalizers can be added if the object is being deleted',
          );
          await ok(t, ['patch', 'configmap', 'held', '-n', 'default', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
          const r = await del.done;
          expect(r.code, r.stderr).to.equal(0);
          expect(lines(r.stdout)).to.deep.equal(['configmap "held" deleted']);
        } finally {
          await del.kill();
        }
        expect(await fails(t, ['get', 'configmap', 'held', '-n', 'default'])).to.contain('Error from server (NotFound): configmaps "held" not found');
      });

      it('delete namespace with content waits until the namespace and its objects are gone', async () => {
        await ok(t, ['apply', '-f', '-'], {
          stdin: `apiVersion: v1
kind: Namespace
metadata: {name: doomed}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: doomed}
---
apiVersion: v1
kind: Secret
metadata: {name: two, namespace: doomed}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: three, namespace: doomed}
`,
        });
        // The root CA publisher has filled the namespace too.
        await eventually(async () => (await kubectl(t, ['get', 'configmap', 'kube-root-ca.crt', '-n', 'doomed'])).code === 0, 'kube-root-ca.crt');
        expect(lines(await ok(t, ['delete', 'namespace', 'doomed', '--timeout=30s']))).to.deep.equal(['namespace "doomed" deleted']);
        expect(await fails(t, ['get', 'namespace', 'doomed'])).to.contain('namespaces "doomed" not found');
        for (const kind of ['configmaps', 'secrets', 'leases']) {
          const left = (await getJson(t, [kind, '-A']))['items'] as Obj[];
          expect(left.filter((i) => i['metadata']['namespace'] === 'doomed'), kind).to.deep.equal([]);
        }
        // A create into a missing namespace is the server's 404.
        expect(await fails(t, ['create', 'configmap', 'late', '-n', 'doomed'])).to.contain('namespaces "doomed" not found');
      });

      it('api-resources and api-versions list the built-ins and logicalclusters', async () => {
        const resources = lines(await ok(t, ['api-resources']));
        expect(resources[0]).to.match(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
        const row = (name: string, group: string) => resources.find((l) => l.split(/\s+/)[0] === name && l.includes(` ${group} `));
        expect(row('configmaps', 'v1')).to.match(/^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/);
        expect(row('namespaces', 'v1')).to.match(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/);
        expect(row('secrets', 'v1')).to.match(/^secrets\s+v1\s+true\s+Secret$/);
        expect(row('serviceaccounts', 'v1')).to.match(/^serviceaccounts\s+sa\s+v1\s+true\s+ServiceAccount$/);
        expect(row('leases', 'coordination.k8s.io/v1')).to.match(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/);
        expect(row('roles', 'rbac.authorization.k8s.io/v1')).to.match(/true\s+Role$/);
        expect(row('rolebindings', 'rbac.authorization.k8s.io/v1')).to.match(/true\s+RoleBinding$/);
        expect(row('clusterroles', 'rbac.authorization.k8s.io/v1')).to.match(/false\s+ClusterRole$/);
        expect(row('logicalclusters', 'core.kcp.io/v1alpha1')).to.match(/^logicalclusters\s+core\.kcp\.io\/v1alpha1\s+false\s+LogicalCluster$/);

        const byName = lines(await ok(t, ['api-resources', '-o', 'name']));
        expect(byName).to.include.members(['configmaps', 'namespaces', 'secrets', 'leases.coordination.k8s.io', 'roles.rbac.authorization.k8s.io', 'logicalclusters.core.kcp.io']);
        expect(lines(await ok(t, ['api-resources', '--api-group=core.kcp.io', '-o', 'name']))).to.include('logicalclusters.core.kcp.io');
        expect(lines(await ok(t, ['api-resources', '--namespaced=false', '-o', 'name']))).to.not.include('configmaps');
        expect(lines(await ok(t, ['api-resources', '--categories=kcp', '-o', 'name']))).to.include('logicalclusters.core.kcp.io');

        const versions = lines(await ok(t, ['api-versions']));
        expect(versions).to.include.members(['v1', 'coordination.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'core.kcp.io/v1alpha1', 'events.k8s.io/v1']);
        expect(versions).to.deep.equal([...versions].sort());
      });

      it('create configmap --from-literal, create -f - from stdin, and --dry-run=server', async () => {
        expect(lines(await ok(t, ['create', 'configmap', 'literal', '-n', 'default', '--from-literal=a=1', '--from-literal=b=two']))).to.deep.equal([
          'configmap/literal created',
        ]);
        const lit = await getJson(t, ['configmap', 'literal', '-n', 'default']);
        expect(lit['data']).to.deep.equal({ a: '1', b: 'two' });
        expect(lit['metadata']['annotations']['kcp.io/cluster']).to.equal(t.cluster());
        expect(await fails(t, ['create', 'configmap', 'literal', '-n', 'default'])).to.contain('configmaps "literal" already exists');

        const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\n  namespace: default\ndata: {via: stdin}\n';
        expect(lines(await ok(t, ['create', '-f', '-'], { stdin: doc }))).to.deep.equal(['configmap/piped created']);
        expect((await getJson(t, ['configmap', 'piped', '-n', 'default']))['data']).to.deep.equal({ via: 'stdin' });

        const dry = doc.replace('piped', 'dry');
        expect(lines(await ok(t, ['create', '--dry-run=server', '-f', '-'], { stdin: dry }))).to.deep.equal(['configmap/dry created (server dry run)']);
        expect(lines(await ok(t, ['apply', '--dry-run=server', '-f', '-'], { stdin: dry }))).to.deep.equal(['configmap/dry created (server dry run)']);
        // The server answers a dry run with the object it would have stored.
        const answered = JSON.parse(await ok(t, ['create', '--dry-run=server', '-o', 'json', '-f', '-'], { stdin: dry })) as Obj;
        expect(answered['metadata']['uid']).to.match(/^[0-9a-f-]{36}$/);
        expect(answered['metadata']['annotations']['kcp.io/cluster']).to.equal(t.cluster());
        expect(await fails(t, ['get', 'configmap', 'dry', '-n', 'default'])).to.contain('configmaps "dry" not found');
        // A server-side dry run is checked like a real write.
        expect(await fails(t, ['create', '--dry-run=server', '-f', '-'], { stdin: doc })).to.contain('configmaps "piped" already exists');
        expect(lines(await ok(t, ['delete', 'configmap', 'piped', '-n', 'default', '--dry-run=server']))).to.deep.equal(['configmap "piped" deleted (server dry run)']);
        await ok(t, ['get', 'configmap', 'piped', '-n', 'default']);
      });

      it('imperative create commands, which send protobuf bodies, for every built-in kubectl can create', async () => {
        const created = async (args: string[]) => lines(await ok(t, ['create', ...args]));
        const strip = (o: Obj) => {
          const { managedFields: _mf, uid: _u, creationTimestamp: _c, resourceVersion: _rv, generation: _g, ...meta } = o['metadata'];
          return { ...o, metadata: meta };
        };
        const annotations = { 'kcp.io/cluster': t.cluster() };
        expect(await created(['namespace', 'imperative'])).to.deep.equal(['namespace/imperative created']);
        expect(strip(await getJson(t, ['namespace', 'imperative']))).to.deep.equal({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'imperative', annotations },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        });
        const blob = path.join(workDir, 'blob.bin');
        fs.writeFileSync(blob, Buffer.from([0, 1, 0xff]));
        // --save-config fills metadata.annotations, a protobuf map like data.
        await created(['configmap', 'files', '-n', 'imperative', `--from-file=blob=${blob}`, '--from-literal=empty=', '--save-config']);
        const files = await getJson(t, ['configmap', 'files', '-n', 'imperative']);
        expect(files['data']).to.deep.equal({ empty: '' });
        expect(files['binaryData']).to.deep.equal({ blob: 'AAH/' });
        expect(JSON.parse(files['metadata']['annotations']['kubectl.kubernetes.io/last-applied-configuration'])['data']).to.deep.equal({ empty: '' });

        await created(['secret', 'generic', 'typed', '-n', 'imperative', '--from-literal=password=hunter2', '--type=example.com/token']);
        await created(['secret', 'generic', 'untyped', '-n', 'imperative', '--from-literal=a=b']);
        const typed = await getJson(t, ['secret', 'typed', '-n', 'imperative']);
        expect(typed['data']).to.deep.equal({ password: Buffer.from('hunter2').toString('base64') });
        expect(typed['type']).to.equal('example.com/token');
        expect((await getJson(t, ['secret', 'untyped', '-n', 'imperative']))['type']).to.equal('Opaque');

        await created(['serviceaccount', 'robot', '-n', 'imperative']);
        expect(strip(await getJson(t, ['serviceaccount', 'robot', '-n', 'imperative']))).to.deep.equal({
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'robot', namespace: 'imperative', annotations },
        });
        await created(['role', 'reader', '-n', 'imperative', '--verb=get,list', '--resource=configmaps,leases.coordination.k8s.io', '--resource-name=a']);
        expect((await getJson(t, ['role', 'reader', '-n', 'imperative']))['rules']).to.deep.equal([
          { apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'], verbs: ['get', 'list'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['a'], verbs: ['get', 'list'] },
        ]);
        await created(['rolebinding', 'reader', '-n', 'imperative', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=imperative:robot']);
        const rb = await getJson(t, ['rolebinding', 'reader', '-n', 'imperative']);
        expect(rb['roleRef']).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
        expect(rb['subjects']).to.deep.equal([
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' },
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' },
          { kind: 'ServiceAccount', name: 'robot', namespace: 'imperative' },
        ]);
        await created(['clusterrole', 'health', '--verb=get', '--non-resource-url=/healthz']);
        expect((await getJson(t, ['clusterrole', 'health']))['rules']).to.deep.equal([{ nonResourceURLs: ['/healthz'], verbs: ['get'] }]);
        await created(['clusterrole', 'aggregated', '--aggregation-rule=example.com/aggregate=true']);
        expect((await getJson(t, ['clusterrole', 'aggregated']))['aggregationRule']).to.deep.equal({
          clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate': 'true' } }],
        });
        await created(['clusterrolebinding', 'health', '--clusterrole=health', '--user=bob']);
        expect((await getJson(t, ['clusterrolebinding', 'health']))['subjects']).to.deep.equal([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }]);
        // The server's own checks still apply to protobuf bodies.
        expect(await fails(t, ['create', 'configmap', 'Not_A_Name', '-n', 'imperative'])).to.contain('Invalid value: "Not_A_Name"');
        await ok(t, ['delete', 'namespace', 'imperative']);
        await ok(t, ['delete', 'clusterrole', 'health', 'aggregated']);
        await ok(t, ['delete', 'clusterrolebinding', 'health']);
      });

      it('Secret stringData is written into data, for client-side and server-side apply', async () => {
        const b64 = (s: string) => Buffer.from(s).toString('base64');
        await ok(t, ['apply', '-f', '-'], {
          stdin: `apiVersion: v1
kind: Secret
metadata: {name: mixed, namespace: default}
type: example.com/mixed
data: {a: ${b64('from-data')}, b: ${b64('kept')}}
stringData: {a: from-string, c: added}
`,
        });
        const mixed = await getJson(t, ['secret', 'mixed', '-n', 'default']);
        expect(mixed['data']).to.deep.equal({ a: b64('from-string'), b: b64('kept'), c: b64('added') });
        expect(mixed).to.not.have.property('stringData');
        expect(mixed['type']).to.equal('example.com/mixed');
        await ok(t, ['apply', '--server-side', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: applied, namespace: default}\nstringData: {token: t0k3n}\n' });
        const applied = await getJson(t, ['secret', 'applied', '-n', 'default']);
        expect(applied['data']).to.deep.equal({ token: b64('t0k3n') });
        expect(applied).to.not.have.property('stringData');
        expect(applied['type']).to.equal('Opaque');
        // A merge patch of stringData updates data as well.
        await ok(t, ['patch', 'secret', 'applied', '-n', 'default', '--type=merge', '-p', '{"stringData":{"token":"new"}}']);
        expect((await getJson(t, ['secret', 'applied', '-n', 'default']))['data']).to.deep.equal({ token: b64('new') });
      });

      it('wait --for=jsonpath and --for=delete', async () => {
        await ok(t, ['create', 'configmap', 'awaited', '-n', 'default', '--from-literal=state=pending']);
        // Already true: returns at once.
        expect(lines(await ok(t, ['wait', '--for=jsonpath={.data.state}=pending', 'configmap/awaited', '-n', 'default', '--timeout=20s']))).to.deep.equal([
          'configmap/awaited condition met',
        ]);
        // Never true: kubectl gives up with its timeout error.
        expect(await fails(t, ['wait', '--for=jsonpath={.data.state}=never', 'configmap/awaited', '-n', 'default', '--timeout=1s'])).to.contain(
          'timed out waiting for the condition',
        );

        const watchesBefore = srv.openWatches();
        const ready = background(t, ['wait', '--for=jsonpath={.data.state}=ready', 'configmap/awaited', '-n', 'default', '--timeout=45s']);
        try {
          await eventually(() => srv.openWatches() > watchesBefore, 'kubectl wait to watch');
          expect(ready.exited).to.equal(false);
          await ok(t, ['patch', 'configmap', 'awaited', '-n', 'default', '--type=merge', '-p', '{"data":{"state":"ready"}}']);
          const r = await ready.done;
          expect(r.code, r.stderr).to.equal(0);
          expect(lines(r.stdout)).to.deep.equal(['configmap/awaited condition met']);
        } finally {
          await ready.kill();
        }

        // The first wait's watch must be gone, or it would pass for the second's below.
        await eventually(() => srv.openWatches() === watchesBefore, 'the first kubectl wait to close its watch');
        const gone = background(t, ['wait', '--for=delete', 'configmap/awaited', '-n', 'default', '--timeout=45s']);
        try {
          await eventually(() => srv.openWatches() > watchesBefore, 'kubectl wait --for=delete to watch');
          expect(gone.exited).to.equal(false);
          await ok(t, ['delete', 'configmap', 'awaited', '-n', 'default']);
          const r = await gone.done;
          expect(r.code, r.stderr).to.equal(0);
          expect(lines(r.stdout)).to.deep.equal(['configmap/awaited condition met']);
        } finally {
          await gone.kill();
        }
      });
    });
  }

  describe('isolation between root and root:team', () => {
    it('an object created in one logical cluster is absent from the other', async () => {
      await ok(ROOT, ['create', 'configmap', 'only-in-root', '-n', 'default']);
      await ok(TEAM, ['create', 'configmap', 'only-in-team', '-n', 'default']);
      expect(await fails(TEAM, ['get', 'configmap', 'only-in-root', '-n', 'default'])).to.contain('configmaps "only-in-root" not found');
      expect(await fails(ROOT, ['get', 'configmap', 'only-in-team', '-n', 'default'])).to.contain('configmaps "only-in-team" not found');
      expect(lines(await ok(ROOT, ['get', 'configmaps', '-A', '-o', 'name']))).to.include('configmap/only-in-root').and.not.include('configmap/only-in-team');
      expect(lines(await ok(TEAM, ['get', 'configmaps', '-A', '-o', 'name']))).to.include('configmap/only-in-team').and.not.include('configmap/only-in-root');
      await ok(TEAM, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-only\n' });
      expect(await fails(ROOT, ['get', 'namespace', 'team-only'])).to.contain('namespaces "team-only" not found');
    });

    it('the same names coexist with different content; deleting one leaves the other', async () => {
      await ok(ROOT, ['create', 'configmap', 'twin', '-n', 'default', '--from-literal=where=root']);
      await ok(TEAM, ['create', 'configmap', 'twin', '-n', 'default', '--from-literal=where=team']);
      const r = await getJson(ROOT, ['configmap', 'twin', '-n', 'default']);
      const tm = await getJson(TEAM, ['configmap', 'twin', '-n', 'default']);
      expect(r['data']).to.deep.equal({ where: 'root' });
      expect(tm['data']).to.deep.equal({ where: 'team' });
      expect(r['metadata']['annotations']['kcp.io/cluster']).to.equal('root');
      expect(tm['metadata']['annotations']['kcp.io/cluster']).to.equal(teamCluster);
      expect(r['metadata']['uid']).to.not.equal(tm['metadata']['uid']);
      await ok(ROOT, ['delete', 'configmap', 'twin', '-n', 'default']);
      expect((await getJson(TEAM, ['configmap', 'twin', '-n', 'default']))['data']).to.deep.equal({ where: 'team' });
    });

    it('a context for the team workspace works like --server', async () => {
      // The user's way to switch workspaces with plain kubectl: a cluster entry whose server is the
      // workspace URL, with the CA of the admin kubeconfig.
      const kubeconfig = path.join(workDir, 'team.kubeconfig');
      fs.copyFileSync(srv.kubeconfigPath, kubeconfig);
      const caFile = path.join(workDir, 'ca.crt');
      fs.writeFileSync(caFile, srv.ca ?? '');
      const config: Target = { path: 'root:team', flags: () => ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir], cluster: () => teamCluster };
      await ok(config, ['config', 'set-cluster', 'team', `--server=${srv.url}/clusters/root:team`, `--certificate-authority=${caFile}`, '--embed-certs']);
      await ok(config, ['config', 'set-context', 'team', '--cluster=team', '--user=kcp-admin']);
      const teamContext: Target = { ...config, flags: () => [...config.flags(), '--context', 'team'] };
      await ok(TEAM, ['create', 'configmap', 'via-context', '-n', 'default']);
      expect(lines(await ok(teamContext, ['get', 'configmap', 'via-context', '-n', 'default', '-o', 'name']))).to.deep.equal(['configmap/via-context']);
      expect(await fails(config, ['--context', 'root', 'get', 'configmap', 'via-context', '-n', 'default'])).to.contain('not found');
      await ok(config, ['config', 'use-context', 'team']);
      const lc = await getJson(config, ['logicalcluster', 'cluster']);
      expect(lc['metadata']['annotations']).to.include({ 'kcp.io/cluster': teamCluster, 'kcp.io/path': 'root:team' });
    });

    it('get --raw on /clusters/* lists both logical clusters; a relative --raw path ignores the kubeconfig prefix', async () => {
      await ok(ROOT, ['create', 'configmap', 'raw-root', '-n', 'default']);
      await ok(TEAM, ['create', 'configmap', 'raw-team', '-n', 'default']);
      const clusterOf = (list: Obj) =>
        new Map((list['items'] as Obj[]).map((i) => [`${i['metadata']['namespace']}/${i['metadata']['name']}`, i['metadata']['annotations']['kcp.io/cluster'] as string]));
      const wildcard = JSON.parse(await ok(ROOT, ['get', '--raw', '/clusters/*/api/v1/configmaps'])) as Obj;
      expect(wildcard['kind']).to.equal('ConfigMapList');
      const seen = clusterOf(wildcard);
      expect(seen.get('default/raw-root')).to.equal('root');
      expect(seen.get('default/raw-team')).to.equal(teamCluster);
      // kubectl sends `*` percent-encoded (/clusters/%2A/) when given a full URL; same answer.
      const full = JSON.parse(await ok(ROOT, ['get', '--raw', `${srv.url}/clusters/*/api/v1/configmaps`])) as Obj;
      expect(clusterOf(full).get('default/raw-team')).to.equal(teamCluster);
      // Writes through the wildcard are refused.
      expect(await fails(ROOT, ['create', 'configmap', 'x', '-n', 'default', '--server', `${srv.url}/clusters/*`])).to.match(/MethodNotAllowed|not allow this method/);

      // --raw takes the path as given: the team server URL's /clusters/root:team prefix is dropped...
      const relative = JSON.parse(await ok(TEAM, ['get', '--raw', '/api/v1/namespaces/default/configmaps'])) as Obj;
      expect([...clusterOf(relative).keys()]).to.include('default/raw-root').and.not.include('default/raw-team');
      // ...so a raw path must carry the cluster prefix itself.
      const prefixed = JSON.parse(await ok(TEAM, ['get', '--raw', '/clusters/root:team/api/v1/namespaces/default/configmaps'])) as Obj;
      expect([...clusterOf(prefixed).keys()]).to.include('default/raw-team').and.not.include('default/raw-root');
      // An unknown workspace path is kcp's 404 on workspaces.tenancy.kcp.io.
      expect(await fails(ROOT, ['get', '--raw', '/clusters/root:nope/api/v1/namespaces'])).to.contain('NotFound');
    });
  });
});
