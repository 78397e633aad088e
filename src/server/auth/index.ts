/** Who is asking and what they may do: bearer-token authentication, RBAC, impersonation and the access review APIs. */
export * from './auth.js';
export * from './impersonation.js';
export * from './reviews.js';
