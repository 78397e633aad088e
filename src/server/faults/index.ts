/** Fault injection for tests and its `/debug/faults` endpoint. */
export * from './faults.js';
export * from './http.js';
