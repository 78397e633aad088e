/**
 * The workspace-lifecycle providers: `InitializingWorkspacesProvider` engages every workspace of a
 * WorkspaceType (or one extending it) while it waits for the type's initializer;
 * `TerminatingWorkspacesProvider` every one being deleted while it waits for the type's
 * terminator. Both watch the WorkspaceType in the kubeconfig's workspace, take one URL per shard
 * from its `status.virtualWorkspaces`, and watch LogicalClusters through each URL's `/clusters/*`.
 * A cluster engages on its first event and leaves when the VW stops showing it (its hook removed,
 * or the workspace gone). Unlike the Go providers both take filters and hooks, give each cluster an
 * event recorder, and a client and API mapping of its own (initializing workspaces differ in
 * their APIs, Go #17; the terminating VW answers no per-cluster discovery, so its mapping is a
 * static table that `resources` extends).
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import type { StaticResource } from '../client/index.js';
import type { Cached } from '../informer/index.js';
import { LOGICAL_CLUSTER, initializerForType, terminatorForType, type WorkspaceType } from './hooks.js';
import { VirtualWorkspaceProvider, cleanURLs, type KcpProviderOptions, type VirtualWorkspaceKind } from './machine.js';

/** Options of the workspace-lifecycle providers. */
export interface WorkspaceTypeProviderOptions extends KcpProviderOptions {
  /** Name of the WorkspaceType in the kubeconfig's workspace. */
  workspaceType: string;
  /** API path of the object watched through each URL; default LogicalClusters. */
  watchPath?: string;
}

/** Options of `TerminatingWorkspacesProvider`. */
export interface TerminatingWorkspacesProviderOptions extends WorkspaceTypeProviderOptions {
  /** Resources beyond the built-in table that reconcilers reach in terminating workspaces. */
  resources?: readonly StaticResource[];
}

/**
 * The URLs of one VW kind a WorkspaceType publishes: entries with that `type`, or (kcp < 0.30,
 * no `type`) whose URL names the VW.
 */
export function workspaceTypeURLs(wst: Cached<WorkspaceType> | undefined, type: 'initializing' | 'terminating'): string[] {
  const vw = `/${type}workspaces/`;
  const entries = wst?.status?.virtualWorkspaces ?? [];
  return cleanURLs(entries.filter((e) => (e?.type ? e.type === type : typeof e?.url === 'string' && e.url.includes(vw))).map((e) => e?.url));
}

const LOGICAL_CLUSTERS = '/apis/core.kcp.io/v1alpha1/logicalclusters';

function workspaceKind(opts: WorkspaceTypeProviderOptions, type: 'initializing' | 'terminating', apis: VirtualWorkspaceKind['apis']): VirtualWorkspaceKind {
  return {
    component: `kcp-${type}workspaces-cluster-provider`,
    sourceKind: 'WorkspaceType',
    sourceField: 'workspaceType',
    sourcePath: '/apis/tenancy.kcp.io/v1alpha1/workspacetypes',
    sourceName: opts.workspaceType,
    urls: (s) => workspaceTypeURLs(s as Cached<WorkspaceType> | undefined, type),
    watchPath: opts.watchPath ?? LOGICAL_CLUSTERS,
    watchType: opts.watchPath ? undefined : LOGICAL_CLUSTER,
    apis,
    // The VW shows exactly the clusters waiting for this hook: seeing one is reason to engage it.
    defaultFilter: () => true,
    noEndpointsCause: `kcp has not published the type's ${type} virtual workspace URLs (status.virtualWorkspaces): check the WorkspaceType's VirtualWorkspaceURLsReady condition`,
  };
}

/** Engages each workspace that waits for the WorkspaceType's initializer, on every shard. */
export class InitializingWorkspacesProvider extends VirtualWorkspaceProvider {
  constructor(kubeconfig: KubeConfigLike, opts: WorkspaceTypeProviderOptions) {
    super(kubeconfig, workspaceKind(opts, 'initializing', { mode: 'own' }), opts);
  }

  /** The initializer (`<type's logical cluster>:<type>`), once the WorkspaceType has been seen. */
  initializer(): string | undefined {
    const wst = this.source();
    return wst ? initializerForType(wst) : undefined;
  }
}

/** Engages each workspace being deleted that waits for the WorkspaceType's terminator, on every shard. */
export class TerminatingWorkspacesProvider extends VirtualWorkspaceProvider {
  constructor(kubeconfig: KubeConfigLike, opts: TerminatingWorkspacesProviderOptions) {
    super(kubeconfig, workspaceKind(opts, 'terminating', { mode: 'own', resources: opts.resources ?? [] }), opts);
  }

  /** The terminator (`<type's logical cluster>:<type>`), once the WorkspaceType has been seen. */
  terminator(): string | undefined {
    const wst = this.source();
    return wst ? terminatorForType(wst) : undefined;
  }
}
