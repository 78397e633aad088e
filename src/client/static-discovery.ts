/**
 * A kind → resource mapping that never asks the server. kcp's terminating-workspaces virtual
 * workspace answers per-cluster discovery with LogicalCluster alone, although it proxies every
 * other request into the workspace: a client there must know its resources without discovery.
 * The table covers the built-in APIs a kcp workspace serves; callers add their own.
 */
import { Discovery, UnknownKindError, UnknownResourceError, parseAPIVersion, type ResourceInfo } from './discovery.js';

/** A resource the caller maps by hand: as discovery would describe it, lists optional. */
export interface StaticResource {
  /** `apiVersion` of its objects, e.g. `example.dev/v1alpha1`. */
  apiVersion: string;
  /** Kind of its objects, e.g. `Widget`. */
  kind: string;
  /** Plural name used in URLs. */
  resource: string;
  /** True when its objects live in namespaces. */
  namespaced: boolean;
  /** Default: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs?: string[];
  /** Subresources it serves, e.g. `['status']`. Default: none. */
  subresources?: string[];
  /** Singular name; default: the kind in lower case. */
  singularName?: string;
  /** Short names, e.g. `['cm']`. Default: none. */
  shortNames?: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

// [apiVersion, kind, resource, namespaced, subresources, shortNames]
const BUILTIN: readonly [string, string, string, boolean, string[], string[]][] = [
  ['v1', 'ConfigMap', 'configmaps', true, [], ['cm']],
  ['v1', 'Secret', 'secrets', true, [], []],
  ['v1', 'Namespace', 'namespaces', false, ['status', 'finalize'], ['ns']],
  ['v1', 'ServiceAccount', 'serviceaccounts', true, ['token'], ['sa']],
  ['v1', 'Event', 'events', true, [], ['ev']],
  ['v1', 'Service', 'services', true, ['status'], ['svc']],
  ['v1', 'Pod', 'pods', true, ['status'], ['po']],
  ['v1', 'Endpoints', 'endpoints', true, [], ['ep']],
  ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['status'], ['pvc']],
  ['v1', 'LimitRange', 'limitranges', true, [], ['limits']],
  ['v1', 'ResourceQuota', 'resourcequotas', true, ['status'], ['quota']],
  ['events.k8s.io/v1', 'Event', 'events', true, [], ['ev']],
  ['coordination.k8s.io/v1', 'Lease', 'leases', true, [], []],
  ['rbac.authorization.k8s.io/v1', 'Role', 'roles', true, [], []],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true, [], []],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false, [], []],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false, [], []],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['status'], ['crd', 'crds']],
  ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false, [], []],
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false, [], []],
  ['core.kcp.io/v1alpha1', 'LogicalCluster', 'logicalclusters', false, ['status'], []],
  ['tenancy.kcp.io/v1alpha1', 'Workspace', 'workspaces', false, ['status'], ['ws']],
  ['tenancy.kcp.io/v1alpha1', 'WorkspaceType', 'workspacetypes', false, ['status'], []],
  ['apis.kcp.io/v1alpha1', 'APIBinding', 'apibindings', false, ['status'], []],
  ['apis.kcp.io/v1alpha2', 'APIBinding', 'apibindings', false, ['status'], []],
  ['apis.kcp.io/v1alpha1', 'APIExport', 'apiexports', false, ['status'], []],
  ['apis.kcp.io/v1alpha2', 'APIExport', 'apiexports', false, ['status'], []],
  ['apis.kcp.io/v1alpha1', 'APIExportEndpointSlice', 'apiexportendpointslices', false, ['status'], []],
  ['apis.kcp.io/v1alpha1', 'APIResourceSchema', 'apiresourceschemas', false, [], []],
];

function info(r: StaticResource): ResourceInfo {
  const { group, version } = parseAPIVersion(r.apiVersion);
  return {
    group,
    version,
    resource: r.resource,
    kind: r.kind,
    namespaced: r.namespaced,
    verbs: r.verbs ?? ALL_VERBS,
    subresources: r.subresources ?? [],
    singularName: r.singularName ?? r.kind.toLowerCase(),
    shortNames: r.shortNames ?? [],
    categories: [],
  };
}

/** The built-in table as `StaticResource`s. */
export function builtinResources(): StaticResource[] {
  return BUILTIN.map(([apiVersion, kind, resource, namespaced, subresources, shortNames]) => ({ apiVersion, kind, resource, namespaced, subresources, shortNames }));
}

/** Discovery from a fixed table (built-ins plus `extra`, which win); never sends a request. */
export class StaticDiscovery extends Discovery {
  private readonly byType = new Map<string, ResourceInfo>();
  private readonly infos: ResourceInfo[];

  constructor(base: string, extra: readonly StaticResource[] = []) {
    super(
      {
        server: base,
        requestJSON: () => Promise.reject(new Error('static discovery sends no requests')),
      },
      base,
    );
    for (const r of [...builtinResources(), ...extra]) this.byType.set(`${r.apiVersion}/${r.kind}`, info(r));
    this.infos = [...this.byType.values()];
  }

  override resourceFor(type: { apiVersion: string; kind: string }): Promise<ResourceInfo> {
    const hit = this.byType.get(`${type.apiVersion}/${type.kind}`);
    if (hit) return Promise.resolve(hit);
    const err = new UnknownKindError(type.apiVersion, type.kind, this.base);
    err.message += ' (this endpoint has no discovery: pass the resource in the provider\'s `resources` option)';
    return Promise.reject(err);
  }

  override resolveResource(name: string): Promise<ResourceInfo> {
    const lower = name.toLowerCase();
    const hit = this.infos.find((r) =>
      [r.resource, r.singularName, ...r.shortNames, r.kind.toLowerCase()].some((n) => lower === n || lower === `${n}.${r.group}` || lower === `${n}.${r.version}.${r.group}`),
    );
    return hit ? Promise.resolve(hit) : Promise.reject(new UnknownResourceError(name, this.base));
  }

  override resources(): Promise<ResourceInfo[]> {
    return Promise.resolve([...this.infos]);
  }

  override invalidate(): void {}
}
