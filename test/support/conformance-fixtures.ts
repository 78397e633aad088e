/**
 * Provider conformance fixtures on the reference server: one per bundled provider (APIExport,
 * path-aware, initializing, terminating, composite) and one for a provider written the way a user
 * would write their own, from the library's public pieces only (`LabelledWorkspacesProvider`).
 * Each fixture starts its own server in `setup` and stops it in `teardown`.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import {
  APIExportProvider,
  ClusterClient,
  ClusterNotFoundError,
  CompositeProvider,
  InformerFactory,
  InitializingWorkspacesProvider,
  LocalClusterProvider,
  PathAwareProvider,
  TerminatingWorkspacesProvider,
  Transport,
  removeInitializer,
  removeTerminator,
  type Aware,
  type Cluster,
  type FieldIndexer,
  type KubernetesObject,
  type Logger,
  type ObjectType,
  type Provider,
} from '../../src/index.js';
import type { ProviderFixture } from '../../src/testing/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createExport, createWorkspace, unbind, type Obj } from './kcp.js';
import { eventually, kubeConfigFor, raw, start } from './server.js';

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const WST = '/apis/tenancy.kcp.io/v1alpha1/workspacetypes';
const PROVIDER = 'root:cf-provider';
/** The second type the suite's controller watches: served everywhere (exports claim events). */
const EVENT = { apiVersion: 'v1', kind: 'Event' } as const;

/** The shared part of every fixture: a server and a provider workspace. */
class Env {
  srv!: RunningServer;
  kc!: KubeConfig;
  /** The provider workspace's logical cluster name (hooks are named `<it>:<type>`). */
  cluster = '';
  async setup(): Promise<void> {
    this.srv = await start();
    this.cluster = await createWorkspace(this.srv, 'root', 'cf-provider');
    this.kc = kubeConfigFor(this.srv, PROVIDER);
  }
  async teardown(): Promise<void> {
    await this.srv?.stop();
  }
  /** Creates objects in a workspace (path or name), or under any base path (a VW's `/clusters/<name>`). */
  async create(base: string, objects: KubernetesObject[]): Promise<void> {
    for (const o of objects) {
      const r = await raw(this.srv, 'POST', `${base}/api/v1/namespaces/${o.metadata?.namespace ?? 'default'}/configmaps`, o);
      expect(r.status, r.text).to.equal(201);
    }
  }
  async workspaceOfType(name: string, type: string): Promise<void> {
    const r = await raw(this.srv, 'POST', `/clusters/${PROVIDER}${WS}`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'Workspace',
      metadata: { name },
      spec: { type: { name: type, path: PROVIDER } },
    });
    expect(r.status, r.text).to.equal(201);
  }
  async workspace(name: string): Promise<Obj | undefined> {
    const r = await raw(this.srv, 'GET', `/clusters/${PROVIDER}${WS}/${name}`);
    return r.status === 200 ? (r.json as Obj) : undefined;
  }
  async workspaceType(name: string, spec: Obj): Promise<void> {
    const r = await raw(this.srv, 'POST', `/clusters/${PROVIDER}${WST}`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'WorkspaceType',
      metadata: { name },
      spec: { ...spec, extend: { with: [{ name: 'universal', path: 'root' }] } },
    });
    expect(r.status, r.text).to.equal(201);
  }
  /** The path of the type's VW of `kind` (one shard: served by the front address too). */
  async typeVW(type: string, kind: 'initializing' | 'terminating'): Promise<string> {
    const url = await eventually(async () => {
      const t = (await raw(this.srv, 'GET', `/clusters/${PROVIDER}${WST}/${type}`)).json as Obj;
      return ((t['status']?.virtualWorkspaces as Obj[] | undefined) ?? []).find((v) => String(v['url']).includes(`/${kind}workspaces/`))?.['url'] as string | undefined;
    }, `the ${kind} VW of ${type}`);
    return new URL(url!).pathname;
  }
  /** A client on `<vw>/clusters/<name>` as the admin. */
  vwClient(vwPath: string, name: string): ClusterClient {
    return new ClusterClient(Transport.fromKubeConfig(this.kc).withServer(`${this.srv.url}${vwPath}/clusters/${name}`));
  }
}

