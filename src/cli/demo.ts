/**
 * `kcp-mc demo [--workspaces N]`: the widgets service end to end on the embedded reference server.
 * Starts the server on a free port, installs the widgets export in `root:widgets`, creates N
 * consumer workspaces bound to it, runs the widgets controller in-process, creates Widgets (one
 * with a color it cannot paint) and shows each reconcile as it happens, then a per-workspace
 * summary and kubectl commands to try while it keeps running. Ctrl-C stops it (exit 0).
 *
 * Workspaces are made as a kcp user makes them: Workspace objects in their parent, waited for
 * until Ready, so `kubectl get workspaces` shows them. The kubeconfig it writes has a context per
 * workspace, named after it, the way `kubectl ws` users switch between them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EXPORT_NAME, WIDGET, apis, setupController, type Widget } from '../../controllers/widgets/index.js';
import { installAPIs } from '../api/index.js';
import { isAlreadyExists } from '../client/index.js';
import { Logger } from '../log/index.js';
import { Manager } from '../manager/index.js';
import { APIExportProvider } from '../provider/index.js';
import { startServer, type RunningServer } from '../server/index.js';
import { TestEnvironment } from '../testing/index.js';

/** Options of `kcp-mc demo`. */
export interface DemoOptions {
  port: string;
  workspaces: number;
  seconds?: string;
}

interface Out {
  line(s: string): void;
  /** A line rewritten in place on a terminal; on a pipe only every `every`-th call and the last. */
  progress(s: string, done: boolean): void;
}

