/**
 * Section "provider-engage": time from a workspace event to its engagement by each kcp provider,
 * p50 and p99 over 1,000 workspaces (50 with --quick), on an in-process reference server with one
 * shard (the server and the providers share the event loop, as in the tests).
 *
 * - apiexport and path-aware: both providers run on one export's slice; N prepared workspaces each
 *   get an APIBinding (no claims), and the time is from the binding's create request to the
 *   provider's `engage` call for that workspace (the binding must turn Ready first).
 * - initializing: the provider runs on a WorkspaceType with `initializer: true`; the time is from
 *   the Workspace create request to `engage` (the workspace must be scheduled and reach
 *   Initializing first).
 * - terminating: the provider runs on a WorkspaceType with `terminator: true`; N Ready workspaces
 *   of it are deleted, and the time is from the delete request to `engage`.
 *
 * Requests go 8 at a time; engagements are matched to workspaces by the path on the cluster handle.
 *
 * Then the APIExport provider at 100,000 bound workspaces: cold start and heap per engaged cluster
 * (provider-scale.ts).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { APIExportProvider, InitializingWorkspacesProvider, PathAwareProvider, TerminatingWorkspacesProvider, type Provider } from '../../src/provider/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HttpClient } from './client.js';
import { providerScaleRows } from './provider-scale.js';
import { problemOf, quietLogger, row } from './runtime-fixture.js';
import { nowMs, quantile, round, runBounded, waitFor } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const PROVIDER = 'root:engage-provider';
const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const IN_FLIGHT = 8;

interface Run {
  /** p50 / p99 per provider, ms. */
  figures: Record<string, { p50: number; p99: number; n: number }>;
  /** What went wrong, per provider (`all` when the run itself failed). */
  problems: Record<string, string>;
}

