/**
 * kcp's `examples/path-aware`, shared by `main.ts` and the bundled `kcp-mc run path-aware-example`:
 * the ConfigMap controller of the apiexport example on a PathAwareProvider, which also finds each
 * engaged cluster by its workspace path (`root:example1`). Each reconcile looks its own cluster up
 * again by path (`manager.getCluster(path)`), logs what that lookup resolved to, reads the same
 * ConfigMap through the handle it got, and records a Normal Event on the ConfigMap.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { PathAwareProvider, type Manager } from 'kcp-multicluster-provider';
import { CONFIGMAP, ENDPOINT_SLICE } from '../apiexport/controller.js';
import type { ProviderInput } from '../support/provider-input.js';

/** The same manifests as the apiexport example, so the same slice. */
export { ENDPOINT_SLICE, CONFIGMAP };

/** The controller's name. */
export const CONTROLLER = 'path-aware-example';

/** The provider: the APIExport provider that also answers `get(<workspace path>)`. */
export function provider(kubeconfig: KubeConfig, o: ProviderInput): PathAwareProvider {
  return new PathAwareProvider(kubeconfig, { endpointSlice: o.endpointSlice ?? ENDPOINT_SLICE, log: o.log, eventSource: o.eventSource });
}

/** Registers the controller. */
export default function setup(manager: Manager): void {
  manager
    .controller(CONTROLLER)
    .for(CONFIGMAP)
    .reconcile(async (req, ctx) => {
      const cm = ctx.cluster.cache.get(CONFIGMAP, req);
      if (!cm) {
        ctx.log.info('configmap gone');
        return;
      }
      // Requests name the logical cluster; the path comes from the bindings' kcp.io/path.
      const path = ctx.cluster.path;
      ctx.log.info('reconciled configmap', { uid: cm.metadata?.uid });
      if (!path) {
        ctx.log.warn('no workspace path known for this cluster yet');
        return { requeueAfter: 1_000 };
      }
      const byPath = manager.getCluster(path);
      const again = byPath.cache.get(CONFIGMAP, req);
      ctx.log.info('get(path)', { lookup: path, resolved: byPath.name, same: byPath.name === req.cluster, uid: again?.metadata?.uid });
      await ctx.cluster.events.publish(cm, { type: 'Normal', reason: 'Reconciled', action: 'Reconcile', note: `ConfigMap ${req.namespace}/${req.name} seen in workspace ${path} (cluster ${byPath.name})` });
      return undefined;
    });
}
