/**
 * The soak driver's admin access to the server: the provider workspace with the Item API, tenant
 * workspaces with bindings and Items, binding and workspace deletion, what the endpoint slice's
 * virtual workspaces list, and the fault API of the server (`/debug/faults`) when it has one.
 * Raw requests on one transport: a ClusterClient per workspace would run discovery per workspace.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, isAlreadyExists, isNotFound, Transport, type KubernetesObject } from '../../src/index.js';
import { waitFor } from '../../src/testing/index.js';
import { EXPORT_NAME, ITEM, manifests, NAMESPACE, outName, PROVIDER_PATH, type Item } from './api.js';
import type { ObservedItem } from './oracles.js';

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const BINDINGS = '/apis/apis.kcp.io/v1alpha2/apibindings';
const ITEMS = `/apis/${EXPORT_NAME}/v1/namespaces/${NAMESPACE}/items`;
const CLUSTER_ANNOTATION = 'kcp.io/cluster';

type Obj = KubernetesObject & Record<string, unknown>;

/** Runs `fn` over `xs` with at most `n` at once. */
export async function pool<T, R>(xs: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i]!);
      }
    }),
  );
  return out;
}

/** A tenant workspace of the soak. */
export interface Tenant {
  /** `root:soak-0001`. */
  path: string;
  /** Its logical cluster name. */
  cluster: string;
  /** Whether its binding exists now (the writer and the end check skip it while not). */
  bound: boolean;
  /** Deleted for good. */
  deleted: boolean;
}

/** Admin access to the soak's server. */
export class Kcp {
  private transport: Transport;
  private readonly kc: KubeConfig;

