/**
 * What both virtual workspaces share: which shard a request arrived on (each shard's VW serves only
 * that shard's logical clusters), the 403 of an unresolved VW path, the authorization hooks the auth
 * layer may replace, and watch settings that let a VW end its own watches.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rbacAllows } from '../../auth.js';
import type { ApiError } from '../../errors.js';
import type { WatchSettings } from '../../listwatch.js';
import { isClusterName } from '../../names.js';
import type { AdmissionPlugin, ObjectService, UserInfo } from '../../objects.js';
import type { Shard } from '../../shard.js';
import type { Topology } from '../../topology.js';
import { forbiddenPath } from './requestinfo.js';

/** Authorization decisions the VWs delegate; the auth layer may replace either. */
export interface VirtualWorkspaceAuthorizers {
  /** `apiexports/content` with the request's verb, in the export's logical cluster (kcp's content authorizer). */
  content(user: UserInfo, verb: string, exportCluster: string, exportName: string): boolean;
  /** `initialize` on `workspacetypes/<typeName>` in the type's logical cluster. */
  initialize(user: UserInfo, typeCluster: string, typeName: string): boolean;
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
    initialize: (user, cluster, name) => {
      if (isAdmin(user)) return true;
      const shard = topo.shardOf(cluster);
      return !!shard && rbacAllows(shard.store, cluster, user, { verb: 'initialize', apiGroup: 'tenancy.kcp.io', resource: 'workspacetypes', name });
    },
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
