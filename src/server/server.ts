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
import { installWebhooks } from './admission/index.js';
import { Authenticator } from './auth/auth.js';
import { BUILTIN_RESOURCES } from './api/builtins.js';
import { FaultInjector, normalizeFaultConfig, type FaultConfig, type ServerFaults } from './faults/faults.js';
import { serveDebugFaults } from './faults/http.js';
import { Front } from './http/front.js';
import { installApis, webhookConfigurationCluster } from './kcp/apis/index.js';
import { installTenancy } from './kcp/tenancy/index.js';
import { installVirtualWorkspaces } from './kcp/vw/index.js';
import type { WatchSettings } from './storage/listwatch.js';
import { migrateCluster } from './shards/migration.js';
import { isClusterName } from './api/names.js';
import { ApiError } from './http/errors.js';
import { LOGICAL_CLUSTERS, NAMESPACES } from './api/objects.js';
import { Shard } from './shards/shard.js';
import { Topology } from './shards/topology.js';
import { loadOrCreateServingCert } from './http/tls.js';
import { KUBE_GIT_VERSION } from './http/wire.js';

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
  /** Journal size in bytes past which a shard snapshots its state and starts a new journal. Default 64 MiB. */
  journalMaxBytes?: number;
  /**
   * Serve HTTPS with a self-signed certificate (default), as kcp does; kubectl sends bearer tokens
   * only over TLS. `false` serves plain HTTP, usable by clients that send tokens anyway.
   */
  tls?: boolean;
  /** Number of shards, each with its own port, store and resourceVersion counter. Default 1. */
  shards?: number;
  /** Number of events kept for watch resume and consistent paging, per shard. Default 20,000. */
  historyWindow?: number;
  /** Bookmark period for watches that ask for bookmarks. Default 60 s. */
  bookmarkIntervalMs?: number;
  /** Longest watch without timeoutSeconds. Default 1800 s. */
  maxWatchSeconds?: number;
  /** A static token file (`token,user,uid,"group1,group2"` per line), as kube-apiserver reads it. */
  tokenFile?: string;
  /**
   * Faults to inject from the start (tests; off when absent). When given, even `{}`, every shard
   * port also serves `GET/PUT/DELETE /debug/faults` to admins.
   */
  faults?: FaultConfig;
  /** A request log sink (tokens are never passed to it). */
  log?: (line: { method: string; path: string; code: number; user?: string; ms: number }) => void;
}

/** A running reference server. */
export interface RunningServer {
  /** Base URL without a cluster path, e.g. `https://127.0.0.1:6443`. */
  readonly url: string;
  /** PEM of the serving certificate, the CA clients must trust; undefined for plain HTTP. */
  readonly ca: string | undefined;
  /** The front's loopback port (random unless asked for). */
  readonly port: number;
  /** Base URL of every shard; the first is the front (root shard) and `url`. */
  readonly shardURLs: readonly string[];
  /** Path of the admin kubeconfig. */
  readonly kubeconfigPath: string;
  /** The admin bearer token. */
  readonly token: string;
  /** Drops the watch history window: resume points before now answer 410 (test hook). */
  compact(): void;
  /**
   * Creates a logical cluster (Ready, with namespace `default`), optionally reachable by a
   * workspace path, on a given or random shard. Returns its name.
   */
  createLogicalCluster(name?: string, opts?: { path?: string; shard?: number }): string;
  /** The current resourceVersion of a shard (default the root shard). */
  resourceVersion(shard?: number): number;
  /** Number of open watch streams. */
  openWatches(): number;
  /** Fault injection: off until set (or `faults` was given at start), cleared by `clear()`. */
  readonly faults: ServerFaults;
  /** Stops listening, ends open watches and closes the journal. */
  stop(): Promise<void>;
}

