/**
 * What configures the kcp provider machine: the options every kcp provider accepts, its hooks,
 * and the `VirtualWorkspaceKind` that makes it one provider or another.
 */
import type { ClusterClient, KubernetesObject, ObjectType } from '../client/index.js';
import type { Cached } from '../informer/index.js';
import type { Logger } from '../log/index.js';
import type { ClusterAPIs } from './cluster.js';
import type { ReportBackoff } from './source-report.js';
import type { EventRecorder } from './types.js';

/** Lifecycle hooks, called with the watched object and its cluster. */
export interface ProviderHooks {
  /** A watched object passed the filter (first sight). */
  onAdd?(obj: Cached<KubernetesObject>, cluster: string): void;
  /** A watched object changed and passes the filter. */
  onUpdate?(old: Cached<KubernetesObject>, obj: Cached<KubernetesObject>, cluster: string): void;
  /** The last watched object of a cluster went (or its endpoint did): the cluster disengages. */
  onDelete?(obj: Cached<KubernetesObject> | undefined, cluster: string): void;
}

/** What every kcp provider accepts. */
export interface KcpProviderOptions {
  /** Whether a watched object engages its cluster; the provider kind sets the default. */
  filter?: (obj: Cached<KubernetesObject>) => boolean;
  /** Disengage a cluster when none of its watched objects passes the filter any more; default false (as Go). */
  disengageOnFilterReject?: boolean;
  /** Lifecycle hooks. */
  hooks?: ProviderHooks;
  /** `reportingController` of the clusters' Events; default `kcp-multicluster-provider`. */
  eventSource?: string;
  /** Builds a cluster's event recorder; default events.k8s.io/v1 with aggregation. */
  recorder?: (client: ClusterClient, cluster: string) => EventRecorder;
  /** Logger; default JSON lines on stderr at info, tagged with the provider's component and source. */
  log?: Logger;
  /** How long the source may list no endpoint URLs before an info line says so, with the likely cause; default 60 000 ms. */
  noEndpointsAfterMs?: number;
  /**
   * How often a lasting problem with the source (missing, listing no URLs, a kubeconfig on a
   * virtual workspace) is logged again: after `initialMs` (default 10 s), doubling up to `maxMs` (default 5 min).
   */
  reportBackoff?: ReportBackoff;
}

/** The configuration that makes the machine one provider or another. */
export interface VirtualWorkspaceKind {
  /** Log component, e.g. `apiexport-provider`. */
  component: string;
  /** Kind of the source, for messages, e.g. `APIExportEndpointSlice`. */
  sourceKind: string;
  /** Log field that carries the source's name, e.g. `endpointSlice`. */
  sourceField: string;
  /** API path of the source objects (cluster-scoped, in the kubeconfig's workspace). */
  sourcePath: string;
  /** The source object's name (validated as a DNS subdomain). */
  sourceName: string;
  /** The endpoint URLs a source object lists (the source is undefined when it does not exist). */
  urls(source: Cached<KubernetesObject> | undefined): string[];
  /** API path of the object watched through each endpoint's `/clusters/*`. */
  watchPath: string;
  /** Its type, when controllers may watch it too (they then share the provider's informer). */
  watchType?: ObjectType<KubernetesObject>;
  /** How clusters reach their APIs. */
  apis: ClusterAPIs;
  /** The engage rule when the user gives no filter. */
  defaultFilter(obj: Cached<KubernetesObject>): boolean;
  /**
   * What the default filter and the machine read of a watched object (key fields, `kcp.io/`
   * annotations, what the filter tests). When set, and no user filter or hooks see the objects and
   * controllers do not share the informer, the provider keeps only this of each: every replica
   * keeps one watched object per workspace, sharded or not.
   */
  slim?(obj: KubernetesObject): KubernetesObject;
  /** Whether `get()` also takes workspace paths (`kcp.io/path` of the watched objects). */
  byPath?: boolean;
  /** The likely reason why a source lists no URLs, for the log line that says so. */
  noEndpointsCause?: string;
}

/** Normalises URLs: trimmed, no trailing slash, http(s) only, each once. */
export function cleanURLs(raw: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const u of raw) {
    const url = typeof u === 'string' ? u.trim().replace(/\/+$/, '') : '';
    if (url && /^https?:\/\//i.test(url) && !out.includes(url)) out.push(url);
  }
  return out;
}
