/**
 * Initializers and terminators: kcp's hooks on a workspace's life. A WorkspaceType with
 * `initializer: true` (or `terminator: true`) makes every workspace of it (and of types extending
 * it) wait, on creation (or deletion), until the hook `<type's logical cluster>:<type name>` is
 * removed from the LogicalCluster's `status.initializers` (or `status.terminators`). A controller
 * removes exactly its own entry with a JSON merge patch on `/status`, the only change kcp's virtual
 * workspaces accept.
 */
import { isConflict, isInvalid, isNotFound, type ClusterClient, type KubernetesObject, type ObjectType } from '../client/index.js';
import { CLUSTER_ANNOTATION, type Cached, type ObjectOrCached } from '../informer/index.js';

/** `core.kcp.io/v1alpha1` LogicalCluster, as far as the hooks read it. */
export interface LogicalCluster extends KubernetesObject {
  /** Set when the workspace is created. */
  spec?: {
    /** The initializers its WorkspaceType (and the types it extends) asked for. */
    initializers?: string[];
    /** The terminators its WorkspaceType (and the types it extends) asked for. */
    terminators?: string[];
    /** The Workspace object that owns this logical cluster (its API version, resource, name, cluster). */
    owner?: Record<string, unknown>;
  };
  /** Kept by kcp, and by the hooks' controllers for their own entries. */
  status?: {
    /** `Scheduling`, `Initializing`, `Ready` or `Unavailable`. */
    phase?: string;
    /** The initializers still to finish; the workspace stays `Initializing` until empty. */
    initializers?: string[];
    /** The terminators still to finish; the logical cluster is kept until empty. */
    terminators?: string[];
    /** Conditions, e.g. `WorkspaceInitialized`. */
    conditions?: {
      /** The condition type. */
      type?: string;
      /** `True`, `False` or `Unknown`. */
      status?: string;
    }[];
  };
}

/** `tenancy.kcp.io/v1alpha1` WorkspaceType, as far as the providers read it. */
export interface WorkspaceType extends KubernetesObject {
  /** The type's hooks. */
  spec?: {
    /** Workspaces of this type wait on creation until the type's initializer is removed. */
    initializer?: boolean;
    /** Workspaces of this type wait on deletion until the type's terminator is removed. */
    terminator?: boolean;
  };
  /** Filled in by kcp. */
  status?: {
    /** The virtual workspaces of the type's hooks, one per shard and kind. */
    virtualWorkspaces?: {
      /** Base URL of the virtual workspace (without `/clusters/...`). */
      url?: string;
      /** `initializing` or `terminating`. */
      type?: string;
    }[];
  };
}

