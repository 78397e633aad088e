/**
 * The testing kit, envtest for TypeScript: a reference kcp server started in-process, and the few
 * things a controller test does on it (workspaces by path, manifests applied, exports bound with
 * their claims accepted, kubeconfigs for workspaces and virtual workspaces, waits with readable
 * failures), with one `stop()` that leaves no socket, timer or temporary file behind. Everything
 * goes over the wire through the library's own `ClusterClient`, as a user's controller would.
 * Its object types and options are in kit-types.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ClusterClient,
  Transport,
  isAlreadyExists,
  isLogicalClusterPath,
  type KubernetesObject,
  type ObjectKey,
  type ObjectType,
} from '../client/index.js';
import type { Manager } from '../manager/index.js';
import { startServer, type RunningServer } from '../server/index.js';
import { parseManifests, readManifests, type Manifests } from './manifests.js';
import {
  API_BINDING,
  API_EXPORT,
  API_EXPORT_ENDPOINT_SLICE,
  WORKSPACE,
  type APIBinding,
  type ApplyManifestOptions,
  type BindOptions,
  type CreateWorkspaceOptions,
  type ExportReference,
  type RunningManager,
  type TestEnvironmentOptions,
  type TestWorkspace,
  type VirtualWorkspace,
  type VirtualWorkspaceOptions,
  type Workspace,
  type WorkspaceTypeReference,
} from './kit-types.js';
import {
  DEFAULT_WAIT_TIMEOUT_MS,
  waitFor,
  waitForCondition,
  type ObjectWithConditions,
  type WaitForConditionOptions,
  type WaitOptions,
} from './wait.js';

const LOGICAL_CLUSTER: ObjectType = { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster' };
const CRD: ObjectType<ObjectWithConditions> = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' };
const DEFAULT_FIELD_MANAGER = 'kcp-mc-testing';

function typeRefOf(type: string | WorkspaceTypeReference): WorkspaceTypeReference {
  if (typeof type !== 'string') return type;
  const i = type.lastIndexOf(':');
  return i < 0 ? { name: type } : { path: type.slice(0, i), name: type.slice(i + 1) };
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 80);
}

/**
 * A running reference kcp server and the helpers a controller test needs on it. Make one with
 * `startTestEnvironment()`; end it with `stop()`.
 */
export class TestEnvironment {
  /** The reference server (its `url`, `ca`, `token`, and test hooks such as `compact()`). */
  readonly server: RunningServer;
  /** Deadline of waits, in ms. */
  readonly timeoutMs: number;
  /** Aborted by `stop()`: waits in progress end, and so can anything a test ties to it. */
  readonly signal: AbortSignal;
  /** A temporary directory for kubeconfig files; removed by `stop()`. */
  readonly dir: string;

  private readonly stopping = new AbortController();
  private readonly fieldManager: string;
  private readonly transport: Transport;
  private readonly clients = new Map<string, ClusterClient>();
  private readonly files = new Map<string, string>();
  private readonly cleanups: (() => unknown)[] = [];
  private stopped: Promise<void> | undefined;

  /** Use `startTestEnvironment()`; this wraps a server that is already running. */
  constructor(server: RunningServer, opts: Omit<TestEnvironmentOptions, 'server'> = {}) {
    this.server = server;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.fieldManager = opts.fieldManager ?? DEFAULT_FIELD_MANAGER;
    this.signal = this.stopping.signal;
    this.dir = mkdtempSync(join(tmpdir(), 'kcp-mc-testenv-'));
    this.transport = Transport.fromKubeConfig(this.kubeConfigForServer(server.url), { userAgent: 'kcp-mc-testing' });
  }

  /** A client-node KubeConfig for the workspace `path` (or logical cluster name), with the admin credentials. */
  kubeconfig(path = 'root'): KubeConfig {
    return this.kubeConfigForServer(`${this.server.url}/clusters/${path}`);
  }

  /** The kubeconfig of `kubeconfig(path)` written to a file in `dir`; the same file on every call. */
  kubeconfigFile(path = 'root'): string {
    return this.fileFor(`${this.server.url}/clusters/${path}`, path);
  }

  /** An admin `ClusterClient` for the workspace `path` (or logical cluster name), one per path. */
  client(path = 'root'): ClusterClient {
    let c = this.clients.get(path);
    if (!c) this.clients.set(path, (c = new ClusterClient(this.transport, { cluster: path, fieldManager: this.fieldManager })));
    return c;
  }

  /**
   * Creates the workspace `path` (e.g. `root:org:team`), and each missing parent, and waits until it
   * is Ready (or `until`) and reachable by its path. An existing workspace is waited for, not
   * changed. Resolves with its logical cluster name and path.
   */
  async createWorkspace(path: string, opts: CreateWorkspaceOptions = {}): Promise<TestWorkspace> {
    if (!isLogicalClusterPath(path) || !path.startsWith('root:')) {
      throw new Error(`createWorkspace needs a workspace path below root (root:<name>[:<name>…]), got ${JSON.stringify(path)}`);
    }
    const segments = path.split(':');
    let ws: TestWorkspace | undefined;
    for (let i = 1; i < segments.length; i++) {
      const leaf = i === segments.length - 1;
      ws = await this.ensureWorkspace(segments.slice(0, i).join(':'), segments[i]!, leaf ? opts : {});
    }
    return ws!;
  }

