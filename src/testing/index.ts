/**
 * `kcp-multicluster-provider/testing`: the bundled reference kcp server (start it in-process with
 * `startServer({ port: 0 })`) and the provider conformance suite a provider author runs on their
 * own provider (`providerConformance(name, fixture)`).
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
