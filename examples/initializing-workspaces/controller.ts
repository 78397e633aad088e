/**
 * kcp's `examples/initializingworkspaces`, shared by `main.ts` and the bundled
 * `kcp-mc run initializing-workspaces-example`: for each new workspace of the WorkspaceType (one with
 * `initializer: true`, or a type extending it) the provider engages the workspace while it waits in
 * phase Initializing; the controller creates the ConfigMap `default/kcp-initializer-cm` in it and
 * then removes exactly its own initializer (`<logical cluster of the type's workspace>:<type>`), so
 * the workspace turns Ready (once no other initializer is left) and leaves the provider.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  InitializingWorkspacesProvider,
  LOGICAL_CLUSTER,
  PATH_ANNOTATION,
  hasInitializer,
  removeInitializer,
  type Manager,
} from 'kcp-multicluster-provider';
import type { ProviderInput } from '../support/provider-input.js';

/** The WorkspaceType of `manifests/bundle.yaml`, in the kubeconfig's workspace. */
export const WORKSPACE_TYPE = 'examples-initializingworkspaces-multicluster';

/** The controller's name. */
export const CONTROLLER = 'initializing-workspaces-example';

/** What the controller creates in each new workspace. */
export const INITIALIZER_CONFIGMAP = { namespace: 'default', name: 'kcp-initializer-cm' } as const;

/** The provider: workspaces of the type that still wait for its initializer. */
export function provider(kubeconfig: KubeConfig, o: ProviderInput & { workspaceType?: string }): InitializingWorkspacesProvider {
  return new InitializingWorkspacesProvider(kubeconfig, { workspaceType: o.workspaceType ?? WORKSPACE_TYPE, log: o.log, eventSource: o.eventSource });
}

/** Registers the controller; the manager's provider must be an InitializingWorkspacesProvider. */
export default function setup(manager: Manager): void {
  const p = manager.provider;
  if (!(p instanceof InitializingWorkspacesProvider)) throw new Error(`${CONTROLLER} needs an InitializingWorkspacesProvider`);
  manager
    .controller(CONTROLLER)
    .for(LOGICAL_CLUSTER)
    .reconcile(async (req, ctx) => {
      // Known once the provider has read the WorkspaceType; a cluster is engaged only after that.
      const initializer = p.initializer();
      if (!initializer) return { requeueAfter: 1_000 };
      const lc = ctx.cluster.cache.get(LOGICAL_CLUSTER, req);
      if (!lc || !hasInitializer(lc, initializer)) return undefined;
      const path = lc.metadata?.annotations?.[PATH_ANNOTATION] ?? req.cluster;
      // Apply, not create: a retry after a failed removal finds the ConfigMap there already.
      await ctx.cluster.client.apply(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...INITIALIZER_CONFIGMAP }, data: { 'test-data': 'example-value' } },
        { fieldManager: CONTROLLER, force: true },
      );
      ctx.log.info('created configmap', { workspace: path, configmap: `${INITIALIZER_CONFIGMAP.namespace}/${INITIALIZER_CONFIGMAP.name}` });
      const result = await removeInitializer(ctx.cluster.client, initializer);
      ctx.log.info('removed initializer', { workspace: path, initializer, result });
      return undefined;
    });
}
