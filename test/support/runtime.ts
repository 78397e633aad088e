/**
 * Running the controller runtime in tests: a Manager with an APIExportProvider on an export's
 * slice (log entries kept, a crash of `start` caught), a recording ConfigMap controller, and small
 * kcp topology helpers (shard placement, VW URLs, plain-HTTP kubeconfigs, closed ports).
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { APIExportProvider, Logger, Manager, type Controller, type Provider, type Reconciler } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { createWorkspace, type Obj } from './kcp.js';
import { raw } from './server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const SLICE_API = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';

/** Log entries a manager wrote, parsed. */
export type Entry = { level: string; msg: string } & Obj;

/** A manager on an export's slice, with its log entries kept; stopped by `stop()`. */
export function runManager(
  kc: KubeConfig,
  slice: string,
  setup: (m: Manager) => void,
  opts: Partial<ConstructorParameters<typeof Manager>[0]> = {},
  providerOpts: Partial<ConstructorParameters<typeof APIExportProvider>[1]> = {},
) {
  return runWith((log) => new APIExportProvider(kc, { endpointSlice: slice, log, ...providerOpts }), setup, opts);
}

/** A manager on any provider (built with the test's logger), with its log entries kept; stopped by `stop()`. */
export async function runWith<P extends Provider>(
  makeProvider: (log: Logger) => P,
  setup: (m: Manager) => void,
  opts: Partial<ConstructorParameters<typeof Manager>[0]> = {},
) {
  const entries: Entry[] = [];
  const echo = Boolean(process.env['TEST_LOG']);
  const log = new Logger({
    level: 'debug',
    write: (line) => {
      entries.push(JSON.parse(line) as Entry);
      if (echo) process.stderr.write(line + '\n');
    },
  });
  const provider = makeProvider(log);
  const manager = new Manager({ provider, log, gracefulShutdownMs: 2_000, ...opts });
  setup(manager);
  const ctl = new AbortController();
  let failed: unknown;
  const done = manager.start({ signal: ctl.signal }).catch((e: unknown) => {
    failed = e;
  });
  return {
    manager,
    provider,
    entries,
    errors: () => entries.filter((e) => e.level === 'error'),
    /** Whether `start` rejected (a crash). */
    crashed: () => failed,
    stop: async () => {
      ctl.abort();
      await done;
      expect(failed, 'manager.start rejected').to.equal(undefined);
    },
  };
}

/** A ConfigMap controller named `name` that records which keys it reconciled, per cluster. */
export function recording(m: Manager, name: string, extra?: Reconciler): { seen: Map<string, Set<string>>; controller: Controller } {
  const seen = new Map<string, Set<string>>();
  const controller = m
    .controller(name)
    .for(CM)
    .reconcile(async (req, ctx) => {
      let s = seen.get(req.cluster);
      if (!s) seen.set(req.cluster, (s = new Set()));
      s.add(req.name);
      return extra?.(req, ctx);
    });
  return { seen, controller };
}

export const saw = (seen: Map<string, Set<string>>, cluster: string, name: string): boolean => seen.get(cluster)?.has(name) ?? false;

/** Creates a workspace placed on shard `root` or `shard-1`; returns its logical cluster name. */
export function placed(srv: RunningServer, name: string, shard: 'root' | 'shard-1'): Promise<string> {
  return createWorkspace(srv, 'root', name, { location: { selector: { matchLabels: { name: shard } } } });
}

/** The VW endpoint URL of an export of logical cluster `exportCluster` on shard `i`. */
export function vwURL(srv: RunningServer, i: number, exportCluster: string, exportName: string): string {
  return `${srv.shardURLs[i]}/services/apiexport/${exportCluster}/${exportName}`;
}

/** Touches a slice (a label) so that its watchers see it again. */
export async function touchSlice(srv: RunningServer, name: string, value: string): Promise<void> {
  const r = await raw(srv, 'PATCH', `/clusters/root:provider${SLICE_API}/${name}`, { metadata: { labels: { touched: value } } }, { 'Content-Type': 'application/merge-patch+json' });
  expect(r.status, r.text).to.equal(200);
}

/** A kubeconfig for a plain-HTTP server (client-node refuses http:// without skipTLSVerify). */
export function plainKubeConfig(server: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