/** APIExport-based fixtures: clusters are consumer workspaces bound to an export (claims on configmaps). */
function exportFixture<P extends Provider>(exportName: string, make: (env: Env, log: Logger) => P, qualify = (n: string) => n): ProviderFixture<P> {
  const env = new Env();
  const paths = new Map<string, string>();
  return {
    async setup() {
      await env.setup();
      await createExport(env.srv, PROVIDER, exportName);
    },
    teardown: () => env.teardown(),
    provider: (log) => make(env, log),
    ownedType: EVENT,
    async addCluster(id, objects) {
      const path = `root:${id}`;
      const lc = await createWorkspace(env.srv, 'root', id);
      await env.create(`/clusters/${path}`, objects);
      await bind(env.srv, path, PROVIDER, exportName);
      const name = qualify(lc);
      paths.set(name, path);
      return name;
    },
    async removeCluster(name) {
      await unbind(env.srv, paths.get(name)!, exportName);
    },
    async rejoinCluster(name) {
      const path = paths.get(name)!;
      // The binding is deleted asynchronously; a new one under the same name waits for it.
      await eventually(async () => (await raw(env.srv, 'GET', `/clusters/${path}/apis/apis.kcp.io/v1alpha2/apibindings/${exportName}`)).status === 404, 'the old binding gone');
      await bind(env.srv, path, PROVIDER, exportName);
    },
  };
}

export const apiExportFixture = (): ProviderFixture<APIExportProvider> =>
  exportFixture('cf-export', (env, log) => new APIExportProvider(env.kc, { endpointSlice: 'cf-export', log }));

export const pathAwareFixture = (): ProviderFixture<PathAwareProvider> =>
  exportFixture('cf-paths', (env, log) => new PathAwareProvider(env.kc, { endpointSlice: 'cf-paths', log }));

/** Tenants under prefix `tenants`, next to the provider's own workspace under `own`. */
export const compositeFixture = (): ProviderFixture<CompositeProvider> =>
  exportFixture(
    'cf-composite',
    (env, log) =>
      new CompositeProvider({
        tenants: new APIExportProvider(env.kc, { endpointSlice: 'cf-composite', log }),
        own: new LocalClusterProvider(env.kc, { log }),
      }),
    (n) => CompositeProvider.qualify('tenants', n),
  );

/** Clusters are new workspaces of an initializing type; removal is the initializer's removal. */
export function initializingFixture(): ProviderFixture<InitializingWorkspacesProvider> {
  const env = new Env();
  let vw = '';
  return {
    async setup() {
      await env.setup();
      await env.workspaceType('cf-gated', { initializer: true });
      vw = await env.typeVW('cf-gated', 'initializing');
    },
    teardown: () => env.teardown(),
    provider: (log) => new InitializingWorkspacesProvider(env.kc, { workspaceType: 'cf-gated', log }),
    ownedType: EVENT,
    async addCluster(id, objects) {
      await env.workspaceOfType(id, 'cf-gated');
      const ws = await eventually(async () => {
        const w = await env.workspace(id);
        return w?.['status']?.phase === 'Initializing' && w['spec']?.cluster ? w : undefined;
      }, `${id} Initializing`);
      const lc = ws!['spec'].cluster as string;
      // Until it is Ready only the initializing VW reaches its content.
      await env.create(`${vw}/clusters/${lc}`, objects);
      return lc;
    },
    async removeCluster(name) {
      expect(await removeInitializer(env.vwClient(vw, name), `${env.cluster}:cf-gated`)).to.equal('removed');
    },
    rejoinUnsupported: 'an initialized workspace never initializes again',
  };
}

/** Clusters are deleted workspaces of a terminating type; removal is the terminator's removal. */
export function terminatingFixture(): ProviderFixture<TerminatingWorkspacesProvider> {
  const env = new Env();
  let vw = '';
  return {
    async setup() {
      await env.setup();
      await env.workspaceType('cf-guarded', { terminator: true });
      vw = await env.typeVW('cf-guarded', 'terminating');
    },
    teardown: () => env.teardown(),
    provider: (log) => new TerminatingWorkspacesProvider(env.kc, { workspaceType: 'cf-guarded', log }),
    ownedType: EVENT,
    async addCluster(id, objects) {
      await env.workspaceOfType(id, 'cf-guarded');
      const ws = await eventually(async () => {
        const w = await env.workspace(id);
        return w?.['status']?.phase === 'Ready' ? w : undefined;
      }, `${id} Ready`);
      await env.create(`/clusters/${PROVIDER}:${id}`, objects);
      const r = await raw(env.srv, 'DELETE', `/clusters/${PROVIDER}${WS}/${id}`);
      expect(r.status, r.text).to.be.oneOf([200, 202]);
      return ws!['spec'].cluster as string;
    },
    async removeCluster(name) {
      expect(await removeTerminator(env.vwClient(vw, name), `${env.cluster}:cf-guarded`)).to.equal('removed');
    },
    rejoinUnsupported: 'a deleted logical cluster never comes back',
    // Content deletion is not held back by terminators: a finalizer keeps the objects readable.
    template: { metadata: { finalizers: ['conformance.kcp-mc.dev/hold'] } },
  };
}

const MEMBER = 'conformance.kcp-mc.dev/member';