  /**
   * Applies manifests to the workspace `path` with server-side apply (forcing conflicts), in
   * document order, and resolves with the stored objects. Namespaced objects without a namespace go
   * to `opts.namespace` (default `default`). A CustomResourceDefinition is waited for until
   * Established and an APIBinding until Ready, so the next document may be one of their objects.
   */
  async apply(path: string, manifests: Manifests, opts: ApplyManifestOptions = {}): Promise<KubernetesObject[]> {
    return this.applyAll(path, parseManifests(manifests), opts);
  }

  /** `apply` of a YAML or JSON file (any number of documents). */
  async applyFile(path: string, file: string, opts: ApplyManifestOptions = {}): Promise<KubernetesObject[]> {
    return this.applyAll(path, await readManifests(file), opts);
  }

  /**
   * Binds the APIExport `ref` into the workspace `path`, accepting every permission claim the
   * export asks for (read from its `spec.permissionClaims`), and waits until the APIBinding is
   * Ready. Applying again is harmless. Resolves with the Ready binding.
   */
  async bind(path: string, ref: ExportReference, opts: BindOptions = {}): Promise<APIBinding> {
    const exp = await this.client(ref.path).get(API_EXPORT, { name: ref.name }, { signal: this.signal });
    const claims = (exp.spec?.permissionClaims ?? []).map((c) => ({
      group: c.group ?? '',
      resource: c.resource,
      ...(c.identityHash ? { identityHash: c.identityHash } : {}),
      verbs: c.verbs?.length ? c.verbs : ['*'],
      selector: { matchAll: true as const },
      state: 'Accepted' as const,
    }));
    const name = opts.name ?? ref.name;
    const binding: APIBinding = {
      ...API_BINDING,
      metadata: { name },
      spec: { reference: { export: { path: ref.path, name: ref.name } }, permissionClaims: claims },
    };
    const client = this.client(path);
    await client.apply(binding, { fieldManager: this.fieldManager, force: true, signal: this.signal });
    return waitForCondition(client, API_BINDING, { name }, 'Ready', { timeoutMs: opts.timeoutMs ?? this.timeoutMs, signal: this.signal });
  }

  /**
   * The virtual workspace of an export, from the APIExportEndpointSlice `slice` (kcp creates one
   * named after each export) in the workspace `path`: waits until it lists `endpoints` URLs (a shard
   * is listed once a workspace on it bound the export), and resolves with them and a kubeconfig.
   */
  async virtualWorkspace(path: string, slice: string, opts: VirtualWorkspaceOptions = {}): Promise<VirtualWorkspace> {
    const want = opts.endpoints ?? 1;
    const client = this.client(path);
    let seen = 'nothing read yet';
    const urls = await this.waitFor(
      async () => {
        const s = await client.get(API_EXPORT_ENDPOINT_SLICE, { name: slice }, { signal: this.signal });
        const found = (s.status?.endpoints ?? []).map((e) => e.url).filter((u): u is string => typeof u === 'string' && u !== '');
        seen = `endpoints: ${JSON.stringify(found)}`;
        return found.length >= want ? found : undefined;
      },
      { what: `${want} endpoint(s) in APIExportEndpointSlice ${slice} of ${path} (a binding to the export puts its shard there)`, timeoutMs: opts.timeoutMs, detail: () => seen },
    );
    const url = urls[0]!;
    return { url, urls, kubeConfig: this.kubeConfigForServer(url), file: this.fileFor(url, `vw-${slice}`) };
  }

