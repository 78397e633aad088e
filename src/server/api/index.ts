/** API machinery shared by every logical cluster: object semantics, patch and apply, selectors, schemas and validation, OpenAPI, discovery, tables, names and the built-in kinds. */
export * from './objects.js';
export * from './patch.js';
export * from './apply.js';
export * from './selectors.js';
export * from './validation.js';
export * from './openapi.js';
export * from './openapi-v2.js';
export * from './table.js';
export * from './fieldlabels.js';
export * from './names.js';
export * from './builtins.js';
export * from './discovery.js';
export * from './registry.js';
export * from './events.js';
