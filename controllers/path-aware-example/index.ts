/**
 * `path-aware-example`: `examples/path-aware` as a bundled controller (the same code; see its
 * README). Its provider is a PathAwareProvider on `--endpointslice` (default
 * `examples-apiexport-multicluster`, the manifests' export).
 *
 *   kcp-mc run path-aware-example --kubeconfig root.kubeconfig
 */
export { default, provider, ENDPOINT_SLICE as endpointSlice, CONTROLLER as name } from '../../examples/path-aware/controller.js';