  /** `waitFor` with the environment's deadline, ended by `stop()`. */
  waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
    return waitFor(check, { timeoutMs: this.timeoutMs, ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, this.signal]) : this.signal });
  }

  /**
   * `waitForCondition` in the workspace `path` with the admin client: resolves with the object once
   * its condition `conditionType` has the status (default True); the timeout lists the last seen conditions.
   */
  waitForCondition<T extends ObjectWithConditions>(
    path: string,
    type: ObjectType<T>,
    key: ObjectKey,
    conditionType: string,
    opts: WaitForConditionOptions = {},
  ): Promise<T> {
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.signal]) : this.signal;
    return waitForCondition(this.client(path), type, key, conditionType, { timeoutMs: this.timeoutMs, ...opts, signal });
  }

  /**
   * Starts `manager` (its `start` runs until stopped) and stops it in `stop()`, before the server
   * goes, so its informers and servers close first.
   */
  startManager(manager: Manager): RunningManager {
    const ctl = new AbortController();
    const done = manager.start({ signal: ctl.signal });
    // A failure is reported by `stop()` and `done`; it must not also be an unhandled rejection.
    done.catch(() => undefined);
    const handle: RunningManager = {
      done,
      stop: async () => {
        ctl.abort();
        await done;
      },
    };
    this.defer(() => handle.stop());
    return handle;
  }

  /** Runs `fn` in `stop()`, before the server stops; the last deferred runs first. */
  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /**
   * Tears everything down: aborts `signal`, runs deferred cleanups (managers first), closes the
   * kit's connections, stops the server and removes `dir`. Idempotent; rejects with the first
   * cleanup failure after finishing the rest.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      const errors: unknown[] = [];
      for (const fn of this.cleanups.splice(0).reverse()) {
        try {
          await fn();
        } catch (e) {
          errors.push(e);
        }
      }
      this.transport.close();
      try {
        await this.server.stop();
      } catch (e) {
        errors.push(e);
      }
      rmSync(this.dir, { recursive: true, force: true });
      if (errors.length) throw errors[0];
    })();
    return this.stopped;
  }

  private kubeConfigForServer(server: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'kcp', server, caData: this.server.ca ? Buffer.from(this.server.ca).toString('base64') : undefined, skipTLSVerify: !this.server.ca }],
      users: [{ name: 'admin', token: this.server.token }],
      contexts: [{ name: 'kcp', cluster: 'kcp', user: 'admin' }],
      currentContext: 'kcp',
    });
    return kc;
  }

  private fileFor(server: string, label: string): string {
    let file = this.files.get(server);
    if (!file) {
      file = join(this.dir, `${this.files.size + 1}-${fileSafe(label)}.kubeconfig`);
      writeFileSync(file, this.kubeConfigForServer(server).exportConfig(), { mode: 0o600 });
      this.files.set(server, file);
    }
    return file;
  }

  private async ensureWorkspace(parent: string, name: string, opts: CreateWorkspaceOptions): Promise<TestWorkspace> {
    const client = this.client(parent);
    const path = `${parent}:${name}`;
    const obj: Workspace = { ...WORKSPACE, metadata: { name }, spec: opts.type ? { type: typeRefOf(opts.type) } : {} };
    try {
      await client.create(obj, { signal: this.signal });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const until = opts.until ?? 'Ready';
    let last: Workspace | undefined;
    const ws = await this.waitFor(
      async () => {
        last = await client.get(WORKSPACE, { name }, { signal: this.signal });
        return last.status?.phase === until && last.spec?.cluster ? last : undefined;
      },
      {
        what: `workspace ${path} to be ${until}`,
        timeoutMs: opts.timeoutMs,
        detail: () => (last ? `last seen phase: ${last.status?.phase ?? '(none)'}` : undefined),
      },
    );
    if (until === 'Ready') {
      // Ready in the parent may precede the path being served; a test's next request uses the path.
      await this.waitFor(() => this.client(path).get(LOGICAL_CLUSTER, { name: 'cluster' }, { signal: this.signal }), {
        what: `workspace ${path} to be served by its path`,
        timeoutMs: opts.timeoutMs,
      });
    }
    return { name: ws.spec!.cluster!, path, workspace: ws };
  }

  private async applyAll(path: string, objects: KubernetesObject[], opts: ApplyManifestOptions): Promise<KubernetesObject[]> {
    const client = this.client(path);
    const out: KubernetesObject[] = [];
    for (const original of objects) {
      const obj: KubernetesObject = { ...original, metadata: { ...original.metadata } };
      const info = await client.resolve({ apiVersion: obj.apiVersion!, kind: obj.kind! }, { signal: this.signal });
      if (info.namespaced && !obj.metadata!.namespace) obj.metadata!.namespace = opts.namespace ?? 'default';
      const stored = await client.apply(obj, { fieldManager: opts.fieldManager ?? this.fieldManager, force: true, signal: this.signal });
      out.push(stored);
      // The next document may be an object of the type this one brings; wait until it is served.
      const gate = obj.apiVersion === CRD.apiVersion && obj.kind === CRD.kind ? 'Established' : obj.apiVersion === API_BINDING.apiVersion && obj.kind === API_BINDING.kind ? 'Ready' : undefined;
      if (gate) await this.waitForCondition(path, { apiVersion: obj.apiVersion!, kind: obj.kind! }, { name: obj.metadata!.name! }, gate, { timeoutMs: opts.timeoutMs });
    }
    return out;
  }
}

/**
 * Starts a reference kcp server in-process on a free loopback port and returns the environment
 * around it. Call `stop()` when done (e.g. in mocha's `after`): nothing keeps the process alive after.
 */
export async function startTestEnvironment(opts: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const server = await startServer({ port: 0, ...opts.server });
  try {
    return new TestEnvironment(server, opts);
  } catch (e) {
    await server.stop();
    throw e;
  }
}
