/**
 * `initializing-workspaces-example`: `examples/initializing-workspaces` as a bundled controller
 * (the same code; see its README). Its provider is an InitializingWorkspacesProvider on the
 * WorkspaceType `examples-initializingworkspaces-multicluster` in the kubeconfig's workspace; it
 * needs no endpoint slice.
 *
 *   kcp-mc run initializing-workspaces-example --kubeconfig root.kubeconfig
 */
export { default, provider, CONTROLLER as name } from '../../examples/initializing-workspaces/controller.js';
