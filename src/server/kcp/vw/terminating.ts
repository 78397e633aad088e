/**
 * The terminating-workspaces virtual workspace, `/services/terminatingworkspaces/<terminator>`, as
 * kcp serves it on each shard: three sub-servers tried in order.
 * - `/clusters/*`: a read-only wildcard list/watch of the shard's LogicalClusters that carry this
 *   terminator's hashed label **and** a deletionTimestamp (the label is the selection, the
 *   deletionTimestamp a post-filter: a newly deleted cluster arrives as MODIFIED, one whose label
 *   goes leaves with DELETED).
 * - `/clusters/<name>` LogicalCluster requests and discovery: `logicalclusters/cluster` (get only)
 *   and its status (get/update/patch, where the only change of `status.terminators` allowed is
 *   removing this terminator); discovery is answered here and lists LogicalClusters only.
 * - everything else under `/clusters/<name>`: the cluster's content, while it is deleted and still
 *   lists this terminator; checked against the type's `terminatorPermissions` and forwarded as the
 *   caller (plus `system:kcp:terminator:<t>`), or, without permissions, as the workspace's creator.
 * Every request needs `terminate` on the WorkspaceType in the type's workspace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveAPIRoot, type ApiView } from '../../http/apiroot.js';
import { ruleAllows, type PolicyRule } from '../../auth/auth.js';
import { ApiError, cause, invalid, notFound } from '../../http/errors.js';
import type { ServiceHandler } from '../../http/front.js';
import { isObject } from '../../json.js';
import type { ObjectFilter } from '../../storage/listwatch.js';
import { LOGICAL_CLUSTERS, type AdmissionPlugin, type RequestContext, type UserInfo } from '../../api/objects.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject, ResourceDef } from '../../types.js';
import { WORKSPACE_TYPES, terminatorLabel } from '../tenancy/index.js';
import { goStrings, hooksOf, lcView, ownerOf, shardOfRequest, typeOfHook, unresolved, vwClusterSegment, type VirtualWorkspaceAuthorizers } from './common.js';
import { authzDenied, requestInfo, type RequestInfo } from './requestinfo.js';

/** The group kcp adds to a terminator's forwarded requests when `terminatorPermissions` decide. */
export const TERMINATOR_GROUP_PREFIX = 'system:kcp:terminator:';

/**
 * kcp's terminating status validation: the same list (order included) passes, so conditions can
 * change; otherwise exactly one entry fewer, this terminator not among them, and nothing new.
 */
export function onlyRemovingTerminator(terminator: string): AdmissionPlugin {
  return (op, _ctx, def, obj, old) => {
    if (op !== 'UPDATE' || def.storage !== LOGICAL_CLUSTERS || !old) return;
    const before = hooksOf('terminators', old) ?? [];
    const after = hooksOf('terminators', obj) ?? [];
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    const ok = after.length === before.length - 1 && !after.includes(terminator) && after.every((t) => before.includes(t));
    if (!ok) {
      throw invalid('Workspace', 'tenancy.kcp.io', obj.metadata.name ?? '', [
        cause('FieldValueInvalid', 'status.terminators', `Invalid value: ${goStrings(hooksOf('terminators', obj))}: only removing the "${terminator}" terminator is supported`),
      ]);
    }
  };
}

/** kube's non-resource paths a named cluster's discovery sub-server takes (all but `/healthz` and `/`). */
function isDiscovery(info: RequestInfo, rest: string[]): boolean {
  if (info.resourceRequest) return false;
  return rest.length > 0 && rest[0] !== '' && rest[0] !== 'healthz';
}

/** `spec.createdBy` of a LogicalCluster, else its owner annotation: whom mode 2 forwards as. */
function createdBy(lc: KubeObject): UserInfo | undefined {
  const spec = isObject(lc['spec']) ? lc['spec'] : {};
  const c = spec['createdBy'];
  if (isObject(c) && typeof c['username'] === 'string' && c['username']) {
    const groups = Array.isArray(c['groups']) ? c['groups'].filter((g): g is string => typeof g === 'string') : [];
    return { name: c['username'], uid: typeof c['uid'] === 'string' ? c['uid'] : undefined, groups };
  }
  return ownerOf(lc);
}

