/** Shapes shared by the reference server's modules. */
/** Verbs a resource can serve, as discovery lists them. */
export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
//# sourceMappingURL=types.js.map