/**
 * The initializing-workspaces virtual workspace, `/services/initializingworkspaces/<initializer>`:
 * a wildcard, read-only view of the LogicalClusters still waiting for this initializer; per cluster,
 * `logicalclusters/cluster` (get) and its status (get/update/patch, where the only allowed change of
 * `status.initializers` is removing this initializer); and everything else in the cluster, proxied
 * as its owner while the cluster initializes with this initializer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveAPIRoot, type ApiView } from '../../apiroot.js';
import { ApiError, cause, invalid, notFound } from '../../errors.js';
import type { ServiceHandler } from '../../http.js';
import { isObject } from '../../json.js';
import type { ObjectFilter } from '../../listwatch.js';
import { LOGICAL_CLUSTERS, type AdmissionPlugin, type RequestContext, type UserInfo } from '../../objects.js';
import { PREFERRED_VERSIONS, type Shard } from '../../shard.js';
import type { Topology } from '../../topology.js';
import type { KubeObject, ResourceDef } from '../../types.js';
import { shardOfRequest, unresolved, vwClusterSegment, withAdmission, type VirtualWorkspaceAuthorizers } from './common.js';
import { OWNER_ANNOTATION, PHASE_LABEL, initializerLabel } from './kcp.js';
import { authzDenied, requestInfo } from './requestinfo.js';

function initializersOf(o: KubeObject | undefined): string[] | undefined {
  const status = o?.['status'];
  const list = isObject(status) ? status['initializers'] : undefined;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : undefined;
}

function phaseOf(o: KubeObject): string {
  const status = o['status'];
  return isObject(status) && typeof status['phase'] === 'string' ? status['phase'] : '';
}

/** Go's `%#v` of a `[]string`, as kube prints an invalid value. */
function goStrings(list: string[] | undefined): string {
  return list ? `[]string{${list.map((s) => JSON.stringify(s)).join(', ')}}` : '[]string(nil)';
}

/**
 * kcp's status update validation: exactly one entry removed, and it is this initializer. (kcp only
 * counts entries; the remaining ones are also required to be unchanged here.)
 */
function onlyRemoving(initializer: string): AdmissionPlugin {
  return (op, _ctx, def, obj, old) => {
    if (op !== 'UPDATE' || def.storage !== LOGICAL_CLUSTERS || !old) return;
    const before = initializersOf(old) ?? [];
    const after = initializersOf(obj);
    const expected = before.filter((i) => i !== initializer);
    const ok = before.length - (after ?? []).length === 1 && expected.length === before.length - 1 && JSON.stringify(expected) === JSON.stringify(after ?? []);
    if (!ok) {
      throw invalid('Workspace', 'tenancy.kcp.io', obj.metadata.name ?? '', [
        cause('FieldValueInvalid', 'status.initializers', `Invalid value: ${goStrings(after)}: only removing the "${initializer}" initializer is supported`),
      ]);
    }
  };
}

/** The owner recorded on a LogicalCluster, whom kcp impersonates when proxying into it. */
function ownerOf(lc: KubeObject): UserInfo | undefined {
  const raw = lc.metadata.annotations?.[OWNER_ANNOTATION];
  if (!raw) return undefined;
  try {
    const u = JSON.parse(raw) as { username?: unknown; uid?: unknown; groups?: unknown };
    if (typeof u.username !== 'string') return undefined;
    const groups = Array.isArray(u.groups) ? u.groups.filter((g): g is string => typeof g === 'string') : [];
    return { name: u.username, uid: typeof u.uid === 'string' ? u.uid : undefined, groups };
  } catch {
    return undefined;
  }
}

/** Splits `<type cluster>:<type>`; system initializers (`system:apibindings`) have no type. */
function typeOfInitializer(initializer: string): { cluster: string; name: string } | undefined {
  if (initializer.startsWith('system:')) return undefined;
  const i = initializer.lastIndexOf(':');
  return i > 0 ? { cluster: initializer.slice(0, i), name: initializer.slice(i + 1) } : undefined;
}

/** Builds the `initializingworkspaces` service handler. */
export function initializingVirtualWorkspace(topo: Topology, authorizers: () => VirtualWorkspaceAuthorizers): ServiceHandler {
  return async (req: IncomingMessage, res: ServerResponse, segs: string[], query: URLSearchParams, who: UserInfo): Promise<void> => {
    const [initializer, clustersWord, x] = segs;
    const target = vwClusterSegment(x);
    if (!initializer || clustersWord !== 'clusters' || !target) throw unresolved(who, req);
    const rest = segs.slice(3);
    const info = requestInfo(req.method ?? 'GET', rest, query);
    const path = (req.url ?? '').split('?')[0]!;
    const type = typeOfInitializer(initializer);
    const allowed = type ? authorizers().initialize(who, type.cluster, type.name) : who.groups.includes('system:masters');
    if (!allowed) throw authzDenied(who, info, path, `not allowed to initialize workspaces with initializer "${initializer}"`);

    const shard = shardOfRequest(topo, req);
    const [labelKey, labelValue] = initializerLabel(initializer);
    const waiting: ObjectFilter = (o) => o.metadata.labels?.[PHASE_LABEL] === 'Initializing' && o.metadata.labels?.[labelKey] === labelValue;
    const lcDef = shard.svc.registry.builtin(LOGICAL_CLUSTERS);

    if (target === '*') {
      const def: ResourceDef = { ...lcDef, verbs: ['get', 'list', 'watch'] };
      return serveAPIRoot(req, res, rest, query, { cluster: '*', user: who, warnings: [] }, lcView(shard, def, waiting));
    }
    const lc = shard.store.get(LOGICAL_CLUSTERS, target, '', 'cluster');
    if (info.resourceRequest && info.group === lcDef.group && info.resource === lcDef.resource) {
      // A cluster that is not (or no longer) waiting for this initializer is not there at all.
      if (info.name && (!lc || !waiting(lc))) throw notFound(lcDef.resource, lcDef.group, info.name);
      const def: ResourceDef = { ...lcDef, verbs: ['get'] };
      const ctx: RequestContext = { cluster: target, user: who, warnings: [] };
      return serveAPIRoot(req, res, rest, query, ctx, lcView(shard, def, waiting, onlyRemoving(initializer)));
    }
    if (!lc || phaseOf(lc) !== 'Initializing' || !(initializersOf(lc) ?? []).includes(initializer)) {
      throw new ApiError(403, 'Forbidden', `initializer "${initializer}" cannot access this workspace`);
    }
    // kcp forwards as the workspace owner; without a recorded owner, as the caller.
    const ctx: RequestContext = { cluster: target, user: ownerOf(lc) ?? who, warnings: [] };
    return serveAPIRoot(req, res, rest, query, ctx, shard.clusterView(target));
  };
}

function lcView(shard: Shard, def: ResourceDef, filter: ObjectFilter, admission?: AdmissionPlugin): ApiView {
  return {
    svc: withAdmission(shard.svc, admission ? [admission] : []),
    resources: () => [def],
    preferred: PREFERRED_VERSIONS,
    filter: (d) => (d === def ? filter : undefined),
    watch: shard.watch,
    orphan: (c, uid) => shard.controllers.orphan(c, uid),
  };
}