/** Builds the `terminatingworkspaces` service handler. */
export function terminatingVirtualWorkspace(topo: Topology, authorizers: () => VirtualWorkspaceAuthorizers): ServiceHandler {
  return async (req: IncomingMessage, res: ServerResponse, segs: string[], query: URLSearchParams, who: UserInfo): Promise<void> => {
    const [terminator, clustersWord, x] = segs;
    const target = vwClusterSegment(x);
    if (!terminator || clustersWord !== 'clusters' || !target) throw unresolved(who, req);
    const rest = segs.slice(3);
    const info = requestInfo(req.method ?? 'GET', rest, query);
    const path = (req.url ?? '').split('?')[0]!;
    const type = typeOfHook(terminator);
    const admin = who.groups.includes('system:masters');
    const allowed = type ? authorizers().terminate(who, type.cluster, type.name) : admin;
    if (!allowed) throw authzDenied(who, info, path, `not allowed to terminate workspaces with terminator "${terminator}"`);

    const shard = shardOfRequest(topo, req);
    const [labelKey, labelValue] = terminatorLabel(terminator);
    const visible: ObjectFilter = Object.assign((o: KubeObject) => o.metadata.labels?.[labelKey] === labelValue, {
      post: (o: KubeObject) => !!o.metadata.deletionTimestamp,
    });
    const isVisible = (o: KubeObject | undefined): o is KubeObject => !!o && visible(o) && visible.post!(o);
    const lcDef = shard.svc.registry.builtin(LOGICAL_CLUSTERS);

    if (target === '*') {
      // Read-only: kcp lists the status subresource here with no verbs.
      const def: ResourceDef = { ...lcDef, verbs: ['get', 'list', 'watch'], statusDiscoveryVerbs: [] };
      return serveAPIRoot(req, res, rest, query, { cluster: '*', user: who, warnings: [] }, lcView(shard, def, visible));
    }
    const lc = shard.store.get(LOGICAL_CLUSTERS, target, '', 'cluster');
    const ctx: RequestContext = { cluster: target, user: who, warnings: [] };
    if (isDiscovery(info, rest) || (info.resourceRequest && info.group === lcDef.group && info.resource === lcDef.resource)) {
      // A cluster that is not deleted or no longer lists this terminator is not there at all.
      if (info.name && !isVisible(lc)) throw notFound(lcDef.resource, lcDef.group, info.name);
      const def: ResourceDef = { ...lcDef, verbs: ['get'] };
      return serveAPIRoot(req, res, rest, query, ctx, lcView(shard, def, visible, onlyRemovingTerminator(terminator)));
    }
    if (!lc) throw new ApiError(500, 'InternalError', `LogicalCluster "${target}" not found`);
    if (!lc.metadata.deletionTimestamp || !(hooksOf('terminators', lc) ?? []).includes(terminator)) {
      throw new ApiError(403, 'Forbidden', `terminator "${terminator}" cannot access this workspace`);
    }
    const content = shard.clusterView(target);
    if (type) {
      const owner = topo.shardOf(type.cluster);
      const wt = owner?.store.get(WORKSPACE_TYPES, type.cluster, '', type.name);
      if (!wt) throw new ApiError(503, 'ServiceUnavailable', `WorkspaceType "${type.name}" in logical cluster "${type.cluster}" is not available`);
      const spec = isObject(wt['spec']) ? wt['spec'] : {};
      const rules = (Array.isArray(spec['terminatorPermissions']) ? spec['terminatorPermissions'].filter(isObject) : []) as unknown as PolicyRule[];
      if (rules.length > 0) return serveWithPermissions(req, res, rest, query, terminator, rules, info, target, who, content);
    }
    const as = createdBy(lc);
    if (!as) throw new ApiError(500, 'InternalError', `LogicalCluster "${target}" records no creator to act as`);
    return serveAPIRoot(req, res, rest, query, { ...ctx, user: as }, content);
  };
}

/**
 * Mode 1: the request is checked against the type's `terminatorPermissions` here, then served as
 * the caller with the terminator's group added, and the workspace's own RBAC is not asked again
 * (kcp's content authorizer lets that group in while the cluster is deleted).
 */
function serveWithPermissions(
  req: IncomingMessage,
  res: ServerResponse,
  rest: string[],
  query: URLSearchParams,
  terminator: string,
  rules: PolicyRule[],
  info: RequestInfo,
  cluster: string,
  who: UserInfo,
  content: ApiView,
): Promise<void> {
  const attrs = { verb: info.verb, apiGroup: info.group, resource: info.resource, subresource: info.subresource || undefined, name: info.name || undefined };
  if (!info.resourceRequest || !rules.some((r) => ruleAllows(r, attrs))) {
    const res = info.subresource ? `${info.resource}/${info.subresource}` : info.resource || (req.url ?? '').split('?')[0]!;
    const qualified = info.group ? `${res}.${info.group}` : res;
    throw new ApiError(403, 'Forbidden', `denied by terminatorPermissions: no rule allows ${info.verb} on ${qualified}`);
  }
  const user: UserInfo = { ...who, groups: [TERMINATOR_GROUP_PREFIX + terminator, ...who.groups.filter((g) => g !== TERMINATOR_GROUP_PREFIX + terminator)] };
  const view: ApiView = { ...content, authorize: undefined, authorizer: undefined };
  return serveAPIRoot(req, res, rest, query, { cluster, user, warnings: [] }, view);
}