function kubeconfig(srv: RunningServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `${srv.url}/clusters/${PROVIDER}`, caData: srv.ca ? Buffer.from(srv.ca).toString('base64') : undefined, skipTLSVerify: !srv.ca }],
    users: [{ name: 'u', token: srv.token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** Runs a provider with an `Aware` that notes when each path engages. */
function watchEngagements(provider: Provider, signal: AbortSignal): Map<string, number> {
  const at = new Map<string, number>();
  void provider.start(
    {
      engage: (_name, cluster) => {
        if (cluster.path && !at.has(cluster.path)) at.set(cluster.path, nowMs());
      },
    },
    signal,
  );
  return at;
}

async function must(http: HttpClient, method: string, path: string, body?: unknown): Promise<void> {
  const r = await http.request(method, path, body === undefined ? undefined : JSON.stringify(body));
  if (r.status >= 300 && r.status !== 409) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
}

async function workspace(http: HttpClient, name: string, type?: string): Promise<void> {
  await must(http, 'POST', `/clusters/root${WS}`, { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: type ? { type: { name: type, path: PROVIDER } } : {} });
}

async function readyAll(http: HttpClient, names: string[], maxMs: number): Promise<boolean> {
  const pending = new Set(names);
  const deadline = nowMs() + maxMs;
  while (pending.size > 0 && nowMs() < deadline) {
    const r = await http.request('GET', `/clusters/root${WS}`);
    const items = (JSON.parse(r.text) as { items?: { metadata: { name: string }; status?: { phase?: string } }[] }).items ?? [];
    for (const w of items) if (w.status?.phase === 'Ready') pending.delete(w.metadata.name);
    // Polling pace only: the figures do not depend on it.
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return pending.size === 0;
}

function figure(starts: Map<string, number>, at: Map<string, number>): { p50: number; p99: number; n: number } {
  const lat: number[] = [];
  for (const [path, t0] of starts) {
    const t = at.get(path);
    if (t !== undefined) lat.push(t - t0);
  }
  return { p50: round(quantile(lat, 0.5)), p99: round(quantile(lat, 0.99)), n: lat.length };
}

async function timed(n: number, op: (i: number) => Promise<void>): Promise<void> {
  const r = await runBounded({ concurrency: IN_FLIGHT, maxOps: n, maxMs: 300_000, op: (i) => op(i) });
  if (r.failed > 0) throw new Error(`${r.failed} requests failed: ${r.firstError?.message ?? ''}`);
}

async function oneRun(ctx: BenchContext, n: number, run: number): Promise<Run> {
  const srv = await startServer({ port: 0, tls: ctx.tls });
  const http = new HttpClient(srv, IN_FLIGHT * 2);
  const ctl = new AbortController();
  const figures: Run['figures'] = {};
  const problems: Record<string, string> = {};
  try {
    await workspace(http, 'engage-provider');
    if (!(await readyAll(http, ['engage-provider'], 30_000))) throw new Error('provider workspace not Ready');
    const kc = kubeconfig(srv);
    const log = quietLogger();

    // apiexport and path-aware, on one export.
    await must(http, 'POST', `/clusters/${PROVIDER}/apis/apis.kcp.io/v1alpha2/apiexports`, { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport', metadata: { name: 'engage' }, spec: {} });
    const names = Array.from({ length: n }, (_, i) => `eb-${run}-${i}`);
    await timed(n, (i) => workspace(http, names[i]!));
    if (!(await readyAll(http, names, 120_000))) throw new Error('bound workspaces not Ready');
    const plain = watchEngagements(new APIExportProvider(kc, { endpointSlice: 'engage', log }), ctl.signal);
    const paths = watchEngagements(new PathAwareProvider(kc, { endpointSlice: 'engage', log }), ctl.signal);
    const bound = new Map<string, number>();
    ctx.log(`provider-engage: run ${run}: binding ${n} workspaces`);
    await timed(n, async (i) => {
      bound.set(`root:${names[i]}`, nowMs());
      await must(http, 'POST', `/clusters/root:${names[i]}/apis/apis.kcp.io/v1alpha2/apibindings`, {
        apiVersion: 'apis.kcp.io/v1alpha2',
        kind: 'APIBinding',
        metadata: { name: 'engage' },
        spec: { reference: { export: { path: PROVIDER, name: 'engage' } } },
      });
    });
    if (!(await waitFor(() => plain.size >= n && paths.size >= n, 60_000))) {
      problems['apiexport'] = `engaged ${plain.size}/${n}`;
      problems['path-aware'] = `engaged ${paths.size}/${n}`;
    }
    figures['apiexport'] = figure(bound, plain);
    figures['path-aware'] = figure(bound, paths);

    // initializing: a type with an initializer, N new workspaces of it.
    await must(http, 'POST', `/clusters/${PROVIDER}/apis/tenancy.kcp.io/v1alpha1/workspacetypes`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'WorkspaceType',
      metadata: { name: 'gated' },
      spec: { initializer: true, extend: { with: [{ name: 'universal', path: 'root' }] } },
    });
    const init = new InitializingWorkspacesProvider(kc, { workspaceType: 'gated', log });
    const initAt = watchEngagements(init, ctl.signal);
    await waitFor(() => init.endpointURLs().length > 0 && init.ready().ready, 30_000);
    const created = new Map<string, number>();
    ctx.log(`provider-engage: run ${run}: creating ${n} initializing workspaces`);
    await timed(n, async (i) => {
      const name = `ei-${run}-${i}`;
      created.set(`root:${name}`, nowMs());
      await workspace(http, name, 'gated');
    });
    if (!(await waitFor(() => initAt.size >= n, 60_000))) problems['initializing'] = `engaged ${initAt.size}/${n}`;
    figures['initializing'] = figure(created, initAt);

    // terminating: a type with a terminator, N Ready workspaces of it deleted.
    await must(http, 'POST', `/clusters/${PROVIDER}/apis/tenancy.kcp.io/v1alpha1/workspacetypes`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'WorkspaceType',
      metadata: { name: 'guarded' },
      spec: { terminator: true, extend: { with: [{ name: 'universal', path: 'root' }] } },
    });
    const doomed = Array.from({ length: n }, (_, i) => `et-${run}-${i}`);
    await timed(n, (i) => workspace(http, doomed[i]!, 'guarded'));
    if (!(await readyAll(http, doomed, 120_000))) throw new Error('terminating workspaces not Ready');
    const term = new TerminatingWorkspacesProvider(kc, { workspaceType: 'guarded', log });
    const termAt = watchEngagements(term, ctl.signal);
    await waitFor(() => term.endpointURLs().length > 0 && term.ready().ready, 30_000);
    const deleted = new Map<string, number>();
    ctx.log(`provider-engage: run ${run}: deleting ${n} terminating workspaces`);
    await timed(n, async (i) => {
      deleted.set(`root:${doomed[i]}`, nowMs());
      await must(http, 'DELETE', `/clusters/root${WS}/${doomed[i]}`);
    });
    if (!(await waitFor(() => termAt.size >= n, 60_000))) problems['terminating'] = `engaged ${termAt.size}/${n}`;
    figures['terminating'] = figure(deleted, termAt);
  } catch (e) {
    problems['all'] = e instanceof Error ? e.message : String(e);
  } finally {
    ctl.abort();
    http.agent.destroy();
    await srv.stop();
  }
  return { figures, problems };
}

export const providerEngageSection: BenchSection = {
  id: 'provider-engage',
  title: 'Workspace event → engagement, per kcp provider (p50/p99); the APIExport provider at 100,000 bound workspaces (cold start, heap per engaged cluster)',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const n = ctx.quick ? 50 : 1000;
    const runs: Run[] = [];
    for (let r = 0; r < ctx.runs; r++) runs.push(await oneRun(ctx, n, r));
    const rows: BenchRow[] = [];
    const what: Record<string, string> = {
      apiexport: 'APIBinding create → engaged',
      'path-aware': 'APIBinding create → engaged',
      initializing: 'Workspace create → engaged',
      terminating: 'Workspace delete → engaged',
    };
    for (const p of ['apiexport', 'path-aware', 'initializing', 'terminating']) {
      for (const q of ['p50', 'p99'] as const) {
        const vals = runs.map((r) => r.figures[p]?.[q] ?? NaN);
        rows.push(
          row('provider-engage', `${p}: ${what[p]} ${q}, ${n} workspaces`, 'ms', vals, {
            ...problemOf(runs.map((r) => ({ problem: r.problems['all'] ?? r.problems[p] }))),
            detail: { engaged: runs.map((r) => r.figures[p]?.n ?? 0) },
          }),
        );
      }
    }
    try {
      rows.push(...(await providerScaleRows(ctx, 'provider-engage')));
    } catch (e) {
      rows.push(row('provider-engage', 'APIExportProvider at 100,000 bound workspaces', '-', [NaN], { problem: (e as Error).stack ?? String(e) }));
    }
    return rows;
  },
};