function output(): Out {
  const tty = process.stdout.isTTY === true;
  let shown = 0;
  return {
    line: (s) => process.stdout.write((tty ? '\r\x1b[2K' : '') + s + '\n'),
    progress: (s, done) => {
      if (tty) process.stdout.write('\r\x1b[2K' + s + (done ? '\n' : ''));
      else if (done || Date.now() - shown > 1000) {
        shown = Date.now();
        process.stdout.write(s + '\n');
      }
    },
  };
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The provider's workspace, where the widgets export lives. */
const PROVIDER_PATH = 'root:widgets';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The Widgets the demo creates in workspace number `i` (1-based): one bad color in the first. */
function widgetsFor(i: number): { name: string; spec: { size: number; color?: string } }[] {
  const list: { name: string; spec: { size: number; color?: string } }[] = [
    { name: 'small', spec: { size: 2, color: 'red' } },
    { name: 'large', spec: { size: 8 } },
  ];
  if (i === 1) list.push({ name: 'odd', spec: { size: 3, color: 'purple' } });
  return list;
}

/** Runs the demo until Ctrl-C, or for `seconds` when given. */
export async function runDemo(o: DemoOptions): Promise<void> {
  const out = output();
  const t0 = Date.now();
  const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-demo-'));
  const srv = await startServer({ port: Number(o.port), rootDir });
  // The kit's workspace, binding and wait helpers; a thousand workspaces take longer than a test's.
  const env = new TestEnvironment(srv, { timeoutMs: 300_000, fieldManager: 'kcp-mc-demo' });
  const ctl = new AbortController();
  const stop = (): void => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (o.seconds) setTimeout(stop, Number(o.seconds) * 1000).unref();
  let manager: Promise<void> | undefined;
  try {
    out.line(`kcp reference server ready at ${srv.url}/clusters/root; kubeconfig: ${srv.kubeconfigPath}`);
    const quiet = new Logger({ level: 'error', write: () => undefined });
    const provider = await env.createWorkspace(PROVIDER_PATH);
    const providerKC = env.kubeconfig(PROVIDER_PATH);
    await installAPIs(providerKC, apis, quiet);
    out.line(`installed the APIExport ${EXPORT_NAME} in ${PROVIDER_PATH} (logical cluster ${provider.name})`);

    // Consumer workspaces, each Ready and bound to the export with its claims accepted.
    const n = o.workspaces;
    const tenants = Array.from({ length: n }, (_, i) => ({ i: i + 1, path: `root:tenant-${i + 1}`, name: '' }));
    let bound = 0;
    await pool(tenants, 16, async (t) => {
      if (ctl.signal.aborted) return;
      t.name = (await env.createWorkspace(t.path)).name;
      await env.bind(t.path, { path: PROVIDER_PATH, name: EXPORT_NAME }, { name: 'widgets' });
      bound++;
      out.progress(`workspaces: ${bound}/${n} created and bound`, bound === n);
    });
    const kubeconfig = path.join(rootDir, 'demo.kubeconfig');
    fs.writeFileSync(kubeconfig, workspaceContexts(srv, ['root', PROVIDER_PATH, ...tenants.map((t) => t.path)]).exportConfig(), { mode: 0o600 });
    const byName = new Map(tenants.map((t) => [t.name, t]));

    // The controller, in-process, with each reconcile shown as it happens (no webhooks: the controller refuses the bad color).
    const m = new Manager({ provider: new APIExportProvider(providerKC, { endpointSlice: EXPORT_NAME, log: quiet, eventSource: 'widgets' }), log: quiet, gracefulShutdownMs: 2_000 });
    setupController(m);
    const counts = new Map<string, number>();
    const verbose = n <= 50;
    for (const c of m.getControllers()) {
      c.onReconcile((r) => {
        counts.set(r.request.cluster, (counts.get(r.request.cluster) ?? 0) + 1);
        if (!verbose) return;
        const t = byName.get(r.request.cluster);
        const err = r.error === undefined ? '' : `  ${String(r.error instanceof Error ? r.error.message : r.error).split('\n')[0]}`;
        out.line(`reconcile  ${pad(t?.path ?? r.request.cluster, 16)} ${pad(`widget ${r.request.namespace ?? ''}/${r.request.name}`, 22)} ${pad(r.result, 8)} ${r.ms.toFixed(1).padStart(7)} ms${err}`);
      });
    }
    manager = m.start({ signal: ctl.signal });

    // A few Widgets in each workspace.
    const tWidgets = Date.now();
    const all = tenants.flatMap((t) => widgetsFor(t.i).map((w) => ({ t, w })));
    let created = 0;
    await pool(all, 32, async ({ t, w }) => {
      if (ctl.signal.aborted) return;
      try {
        await env.client(t.path).create({ apiVersion: WIDGET.apiVersion, kind: WIDGET.kind, metadata: { name: w.name, namespace: 'default' }, spec: w.spec } as Widget);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
      created++;
      if (!verbose) out.progress(`widgets: ${created}/${all.length} created`, created === all.length);
    });

    // Until every Widget has its Ready condition (True, or False for the bad color).
    const state = (): { ready: number; refused: number; pending: number } => {
      let ready = 0;
      let refused = 0;
      for (const t of tenants) {
        let items: Widget[] = [];
        try {
          items = m.getCluster(t.name).cache.list(WIDGET) as Widget[];
        } catch {
          // not engaged yet
        }
        for (const w of items) {
          const c = w.status?.conditions?.find((x) => x.type === 'Ready');
          if (c?.status === 'True' && w.status?.observedGeneration === w.metadata?.generation) ready++;
          else if (c?.status === 'False') refused++;
        }
      }
      return { ready, refused, pending: all.length - ready - refused };
    };
    const valid = all.filter(({ w }) => (w.spec.color ?? 'blue') !== 'purple').length;
    for (;;) {
      if (ctl.signal.aborted) return;
      const s = state();
      if (!verbose) out.progress(`widgets: ${s.ready}/${valid} Ready, ${s.refused} refused`, s.pending === 0);
      if (s.pending === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    out.line(`all ${valid} valid Widgets Ready in ${secs(Date.now() - tWidgets)} (${secs(Date.now() - t0)} since start); ${all.length - valid} refused (InvalidColor)`);

    // Per-workspace summary.
    out.line('');
    out.line(`${pad('WORKSPACE', 16)} ${pad('WIDGETS', 8)} ${pad('READY', 6)} ${pad('REFUSED', 8)} RECONCILES`);
    const shown = tenants.length > 20 ? tenants.slice(0, 10) : tenants;
    for (const t of shown) {
      const items = m.getCluster(t.name).cache.list(WIDGET) as Widget[];
      const ready = items.filter((w) => w.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      const refused = items.filter((w) => w.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False'));
      out.line(`${pad(t.path, 16)} ${pad(String(items.length), 8)} ${pad(String(ready), 6)} ${pad(String(refused.length), 8)} ${counts.get(t.name) ?? 0}${refused.length ? `   ${refused.map((w) => `${w.metadata?.name}: ${w.status?.conditions?.find((c) => c.type === 'Ready')?.reason}`).join(', ')}` : ''}`);
    }
    if (shown.length < tenants.length) out.line(`... and ${tenants.length - shown.length} more workspaces`);

    const kc = `kubectl --kubeconfig ${kubeconfig}`;
    out.line('');
    out.line(`kubeconfig with a context per workspace (root, ${contextName(PROVIDER_PATH)}, tenant-1${n > 1 ? ` … tenant-${n}` : ''}): ${kubeconfig}`);
    out.line('Try, in another terminal, while this runs:');
    out.line(`  ${kc} get workspaces`);
    out.line(`  ${kc} --context tenant-1 get widgets`);
    out.line(`  ${kc} --context tenant-1 get configmaps small-widget -o yaml`);
    out.line(`  ${kc} --context tenant-1 describe widget odd`);
    out.line(`  ${kc} --context tenant-1 patch widget small --type merge -p '{"spec":{"size":9}}'`);
    out.line(`  ${kc} --context tenant-1 delete widget large`);
    out.line(`  ${kc} --context ${contextName(PROVIDER_PATH)} get apiexports`);
    out.line(`  ${kc} get --raw '/clusters/*/apis/apis.kcp.io/v1alpha2/apibindings'`);
    out.line('');
    out.line('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      if (ctl.signal.aborted) return resolve();
      ctl.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    ctl.abort();
    await manager;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await env.stop();
    fs.rmSync(rootDir, { recursive: true, force: true });
    out.line('stopped');
  }
}

/** The context (and cluster) name of a workspace in the demo's kubeconfig: its own name. */
function contextName(workspacePath: string): string {
  return workspacePath.slice(workspacePath.lastIndexOf(':') + 1);
}

/** A kubeconfig with the admin user and one context per workspace, current context `root`. */
function workspaceContexts(srv: RunningServer, paths: readonly string[]): KubeConfig {
  const caData = srv.ca ? Buffer.from(srv.ca).toString('base64') : undefined;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: paths.map((p) => ({ name: contextName(p), server: `${srv.url}/clusters/${p}`, caData, skipTLSVerify: !srv.ca })),
    users: [{ name: 'kcp-admin', token: srv.token }],
    contexts: paths.map((p) => ({ name: contextName(p), cluster: contextName(p), user: 'kcp-admin' })),
    currentContext: 'root',
  });
  return kc;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be an integer from 1 to 10000');
  return n;
}

/** Registers `demo` on the CLI. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the widgets service end to end on the embedded reference kcp server: workspaces, bindings, a controller reconciling in all of them')
    .option('--workspaces <n>', 'consumer workspaces to create and bind', positiveInt, 3)
    .option('--port <port>', 'port of the reference server (0 picks a free one)', '0')
    .option('--seconds <n>', 'stop after n seconds')
    .addHelpText('after', '\nExamples:\n  kcp-mc demo                      # three workspaces, until Ctrl-C\n  kcp-mc demo --workspaces 1000    # how long until 2,000 Widgets are Ready\n  kcp-mc demo --seconds 30')
    .action(async (o: DemoOptions) => {
      await runDemo(o);
      process.exit(0);
    });
}
