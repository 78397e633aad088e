/**
 * What both virtual workspaces share: which shard a request arrived on (each shard's VW serves only
 * that shard's logical clusters), the 403 of an unresolved VW path, the authorization hooks the auth
 * layer may replace, and watch settings that let a VW end its own watches.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiView } from '../../http/apiroot.js';
import { rbacAllows } from '../../auth/auth.js';
import type { ApiError } from '../../http/errors.js';
import { isObject } from '../../json.js';
import type { ObjectFilter, WatchSettings } from '../../storage/listwatch.js';
import { isClusterName } from '../../api/names.js';
import type { AdmissionPlugin, ObjectService, UserInfo } from '../../api/objects.js';
import { PREFERRED_VERSIONS, type Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject, ResourceDef } from '../../types.js';
import { OWNER_ANNOTATION } from './kcp.js';
import { forbiddenPath } from './requestinfo.js';

/** Authorization decisions the VWs delegate; the auth layer may replace either. */
export interface VirtualWorkspaceAuthorizers {
  /** `apiexports/content` with the request's verb, in the export's logical cluster (kcp's content authorizer). */
  content(user: UserInfo, verb: string, exportCluster: string, exportName: string): boolean;
  /** `initialize` on `workspacetypes/<typeName>` in the type's logical cluster. */
  initialize(user: UserInfo, typeCluster: string, typeName: string): boolean;
  /** `terminate` on `workspacetypes/<typeName>` in the type's logical cluster. */
  terminate(user: UserInfo, typeCluster: string, typeName: string): boolean;
}

function isAdmin(user: UserInfo): boolean {
  return user.groups.includes('system:masters');
}

/** The default decisions: admins always; others by RBAC in the named workspace. */
export function defaultAuthorizers(topo: Topology): VirtualWorkspaceAuthorizers {
  return {
    content: (user, verb, cluster, name) => {
      if (isAdmin(user)) return true;
      const shard = topo.shardOf(cluster);
      return !!shard && rbacAllows(shard.store, cluster, user, { verb, apiGroup: 'apis.kcp.io', resource: 'apiexports', subresource: 'content', name });
    },
    initialize: (user, cluster, name) => typeVerb(topo, user, 'initialize', cluster, name),
    terminate: (user, cluster, name) => typeVerb(topo, user, 'terminate', cluster, name),
  };
}

/** A lifecycle verb (`initialize`, `terminate`) on `workspacetypes/<name>` in the type's cluster. */
function typeVerb(topo: Topology, user: UserInfo, verb: string, cluster: string, name: string): boolean {
  if (isAdmin(user)) return true;
  const shard = topo.shardOf(cluster);
  return !!shard && rbacAllows(shard.store, cluster, user, { verb, apiGroup: 'tenancy.kcp.io', resource: 'workspacetypes', name });
}

/** `status.initializers` or `status.terminators` of a LogicalCluster (undefined when absent). */
export function hooksOf(key: 'initializers' | 'terminators', o: KubeObject | undefined): string[] | undefined {
  const status = o?.['status'];
  const list = isObject(status) ? status[key] : undefined;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : undefined;
}

/** Go's `%#v` of a `[]string`, as kube prints an invalid value. */
export function goStrings(list: string[] | undefined): string {
  return list ? `[]string{${list.map((s) => JSON.stringify(s)).join(', ')}}` : '[]string(nil)';
}

/** The owner recorded on a LogicalCluster, whom kcp impersonates when proxying into it. */
export function ownerOf(lc: KubeObject): UserInfo | undefined {
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

/**
 * Splits an initializer or terminator `<type cluster>:<type>` at the last colon; system hooks
 * (`system:apibindings`) and names without a colon have no type.
 */
export function typeOfHook(hook: string): { cluster: string; name: string } | undefined {
  if (hook.startsWith('system:')) return undefined;
  const i = hook.lastIndexOf(':');
  return i > 0 ? { cluster: hook.slice(0, i), name: hook.slice(i + 1) } : undefined;
}

/** A view of the shard's LogicalClusters with one resource definition, a filter and optional admission. */
export function lcView(shard: Shard, def: ResourceDef, filter: ObjectFilter, admission?: AdmissionPlugin): ApiView {
  return {
    svc: withAdmission(shard.svc, admission ? [admission] : []),
    resources: () => [def],
    preferred: PREFERRED_VERSIONS,
    filter: (d) => (d === def ? filter : undefined),
    watch: shard.watch,
    orphan: (c, uid) => shard.controllers.orphan(c, uid),
  };
}

/** The shard whose port a request came in on (the Front shares one service map across ports). */
export function shardOfRequest(topo: Topology, req: IncomingMessage): Shard {
  const port = req.socket.localPort;
  for (const s of topo.shards) {
    const addr = s.server?.address() as AddressInfo | string | null | undefined;
    if (addr && typeof addr === 'object' && addr.port === port) return s;
  }
  // In-process callers without a listener (tests of a lone shard) get the root shard.
  return topo.root;
}

/** kcp's 403 for a path that resolves to no virtual workspace. */
export function unresolved(user: UserInfo, req: IncomingMessage): ApiError {
  const path = (req.url ?? '').split('?')[0]!;
  return forbiddenPath(user, (req.method ?? 'GET').toLowerCase(), path, 'Path not resolved to a valid virtual workspace');
}

/** `*`, or a single logical cluster name (no colon path, no `system:` name). */
export function vwClusterSegment(x: string | undefined): string | undefined {
  if (x === undefined) return undefined;
  if (x === '*') return x;
  return !x.includes(':') && isClusterName(x) ? x : undefined;
}

/**
 * Watch settings whose open-watch set also reports to the VW, so that it can end the watches it
 * served (API set changes) while the server can still end them all on shutdown.
 */
export function trackedWatchSettings(base: WatchSettings, onOpen: (close: () => void) => void, onClose: (close: () => void) => void): WatchSettings {
  const parent = base.open;
  class TrackedSet extends Set<() => void> {
    override add(close: () => void): this {
      parent.add(close);
      onOpen(close);
      return super.add(close);
    }
    override delete(close: () => void): boolean {
      parent.delete(close);
      onClose(close);
      return super.delete(close);
    }
  }
  return { ...base, open: new TrackedSet() };
}

/**
 * The shard's object service with admission plugins run before the shard's own (a VW admits
 * before it forwards). Everything else is the shard's service itself.
 */
export function withAdmission(svc: ObjectService, first: readonly AdmissionPlugin[]): ObjectService {
  if (first.length === 0) return svc;
  const derived = Object.create(svc) as ObjectService;
  Object.defineProperty(derived, 'admission', { value: [...first, ...svc.admission], enumerable: true });
  return derived;
}