const VERSION = {
  major: '1',
  minor: '33',
  gitVersion: KUBE_GIT_VERSION,
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T00:00:00Z',
  goVersion: 'n/a',
  compiler: 'typescript',
  platform: `${process.platform}/${process.arch}`,
};


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
  const shardCount = Math.max(1, opts.shards ?? 1);
  let token: string;
  if (opts.dataDir) {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const tokenFile = path.join(opts.dataDir, 'admin-token');
    if (fs.existsSync(tokenFile)) token = fs.readFileSync(tokenFile, 'utf8').trim();
    else {
      token = randomBytes(24).toString('hex');
      fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    }
  } else {
    token = randomBytes(24).toString('hex');
  }
  // Checked before anything listens or touches the data dir's journal.
  const initialFaults = opts.faults ? normalizeFaultConfig(opts.faults) : undefined;
  const authn = new Authenticator(token, opts.tokenFile);
  const openWatches = new Set<() => void>();
  const watch: WatchSettings = {
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    maxWatchSeconds: opts.maxWatchSeconds ?? 1800,
    maxBufferedBytes: 16 * 1024 * 1024,
    open: openWatches,
  };
  const shards: Shard[] = [];
  for (let i = 0; i < shardCount; i++) {
    const name = i === 0 ? 'root' : `shard-${i}`;
    shards.push(new Shard(name, BUILTIN_RESOURCES, watch, {
      historyWindow: opts.historyWindow,
      dataDir: opts.dataDir ? path.join(opts.dataDir, name) : undefined,
      journalMaxBytes: opts.journalMaxBytes,
    }));
  }

  const topo = new Topology(shards);
  const apis = installApis(topo);
  const tenancy = installTenancy(topo);
  installVirtualWorkspaces(topo);
  const webhooks = installWebhooks(topo, (cluster, group, resource) => webhookConfigurationCluster(topo, cluster, group, resource));
  const faults = new FaultInjector({
    stores: () => shards.map((s) => s.store),
    shardNames: () => shards.map((s) => s.name),
    setEndpointWithdrawn: (name, withdrawn) => apis.setEndpointWithdrawn(name, withdrawn),
    migrateCluster: (cluster, shardName) => migrateCluster(topo, cluster, shardName),
  });
  watch.hooks = faults.hooks;
  const shardOf = (cluster: string) => topo.shardOf(cluster);

  const createLogicalCluster = (name = randomClusterName(), o: { path?: string; shard?: number } = {}): string => {
    if (!isClusterName(name)) throw new Error(`invalid logical cluster name "${name}"`);
    if (shardOf(name)) return name;
    const shard = name === 'root' ? shards[0]! : shards[o.shard ?? Math.floor(Math.random() * shards.length)]!;
    const svc = shard.svc;
    const ctx = topo.systemContext(name);
    const lcPath = o.path ?? (name === 'root' ? 'root' : undefined);
    const lcDef = svc.registry.builtin(LOGICAL_CLUSTERS);
    const lc = svc.create(ctx, lcDef, '', {
      apiVersion: 'core.kcp.io/v1alpha1',
      kind: 'LogicalCluster',
      metadata: { name: 'cluster', annotations: { ...(lcPath ? { 'kcp.io/path': lcPath } : {}), 'core.kcp.io/shard': shard.name } },
      spec: {},
    });
    svc.writeUpdate(ctx, lcDef, lc, { ...lc, status: { URL: `${shard.url}/clusters/${name}`, phase: 'Ready' } }, 'status');
    svc.create(ctx, svc.registry.builtin(NAMESPACES), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    return name;
  };

  const locate = (seg: string, local: Shard) => {
    if (seg === '*') return { view: local.clusterView('*'), cluster: '*' };
    const name = topo.resolve(seg);
    const shard = name ? topo.shardOf(name) : undefined;
    if (!name || !shard) {
      if (seg.includes(':') && !seg.startsWith('system:')) {
        throw new ApiError(404, 'NotFound', `workspaces.tenancy.kcp.io "${seg}" not found`, { name: seg, group: 'tenancy.kcp.io', kind: 'workspaces' });
      }
      throw new ApiError(403, 'Forbidden', `access to logical cluster "${seg}" is forbidden: logical cluster not found`);
    }
    return { view: shard.clusterView(name), cluster: name };
  };

  const ownDir = opts.rootDir === undefined;
  const rootDir = opts.rootDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-reference-'));
  fs.mkdirSync(rootDir, { recursive: true });
  const host = bind.includes(':') ? `[${bind}]` : bind === '0.0.0.0' ? '127.0.0.1' : bind;
  const useTLS = opts.tls ?? true;
  const serving = useTLS
    ? loadOrCreateServingCert(opts.dataDir ?? rootDir, [...new Set(['localhost', '127.0.0.1', '::1', ...(bind === '0.0.0.0' || bind === '::' ? [os.hostname()] : [bind])])])
    : undefined;
  const sockets = new Set<Socket>();
  for (const [i, shard] of shards.entries()) {
    const front = new Front({
      authenticate: (t) => authn.authenticate(t),
      locate: (seg) => locate(seg, shard),
      services: topo.services,
      version: VERSION,
      compact: () => shard.store.compact(),
      faults,
      debugFaults: initialFaults ? (req, res) => serveDebugFaults(faults, req, res) : undefined,
      log: opts.log,
    });
    const server: Server = serving
      ? createHttpsServer({ cert: serving.cert, key: serving.key, keepAlive: true }, front.handle)
      : createHttpServer({ keepAlive: true }, front.handle);
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(i === 0 ? (opts.port ?? 6443) : 0, bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    shard.server = server;
    shard.url = `${serving ? 'https' : 'http'}://${host}:${(server.address() as AddressInfo).port}`;
  }
  const port = (shards[0]!.server!.address() as AddressInfo).port;
  const baseURL = shards[0]!.url;
  createLogicalCluster('root');
  tenancy.bootstrap();
  if (initialFaults) faults.set(initialFaults);

  const kubeconfigPath = path.join(rootDir, 'admin.kubeconfig');
  fs.writeFileSync(kubeconfigPath, kubeconfigYaml(baseURL, token, serving?.cert), { mode: 0o600 });

  let stopped: Promise<void> | undefined;
  return {
    url: baseURL,
    ca: serving?.cert,
    port,
    kubeconfigPath,
    token,
    shardURLs: shards.map((s) => s.url),
    compact: () => shards.forEach((s) => s.store.compact()),
    createLogicalCluster,
    resourceVersion: (shard = 0) => shards[shard]!.store.resourceVersion,
    openWatches: () => shards.reduce((n, s) => n + s.store.watcherCount, 0),
    faults,
    stop: () =>
      (stopped ??= (async () => {
        faults.clear();
        for (const close of [...openWatches]) close();
        const closing = shards.map((sh) => new Promise<void>((resolve) => (sh.server ? sh.server.close(() => resolve()) : resolve())));
        for (const s of sockets) s.destroy();
        await Promise.all(closing);
        tenancy.stop();
        apis.stop();
        webhooks.stop();
        for (const sh of shards) sh.close();
        if (ownDir) fs.rmSync(rootDir, { recursive: true, force: true });
      })()),
  };
}
