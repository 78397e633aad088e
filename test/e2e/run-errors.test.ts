/**
 * `kcp-mc run` errors that point at their cause, and the name a module runs under: a reconcile
 * error's line carries the reconciler's stack (JSON and text), a module that does not parse is named
 * with file:line:column, a `.ts` module gets a hint, a module without controllers and a kubeconfig
 * without clusters or current context are one line and exit 2; the Events' reportingController and
 * the Lease come from the module's `name` export, else its first controller, not its file name.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { Run, writeKubeconfig, killRuns } from '../support/cli.js';
import { bind, createConfigMap, createExport, createWorkspace, type Obj } from '../support/kcp.js';
import { eventually, raw, start } from '../support/server.js';

const HTTP_FLAGS = ['--metrics-bind-address', '0', '--health-probe-bind-address', '0'];

describe('kcp-mc run: errors and names (e2e)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let dir: string;
  let kubeconfig: string;
  const runs: Run[] = [];
  const run = (args: string[]): Run => {
    const r = new Run(args);
    runs.push(r);
    return r;
  };
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-run-errors-'));
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'cms');
    await createWorkspace(srv, 'root', 'tenant');
    await bind(srv, 'root:tenant', 'root:provider', 'cms');
    await createConfigMap(srv, 'root:tenant', 'one', { n: '1' });
    kubeconfig = writeKubeconfig(dir, srv, 'root:provider');
  });
  afterEach(() => killRuns(runs));
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('a reconcile error is logged with the stack of what was thrown', () => {
    let thrower: string;
    before(() => {
      thrower = write(
        'thrower.mjs',
        `export default function setup(manager) {
  manager
    .controller('thrower')
    .for({ apiVersion: 'v1', kind: 'ConfigMap' })
    .reconcile(async function reconcileThrower(req) {
      if (req.name === 'one') throw new Error('database not reachable');
    });
}
`,
      );
    });

    it('in JSON: a stacktrace field naming the reconciler\'s file, line and column', async () => {
      const r = run([thrower, '--kubeconfig', kubeconfig, '--endpointslice', 'cms', ...HTTP_FLAGS]);
      const l = await r.waitLog((x) => x['level'] === 'error' && x['name'] === 'one', 'the reconcile error line');
      expect(l).to.include({ controller: 'thrower', err: 'database not reachable' });
      expect(String(l['stacktrace'])).to.match(/at (\S+\.)?reconcileThrower (\[as \w+\] )?\(file:\/\/.*thrower\.mjs:6:\d+\)/);
    });

    it('in text: the same line ends with stacktrace="..."', async () => {
      const r = run([thrower, '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--log-format', 'text', ...HTTP_FLAGS]);
      const line = await eventually(() => r.err.split('\n').find((l) => / ERROR reconcile failed/.test(l) && l.includes('name=one')), 'the text error line').catch((e: Error) => {
        throw new Error(`${e.message}\n${r.err}`);
      });
      expect(line).to.match(/err="database not reachable".* stacktrace=".*at (\S+\.)?reconcileThrower (\[as \w+\] )?\(file:\/\/.*thrower\.mjs:6:\d+\)/);
    });
  });

  describe('configuration mistakes: one line naming the cause, exit 2', () => {
    const mistake = async (args: string[]): Promise<string> => {
      const r = run([...args, ...HTTP_FLAGS]);
      const code = await r.exited;
      expect(code, r.err).to.equal(2);
      expect(r.err.trimEnd().split('\n'), r.err).to.have.length(1);
      expect(r.out).to.equal('');
      return r.err.trim();
    };

    it('a module that does not parse: file:line:column of the error', async () => {
      const bad = write('syntax/bad.mjs', "export default function setup(manager) {\n  // the next line is cut short\n  const x = ;\n}\n");
      const err = await mistake([bad, '--kubeconfig', kubeconfig, '--endpointslice', 'cms']);
      expect(err).to.equal(`kcp-mc run: controller module ${bad} failed to load: ${bad}:3:13: SyntaxError: Unexpected token ';'`);
    });

    it('a module importing one that does not parse: the imported file\'s line and column', async () => {
      const lib = write('syntax/lib.mjs', 'export const rows = [\n  1,\n  2\n  3,\n];\n');
      const main = write('syntax/main.mjs', "import { rows } from './lib.mjs';\nexport default function setup() { return rows; }\n");
      const err = await mistake([main, '--kubeconfig', kubeconfig, '--endpointslice', 'cms']);
      expect(err).to.contain(`controller module ${main} failed to load: ${lib}:4:3: SyntaxError: `);
    });

    it('a module importing a name that is not exported: the importing line', async () => {
      write('link/lib.mjs', 'export const a = 1;\n');
      const main = write('link/main.mjs', "// imports\nimport { b } from './lib.mjs';\nexport default function setup() { return b; }\n");
      const err = await mistake([main, '--kubeconfig', kubeconfig, '--endpointslice', 'cms']);
      expect(err).to.equal(`kcp-mc run: controller module ${main} failed to load: ${main}:2:10: SyntaxError: The requested module './lib.mjs' does not provide an export named 'b'`);
    });

    it('a TypeScript module: how to run it', async () => {
      const ts = write('ts/controller.ts', "import type { Manager } from 'kcp-multicluster-provider';\nexport default function setup(manager: Manager): void {}\n");
      const err = await mistake([ts, '--kubeconfig', kubeconfig, '--endpointslice', 'cms']);
      expect(err).to.match(/controller module .*controller\.ts is TypeScript, which node does not run: compile it first \(tsc\) .*or run kcp-mc under a loader \(node --import tsx /);
    });

    it('a module that registers no controllers', async () => {
      const empty = write('empty.mjs', 'export default function setup() {}\n');
      const err = await mistake([empty, '--kubeconfig', kubeconfig, '--endpointslice', 'cms']);
      expect(err).to.equal(`kcp-mc run: controller module ${empty} registered no controllers or webhooks: its setup(manager) must call manager.controller(name)...reconcile(fn) or manager.webhook(type)...`);
    });

    it('a kubeconfig without a current context names the file and its contexts', async () => {
      const text = fs.readFileSync(kubeconfig, 'utf8');
      const parsed = JSON.parse(text) as Obj;
      const noCurrent = write('no-current.kubeconfig', JSON.stringify({ ...parsed, 'current-context': undefined }));
      const err = await mistake(['apiexport-example', '--kubeconfig', noCurrent, '--endpointslice', 'cms']);
      const contexts = (parsed['contexts'] as Obj[]).map((c) => c['name']).join(', ');
      expect(err).to.equal(`kcp-mc run: kubeconfig ${noCurrent} has no current context: set current-context or pass --context NAME (contexts: ${contexts})`);
    });

    it('a kubeconfig without clusters names the file', async () => {
      const noClusters = write('no-clusters.kubeconfig', 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
      const err = await mistake(['apiexport-example', '--kubeconfig', noClusters, '--endpointslice', 'cms']);
      expect(err).to.equal(`kcp-mc run: kubeconfig ${noClusters} has no clusters and no contexts`);
    });
  });

  describe('the name a module runs under', () => {
    const module = (name?: string) => `${name ? `export const name = ${JSON.stringify(name)};\n` : ''}
export default function setup(manager) {
  manager
    .controller('db-controller')
    .for({ apiVersion: 'v1', kind: 'ConfigMap' })
    .reconcile(async (req, ctx) => {
      const cm = ctx.cluster.cache.get({ apiVersion: 'v1', kind: 'ConfigMap' }, req);
      if (cm) await ctx.cluster.events.publish(cm, { type: 'Normal', reason: 'Seen', action: 'Reconcile', note: 'seen' });
    });
  manager.controller('second').for({ apiVersion: 'v1', kind: 'ConfigMap' }).reconcile(() => undefined);
}
`;

    async function identity(file: string): Promise<{ reportingController: unknown; lease: Obj }> {
      const r = run([file, '--kubeconfig', kubeconfig, '--endpointslice', 'cms', '--leader-elect', ...HTTP_FLAGS]);
      const starting = await r.waitLog((l) => l['msg'] === 'starting', 'the starting line');
      const event = (await eventually(async () => {
        const res = await raw(srv, 'GET', '/clusters/root:tenant/apis/events.k8s.io/v1/namespaces/default/events');
        return ((res.json['items'] as Obj[] | undefined) ?? []).find((e) => e['reason'] === 'Seen' && e['regarding']?.name === 'one' && e['reportingController'] === starting['controller']);
      }, `an Event from ${String(starting['controller'])}`).catch((e: Error) => {
        throw new Error(`${e.message}\n${r.err}`);
      })) as Obj;
      const lease = (await eventually(async () => {
        const res = await raw(srv, 'GET', '/clusters/root:provider/apis/coordination.k8s.io/v1/namespaces/default/leases');
        return ((res.json['items'] as Obj[] | undefined) ?? []).find((l) => l['spec']?.holderIdentity);
      }, 'the held Lease')) as Obj;
      expect((await r.stop('SIGTERM')).code, r.err).to.equal(0);
      // Gone, so that the next run holds a Lease of its own.
      await raw(srv, 'DELETE', `/clusters/root:provider/apis/coordination.k8s.io/v1/namespaces/default/leases/${lease['metadata'].name}`);
      return { reportingController: event['reportingController'], lease };
    }

    it('controller.js without a name export runs as its first controller: Events from db-controller, Lease kcp-mc-db-controller', async () => {
      write('plain/package.json', JSON.stringify({ type: 'module' }));
      const got = await identity(write('plain/controller.js', module()));
      expect(got.reportingController).to.equal('db-controller');
      expect(got.lease['metadata'].name).to.equal('kcp-mc-db-controller');
    });

    it('controller.js exporting name runs as that name: Events from it, Lease kcp-mc-<name>', async () => {
      write('named/package.json', JSON.stringify({ type: 'module' }));
      const file = write('named/controller.js', module('example.com/databases'));
      const got = await identity(file);
      expect(got.reportingController).to.equal('example.com/databases');
      expect(got.lease['metadata'].name).to.equal('kcp-mc-example.com-databases');
    });

    it('a name export that cannot name Events is a configuration mistake', async () => {
      write('badname/package.json', JSON.stringify({ type: 'module' }));
      const file = write('badname/controller.js', module('My Controller'));
      const r = run([file, '--kubeconfig', kubeconfig, '--endpointslice', 'cms', ...HTTP_FLAGS]);
      expect(await r.exited, r.err).to.equal(2);
      expect(r.err.trim()).to.equal(`kcp-mc run: controller module ${file} exports name "My Controller": it must be a qualified name such as example.com/my-controller or my-controller`);
    });
  });
});
