/** The manager: provider + controllers, cluster lifecycle, metrics, health, leader election, shutdown. */
export { Manager, LeaderElectionLostError, type ManagerOptions, type LeaderElectionConfig } from './manager.js';
export { ClusterLifecycle, type ClusterRecord, type ClusterState, type LifecycleHooks } from './lifecycle.js';
export { HealthChecks } from './health.js';
export { parseBindAddress, startHttpServer, metricsHandler } from './http.js';
export { LeaderElector, type LeaderElectionOptions } from './leader.js';
