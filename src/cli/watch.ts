/**
 * `kcp-mc watch <resource>`: the informer engine from the command line. One shared informer per
 * server URL; once a URL has synced, one line per cached object, then one line per change. It is
 * how a provider author sees exactly what the engine sees, through restarts and 410s.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { Subscription } from '../informer/rx.js';
import { Discovery, loadKubeConfig, Transport, UnknownResourceError, untilAborted, type LoadedKubeConfig, type ResourceInfo } from '../client/index.js';
import { Backoff, InformerFactory, type Cached, type EntryKey, type KubeObject, type Log } from '../informer/index.js';
import { defaultKubeconfigSource, kubeConfigProblem } from './kubeconfig-check.js';

/** Options of `kcp-mc watch`. */
export interface WatchCommandOptions {
  kubeconfig?: string;
  server?: string[];
  selector?: string;
  output?: string;
  verbose?: boolean;
  /** How often a long initial sync reports its progress on stderr (default 2 s). */
  progressIntervalMs?: number;
}

/** Where the command writes, and what stops it (tests pass their own). */
export interface WatchIO {
  out: (s: string) => void;
  err: (s: string) => void;
  signal: AbortSignal;
}

/**
 * The URL an informer watches for a `--server` value: a `/clusters/<x>` URL as it is (one cluster,
 * or `*`), anything else (a VW endpoint URL, a shard's base URL) with `/clusters/*` appended.
 */
export function watchURL(server: string): string {
  const s = server.replace(/\/+$/, '');
  return /\/clusters\/[^/]+$/.test(new URL(s).pathname) ? s : `${s}/clusters/*`;
}

async function kubeConfigFor(file: string | undefined): Promise<LoadedKubeConfig> {
  if (file && !fs.existsSync(file)) throw new Error(`kubeconfig ${file} does not exist`);
  const kc = await loadKubeConfig({ file });
  const problem = kubeConfigProblem(kc, file ?? defaultKubeconfigSource());
  if (problem) throw new Error(problem);
  return kc;
}

/** The text form needs only the key fields, so it never decodes an object. */
function textLine(cluster: string, key: EntryKey, type?: string): string {
  const cols = [cluster, key.namespace || '-', key.name, key.resourceVersion];
  return (type ? `${type} ` : '') + cols.join(' ') + '\n';
}

function jsonLine(server: string, cluster: string, obj: Cached<KubeObject>, type: string): string {
  return JSON.stringify({ type, server, cluster, object: obj }) + '\n';
}

const compareEntries = ([ca, a]: [string, EntryKey], [cb, b]: [string, EntryKey]): number =>
  ca.localeCompare(cb) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves `<resource>` at one URL, retrying anything but "no such resource" until it works or the command stops. */
async function resolve(transport: Transport, url: string, name: string, io: WatchIO): Promise<ResourceInfo | undefined> {
  const discovery = new Discovery(transport.withServer(url));
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  while (!io.signal.aborted) {
    try {
      return await discovery.resolveResource(name, { signal: io.signal });
    } catch (e) {
      if (io.signal.aborted) break;
      if (e instanceof UnknownResourceError) throw e;
      const delay = backoff.next();
      io.err(`kcp-mc watch: ${url}: discovery failed (${(e as Error).message}); retrying in ${Math.round(delay)} ms\n`);
      await sleep(delay, io.signal);
    }
  }
  return undefined;
}

/** How often a long initial sync reports how far it got. */
const PROGRESS_INTERVAL_MS = 2000;

/** Runs the watch until `io.signal` aborts. */
export async function runWatch(resource: string, o: WatchCommandOptions, io: WatchIO): Promise<void> {
  const json = o.output === 'json';
  if (o.output !== undefined && o.output !== 'json') throw new Error(`unsupported output format "${o.output}" (supported: json)`);
  const kc = await kubeConfigFor(o.kubeconfig);
  const transport = Transport.fromKubeConfig(kc, { userAgent: 'kcp-mc-watch' });
  const urls = [...new Set((o.server?.length ? o.server : [transport.server]).map(watchURL))];
  const log: Log = (e) => {
    if (e.level === 'debug' && !o.verbose) return;
    io.err(`kcp-mc watch: ${String(e['server'] ?? '')}: ${e.msg}${e['error'] ? ` (${String(e['error'])})` : ''}\n`);
  };
  const factory = new InformerFactory(transport, { log, freeze: false });
  const subs: Subscription[] = [];
  try {
    await Promise.all(
      urls.map(async (url) => {
        const info = await resolve(transport, url, resource, io);
        if (!info || io.signal.aborted) return;
        if (!info.verbs.includes('watch') && info.verbs.length > 0) throw new Error(`${url}: ${info.resource} cannot be watched`);
        const inf = factory.informer({ server: url, resource: info, labelSelector: o.selector });
        let synced = false;
        // A long initial list (many pages, many clusters) reports its progress on stderr.
        let reported = 0;
        const progress = setInterval(() => {
          const n = inf.store.size;
          if (synced || n === reported) return;
          reported = n;
          io.err(`kcp-mc watch: ${url}: listing, ${n} ${info.resource} so far\n`);
        }, o.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
        progress.unref();
        subs.push(new Subscription(() => clearInterval(progress)));
        subs.push(
          inf.synced$.subscribe((s) => {
            if (!s || synced) return;
            synced = true;
            clearInterval(progress);
            const all = [...inf.store.entryPairs()].sort(compareEntries);
            io.out(all.map(([c, e]) => (json ? jsonLine(url, c, e.object, 'INITIAL') : textLine(c, e))).join(''));
            io.err(`kcp-mc watch: ${url}: synced, ${all.length} ${info.resource}\n`);
          }),
        );
        subs.push(
          inf.events$.subscribe((d) => {
            if (!synced) return; // part of the initial state, printed once synced
            io.out(json ? jsonLine(url, d.cluster, d.object, d.type) : textLine(d.cluster, d, d.type));
          }),
        );
      }),
    );
    await untilAborted(io.signal);
  } finally {
    for (const s of subs) s.unsubscribe();
    factory.close();
    transport.close();
  }
}

/** Registers `watch` on the CLI. */
export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('watch a resource across logical clusters with the informer engine; one line per object, then one per change')
    .argument('<resource>', 'resource name as kubectl takes it (configmaps, cm, cowboys.wildwest.dev)')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG or ~/.kube/config)')
    .option('--server <url>', 'a server URL to watch; repeatable. A VW endpoint or base URL gets /clusters/* appended, a /clusters/<x> URL is used as it is (default: the kubeconfig server)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-l, --selector <selector>', 'label selector')
    .option('-o, --output <format>', 'json: one JSON object per line ({type, server, cluster, object}; type INITIAL for the synced state)')
    .option('-v, --verbose', 'also report list and watch lifecycle on stderr')
    .addHelpText('after', `
Text lines: CLUSTER NAMESPACE NAME RESOURCEVERSION (NAMESPACE "-" for cluster-scoped objects),
prefixed by ADDED, MODIFIED or DELETED for changes after the initial state.

Examples:
  kcp-mc watch configmaps --kubeconfig .kcp/admin.kubeconfig           # every ConfigMap of every workspace
  kcp-mc watch cm -l app=web -o json                                    # JSON lines, label-selected
  kcp-mc watch configmaps --server https://127.0.0.1:6443/services/apiexport/<cluster>/<export>
                                                                        # what a provider sees through the VW`)
    .action(async (resource: string, o: WatchCommandOptions) => {
      const ctrl = new AbortController();
      const stop = (): void => ctrl.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runWatch(resource, o, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), signal: ctrl.signal });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
