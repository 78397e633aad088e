/**
 * Kubeconfig files read without client-node. Importing client-node's `KubeConfig` loads its whole
 * generated API: 26 MiB of heap in every process, more than a replica of a sharded controller keeps
 * for thousands of workspaces. A controller needs only the current context's server, credentials
 * and TLS material, so `loadKubeConfig` reads kubeconfig files as kubectl does and returns a
 * `PlainKubeConfig` when the current user is one this file covers (bearer token, token file, client
 * certificate, basic auth, impersonation) — and client-node's `KubeConfig`, loaded then, when the
 * user needs what only client-node does (exec plugins, auth providers, proxies).
 *
 * Both satisfy `KubeConfigLike`, which is all the library's transport asks of a kubeconfig.
 */
import * as fs from 'node:fs';
import type * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { load as loadYaml } from 'js-yaml';

/** What the library asks of a kubeconfig: client-node's `KubeConfig` is one, `PlainKubeConfig` another. */
export interface KubeConfigLike {
  /** The current context's cluster; null when there is none. */
  getCurrentCluster(): Cluster | null;
  /** Adds the current user's credentials and the cluster's TLS material to request options. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** A kubeconfig's entries, in the shapes client-node's `KubeConfig.loadFromOptions` takes. */
export interface KubeConfigContents {
  /** Named clusters: server URL and TLS settings. */
  clusters: Cluster[];
  /** Named users: credentials. */
  users: User[];
  /** Named contexts: a cluster, a user and a namespace. */
  contexts: Context[];
  /** The context in use; empty when none is set. */
  currentContext: string;
}

/** What commands read of a loaded kubeconfig to say what is wrong with it; both kinds offer it. */
export interface KubeConfigView extends KubeConfigLike {
  /** Every cluster entry. */
  getClusters(): Cluster[];
  /** Every context entry. */
  getContexts(): Context[];
  /** Every user entry. */
  getUsers(): User[];
  /** The current context's name; empty when none is set. */
  getCurrentContext(): string;
  /** The context named `name`; null when there is none. */
  getContextObject(name: string): Context | null;
  /** The cluster named `name`; null when there is none. */
  getCluster(name: string): Cluster | null;
  /** The current context's user; null when it names none. */
  getCurrentUser(): User | null;
}

/** Options of `loadKubeConfig`. */
export interface LoadKubeConfigOptions {
  /** A kubeconfig file; default `$KUBECONFIG` (a path list, merged), else `~/.kube/config`, else in-cluster. */
  file?: string;
  /** The context to use instead of the file's `current-context`. */
  context?: string;
  /** Environment to read `KUBECONFIG` and `KUBERNETES_SERVICE_*` from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a token file's or a certificate file's contents are used before the file is read again. */
const REREAD_MS = 60_000;
/** client-node's answer when it finds no kubeconfig; `kubeConfigProblem` recognises it. */
const NOWHERE: Cluster = { name: 'cluster', server: 'http://localhost:8080', skipTLSVerify: false };

/** A copy of the entry lists, so that adding to one copy never changes the other. */
function copyContents(c: KubeConfigContents): KubeConfigContents {
  return { clusters: [...c.clusters], users: [...c.users], contexts: [...c.contexts], currentContext: c.currentContext };
}

/** client-node's shape for a user whose bearer token is read from a file (and read again as it rotates). */
function tokenFileProvider(file: string): { name: string; config: { tokenFile: string } } {
  return { name: 'tokenFile', config: { tokenFile: file } };
}

function tokenFileOf(user: User): string | undefined {
  const p = user.authProvider as { config?: { tokenFile?: unknown } } | null | undefined;
  return typeof p?.config?.tokenFile === 'string' ? p.config.tokenFile : undefined;
}

/** Why client-node has to serve this user and cluster (undefined: `PlainKubeConfig` covers them). */
export function needsClientNode(user: User | null, cluster: Cluster | null): string | undefined {
  if (cluster?.proxyUrl) return `cluster ${JSON.stringify(cluster.name)} has a proxy-url`;
  if (user?.exec) return `user ${JSON.stringify(user.name)} has an exec plugin`;
  if (user?.authProvider && !tokenFileOf(user)) return `user ${JSON.stringify(user.name)} has an auth-provider`;
  return undefined;
}

type Raw = Record<string, unknown>;

function rawList(doc: Raw, key: string): Raw[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${key} is not a list`);
  return v.map((e, i) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new Error(`${key}[${i}] is not a mapping`);
    return e as Raw;
  });
}

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

function section(e: Raw, key: string, what: string): Raw | undefined {
  const v = e[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}.${key} is not a mapping`);
  return v as Raw;
}

/** An entry's `name`, required. */
function entryName(e: Raw, what: string): string {
  const name = str(e['name'], `${what}.name`);
  if (!name) throw new Error(`${what}.name is missing`);
  return name;
}

function absolute(dir: string | undefined, file: string | undefined): string | undefined {
  return file && dir && !path.isAbsolute(file) ? path.join(dir, file) : file;
}

/**
 * Parses kubeconfig text. Relative file paths (certificate-authority, client-certificate,
 * client-key, tokenFile) are taken relative to `dir`, the file's directory, as kubectl does.
 */
export function parseKubeConfig(text: string, dir?: string): KubeConfigContents {
  const doc = loadYaml(text);
  if (doc === undefined || doc === null) return { clusters: [], users: [], contexts: [], currentContext: '' };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('a kubeconfig is a YAML mapping');
  const d = doc as Raw;
  const clusters = rawList(d, 'clusters').map((e, i): Cluster => {
    const what = `clusters[${i}]`;
    const name = entryName(e, what);
    const c = section(e, 'cluster', what);
    const server = str(c?.['server'], `${what}.cluster.server`);
    if (!c || !server) throw new Error(`${what}.cluster.server is missing`);
    return {
      name,
      server: server.replace(/\/$/, ''),
      caData: str(c['certificate-authority-data'], `${what}.cluster.certificate-authority-data`),
      caFile: absolute(dir, str(c['certificate-authority'], `${what}.cluster.certificate-authority`)),
      skipTLSVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name'], `${what}.cluster.tls-server-name`),
      proxyUrl: str(c['proxy-url'], `${what}.cluster.proxy-url`),
    };
  });
  const users = rawList(d, 'users').map((e, i): User => {
    const what = `users[${i}]`;
    const name = entryName(e, what);
    const u = section(e, 'user', what) ?? {};
    const w = `${what}.user`;
    // client-go spells it tokenFile; client-node reads token-file.
    const tokenFile = absolute(dir, str(u['tokenFile'], `${w}.tokenFile`) ?? str(u['token-file'], `${w}.token-file`));
    const token = str(u['token'], `${w}.token`);
    return {
      name,
      token,
      certData: str(u['client-certificate-data'], `${w}.client-certificate-data`),
      certFile: absolute(dir, str(u['client-certificate'], `${w}.client-certificate`)),
      keyData: str(u['client-key-data'], `${w}.client-key-data`),
      keyFile: absolute(dir, str(u['client-key'], `${w}.client-key`)),
      username: str(u['username'], `${w}.username`),
      password: str(u['password'], `${w}.password`),
      impersonateUser: str(u['as'], `${w}.as`),
      exec: u['exec'] ?? undefined,
      // A literal token wins over a token file, as in client-go.
      authProvider: u['auth-provider'] ?? (tokenFile && !token ? tokenFileProvider(tokenFile) : undefined),
    };
  });
  const contexts = rawList(d, 'contexts').map((e, i): Context => {
    const what = `contexts[${i}]`;
    const name = entryName(e, what);
    const c = section(e, 'context', what);
    const cluster = str(c?.['cluster'], `${what}.context.cluster`);
    if (!c || !cluster) throw new Error(`${what}.context.cluster is missing`);
    return { name, cluster, user: str(c['user'], `${what}.context.user`) ?? '', namespace: str(c['namespace'], `${what}.context.namespace`) };
  });
  return { clusters, users, contexts, currentContext: str(d['current-context'], 'current-context') ?? '' };
}

/** Several kubeconfigs as one, as kubectl merges `$KUBECONFIG`: the first file to name an entry or a current context wins. */
export function mergeKubeConfigs(list: KubeConfigContents[]): KubeConfigContents {
  const firstByName = <T extends { name: string }>(pick: (c: KubeConfigContents) => T[]): T[] => {
    const seen = new Map<string, T>();
    for (const c of list) for (const e of pick(c)) if (!seen.has(e.name)) seen.set(e.name, e);
    return [...seen.values()];
  };
  return {
    clusters: firstByName((c) => c.clusters),
    users: firstByName((c) => c.users),
    contexts: firstByName((c) => c.contexts),
    currentContext: list.find((c) => c.currentContext)?.currentContext ?? '',
  };
}

function readKubeConfigFile(file: string): KubeConfigContents {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read kubeconfig ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return parseKubeConfig(text, path.dirname(path.resolve(file)));
  } catch (e) {
    throw new Error(`kubeconfig ${file}: ${(e as Error).message}`);
  }
}

