/**
 * `kcp-multicluster-provider/testing`: the bundled reference kcp server (start it in-process with
 * `startServer({ port: 0 })`), the testing kit around it (`startTestEnvironment()`: workspaces,
 * manifests, bindings, kubeconfigs, waits, one teardown), and the provider conformance suite a
 * provider author runs on their own provider (`providerConformance(name, fixture)`).
 */
export * from '../server/index.js';
export {
  providerConformance,
  providerConformanceChecks,
  ConformanceError,
  CONFORMANCE_LABEL,
  CONFORMANCE_FIELD,
  type ProviderFixture,
  type ConformanceCheck,
} from './conformance.js';
export { startTestEnvironment, TestEnvironment } from './kit.js';
export {
  WORKSPACE,
  API_EXPORT,
  API_BINDING,
  API_EXPORT_ENDPOINT_SLICE,
  type TestEnvironmentOptions,
  type TestWorkspace,
  type CreateWorkspaceOptions,
  type ApplyManifestOptions,
  type BindOptions,
  type VirtualWorkspaceOptions,
  type VirtualWorkspace,
  type RunningManager,
  type Workspace,
  type WorkspaceTypeReference,
  type ExportReference,
  type APIExport,
  type APIBinding,
  type EndpointSlice,
  type PermissionClaim,
} from './kit-types.js';
export {
  waitFor,
  waitForCondition,
  formatConditions,
  findCondition,
  WaitTimeoutError,
  DEFAULT_WAIT_TIMEOUT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  type WaitOptions,
  type WaitForConditionOptions,
  type Condition,
  type ObjectWithConditions,
} from './wait.js';
export { parseManifests, readManifests, type Manifests, type Manifest } from './manifests.js';
