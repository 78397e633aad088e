/**
 * kcp's virtual workspaces on every shard port: `apiexport` (a provider's view of its export's
 * APIs across the bound logical clusters of that shard), `initializingworkspaces` (an
 * initializer's view of the logical clusters waiting for it) and `terminatingworkspaces` (a
 * terminator's view of the deleted logical clusters still waiting for it).
 */
import type { Topology } from '../../shards/topology.js';
import { apiExportVirtualWorkspace } from './apiexport.js';
import { defaultAuthorizers, type VirtualWorkspaceAuthorizers } from './common.js';
import { initializingVirtualWorkspace } from './initializing.js';
import { terminatingVirtualWorkspace } from './terminating.js';

export type { VirtualWorkspaceAuthorizers } from './common.js';

/** The installed virtual workspaces of one topology. */
export interface VirtualWorkspaces {
  /**
   * Authorization hooks: `content(user, verb, exportCluster, exportName)` for `apiexports/content`,
   * `initialize(user, typeCluster, typeName)` and `terminate(user, typeCluster, typeName)`. Replace them to change the policy; by default
   * admins pass and everyone else needs RBAC in the export's or type's workspace.
   */
  authorizers: VirtualWorkspaceAuthorizers;
}

const installed = new WeakMap<Topology, VirtualWorkspaces>();

/** Registers `apiexport`, `initializingworkspaces` and `terminatingworkspaces` in `topo.services` (once per topology). */
export function installVirtualWorkspaces(topo: Topology): VirtualWorkspaces {
  const existing = installed.get(topo);
  if (existing) return existing;
  const vws: VirtualWorkspaces = { authorizers: defaultAuthorizers(topo) };
  installed.set(topo, vws);
  topo.services.set('apiexport', apiExportVirtualWorkspace(topo, () => vws.authorizers));
  topo.services.set('initializingworkspaces', initializingVirtualWorkspace(topo, () => vws.authorizers));
  topo.services.set('terminatingworkspaces', terminatingVirtualWorkspace(topo, () => vws.authorizers));
  return vws;
}

/** The virtual workspaces installed on a topology, for layers that replace the authorization hooks. */
export function virtualWorkspacesOf(topo: Topology): VirtualWorkspaces | undefined {
  return installed.get(topo);
}
