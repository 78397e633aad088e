/** The manager: provider + controllers, cluster lifecycle, metrics, health, leader election, shutdown. */
export { Manager, LeaderElectionLostError, type ManagerOptions, type LeaderElectionConfig } from './manager.js';
export { ClusterLifecycle, type ClusterRecord, type ClusterState, type LifecycleHooks } from './lifecycle.js';
export { HealthChecks, type HealthCheck, type HealthChecksOptions, type HealthCheckStatus, type HealthEndpoint } from './health.js';
export { parseBindAddress, startHttpServer, metricsHandler, type BindAddress, type HttpHandler, type RunningHttpServer } from './http.js';
export { LeaderElector, LEASE, type LeaderElectionOptions, type Lease, type LeaseSpec } from './leader.js';
