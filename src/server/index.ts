/**
 * The bundled reference kcp server, for tests and demos: `kcp-multicluster-provider/testing`.
 * Start it in-process with `startServer({ port: 0 })`; it speaks kcp's wire protocol on loopback.
 */
export { startServer, randomClusterName, type RunningServer, type ServerOptions } from './server.js';
export { structuralSchemaErrors, type StructuralError } from './kcp/apis/index.js';
