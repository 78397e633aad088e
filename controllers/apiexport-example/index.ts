/**
 * `apiexport-example`: kcp's Go provider example as a bundled controller. It reconciles every
 * ConfigMap in every workspace bound to the APIExport, logs one line per reconcile with its
 * cluster, and records a Normal Event on the ConfigMap in its own workspace (the export needs
 * permission claims on configmaps and events).
 *
 *   kcp-mc run apiexport-example --kubeconfig provider.kubeconfig --endpointslice <export>
 */
import type { KubernetesObject, Manager, ObjectType } from 'kcp-multicluster-provider';

/** The primary type. */
export const CONFIGMAP: ObjectType<KubernetesObject & { data?: Record<string, string> }> = { apiVersion: 'v1', kind: 'ConfigMap' };

/** Registers the controller. */
export default function setup(manager: Manager): void {
  manager
    .controller('apiexport-example')
    .for(CONFIGMAP)
    .reconcile(async (req, ctx) => {
      const cm = ctx.cluster.cache.get(CONFIGMAP, req);
      if (!cm) {
        ctx.log.info('configmap gone');
        return;
      }
      ctx.log.info('reconciled configmap', { keys: Object.keys(cm.data ?? {}).length });
      await ctx.cluster.events.publish(cm, { type: 'Normal', reason: 'Reconciled', action: 'Reconcile', note: `ConfigMap ${req.namespace}/${req.name} seen in cluster ${req.cluster}` });
    });
}
