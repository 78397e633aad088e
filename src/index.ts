/**
 * kcp-multicluster-provider: the library. The REST client (`Transport`, `ClusterClient`, typed
 * errors, discovery) and the informer engine (`listWatch`, `SharedInformer`, `InformerFactory`,
 * `ScopedReader`). The reference kcp server for tests is `kcp-multicluster-provider/testing`.
 */
export * from './client/index.js';
export * from './informer/index.js';
