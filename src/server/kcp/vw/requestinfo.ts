/**
 * kube's RequestInfo for a path below a virtual workspace's `/clusters/<x>`: whether it is a
 * resource request, and its verb, group, resource, subresource, namespace and name. The virtual
 * workspaces authorize on these before anything is served, as kcp's authorizers do.
 */
import { ApiError, forbidden, forbiddenPath } from '../../http/errors.js';
import type { UserInfo } from '../../api/objects.js';
import { boolParam } from '../../http/wire.js';

/** What a request asks for. */
export interface RequestInfo {
  resourceRequest: boolean;
  /** Resource verb (get, list, watch, create, ...) or the lowercased HTTP method for other paths. */
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** Builds the RequestInfo of `segs` (the path after `/clusters/<x>`). */
export function requestInfo(method: string, segs: string[], q: URLSearchParams): RequestInfo {
  const m = method.toUpperCase();
  const info: RequestInfo = { resourceRequest: false, verb: m.toLowerCase(), group: '', version: '', resource: '', subresource: '', namespace: '', name: '' };
  let parts: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    info.version = segs[1]!;
    parts = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    info.group = segs[1]!;
    info.version = segs[2]!;
    parts = segs.slice(3);
  } else {
    return info;
  }
  info.resourceRequest = true;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1]!;
    // `namespaces/<ns>/status` and `/finalize` are subresources of the namespace itself.
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  const watch = boolParam(q, 'watch');
  switch (m) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? 'get' : watch ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
  }
  return info;
}

/**
 * kube's authorization 403: `<resource>.<group> "<name>" is forbidden: User "<u>" cannot <verb>
 * resource "<res>" in API group "<g>" (in the namespace "<ns>" | at the cluster scope): <reason>`,
 * or `forbidden: User "<u>" cannot <verb> path "<path>": <reason>` for other paths.
 */
export function authzDenied(user: UserInfo, info: RequestInfo, path: string, reason: string): ApiError {
  if (!info.resourceRequest) return forbiddenPath(user, info.verb, path, reason);
  const suffix = reason ? `: ${reason}` : '';
  const res = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const where = info.namespace ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
  return forbidden(info.resource, info.group, info.name, `User "${user.name}" cannot ${info.verb} resource "${res}" in API group "${info.group}" ${where}${suffix}`);
}

export { forbiddenPath };
