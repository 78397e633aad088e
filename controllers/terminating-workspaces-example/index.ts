/**
 * `terminating-workspaces-example`: `examples/terminating-workspaces` as a bundled controller (the
 * same code; see its README). Its provider combines a TerminatingWorkspacesProvider on the
 * WorkspaceType `examples-terminatingworkspaces-multicluster` with the kubeconfig's own workspace;
 * it needs no endpoint slice.
 *
 *   kcp-mc run terminating-workspaces-example --kubeconfig root.kubeconfig
 */
export { default, provider, CONTROLLER as name } from '../../examples/terminating-workspaces/controller.js';