/**
 * A provider as a user would write one, from public pieces only: every Ready workspace under a
 * parent that carries the label `conformance.kcp-mc.dev/member=true` is a cluster, named as the
 * workspace, reached by a `LocalClusterProvider` of its own. Removing the label disengages it.
 */
/** Deliberate contract breaches, to prove that the suite catches each. */
export interface Faults {
  /** `get` of an unknown name returns some cluster instead of throwing. */
  getAnything?: boolean;
  /** `indexField` reaches only clusters engaged at the time. */
  forgetIndexes?: boolean;
  /** A cluster whose label goes is forgotten but its engagement never aborts. */
  neverDisengage?: boolean;
}

export class LabelledWorkspacesProvider implements Provider {
  private readonly members = new Map<string, { inner: LocalClusterProvider; stop: AbortController }>();
  private readonly indexes: [ObjectType<KubernetesObject>, string, FieldIndexer<KubernetesObject>][] = [];

  constructor(
    private readonly kc: KubeConfig,
    private readonly parent: string,
    private readonly log: Logger,
    private readonly faults: Faults = {},
  ) {}

  async start(aware: Aware, signal: AbortSignal): Promise<void> {
    const transport = Transport.fromKubeConfig(this.kc);
    const factory = new InformerFactory(transport, { log: this.log.sink() });
    const workspaces = factory.informer({ path: WS, labelSelector: `${MEMBER}=true` });
    const update = (ws: { readonly metadata?: { readonly name?: string }; readonly status?: unknown }): void => {
      const name = ws.metadata?.name ?? '';
      if ((ws.status as { phase?: string } | undefined)?.phase === 'Ready' && !this.members.has(name)) this.join(name, aware);
    };
    const sub = workspaces.addEventHandler({
      onAdd: (ws) => update(ws),
      onUpdate: (_old, ws) => update(ws),
      onDelete: (ws) => this.leave(ws.metadata?.name ?? ''),
    });
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      sub.unsubscribe();
      factory.close();
      for (const name of [...this.members.keys()]) this.leave(name);
    }
  }

  private join(name: string, aware: Aware): void {
    const inner = new LocalClusterProvider(this.kc, { name, workspace: `${this.parent}:${name}`, log: this.log });
    for (const [type, field, fn] of this.indexes) inner.indexField(type, field, fn);
    const stop = new AbortController();
    this.members.set(name, { inner, stop });
    inner.start({ engage: (n: string, cluster: Cluster, engagement: AbortSignal) => aware.engage(n, cluster, engagement) }, stop.signal).catch((e: unknown) => {
      this.log.error('member workspace failed', { cluster: name, err: e });
      this.leave(name);
    });
  }

  private leave(name: string): void {
    const m = this.members.get(name);
    if (!m) return;
    this.members.delete(name);
    if (!this.faults.neverDisengage) m.stop.abort();
  }

  get(name: string): Cluster {
    const m = this.members.get(name);
    if (!m && this.faults.getAnything) {
      const [other] = this.members.entries();
      if (other) return other[1].inner.get(other[0]);
    }
    if (!m) throw new ClusterNotFoundError(name);
    return m.inner.get(name);
  }

  indexField<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void {
    const entry = [type, field, fn as unknown as FieldIndexer<KubernetesObject>] as [ObjectType<KubernetesObject>, string, FieldIndexer<KubernetesObject>];
    if (this.indexes.some(([t, f]) => t.apiVersion === type.apiVersion && t.kind === type.kind && f === field)) return;
    if (!this.faults.forgetIndexes) this.indexes.push(entry);
    for (const m of this.members.values()) m.inner.indexField(type, field, fn);
  }

  clusterNames(): string[] {
    return [...this.members.values()].flatMap((m) => m.inner.clusterNames());
  }
}

/** The user-written provider: clusters are labelled workspaces under the provider workspace. */
export function userProviderFixture(faults: Faults = {}, timeoutMs?: number): ProviderFixture<LabelledWorkspacesProvider> {
  const env = new Env();
  const label = async (id: string, value: string | null): Promise<void> => {
    const r = await raw(env.srv, 'PATCH', `/clusters/${PROVIDER}${WS}/${id}`, { metadata: { labels: { [MEMBER]: value } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(r.status, r.text).to.equal(200);
  };
  return {
    setup: () => env.setup(),
    teardown: () => env.teardown(),
    provider: (log) => new LabelledWorkspacesProvider(env.kc, PROVIDER, log, faults),
    ownedType: EVENT,
    timeoutMs,
    async addCluster(id, objects) {
      await createWorkspace(env.srv, PROVIDER, id);
      await env.create(`/clusters/${PROVIDER}:${id}`, objects);
      await label(id, 'true');
      return id;
    },
    removeCluster: (name) => label(name, null),
    rejoinCluster: (name) => label(name, 'true'),
  };
}
