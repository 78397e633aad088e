/** Storage of one shard: the revisioned object store, its durability on disk, and list/watch over it. */
export * from './store.js';
export * from './persistence.js';
export * from './listwatch.js';