  constructor(
    kubeconfigFile: string,
    readonly base: string,
  ) {
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfigFile);
    this.transport = Transport.fromKubeConfig(this.withServer(base));
  }

  /** The admin kubeconfig pointed at `server`. */
  withServer(server: string): KubeConfig {
    const kc = new KubeConfig();
    const cluster = this.kc.getCurrentCluster()!;
    kc.loadFromOptions({ clusters: [{ ...cluster, server }], users: this.kc.users, contexts: this.kc.contexts, currentContext: this.kc.currentContext });
    return kc;
  }

  /** Drops pooled connections (after a server restart they are dead anyway). */
  reconnect(): void {
    this.transport.close();
    this.transport = Transport.fromKubeConfig(this.withServer(this.base));
  }

  /** One JSON request. */
  req<T>(method: string, url: string, body?: unknown, contentType?: string): Promise<T> {
    return this.transport.requestJSON<T>({ method, url: url.startsWith('http') ? url : `${this.base}${url}`, body, contentType, timeoutMs: 30_000 });
  }

  /** Creates workspace `root:<name>` (or finds it) and resolves with its logical cluster once Ready. */
  async workspace(name: string): Promise<string> {
    try {
      await this.req('POST', `/clusters/root${WS}`, { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: {} });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    return waitFor(async () => {
      const w = await this.req<Obj>('GET', `/clusters/root${WS}/${name}`);
      const ws = w as { spec?: { cluster?: string }; status?: { phase?: string } };
      return ws.status?.phase === 'Ready' ? ws.spec?.cluster : undefined;
    }, { what: `workspace ${name} Ready`, timeoutMs: 60_000, intervalMs: 200 });
  }

  /** The provider workspace with the Item API and its endpoint slice. */
  async install(): Promise<void> {
    await this.workspace(PROVIDER_PATH.split(':')[1]!);
    const [schema, exp, slice] = manifests();
    for (const [o, plural] of [[schema!, 'apiresourceschemas'], [exp!, 'apiexports'], [slice!, 'apiexportendpointslices']] as const) {
      const version = o.apiVersion!.split('/')[1];
      try {
        await this.req('POST', `/clusters/${PROVIDER_PATH}/apis/apis.kcp.io/${version}/${plural}`, o);
      } catch (e) {
        // A re-run on the same data, or the slice kcp made for the export.
        if (!isAlreadyExists(e)) throw e;
      }
    }
  }

  /** Binds the export into `path` with the ConfigMap claim accepted; resolves once Ready. */
  async bind(path: string): Promise<void> {
    try {
      await this.req('POST', `/clusters/${path}${BINDINGS}`, {
        apiVersion: 'apis.kcp.io/v1alpha2',
        kind: 'APIBinding',
        metadata: { name: EXPORT_NAME },
        spec: {
          reference: { export: { path: PROVIDER_PATH, name: EXPORT_NAME } },
          permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' }],
        },
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    await waitFor(async () => {
      const b = await this.req<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/clusters/${path}${BINDINGS}/${EXPORT_NAME}`);
      return b.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    }, { what: `binding in ${path} Ready`, timeoutMs: 60_000, intervalMs: 200 });
  }

  /** Deletes the binding of `path` and waits until it is gone. */
  async unbind(path: string): Promise<void> {
    try {
      await this.req('DELETE', `/clusters/${path}${BINDINGS}/${EXPORT_NAME}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await waitFor(async () => {
      try {
        await this.req('GET', `/clusters/${path}${BINDINGS}/${EXPORT_NAME}`);
        return undefined;
      } catch (e) {
        if (isNotFound(e)) return true;
        throw e;
      }
    }, { what: `binding in ${path} gone`, timeoutMs: 60_000, intervalMs: 200 });
  }

  /** Deletes workspace `root:<name>`. */
  async deleteWorkspace(name: string): Promise<void> {
    try {
      await this.req('DELETE', `/clusters/root${WS}/${name}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Creates Item `name` in `path` with `spec` unless it exists; whether it created it. */
  async createItem(path: string, name: string, spec: Item['spec']): Promise<boolean> {
    try {
      await this.req('POST', `/clusters/${path}${ITEMS}`, { apiVersion: ITEM.apiVersion, kind: ITEM.kind, metadata: { name, namespace: NAMESPACE }, spec });
      return true;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      return false;
    }
  }

  /**
   * Sets an Item's spec if its `spec.seq` is still `prevSeq` (a JSON patch whose `test` op is the
   * guard); resolves once the server acknowledged it. Without the guard, a write the writer gave up
   * on (its answer timed out) may still land later, after a newer acknowledged one, and undo it.
   */
  async writeSpec(path: string, name: string, prevSeq: number, spec: Item['spec']): Promise<void> {
    const patch = [
      { op: 'test', path: '/spec/seq', value: prevSeq },
      { op: 'replace', path: '/spec', value: spec },
    ];
    await this.req('PATCH', `/clusters/${path}${ITEMS}/${name}`, patch, 'application/json-patch+json');
  }

  /** An Item's `spec.seq` as the server has it now. */
  async readSeq(path: string, name: string): Promise<number> {
    const item = await this.req<Item>('GET', `/clusters/${path}${ITEMS}/${name}`);
    return item.spec.seq;
  }

  /** The endpoint URLs the slice lists now. */
  async endpoints(): Promise<string[]> {
    const s = await this.req<{ status?: { endpoints?: { url: string }[] } }>('GET', `/clusters/${PROVIDER_PATH}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${EXPORT_NAME}`);
    return (s.status?.endpoints ?? []).map((e) => e.url);
  }

  /**
   * Every Item the virtual workspaces serve, with its ConfigMap's data, keyed `cluster/name`: what
   * the controllers can see, read the way they read it.
   */
  async observe(): Promise<Map<string, ObservedItem>> {
    const out = new Map<string, ObservedItem>();
    const cms = new Map<string, Record<string, string>>();
    for (const url of await this.endpoints()) {
      const items = await this.req<{ items: Item[] }>('GET', `${url}/clusters/*${ITEMS.replace(`/namespaces/${NAMESPACE}`, '')}`);
      const maps = await this.req<{ items: (KubernetesObject & { data?: Record<string, string> })[] }>('GET', `${url}/clusters/*/api/v1/configmaps`);
      for (const cm of maps.items) cms.set(`${cm.metadata?.annotations?.[CLUSTER_ANNOTATION]}/${cm.metadata?.namespace}/${cm.metadata?.name}`, cm.data ?? {});
      for (const item of items.items) {
        const cluster = item.metadata?.annotations?.[CLUSTER_ANNOTATION] ?? '';
        out.set(`${cluster}/${item.metadata?.name}`, { cluster, item, out: undefined });
      }
    }
    for (const o of out.values()) o.out = cms.get(`${o.cluster}/${o.item.metadata?.namespace}/${outName(o.item.metadata!.name!)}`);
    return out;
  }

  /** Whether the server has the fault API (`/debug/faults`). */
  async hasFaults(): Promise<boolean> {
    try {
      await this.req('GET', '/debug/faults');
      return true;
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 405)) return false;
      throw e;
    }
  }

  /** Sets the server's fault configuration. */
  async setFaults(cfg: object): Promise<void> {
    await this.req('PUT', '/debug/faults', cfg);
  }

  /** Turns every fault off. */
  async clearFaults(): Promise<void> {
    await this.req('DELETE', '/debug/faults');
  }

  /** The server's fault counts by kind since it started. */
  async faultStats(): Promise<Record<string, number>> {
    const r = await this.req<Record<string, unknown>>('GET', '/debug/faults');
    const stats = (r['stats'] ?? r) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') out[k] = v;
    return out;
  }

  /** Closes the connections. */
  close(): void {
    this.transport.close();
  }
}

