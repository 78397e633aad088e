/**
 * Starting and stopping the reference kcp server: bootstrap of the root logical cluster, the admin
 * kubeconfig (contexts `root` and `base`, like kcp's), optional durability, and the HTTP listener.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILTIN_RESOURCES } from './builtins.js';
import { ServerControllers } from './controllers.js';
import { Front } from './http.js';
import { isClusterName } from './names.js';
import { LOGICAL_CLUSTERS, NAMESPACES, ObjectService, type UserInfo } from './objects.js';
import { FileJournal } from './persistence.js';
import { Registry } from './registry.js';
import { Store } from './store.js';
import { loadOrCreateServingCert } from './tls.js';
import type { KubeObject } from './types.js';

/** Options of `startServer`. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 6443. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  bind?: string;
  /** Where `admin.kubeconfig` is written. Default: a fresh temporary directory, removed on stop. */
  rootDir?: string;
  /** Keep state here across restarts; in memory when absent. */
  dataDir?: string;
  /**
   * Serve HTTPS with a self-signed certificate (default), as kcp does; kubectl sends bearer tokens
   * only over TLS. `false` serves plain HTTP, usable by clients that send tokens anyway.
   */
  tls?: boolean;
  /** Number of events kept for watch resume and consistent paging. Default 20,000. */
  historyWindow?: number;
  /** Bookmark period for watches that ask for bookmarks. Default 60 s. */
  bookmarkIntervalMs?: number;
  /** Longest watch without timeoutSeconds. Default 1800 s. */
  maxWatchSeconds?: number;
  /** A request log sink (tokens are never passed to it). */
  log?: (line: { method: string; path: string; code: number; user?: string; ms: number }) => void;
}

/** A running reference server. */
export interface RunningServer {
  /** Base URL without a cluster path, e.g. `https://127.0.0.1:6443`. */
  readonly url: string;
  /** PEM of the serving certificate, the CA clients must trust; undefined for plain HTTP. */
  readonly ca: string | undefined;
  readonly port: number;
  /** Path of the admin kubeconfig. */
  readonly kubeconfigPath: string;
  /** The admin bearer token. */
  readonly token: string;
  /** Drops the watch history window: resume points before now answer 410 (test hook). */
  compact(): void;
  /**
   * Creates a logical cluster (Ready, with namespace `default`), optionally reachable by a
   * workspace path. Returns its name.
   */
  createLogicalCluster(name?: string, opts?: { path?: string }): string;
  /** The current resourceVersion. */
  resourceVersion(): number;
  /** Number of open watch streams. */
  openWatches(): number;
  /** Stops listening, ends open watches and closes the journal. */
  stop(): Promise<void>;
}

const VERSION = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.3+kcp-reference',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T00:00:00Z',
  goVersion: 'n/a',
  compiler: 'typescript',
  platform: `${process.platform}/${process.arch}`,
};

const ADMIN: Omit<UserInfo, 'name'> = { groups: ['system:masters', 'system:kcp:admin', 'system:authenticated'] };

/** 16 lowercase base36 characters, like kcp's generated logical cluster names. */
export function randomClusterName(): string {
  const bytes = randomBytes(16);
  let s = '';
  for (const b of bytes) s += (b % 36).toString(36);
  return s;
}

function kubeconfigYaml(url: string, token: string, ca: string | undefined): string {
  const trust = ca ? [`    certificate-authority-data: ${Buffer.from(ca).toString('base64')}`] : [];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: root',
    '  cluster:',
    `    server: ${url}/clusters/root`,
    ...trust,
    '- name: base',
    '  cluster:',
    `    server: ${url}`,
    ...trust,
    'contexts:',
    '- name: root',
    '  context:',
    '    cluster: root',
    '    user: kcp-admin',
    '- name: base',
    '  context:',
    '    cluster: base',
    '    user: kcp-admin',
    'current-context: root',
    'users:',
    '- name: kcp-admin',
    '  user:',
    `    token: ${token}`,
    '',
  ].join('\n');
}

