/**
 * `apiexport-example`: kcp's Go provider example as a bundled controller, the same code as
 * `examples/apiexport` (see its README). It reconciles every ConfigMap in every workspace bound to
 * the APIExport, logs one line per reconcile with its cluster, and records a Normal Event on the
 * ConfigMap in its own workspace (the export needs permission claims on configmaps and events).
 *
 *   kcp-mc run apiexport-example --kubeconfig provider.kubeconfig --endpointslice <export>
 */
export { default, CONFIGMAP, CONTROLLER as name } from '../../examples/apiexport/controller.js';
