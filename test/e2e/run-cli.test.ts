/**
 * `kcp-mc run` as a user runs it: a separate process on a provider kubeconfig and an endpoint
 * slice, with a controller module of their own or a bundled one; JSON log lines, health probes,
 * usage errors (exit 2), an unreachable kcp, and SIGINT/SIGTERM (exit 0).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { childEnv, jsonLines, REPO, Run, writeKubeconfig, killRuns } from '../support/cli.js';
import { bind, createConfigMap, createExport, createWorkspace, type Obj } from '../support/kcp.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const HTTP_FLAGS = ['--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'];

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('kcp-mc run (e2e)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let dir: string;
  let kubeconfig: string;
  const clusters: Record<string, string> = {};
  const runs: Run[] = [];
  const run = (args: string[], env: Record<string, string> = {}, cwd?: string): Run => {
    const r = new Run(args, env, cwd);
    runs.push(r);
    return r;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-run-'));
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'cms');
    for (const n of ['tenant-a', 'tenant-b']) {
      clusters[n] = await createWorkspace(srv, 'root', n);
      await bind(srv, `root:${n}`, 'root:provider', 'cms');
      await createConfigMap(srv, `root:${n}`, 'one', { n });
    }
    kubeconfig = writeKubeconfig(dir, srv, 'root:provider');
  });
  afterEach(() => killRuns(runs));
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a module of the user\'s own across both bound workspaces, with structured log lines, and exits 0 on SIGTERM', async () => {
    // As a user's project: the module imports the library by its package name, resolved through
    // node_modules/kcp-multicluster-provider (here a symlink to this repository, as `npm link` or a
    // workspace install makes). Node follows the link to the real path, so the module gets the very
    // library instance the CLI runs (the instanceof check below would fail on a second copy).
    const project = path.join(dir, 'project');
    fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
    fs.symlinkSync(REPO, path.join(project, 'node_modules', 'kcp-multicluster-provider'), 'dir');
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-controller', type: 'module', private: true }));
    fs.writeFileSync(
      path.join(project, 'cm-logger.js'),
      `import { Manager, resourceVersionChanged } from 'kcp-multicluster-provider';

export default function setup(manager) {
  if (!(manager instanceof Manager)) throw new Error('manager is not the library Manager');
  if (typeof resourceVersionChanged !== 'function') throw new Error('library exports missing');
  manager
    .controller('cm-logger')
    .for({ apiVersion: 'v1', kind: 'ConfigMap' })
    .reconcile(async (req, ctx) => {
      ctx.log.info('reconciled', { keys: Object.keys(ctx.cluster.cache.get({ apiVersion: 'v1', kind: 'ConfigMap' }, req)?.data ?? {}) });
    });
}
`,
    );
    // A path relative to the project folder, as `npx kcp-mc run ./cm-logger.js` is run there.
    const p = run(['./cm-logger.js', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', ...HTTP_FLAGS], {}, project);
    const reconciled = (cluster: string) => (l: Obj) => l['msg'] === 'reconciled' && l['cluster'] === cluster && l['name'] === 'one';
    for (const ws of ['tenant-a', 'tenant-b']) {
      const l = await p.waitLog(reconciled(clusters[ws]!), `reconcile in ${ws}`);
      expect(l).to.include({ level: 'info', controller: 'cm-logger', cluster: clusters[ws], namespace: 'default', name: 'one' });
      expect(l['reconcileID']).to.match(UUID);
      expect(l['keys']).to.deep.equal(['n']);
      expect(Date.parse(l['time'] as string)).to.not.be.NaN;
    }
    // Every line of the run is a JSON object.
    const lines = p.err.split('\n').filter(Boolean);
    expect(p.logs()).to.have.length(lines.length);
    expect(p.logs().find((l) => l['msg'] === 'starting')).to.include({ controller: 'cm-logger', endpointSlice: 'cms' });
    const { code, ms } = await p.stop('SIGTERM');
    expect(code, p.err).to.equal(0);
    expect(ms).to.be.below(5_000);
    expect(p.logs().map((l) => l['msg'])).to.include.members(['shutting down', 'stopped']);
  });

  it('a controller process never loads client-node: the kubeconfig is read without it and the module imports the package index', async () => {
    // The module as a user writes it (the package by name); a resolve hook fails any import of
    // client-node in the process, so the run only reconciles if nothing imports it.
    const project = path.join(dir, 'lean');
    fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
    fs.symlinkSync(REPO, path.join(project, 'node_modules', 'kcp-multicluster-provider'), 'dir');
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'lean', type: 'module', private: true }));
    fs.writeFileSync(
      path.join(project, 'lean.js'),
      `import { Manager } from 'kcp-multicluster-provider';
export default (m) => {
  if (!(m instanceof Manager)) throw new Error('not the library Manager');
  m.controller('lean').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async (req, ctx) => ctx.log.info('reconciled', { heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) }));
};
`,
    );
    const hooks = `export async function resolve(s, c, n) { if (s === '@kubernetes/client-node' || s.startsWith('@kubernetes/client-node/')) throw new Error('client-node imported by ' + c.parentURL); return n(s, c); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const p = run(['./lean.js', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', ...HTTP_FLAGS], { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(register)}` }, project);
    for (const ws of ['tenant-a', 'tenant-b']) await p.waitLog((l) => l['msg'] === 'reconciled' && l['cluster'] === clusters[ws], `reconcile in ${ws}`);
    expect(p.err).to.not.include('client-node imported');
    const { code } = await p.stop('SIGTERM');
    expect(code, p.err).to.equal(0);
  });

  it('the README\'s script for process managers (exec node_modules/.bin/kcp-mc run): SIGTERM to its pid stops the controller gracefully, exit 0', async () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const script = /```sh\n(#!\/bin\/sh\n[^`]*exec node_modules\/\.bin\/kcp-mc run [^`]*)```/.exec(readme)?.[1];
    expect(script, 'a #!/bin/sh block with exec node_modules/.bin/kcp-mc run in the README').to.be.a('string');
    // The project as npm installs it: the package under node_modules, its bin linked and executable.
    const project = path.join(dir, 'supervised');
    fs.mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
    fs.mkdirSync(path.join(project, 'dist'));
    fs.symlinkSync(REPO, path.join(project, 'node_modules', 'kcp-multicluster-provider'), 'dir');
    fs.chmodSync(path.join(REPO, 'dist/src/cli/main.js'), 0o755);
    fs.symlinkSync('../kcp-multicluster-provider/dist/src/cli/main.js', path.join(project, 'node_modules', '.bin', 'kcp-mc'));
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'supervised', type: 'module', private: true }));
    fs.writeFileSync(
      path.join(project, 'dist', 'my-controller.js'),
      "export default (m) => m.controller('supervised').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(async () => undefined);\n",
    );
    await createExport(srv, 'root:provider', 'my-export');
    fs.copyFileSync(kubeconfig, path.join(project, 'provider.kubeconfig'));
    fs.writeFileSync(path.join(project, 'run.sh'), script!, { mode: 0o755 });
    // The script as a supervisor starts it; ports come from the environment, the script is the README's.
    const child = spawn(path.join(project, 'run.sh'), [], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv({ KCP_MC_METRICS_BIND_ADDRESS: '0', KCP_MC_HEALTH_PROBE_BIND_ADDRESS: '127.0.0.1:0' }),
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    try {
      await eventually(() => jsonLines(err).some((l) => l['msg'] === 'serving health probes'), 'the controller to serve its probes', 15_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${err}`);
      });
      // The supervisor signals the pid it started: the script's, which exec made the controller's.
      child.kill('SIGTERM');
      expect(await exited, err).to.deep.equal({ code: 0, signal: null });
      expect(jsonLines(err).map((l) => l['msg'])).to.include.members(['shutting down', 'stopped']);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('runs the bundled apiexport-example: one log line per reconcile naming the cluster, a Normal Event in the ConfigMap\'s workspace; exit 0 on SIGINT', async () => {
    await createConfigMap(srv, 'root:tenant-a', 'ex', { a: '1' });
    const r = run(['apiexport-example', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', ...HTTP_FLAGS]);
    const line = await r.waitLog((l) => l['msg'] === 'reconciled configmap' && l['name'] === 'ex', 'reconcile of ex');
    expect(line).to.include({ controller: 'apiexport-example', cluster: clusters['tenant-a'], namespace: 'default', name: 'ex', keys: 1 });
    expect(line['reconcileID']).to.match(UUID);
    const event = await eventually(async () => {
      for (const p of ['/apis/events.k8s.io/v1', '/api/v1']) {
        const res = await raw(srv, 'GET', `/clusters/root:tenant-a${p}/namespaces/default/events`);
        const items = (res.json['items'] as Obj[] | undefined) ?? [];
        const hit = items.find((e) => (e['regarding'] ?? e['involvedObject'])?.name === 'ex' && e['reason'] === 'Reconciled');
        if (hit) return hit;
      }
      return undefined;
    }, 'the Reconciled event on ex in root:tenant-a') as Obj;
    expect(event['type']).to.equal('Normal');
    expect((event['regarding'] ?? event['involvedObject']) as Obj).to.include({ kind: 'ConfigMap', namespace: 'default', name: 'ex' });
    expect(String(event['note'] ?? event['message'])).to.contain(clusters['tenant-a']);
    // Not recorded in the other workspace, nor in the provider's.
    for (const ws of ['root:tenant-b', 'root:provider']) {
      const res = await raw(srv, 'GET', `/clusters/${ws}/api/v1/namespaces/default/events`);
      expect(((res.json['items'] as Obj[] | undefined) ?? []).filter((e) => e['involvedObject']?.name === 'ex')).to.have.length(0);
    }
    // One line per reconcile: one reconcile of ex so far, one line.
    expect(r.logs().filter((l) => l['msg'] === 'reconciled configmap' && l['name'] === 'ex')).to.have.length(1);
    const { code } = await r.stop('SIGINT');
    expect(code, r.err).to.equal(0);
  });

  it('takes its settings from KCP_MC_* environment variables (text logs here)', async () => {
    const r = run(['apiexport-example'], {
      KCP_MC_KUBECONFIG: kubeconfig,
      KCP_MC_ENDPOINTSLICE: 'cms',
      KCP_MC_LOG_FORMAT: 'text',
      KCP_MC_METRICS_BIND_ADDRESS: '0',
      KCP_MC_HEALTH_PROBE_BIND_ADDRESS: '127.0.0.1:0',
      // "false" is false (commander alone would take any value of a boolean's variable as true).
      KCP_MC_LEADER_ELECT: 'false',
    });
    const reconciled = new RegExp(`^\\S+ INFO  reconciled configmap .*cluster=${clusters['tenant-b']} .*name=one`, 'm');
    await eventually(() => reconciled.test(r.err), 'a text reconcile line', 15_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${r.err}`);
    });
    expect(r.err).to.match(/^\S+ INFO  starting controller=apiexport-example endpointSlice=cms /m);
    expect(r.logs()).to.have.length(0);
    // Metrics off through the environment: no metrics server line; no leader election either.
    expect(r.err).to.not.contain('serving metrics');
    expect(r.err).to.not.contain('waiting for leadership');
    expect((await r.stop('SIGTERM')).code, r.err).to.equal(0);
  });

  describe('SIGTERM with a reconcile in flight', () => {
    let slow: string;
    before(async () => {
      slow = path.join(dir, 'slow.mjs');
      fs.writeFileSync(
        slow,
        `export default function setup(manager) {
  manager
    .controller('slow')
    .for({ apiVersion: 'v1', kind: 'ConfigMap' })
    .reconcile(async (req, ctx) => {
      if (req.name !== 'slow') return;
      ctx.log.info('begin');
      await new Promise((r) => setTimeout(r, Number(process.env.SLOW_MS)));
      ctx.log.info('end');
    });
}
`,
      );
      await createConfigMap(srv, 'root:tenant-a', 'slow');
    });

    it('lets the reconcile finish within the grace period, then exits 0', async () => {
      const r = run([slow, '--kubeconfig', kubeconfig, '--endpointslice', 'cms', ...HTTP_FLAGS], { SLOW_MS: '1500' });
      const begin = await r.waitLog((l) => l['msg'] === 'begin', 'the slow reconcile');
      const { code } = await r.stop('SIGTERM');
      expect(code, r.err).to.equal(0);
      const msgs = r.logs().map((l) => l['msg']);
      expect(msgs.indexOf('end'), r.err).to.be.greaterThan(msgs.indexOf('shutting down'));
      expect(msgs.indexOf('stopped')).to.be.greaterThan(msgs.indexOf('end'));
      expect(r.logs().find((l) => l['msg'] === 'end')).to.include({ reconcileID: begin['reconcileID'], cluster: clusters['tenant-a'] });
    });

    it('leaves a reconcile that outlasts --graceful-shutdown and still exits 0', async () => {
      const r = run([slow, '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--graceful-shutdown', '300ms', ...HTTP_FLAGS], { SLOW_MS: '60000' });
      await r.waitLog((l) => l['msg'] === 'begin', 'the slow reconcile');
      const { code, ms } = await r.stop('SIGTERM');
      expect(code, r.err).to.equal(0);
      expect(ms).to.be.below(5_000);
      expect(r.logs().find((l) => l['msg'] === 'shutting down')).to.include({ graceMs: 300 });
      expect(r.logs().some((l) => l['msg'] === 'end')).to.equal(false);
      expect(r.logs().some((l) => l['level'] === 'warn' && /still running after the shutdown grace period/.test(String(l['msg'])))).to.equal(true);
    });
  });

  describe('usage and configuration mistakes: exactly one line on stderr, exit code 2', () => {
    let noDefault: string;
    let throwing: string;
    let garbage: string;
    before(() => {
      throwing = path.join(dir, 'throws.mjs');
      fs.writeFileSync(throwing, "export default function setup() {\n  throw new Error('no widgets here');\n}\n");
      noDefault = path.join(dir, 'no-default.mjs');
      fs.writeFileSync(noDefault, 'export const setup = () => undefined;\n');
      garbage = path.join(dir, 'garbage.kubeconfig');
      fs.writeFileSync(garbage, 'clusters: [unterminated\n');
    });

    const cases: [string, () => string[], RegExp, Record<string, string>?][] = [
      ['a missing module path', () => ['./no/such/module.js', '--kubeconfig', kubeconfig, '--endpointslice', 'cms'], /controller module \.\/no\/such\/module\.js not found/],
      ['a module without a default function', () => [noDefault, '--kubeconfig', kubeconfig, '--endpointslice', 'cms'], /has no default export function setup\(manager\)/],
      ['a module whose setup throws', () => [throwing, '--kubeconfig', kubeconfig, '--endpointslice', 'cms'], /setup of .*throws\.mjs failed: no widgets here/],
      ['an unknown bundled controller', () => ['no-such-controller', '--kubeconfig', kubeconfig], /no bundled controller named no-such-controller \(bundled: .*apiexport-example/],
      ['--concurrency zero', () => ['apiexport-example', '--concurrency', 'zero'], /--concurrency.*'zero' is invalid/],
      ['--log-format xml', () => ['apiexport-example', '--log-format', 'xml'], /--log-format.*'xml' is invalid.*json, text/],
      ['an unknown flag', () => ['apiexport-example', '--no-such-flag'], /unknown option '--no-such-flag'/],
      ['a bad bind address', () => ['apiexport-example', '--metrics-bind-address', 'localhost'], /--metrics-bind-address/],
      ['a bad duration', () => ['apiexport-example', '--leader-election-lease-duration', 'soon'], /--leader-election-lease-duration.*duration/],
      ['inconsistent lease timings', () => ['apiexport-example', '--leader-elect', '--leader-election-lease-duration', '5s', '--leader-election-renew-deadline', '6s'], /lease-duration .* must be greater than/],
      ['a kubeconfig that does not exist', () => ['apiexport-example', '--kubeconfig', path.join(dir, 'nope.kubeconfig'), '--endpointslice', 'cms'], /cannot read kubeconfig .*nope\.kubeconfig/],
      ['a kubeconfig that does not parse', () => ['apiexport-example', '--kubeconfig', garbage, '--endpointslice', 'cms'], /cannot read kubeconfig .*garbage\.kubeconfig/],
      ['an unknown --context', () => ['apiexport-example', '--kubeconfig', kubeconfig, '--context', 'elsewhere', '--endpointslice', 'cms'], /no context "elsewhere"/],
      ['a missing --endpointslice', () => ['apiexport-example', '--kubeconfig', kubeconfig], /no endpoint slice: pass --endpointslice/],
      ['a bad KCP_MC_LOG_FORMAT', () => ['apiexport-example'], /--log-format.*'yaml' from env 'KCP_MC_LOG_FORMAT' is invalid/, { KCP_MC_LOG_FORMAT: 'yaml' }],
      ['--sharding with --leader-elect', () => ['apiexport-example', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--sharding', '--leader-elect'], /--sharding and --leader-elect are exclusive/],
      ['KCP_MC_SHARDING with --leader-elect', () => ['apiexport-example', '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--leader-elect'], /--sharding and --leader-elect are exclusive/, { KCP_MC_SHARDING: 'on' }],
      ['a --shard-id that is not a DNS label', () => ['apiexport-example', '--sharding', '--shard-id', 'Replica_0'], /--shard-id.*DNS label/],
      ['a --shard-weight of zero', () => ['apiexport-example', '--sharding', '--shard-weight', '0'], /--shard-weight.*positive number/],
      ['a --shard-fence-lease-duration under a second', () => ['apiexport-example', '--sharding', '--shard-fence-lease-duration', '500ms'], /--shard-fence-lease-duration.*at least 1s/],
    ];
    // A few at a time (each process spends most of its second loading modules), checked one by one;
    // more at once only thrash a small machine.
    const started = new Map<string, Run>();
    before(() => {
      const queue = [...cases];
      const slots: Promise<void>[] = [];
      const next = async (): Promise<void> => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const [what, args, , env] = c;
          // Not in `runs`: the afterEach of the first check would kill the others.
          const r = new Run([...args(), ...HTTP_FLAGS], env);
          started.set(what, r);
          await r.exited;
        }
      };
      for (let i = 0; i < 3; i++) slots.push(next());
      void Promise.all(slots);
    });
    after(async () => {
      // Only one that wrongly kept running is still alive here.
      for (const r of started.values()) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await Promise.all([...started.values()].map((r) => r.exited));
    });
    for (const [what, , message] of cases) {
      it(what, async () => {
        const r = (await eventually(() => started.get(what), `${what} started`, 50_000))!;
        const code = await r.exited;
        expect(code, r.err).to.equal(2);
        expect(r.err.endsWith('\n'), JSON.stringify(r.err)).to.equal(true);
        expect(r.err.trimEnd().split('\n'), r.err).to.have.length(1);
        expect(r.err).to.match(message);
        expect(r.out).to.equal('');
      });
    }
  });

  it('warns while the --endpointslice does not exist (naming it, the workspace and what to check), fails /readyz/provider with that reason, and gets ready once it is created', async () => {
    const r = run(['apiexport-example', '--kubeconfig', kubeconfig, '--endpointslice', 'nope', ...HTTP_FLAGS]);
    const health = await r.healthURL();
    const warn = await r.waitLog((l) => l['level'] === 'warn' && l['kind'] === 'APIExportEndpointSlice', 'the missing-slice warning');
    expect(warn).to.include({ msg: 'APIExportEndpointSlice "nope" not found in workspace root:provider', endpointSlice: 'nope', name: 'nope', workspace: 'root:provider', reports: 1 });
    expect(String(warn['hint'])).to.contain("the kubeconfig must point at the provider's workspace, the one that holds the APIExportEndpointSlice");
    const one = await fetch(`${health}/readyz/provider`);
    expect(one.status).to.equal(500);
    const reason = await one.text();
    expect(reason).to.contain('APIExportEndpointSlice "nope" not found in workspace root:provider').and.contain("the kubeconfig must point at the provider's workspace");
    const all = await fetch(`${health}/readyz?verbose`);
    expect(all.status).to.equal(500);
    expect(await all.text()).to.contain('[-]provider failed');

    const made = await raw(srv, 'POST', '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices', {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIExportEndpointSlice',
      metadata: { name: 'nope' },
      spec: { export: { path: 'root:provider', name: 'cms' } },
    });
    expect(made.status, made.text).to.equal(201);
    try {
      await r.waitLog((l) => l['msg'] === 'reconciled configmap' && l['cluster'] === clusters['tenant-a'], 'a reconcile through the new slice');
      await eventually(async () => (await fetch(`${health}/readyz`)).status === 200, '/readyz 200', 15_000);
      expect((await fetch(`${health}/readyz/provider`)).status).to.equal(200);
      expect(r.logs().find((l) => l['msg'] === 'APIExportEndpointSlice "nope" found in workspace root:provider')).to.include({ level: 'info' });
      const { code } = await r.stop('SIGTERM');
      expect(code, r.err).to.equal(0);
    } finally {
      await raw(srv, 'DELETE', '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/nope');
    }
  });

  it('keeps running while kcp is unreachable: /healthz 200, /readyz 500, retries with backoff, exit 0 on SIGTERM', async () => {
    const port = await closedPort();
    const kc = kubeConfigFor(srv, 'root:provider');
    const unreachable = path.join(dir, 'unreachable.kubeconfig');
    fs.writeFileSync(unreachable, kc.exportConfig().replaceAll(new URL(srv.url).host, `127.0.0.1:${port}`));
    expect(fs.readFileSync(unreachable, 'utf8')).to.contain(`127.0.0.1:${port}/clusters/root:provider`);
    const r = run(['apiexport-example', '--kubeconfig', unreachable, '--endpointslice', 'cms', ...HTTP_FLAGS]);
    const health = await r.healthURL();
    // Three failed attempts take over a second with backoff: the process has to survive them.
    await r.waitLog((l) => l['level'] === 'warn' && l['failures'] === 3 && /ECONNREFUSED/.test(String(l['error'])), 'third retry');
    const warnings = r.logs().filter((l) => l['failures'] !== undefined);
    expect(warnings.map((l) => l['failures'])).to.deep.equal([1, 2, 3]);
    expect((await fetch(`${health}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${health}/readyz?verbose`);
    expect(ready.status).to.equal(500);
    expect(await ready.text()).to.match(/\[-\]provider failed/);
    // The single check names the connection error, not just "not synced".
    const one = await fetch(`${health}/readyz/provider`);
    expect(one.status).to.equal(500);
    expect(await one.text()).to.contain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.child.exitCode).to.equal(null);
    const { code, ms } = await r.stop('SIGTERM');
    expect(code, r.err).to.equal(0);
    expect(ms).to.be.below(5_000);
  });
});
