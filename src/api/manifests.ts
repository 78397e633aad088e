/**
 * APIResourceSchemas and APIExports from API definitions, named as kcp's apigen names them:
 * `v<yyMMdd>-<hash>.<plural>.<group>`, the hash of the schema's spec. APIResourceSchemas are
 * immutable, so a changed schema must get a new name and an unchanged one must keep its old name,
 * date included: a schema whose spec equals one already known (an output directory's file, the
 * workspace's object) takes that one's name; only new content is dated today (UTC).
 */
import { createHash } from 'node:crypto';
import type { DefinedAPI } from './define.js';
import { APIDefinitionError } from './openapi.js';
import type { APIBinding, APIExport, APIResourceSchema, APIResourceSchemaSpec, PermissionClaim } from './types.js';

/** Where names come from: existing schemas to keep the names of, and the date of new ones. */
export interface NamingOptions {
  /** Schemas already written or applied; one with an equal spec lends its name. */
  existing?: readonly APIResourceSchema[];
  /** Date of schemas with new content (default now, UTC). */
  now?: Date;
}

/** Options of {@link apiManifests}. */
export interface ManifestOptions extends NamingOptions {
  /** Exports already written, by name: fields other than `resources` are kept (claims added by hand, for one). */
  existingExports?: readonly APIExport[];
}

/** JSON with object keys sorted, so that equal content hashes and compares equal. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJSON(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The content hash of a schema spec, as its name carries it. */
export function schemaHash(spec: APIResourceSchemaSpec): string {
  return createHash('sha256').update(canonicalJSON(spec)).digest('hex').slice(0, 8);
}

function yyMMdd(d: Date): string {
  return d.toISOString().slice(2, 10).replace(/-/g, '');
}

/** The APIResourceSchema of `spec`: the name of an existing equal one, else `v<today>-<hash>.<plural>.<group>`. */
export function resourceSchema(spec: APIResourceSchemaSpec, opts: NamingOptions = {}): APIResourceSchema {
  const suffix = `.${spec.names.plural}.${spec.group}`;
  const content = canonicalJSON(spec);
  const same = opts.existing?.find((s) => s.metadata.name.endsWith(suffix) && canonicalJSON(s.spec) === content);
  const name = same?.metadata.name ?? `v${yyMMdd(opts.now ?? new Date())}-${schemaHash(spec)}${suffix}`;
  return { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIResourceSchema', metadata: { name }, spec: structuredClone(spec) };
}

function claimKey(c: PermissionClaim): string {
  return `${c.group}/${c.resource}/${c.identityHash ?? ''}`;
}

/**
 * An APIExport serving `schemas`: `previous` keeps its other fields and the resources of other
 * groups or plurals; the resources of `schemas` point at their (newest) schemas.
 */
export function apiExport(name: string, schemas: readonly APIResourceSchema[], claims: readonly PermissionClaim[] = [], previous?: APIExport): APIExport {
  const mine = new Set(schemas.map((s) => `${s.spec.group}/${s.spec.names.plural}`));
  const kept = (previous?.spec.resources ?? []).filter((r) => !mine.has(`${r.group}/${r.name}`));
  const resources = [...kept, ...schemas.map((s) => ({ group: s.spec.group, name: s.spec.names.plural, schema: s.metadata.name, storage: { crd: {} } }))];
  resources.sort((a, b) => `${a.group}/${a.name}`.localeCompare(`${b.group}/${b.name}`));
  const spec: APIExport['spec'] = { ...(previous?.spec ?? {}), resources };
  const seen = new Map<string, Required<Pick<PermissionClaim, 'group' | 'resource' | 'verbs'>>>();
  for (const c of [...(previous?.spec.permissionClaims ?? []), ...claims]) {
    seen.set(claimKey(c), { ...c, group: c.group, resource: c.resource, verbs: [...(c.verbs ?? ['*'])] });
  }
  if (seen.size) spec.permissionClaims = [...seen.values()];
  return { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport', metadata: { ...(previous?.metadata ?? {}), name }, spec };
}

/**
 * The manifests of `apis` in apply order: every APIResourceSchema, then one APIExport per export
 * name (APIs sharing one are served together, their claims merged). kcp creates each export's
 * default APIExportEndpointSlice itself; `installAPIs` makes sure it is there on older kcp.
 */
export function apiManifests(apis: readonly DefinedAPI[], opts: ManifestOptions = {}): (APIResourceSchema | APIExport)[] {
  const byExport = new Map<string, { schemas: APIResourceSchema[]; claims: PermissionClaim[] }>();
  const resources = new Set<string>();
  for (const api of apis) {
    const key = `${api.group}/${api.plural}`;
    if (resources.has(key)) throw new APIDefinitionError(`${api.plural}.${api.group} is defined twice`);
    resources.add(key);
    const entry = byExport.get(api.exportName) ?? { schemas: [], claims: [] };
    entry.schemas.push(resourceSchema(api.schemaSpec, opts));
    entry.claims.push(...api.claims);
    byExport.set(api.exportName, entry);
  }
  const schemas = [...byExport.values()].flatMap((e) => e.schemas);
  const exports = [...byExport].map(([name, e]) => apiExport(name, e.schemas, e.claims, opts.existingExports?.find((x) => x.metadata.name === name)));
  return [...schemas, ...exports];
}

/**
 * The APIBinding a consumer workspace creates to use an export: the export of `apis` (one API, or
 * several sharing an export) at `exportPath` (a workspace path such as `root:providers`), with
 * every claim of those APIs accepted for all objects.
 */
export function apiBinding(apis: ApiOfExport | readonly ApiOfExport[], exportPath: string, name?: string): APIBinding {
  const list: readonly ApiOfExport[] = Array.isArray(apis) ? apis : [apis as ApiOfExport];
  const exportName = list[0]?.exportName;
  if (exportName === undefined) throw new APIDefinitionError('apiBinding needs at least one API');
  const other = list.find((a) => a.exportName !== exportName);
  if (other) throw new APIDefinitionError(`apiBinding: the APIs are in different exports (${exportName}, ${other.exportName}); bind each export on its own`);
  const claims = new Map<string, PermissionClaim>();
  for (const c of list.flatMap((a) => a.claims)) claims.set(claimKey(c), c);
  return {
    apiVersion: 'apis.kcp.io/v1alpha2',
    kind: 'APIBinding',
    metadata: { name: name ?? exportName },
    spec: {
      reference: { export: { path: exportPath, name: exportName } },
      permissionClaims: [...claims.values()].map((c) => ({
        group: c.group,
        resource: c.resource,
        verbs: [...(c.verbs ?? ['*'])],
        ...(c.identityHash ? { identityHash: c.identityHash } : {}),
        selector: { matchAll: true },
        state: 'Accepted',
      })),
    },
  };
}

/** What {@link apiBinding} reads of an API: its export and its claims. */
export type ApiOfExport = Pick<DefinedAPI, 'exportName' | 'claims'>;
