/** Shards and what spans them: one shard's store and controllers, the topology of a server's shards, and moving a logical cluster between shards. */
export * from './shard.js';
export * from './topology.js';
export * from './migration.js';
export * from './controllers.js';
