/**
 * The ConfigMap controller of kcp's `examples/apiexport`, shared by `main.ts` and the bundled
 * `kcp-mc run apiexport-example`: every ConfigMap in every workspace bound to the APIExport is
 * reconciled once per change; each reconcile writes one log line (with its cluster) and records a
 * Normal Event on the ConfigMap in the ConfigMap's own workspace, through the virtual workspace
 * (the export claims `configmaps` and `events`).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { APIExportProvider, type KubernetesObject, type Manager, type ObjectType } from 'kcp-multicluster-provider';
import type { ProviderInput } from '../support/provider-input.js';

/** The APIExport (and its endpoint slice) of `manifests/bundle.yaml`. */
export const ENDPOINT_SLICE = 'examples-apiexport-multicluster';

/** The controller's name: log field, metrics label, and (in `kcp-mc run`) the lease's name. */
export const CONTROLLER = 'apiexport-example';

/** The primary type. */
export const CONFIGMAP: ObjectType<KubernetesObject & { data?: Record<string, string> }> = { apiVersion: 'v1', kind: 'ConfigMap' };

/** The provider: every workspace with a Ready binding to the export behind the slice. */
export function provider(kubeconfig: KubeConfig, o: ProviderInput): APIExportProvider {
  return new APIExportProvider(kubeconfig, { endpointSlice: o.endpointSlice ?? ENDPOINT_SLICE, log: o.log, eventSource: o.eventSource });
}

/** Registers the controller. */
export default function setup(manager: Manager): void {
  manager
    .controller(CONTROLLER)
    .for(CONFIGMAP)
    .reconcile(async (req, ctx) => {
      // Reconcile log lines carry controller, cluster, namespace and name already.
      const cm = ctx.cluster.cache.get(CONFIGMAP, req);
      if (!cm) {
        ctx.log.info('configmap gone');
        return;
      }
      ctx.log.info('reconciled configmap', { uid: cm.metadata?.uid, keys: Object.keys(cm.data ?? {}).length });
      await ctx.cluster.events.publish(cm, { type: 'Normal', reason: 'Reconciled', action: 'Reconcile', note: `ConfigMap ${req.namespace}/${req.name} seen in cluster ${req.cluster}` });
    });
}