/** Starts the server and resolves once it listens. */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const bind = opts.bind ?? '127.0.0.1';
  const store = new Store(opts.historyWindow ?? 20_000);
  const registry = new Registry(BUILTIN_RESOURCES);
  const svc = new ObjectService(store, registry);

  let journal: FileJournal | undefined;
  let token: string;
  if (opts.dataDir) {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const tokenFile = path.join(opts.dataDir, 'admin-token');
    if (fs.existsSync(tokenFile)) token = fs.readFileSync(tokenFile, 'utf8').trim();
    else {
      token = randomBytes(24).toString('hex');
      fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    }
    journal = FileJournal.open(opts.dataDir, store);
  } else {
    token = randomBytes(24).toString('hex');
  }

  // workspace path → logical cluster name, from the kcp.io/path of each LogicalCluster.
  const paths = new Map<string, string>();
  const indexPath = (cluster: string, obj: KubeObject | undefined) => {
    for (const [p, c] of paths) if (c === cluster) paths.delete(p);
    const p = obj?.metadata.annotations?.['kcp.io/path'];
    if (p) paths.set(p, cluster);
  };
  for (const e of store.entries()) if (e.storage === LOGICAL_CLUSTERS) indexPath(e.cluster, e.object);
  store.listeners.add((e) => {
    if (e.storage === LOGICAL_CLUSTERS) indexPath(e.cluster, e.type === 'DELETED' ? undefined : e.object);
  });

  const controllers = new ServerControllers(svc);
  const openWatches = new Set<() => void>();
  let baseURL = '';

  const createLogicalCluster = (name = randomClusterName(), o: { path?: string } = {}): string => {
    if (!isClusterName(name)) throw new Error(`invalid logical cluster name "${name}"`);
    if (svc.clusterExists(name)) return name;
    const ctx = { cluster: name, user: { name: 'system:kcp:reference-server', ...ADMIN }, fieldManager: 'kcp-reference-server' };
    const lcPath = o.path ?? (name === 'root' ? 'root' : undefined);
    const lc = svc.create(ctx, registry.builtin(LOGICAL_CLUSTERS), '', {
      apiVersion: 'core.kcp.io/v1alpha1',
      kind: 'LogicalCluster',
      metadata: { name: 'cluster', annotations: lcPath ? { 'kcp.io/path': lcPath } : {} },
      spec: {},
    });
    svc.writeUpdate(ctx, registry.builtin(LOGICAL_CLUSTERS), lc, {
      ...lc,
      status: { URL: `${baseURL}/clusters/${name}`, phase: 'Ready' },
    }, 'status');
    svc.create(ctx, registry.builtin(NAMESPACES), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    return name;
  };

  const front = new Front(svc, {
    authenticate: (t) => (t !== undefined && t === token ? { name: 'kcp-admin', ...ADMIN } : undefined),
    resolvePath: (p) => paths.get(p),
    version: VERSION,
    watch: {
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      maxWatchSeconds: opts.maxWatchSeconds ?? 1800,
      maxBufferedBytes: 16 * 1024 * 1024,
      open: openWatches,
    },
    compact: () => store.compact(),
    orphan: (cluster, uid) => controllers.orphan(cluster, uid),
    log: opts.log,
  });

  const ownDir = opts.rootDir === undefined;
  const rootDir = opts.rootDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-reference-'));
  fs.mkdirSync(rootDir, { recursive: true });
  const host = bind.includes(':') ? `[${bind}]` : bind === '0.0.0.0' ? '127.0.0.1' : bind;
  const useTLS = opts.tls ?? true;
  const serving = useTLS
    ? loadOrCreateServingCert(opts.dataDir ?? rootDir, [...new Set(['localhost', '127.0.0.1', '::1', ...(bind === '0.0.0.0' || bind === '::' ? [os.hostname()] : [bind])])])
    : undefined;
  const server: Server = serving
    ? createHttpsServer({ cert: serving.cert, key: serving.key, keepAlive: true }, front.handle)
    : createHttpServer({ keepAlive: true }, front.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 6443, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseURL = `${serving ? 'https' : 'http'}://${host}:${port}`;
  createLogicalCluster('root');

  const kubeconfigPath = path.join(rootDir, 'admin.kubeconfig');
  fs.writeFileSync(kubeconfigPath, kubeconfigYaml(baseURL, token, serving?.cert), { mode: 0o600 });

  let stopped: Promise<void> | undefined;
  return {
    url: baseURL,
    ca: serving?.cert,
    port,
    kubeconfigPath,
    token,
    compact: () => store.compact(),
    createLogicalCluster,
    resourceVersion: () => store.resourceVersion,
    openWatches: () => store.watcherCount,
    stop: () =>
      (stopped ??= (async () => {
        controllers.stop();
        for (const close of [...openWatches]) close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        journal?.close();
        if (ownDir) fs.rmSync(rootDir, { recursive: true, force: true });
      })()),
  };
}
