/** The HTTP side of the server: the front of each shard's port, API roots, wire encodings (JSON, YAML, protobuf bodies), Kubernetes `Status` errors and the serving certificate. */
export * from './front.js';
export * from './apiroot.js';
export * from './wire.js';
export * from './errors.js';
export * from './protobuf.js';
export * from './tls.js';
