/**
 * `APIExportProvider`: every logical cluster that bound an APIExport, across every shard. It
 * watches the APIExportEndpointSlice in the kubeconfig's workspace; for each URL it lists (one per
 * shard) it watches APIBindings through `<url>/clusters/*`, and a cluster (its `kcp.io/cluster`)
 * engages when one of its bindings passes the filter (default: Ready), stays while any binding
 * remains, and disengages when the last goes. Controllers' informers on that URL are shared by all
 * its clusters. A URL that does not serve yet is retried with backoff by its informer; one shard
 * down never stops the others. `PathAwareProvider` adds lookup by workspace path.
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import type { KubernetesObject } from '../client/index.js';
import type { Cached } from '../informer/index.js';
import { VirtualWorkspaceProvider, cleanURLs, type KcpProviderOptions, type VirtualWorkspaceKind } from './machine.js';

export { PATH_ANNOTATION, type ProviderHooks } from './machine.js';

/** An APIExportEndpointSlice, as far as the provider reads it. */
export interface APIExportEndpointSlice extends KubernetesObject {
  /** What the slice is for. */
  spec?: {
    /** The APIExport whose virtual workspace the endpoints serve. */
    export?: {
      /** Workspace path of the export, e.g. `root:provider`. */
      path?: string;
      /** Name of the export. */
      name?: string;
    };
  };
  /** Filled in by kcp. */
  status?: {
    /** One entry per shard that serves the export. */
    endpoints?: {
      /** Base URL of the shard's APIExport virtual workspace (without `/clusters/...`). */
      url?: string;
      /**
       * Which shards the URL serves (kcp ≥ 2026: `{matchAll: true}` or a label selector). Ignored:
       * every URL listed is watched, and a URL serves only the clusters of its own shards anyway.
       */
      shards?: Readonly<Record<string, unknown>>;
    }[];
  };
}

/** An object with conditions (an APIBinding, say). */
interface Conditioned extends KubernetesObject {
  status?: { conditions?: { type?: string; status?: string }[] };
}

/** Options of `APIExportProvider`. */
export interface APIExportProviderOptions extends KcpProviderOptions {
  /** Name of the APIExportEndpointSlice in the kubeconfig's workspace (usually the export's name). */
  endpointSlice: string;
  /** API path of the object watched through each endpoint; default APIBindings (`/apis/apis.kcp.io/v1alpha1/apibindings`). */
  watchPath?: string;
}

/** The Ready-condition filter (the Go provider's default). */
export function conditionReady(obj: Cached<KubernetesObject>): boolean {
  const conds = (obj as Cached<Conditioned>).status?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

type ReadyStatus = NonNullable<Conditioned['status']>;

/** The status of a slim binding for one Ready status, shared by every binding with it (read-only). */
const readyStatuses = new Map<string, ReadyStatus>();

function readyStatus(status: string | undefined): ReadyStatus {
  const key = status ?? '';
  let st = readyStatuses.get(key);
  if (!st) {
    const cond = Object.freeze(status === undefined ? { type: 'Ready' } : { type: 'Ready', status });
    st = Object.freeze({ conditions: Object.freeze([cond]) as ReadyStatus['conditions'] });
    // Statuses are True, False or Unknown; anything else is not worth sharing, and not kept.
    if (readyStatuses.size < 8) readyStatuses.set(key, st);
  }
  return st;
}

/**
 * What the provider keeps of an APIBinding when no user filter or hook reads them: type, name,
 * resourceVersion, deletionTimestamp, the `kcp.io/` annotations (cluster, path) and the Ready
 * condition the default filter tests (one shared read-only status per Ready status). About a
 * tenth of a whole binding, kept for every workspace on every replica.
 */
export function readyView(obj: KubernetesObject): KubernetesObject {
  const md = obj.metadata ?? {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.annotations ?? {})) if (k.startsWith('kcp.io/')) annotations[k] = v;
  const out: Conditioned = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: md.name,
      ...(md.namespace ? { namespace: md.namespace } : {}),
      resourceVersion: md.resourceVersion,
      ...(md.deletionTimestamp ? { deletionTimestamp: md.deletionTimestamp } : {}),
      annotations,
    },
  };
  const ready = ((obj as Conditioned).status?.conditions ?? []).find((c) => c?.type === 'Ready');
  if (ready) out.status = readyStatus(ready.status);
  return out;
}

/** The endpoint URLs a slice lists (empty and non-string entries skipped, duplicates once). */
export function endpointURLs(slice: Cached<APIExportEndpointSlice> | undefined): string[] {
  return cleanURLs((slice?.status?.endpoints ?? []).map((e) => e?.url));
}

const BINDINGS = '/apis/apis.kcp.io/v1alpha1/apibindings';

function apiExportKind(opts: APIExportProviderOptions, byPath: boolean): VirtualWorkspaceKind {
  const watchPath = opts.watchPath ?? BINDINGS;
  return {
    component: byPath ? 'path-aware-provider' : 'apiexport-provider',
    sourceKind: 'APIExportEndpointSlice',
    sourceField: 'endpointSlice',
    sourcePath: '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices',
    sourceName: opts.endpointSlice,
    urls: (s) => endpointURLs(s as Cached<APIExportEndpointSlice> | undefined),
    watchPath,
    apis: { mode: 'shared' },
    defaultFilter: conditionReady,
    slim: readyView,
    byPath,
    noEndpointsCause: "no APIBinding to the export yet: kcp lists a shard's URL once a workspace on that shard binds the export",
  };
}

/** Engages every logical cluster that bound the export, on every shard the slice lists. */
export class APIExportProvider extends VirtualWorkspaceProvider {
  constructor(kubeconfig: KubeConfigLike, opts: APIExportProviderOptions) {
    super(kubeconfig, apiExportKind(opts, false), opts);
  }
}

/**
 * `APIExportProvider` plus lookup by workspace path: `get('root:org:ws')` and `get(<logical
 * cluster name>)` return the same cluster. Paths come from `kcp.io/path` on the bindings; one that
 * appears later or changes is re-registered and the old one dropped, and a cluster that leaves
 * takes its path with it. Requests still carry the cluster name; the path is on `cluster.path` and
 * in reconcile logs.
 */
export class PathAwareProvider extends VirtualWorkspaceProvider {
  constructor(kubeconfig: KubeConfigLike, opts: APIExportProviderOptions) {
    super(kubeconfig, apiExportKind(opts, true), opts);
  }
}
