/**
 * The initializing-workspaces virtual workspace, `/services/initializingworkspaces/<initializer>`:
 * a wildcard, read-only view of the LogicalClusters still waiting for this initializer; per cluster,
 * `logicalclusters/cluster` (get) and its status (get/update/patch, where the only allowed change of
 * `status.initializers` is removing this initializer); and everything else in the cluster, proxied
 * as its owner while the cluster initializes with this initializer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveAPIRoot } from '../../http/apiroot.js';
import { ApiError, cause, invalid, notFound } from '../../http/errors.js';
import type { ServiceHandler } from '../../http/front.js';
import { isObject } from '../../json.js';
import type { ObjectFilter } from '../../storage/listwatch.js';
import { LOGICAL_CLUSTERS, type AdmissionPlugin, type RequestContext, type UserInfo } from '../../api/objects.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject, ResourceDef } from '../../types.js';
import { goStrings, hooksOf, lcView, ownerOf, shardOfRequest, typeOfHook, unresolved, vwClusterSegment, type VirtualWorkspaceAuthorizers } from './common.js';
import { PHASE_LABEL, initializerLabel } from './kcp.js';
import { authzDenied, requestInfo } from './requestinfo.js';

function phaseOf(o: KubeObject): string {
  const status = o['status'];
  return isObject(status) && typeof status['phase'] === 'string' ? status['phase'] : '';
}

/**
 * kcp's status update validation: exactly one entry removed, and it is this initializer. (kcp only
 * counts entries; the remaining ones are also required to be unchanged here.)
 */
function onlyRemoving(initializer: string): AdmissionPlugin {
  return (op, _ctx, def, obj, old) => {
    if (op !== 'UPDATE' || def.storage !== LOGICAL_CLUSTERS || !old) return;
    const before = hooksOf('initializers', old) ?? [];
    const after = hooksOf('initializers', obj);
    const expected = before.filter((i) => i !== initializer);
    const ok = before.length - (after ?? []).length === 1 && expected.length === before.length - 1 && JSON.stringify(expected) === JSON.stringify(after ?? []);
    if (!ok) {
      throw invalid('Workspace', 'tenancy.kcp.io', obj.metadata.name ?? '', [
        cause('FieldValueInvalid', 'status.initializers', `Invalid value: ${goStrings(after)}: only removing the "${initializer}" initializer is supported`),
      ]);
    }
  };
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
    const type = typeOfHook(initializer);
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
    if (!lc || phaseOf(lc) !== 'Initializing' || !(hooksOf('initializers', lc) ?? []).includes(initializer)) {
      throw new ApiError(403, 'Forbidden', `initializer "${initializer}" cannot access this workspace`);
    }
    // kcp forwards as the workspace owner; without a recorded owner, as the caller.
    const ctx: RequestContext = { cluster: target, user: ownerOf(lc) ?? who, warnings: [] };
    return serveAPIRoot(req, res, rest, query, ctx, shard.clusterView(target));
  };
}