/** The service account's view of the cluster a pod runs in; undefined outside a pod. */
function inCluster(env: NodeJS.ProcessEnv): KubeConfigContents | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  const tokenFile = path.join(SA_DIR, 'token');
  if (!host || !port || !fs.existsSync(tokenFile)) return undefined;
  let namespace: string | undefined;
  try {
    namespace = fs.readFileSync(path.join(SA_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    // no namespace file: the context has none
  }
  return {
    clusters: [{ name: 'inCluster', server: `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: path.join(SA_DIR, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', authProvider: tokenFileProvider(tokenFile) }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace }],
    currentContext: 'inClusterContext',
  };
}

/** The default kubeconfig: `$KUBECONFIG`, else `~/.kube/config`, else in-cluster, else nothing (client-node's localhost:8080). */
function defaultKubeConfig(env: NodeJS.ProcessEnv): KubeConfigContents {
  const files = (env['KUBECONFIG'] ?? '').split(path.delimiter).filter((f) => f);
  if (files.length > 0) {
    // kubectl skips the files of the list that do not exist; none at all is an error.
    const found = files.filter((f) => fs.existsSync(f));
    return mergeKubeConfigs((found.length ? found : files.slice(0, 1)).map(readKubeConfigFile));
  }
  const home = path.join(os.homedir(), '.kube', 'config');
  if (fs.existsSync(home)) return readKubeConfigFile(home);
  return inCluster(env) ?? { clusters: [NOWHERE], users: [{ name: 'user' }], contexts: [{ name: 'loaded-context', cluster: 'cluster', user: 'user' }], currentContext: 'loaded-context' };
}

/** A file's bytes, read again after `REREAD_MS` so that rotated certificates and tokens are picked up. */
class FileCache {
  private readonly files = new Map<string, { at: number; data: Buffer }>();

  read(file: string): Buffer {
    const now = Date.now();
    const hit = this.files.get(file);
    if (hit && now - hit.at < REREAD_MS) return hit.data;
    const read = fs.readFileSync(file);
    // Unchanged contents keep the same Buffer, so connection pools keyed by TLS material stay put.
    const data = hit && hit.data.equals(read) ? hit.data : read;
    this.files.set(file, { at: now, data });
    return data;
  }
}

/**
 * A kubeconfig served without client-node: bearer tokens (literal or from a file, read again every
 * minute), client certificates (data or files), basic auth, impersonation, CA and TLS server name.
 * A user with an exec plugin or an auth provider, or a cluster behind a proxy, needs client-node's
 * `KubeConfig`: `loadKubeConfig` picks that one for them, and a request through this one fails
 * saying so.
 */
export class PlainKubeConfig implements KubeConfigView {
  private readonly files = new FileCache();
  /** Inline (base64) material, decoded once: the same Buffer on every request. */
  private readonly decoded = new Map<string, Buffer>();
  private readonly contents: KubeConfigContents;

  constructor(contents: KubeConfigContents) {
    this.contents = copyContents(contents);
  }

  /** One cluster, one user with a bearer token, one context: how tests and tools describe a server. */
  static forServer(server: string, o: { token?: string; ca?: string | Buffer; skipTLSVerify?: boolean } = {}): PlainKubeConfig {
    return new PlainKubeConfig({
      clusters: [{ name: 'cluster', server: server.replace(/\/$/, ''), caData: o.ca === undefined ? undefined : Buffer.from(o.ca).toString('base64'), skipTLSVerify: o.skipTLSVerify ?? false }],
      users: [{ name: 'user', token: o.token }],
      contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
      currentContext: 'context',
    });
  }

  /** The entries, for client-node's `KubeConfig.loadFromOptions`. */
  options(): KubeConfigContents {
    return copyContents(this.contents);
  }

  /** Every cluster entry. */
  getClusters(): Cluster[] {
    return this.contents.clusters;
  }

  /** Every user entry. */
  getUsers(): User[] {
    return this.contents.users;
  }

  /** Every context entry. */
  getContexts(): Context[] {
    return this.contents.contexts;
  }

  /** The current context's name; empty when none is set. */
  getCurrentContext(): string {
    return this.contents.currentContext;
  }

  /** Makes `name` the current context (as `kubectl config use-context`, in memory). */
  setCurrentContext(name: string): void {
    this.contents.currentContext = name;
  }

  /** The context named `name`; null when there is none. */
  getContextObject(name: string): Context | null {
    return this.contents.contexts.find((c) => c.name === name) ?? null;
  }

  /** The cluster named `name`; null when there is none. */
  getCluster(name: string): Cluster | null {
    return this.contents.clusters.find((c) => c.name === name) ?? null;
  }

  /** The user named `name`; null when there is none. */
  getUser(name: string): User | null {
    return this.contents.users.find((u) => u.name === name) ?? null;
  }

  /** The current context's cluster; null when there is none. */
  getCurrentCluster(): Cluster | null {
    const ctx = this.getContextObject(this.contents.currentContext);
    return ctx ? this.getCluster(ctx.cluster) : null;
  }

  /** The current context's user; null when it names none. */
  getCurrentUser(): User | null {
    const ctx = this.getContextObject(this.contents.currentContext);
    return ctx?.user ? this.getUser(ctx.user) : null;
  }

  /** Adds the current user's credentials and the cluster's TLS material to `opts`; throws for a user only client-node serves. */
  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const needs = needsClientNode(user, cluster);
    if (needs) throw new Error(`kubeconfig context ${JSON.stringify(this.contents.currentContext)}: ${needs}; load it with loadKubeConfig or client-node's KubeConfig`);
    if (cluster) {
      if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
      if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
      const ca = this.material(cluster.caFile, cluster.caData);
      if (ca) opts.ca = ca;
    }
    if (!user) return;
    const cert = this.material(user.certFile, user.certData);
    if (cert) opts.cert = cert;
    const key = this.material(user.keyFile, user.keyData);
    if (key) opts.key = key;
    const headers = (opts.headers ??= {}) as Record<string, string>;
    if (user.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
    const tokenFile = tokenFileOf(user);
    const token = user.token ?? (tokenFile ? this.files.read(tokenFile).toString('utf8').trim() : undefined);
    if (token) headers['Authorization'] = `Bearer ${token}`;
    else if (user.username !== undefined && user.password !== undefined) opts.auth = `${user.username}:${user.password}`;
  }

  private material(file: string | undefined, data: string | undefined): Buffer | undefined {
    if (file) return this.files.read(file);
    if (!data) return undefined;
    let b = this.decoded.get(data);
    if (!b) this.decoded.set(data, (b = Buffer.from(data, 'base64')));
    return b;
  }
}

/** What `loadKubeConfig` gives: ours, or client-node's when the user needs it. */
export type LoadedKubeConfig = PlainKubeConfig | KubeConfig;

/** `loadKubeConfig` was asked for a context the kubeconfig does not define. */
export class UnknownContextError extends Error {
  /** @param context the context asked for */
  constructor(readonly context: string) {
    super(`kubeconfig has no context ${JSON.stringify(context)}`);
    this.name = 'UnknownContextError';
  }
}

/**
 * Loads a kubeconfig as kubectl reads it (`file`, else `$KUBECONFIG` merged, else `~/.kube/config`,
 * else the pod's service account) and picks `context`. The result is a `PlainKubeConfig` when it
 * covers the current user and cluster, else client-node's `KubeConfig` with the same entries.
 * Throws on a file that cannot be read or parsed and on an unknown `context`.
 */
export async function loadKubeConfig(o: LoadKubeConfigOptions = {}): Promise<LoadedKubeConfig> {
  const contents = o.file ? readKubeConfigFile(o.file) : defaultKubeConfig(o.env ?? process.env);
  if (o.context) {
    if (!contents.contexts.some((c) => c.name === o.context)) throw new UnknownContextError(o.context);
    contents.currentContext = o.context;
  }
  const plain = new PlainKubeConfig(contents);
  return needsClientNode(plain.getCurrentUser(), plain.getCurrentCluster()) ? toClientNodeKubeConfig(plain) : plain;
}

/** client-node's `KubeConfig` for `kc` (itself when it is one): for code that needs the whole client-node API. */
export async function toClientNodeKubeConfig(kc: LoadedKubeConfig): Promise<KubeConfig> {
  if (!(kc instanceof PlainKubeConfig)) return kc;
  const { KubeConfig } = await import('@kubernetes/client-node');
  const out = new KubeConfig();
  out.loadFromOptions(kc.options());
  return out;
}
