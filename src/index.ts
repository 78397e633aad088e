/**
 * kcp-multicluster-provider: the library. Controllers that run across every logical cluster of a
 * kcp installation (`Manager`, `APIExportProvider`, the controller builder, work queue, metrics),
 * on top of the REST client (`Transport`, `ClusterClient`, typed errors, discovery) and the informer
 * engine (`listWatch`, `SharedInformer`, `InformerFactory`, `ScopedReader`), and authoring: `defineAPI`
 * (one TypeBox definition for the type, APIResourceSchema and APIExport) and helpers (conditions,
 * `createOrUpdate`/`createOrPatch`, typed built-in kinds). The reference kcp
 * server for tests is `kcp-multicluster-provider/testing`.
 */
// client-node's KubeConfig, re-exported so that a program builds the very class the library's
// signatures name (client-node is a peer dependency: one copy, the application's); loaded on first
// use, so that importing the library does not load client-node's generated API.
export { KubeConfig } from './client/client-node-class.js';
export * from './client/index.js';
export * from './informer/index.js';
export * from './log/index.js';
export * from './queue/index.js';
export * from './metrics/index.js';
export * from './controller/index.js';
export * from './provider/index.js';
export * from './manager/index.js';
export * from './sharding/index.js';
export * from './module/index.js';
export * from './api/index.js';
export * from './webhook/index.js';