/** The LogicalCluster type. */
export const LOGICAL_CLUSTER: ObjectType<LogicalCluster> = { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster' };

/** The one LogicalCluster of every workspace is named `cluster`. */
export const LOGICAL_CLUSTER_NAME = 'cluster';

function hookForType(wst: ObjectOrCached<KubernetesObject>, what: string): string {
  const cluster = wst.metadata?.annotations?.[CLUSTER_ANNOTATION];
  const name = wst.metadata?.name;
  if (!cluster || !name) throw new Error(`cannot name the ${what} of a WorkspaceType without metadata.name and the ${CLUSTER_ANNOTATION} annotation`);
  return `${cluster}:${name}`;
}

/** The initializer of a WorkspaceType: `<its logical cluster>:<its name>`. */
export function initializerForType(wst: ObjectOrCached<KubernetesObject>): string {
  return hookForType(wst, 'initializer');
}

/** The terminator of a WorkspaceType: `<its logical cluster>:<its name>` (the same form). */
export function terminatorForType(wst: ObjectOrCached<KubernetesObject>): string {
  return hookForType(wst, 'terminator');
}

function listed(lc: Cached<LogicalCluster> | LogicalCluster | undefined, field: 'initializers' | 'terminators', hook: string): boolean {
  return (lc?.status?.[field] ?? []).includes(hook);
}

/** Whether the LogicalCluster still waits for `initializer`. */
export function hasInitializer(lc: Cached<LogicalCluster> | LogicalCluster | undefined, initializer: string): boolean {
  return listed(lc, 'initializers', initializer);
}

/** Whether the LogicalCluster still waits for `terminator`. */
export function hasTerminator(lc: Cached<LogicalCluster> | LogicalCluster | undefined, terminator: string): boolean {
  return listed(lc, 'terminators', terminator);
}

/**
 * A predicate for LogicalCluster controllers on the terminating VW: the cluster is being deleted
 * and still lists `terminator` (skips the MODIFIED that follows our own removal). Usable wherever a
 * controller takes a `Predicate` (typed structurally: providers do not import controllers).
 */
export function terminating(terminator: string): (ev: { readonly object: ObjectOrCached<KubernetesObject> }) => boolean {
  return (ev) => Boolean(ev.object.metadata?.deletionTimestamp) && hasTerminator(ev.object as Cached<LogicalCluster>, terminator);
}

/** Options of `removeInitializer` / `removeTerminator`. */
export interface RemoveHookOptions {
  /** Send the first patch with this resourceVersion as a precondition (later attempts use the refetched one). */
  resourceVersion?: string;
  /** Attempts on 409/422 before giving up; default 5. */
  attempts?: number;
  /** Stops retrying (and aborts the request in flight) when aborted. */
  signal?: AbortSignal;
}

/** What a removal did: `removed`, or `absent` (not listed, or the cluster is gone or no longer visible). */
export type RemoveHookResult = 'removed' | 'absent';

async function removeHook(client: ClusterClient, field: 'initializers' | 'terminators', hook: string, opts: RemoveHookOptions): Promise<RemoveHookResult> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  let rv = opts.resourceVersion;
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    opts.signal?.throwIfAborted();
    let lc: LogicalCluster;
    try {
      lc = await client.get(LOGICAL_CLUSTER, { name: LOGICAL_CLUSTER_NAME }, { signal: opts.signal });
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw e;
    }
    const current = lc.status?.[field] ?? [];
    if (!current.includes(hook)) return 'absent';
    const remaining = current.filter((h) => h !== hook);
    const patch: Record<string, unknown> = { status: { [field]: remaining } };
    const precondition = i === 0 && rv !== undefined ? rv : lc.metadata?.resourceVersion;
    if (precondition) patch['metadata'] = { resourceVersion: precondition };
    try {
      await client.patchStatus(LOGICAL_CLUSTER, { name: LOGICAL_CLUSTER_NAME }, patch, { signal: opts.signal });
      return 'removed';
    } catch (e) {
      // 404: kcp no longer shows the cluster to us (someone else finished it): nothing left to do.
      if (isNotFound(e)) return 'absent';
      // 409 (stale resourceVersion) or 422 (the list changed under us): refetch and try again.
      if (!isConflict(e) && !isInvalid(e)) throw e;
      lastErr = e;
      rv = undefined;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(`could not remove ${field.slice(0, -1)} ${JSON.stringify(hook)}`);
}

/**
 * Removes exactly `initializer` from the cluster's `status.initializers` (merge patch on the status
 * of `logicalclusters/cluster`, with the full remaining list); refetches and retries on 409/422.
 */
export function removeInitializer(client: ClusterClient, initializer: string, opts: RemoveHookOptions = {}): Promise<RemoveHookResult> {
  return removeHook(client, 'initializers', initializer, opts);
}

/** Removes exactly `terminator` from the cluster's `status.terminators`, as `removeInitializer` does. */
export function removeTerminator(client: ClusterClient, terminator: string, opts: RemoveHookOptions = {}): Promise<RemoveHookResult> {
  return removeHook(client, 'terminators', terminator, opts);
}
