/**
 * `defineAPI`: a kcp API written once, in TypeBox. The same definition is the TypeScript type of
 * its objects (spec and status inferred, no interface to keep in sync), the `ObjectType` that
 * `for`/`owns`, caches and clients take, and the APIResourceSchema + APIExport that serve it.
 */
import type { Static, TSchema } from 'typebox';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import { APIDefinitionError, toStructuralSchema, type OpenAPISchema } from './openapi.js';
import type { APIResourceSchemaSpec, PermissionClaim, PrinterColumn, ResourceVersion, ScaleSubresource } from './types.js';

/** One version of an API: its spec and status schemas and how it is served. */
export interface APIVersion {
  /** The spec's schema (usually `Type.Object`). Objects always carry a spec. */
  spec: TSchema;
  /** The status's schema; leave out for a kind without status. */
  status?: TSchema;
  /** Whether the version is served (default true). */
  served?: boolean;
  /** Marks the version deprecated, with an optional warning for clients. */
  deprecated?: boolean;
  /** The warning clients see when they use a deprecated version. */
  deprecationWarning?: string;
  /** kubectl get columns (`jsonPath`s such as `.spec.size`). */
  printerColumns?: readonly PrinterColumn[];
  /** The `status` and `scale` subresources (status defaults to on when there is a status schema). */
  subresources?: {
    /** The status subresource (default: on when there is a status schema). */
    status?: boolean;
    /** The scale subresource's paths. */
    scale?: ScaleSubresource;
  };
  /** CEL rules on the whole object (`x-kubernetes-validations` at the root), e.g. `self.metadata.name.size() < 20`. */
  validations?: readonly ValidationRule[];
}

/** A CEL rule (`x-kubernetes-validations` entry). */
export interface ValidationRule {
  /** The CEL expression, true when valid. */
  rule: string;
  /** The message when it fails. */
  message?: string;
  /** A CEL expression yielding the message. */
  messageExpression?: string;
  /** `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired` or `FieldValueDuplicate`. */
  reason?: string;
  /** The field the error is reported on, e.g. `.spec.size`. */
  fieldPath?: string;
}

/** The spec of an API object. */
export interface WithSpec<T> {
  /** The desired state, as the version's spec schema types it. */
  spec: T;
}

/** The status of an API object. */
export interface WithStatus<T> {
  /** The observed state, as the version's status schema types it. */
  status?: T;
}

/** A version that has a status schema. */
export interface WithStatusSchema<S extends TSchema> {
  /** The status's schema. */
  status: S;
}

/** The object type of one API version: spec typed from its schema, status too when it has one. */
export type APIObject<V extends APIVersion> = KubernetesObject & WithSpec<Static<V['spec']>> & (V extends WithStatusSchema<infer S> ? WithStatus<Static<S>> : unknown);

/** What `defineAPI` takes. */
export interface APIDefinition<V extends Record<string, APIVersion>, S extends keyof V & string> {
  /** The API group, a DNS subdomain with a dot (e.g. `example.dev`). */
  group: string;
  /** The kind, UpperCamelCase (e.g. `Widget`). */
  kind: string;
  /** The resource name (default: the kind lowercased plus `s`, `es` or `ies`, as kubebuilder does). */
  plural?: string;
  /** The singular name (default: the kind lowercased). */
  singular?: string;
  /** Short names for kubectl (e.g. `wd`). */
  shortNames?: readonly string[];
  /** Categories for kubectl (e.g. `all`). */
  categories?: readonly string[];
  /** Whether objects live in namespaces. */
  scope: 'Namespaced' | 'Cluster';
  /** The versions, by name (`v1alpha1`, `v1`…). */
  versions: V;
  /** The version objects are stored in; required when there are several. */
  storageVersion?: S;
  /** Resources of the consumer workspaces the provider asks for, e.g. `{ group: '', resource: 'configmaps' }`. */
  claims?: readonly PermissionClaim[];
  /** The APIExport (and endpoint slice) name; default `<plural>.<group>`. APIs with the same name share one export. */
  exportName?: string;
}

/** A defined API: its types, its names and the pieces of its manifests. */
export interface DefinedAPI<V extends Record<string, APIVersion> = Record<string, APIVersion>, S extends keyof V & string = keyof V & string> {
  /** The API group. */
  readonly group: string;
  /** The kind. */
  readonly kind: string;
  /** The resource name. */
  readonly plural: string;
  /** Namespaced or cluster-scoped. */
  readonly scope: 'Namespaced' | 'Cluster';
  /** The storage version's name. */
  readonly storageVersion: S;
  /** The APIExport this API is part of. */
  readonly exportName: string;
  /** Permission claims the export makes. */
  readonly claims: readonly PermissionClaim[];
  /** The storage version's `ObjectType`, for `for`, `owns`, caches and clients. */
  readonly type: ObjectType<APIObject<V[S]>>;
  /** The `ObjectType` of each version. */
  readonly versions: { readonly [K in keyof V]: ObjectType<APIObject<V[K]>> };
  /** The APIResourceSchema's spec (the structural OpenAPI schema of each version included). */
  readonly schemaSpec: APIResourceSchemaSpec;
}

/** The object type of a defined API's storage version: `type Widget = ObjectOf<typeof Widgets>`. */
export type ObjectOf<A> = A extends DefinedAPI<infer V, infer S> ? APIObject<V[S]> : never;

const KIND = /^[A-Z][A-Za-z0-9]*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;

/** kubebuilder's pluralisation of a lowercased kind (flect's common cases). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new APIDefinitionError(message);
}

function versionSchema(name: string, v: APIVersion): OpenAPISchema {
  const at = (part: string): string => `${name}.${part}`;
  const properties: OpenAPISchema = { spec: toStructuralSchema(v.spec, at('spec')) };
  if (v.status) properties['status'] = toStructuralSchema(v.status, at('status'));
  const schema: OpenAPISchema = { type: 'object', properties, required: ['spec'] };
  if (v.validations?.length) schema['x-kubernetes-validations'] = v.validations.map((r) => ({ ...r }));
  return schema;
}

function resourceVersion(name: string, v: APIVersion, storage: boolean): ResourceVersion {
  const out: ResourceVersion = { name, served: v.served ?? true, storage, schema: versionSchema(name, v) };
  if (v.deprecated) out.deprecated = true;
  if (v.deprecationWarning) out.deprecationWarning = v.deprecationWarning;
  const sub: ResourceVersion['subresources'] = {};
  if (v.subresources?.status ?? v.status !== undefined) sub.status = {};
  if (v.subresources?.scale) sub.scale = { ...v.subresources.scale };
  if (Object.keys(sub).length) out.subresources = sub;
  if (v.printerColumns?.length) out.additionalPrinterColumns = v.printerColumns.map((c) => ({ ...c }));
  return out;
}

/**
 * Defines a kcp API once: the returned `type` is the `ObjectType` of its objects, typed from the
 * schemas, and `schemaSpec` / {@link apiManifests} give the APIResourceSchema and APIExport. Throws
 * an {@link APIDefinitionError} when a name is invalid or a schema is not structural.
 */
export function defineAPI<const V extends Record<string, APIVersion>, const S extends keyof V & string = keyof V & string>(def: APIDefinition<V, S>): DefinedAPI<V, S> {
  check(DNS_SUBDOMAIN.test(def.group), `group ${JSON.stringify(def.group)} must be a lowercase DNS subdomain with at least one dot (e.g. example.dev)`);
  check(KIND.test(def.kind), `kind ${JSON.stringify(def.kind)} must be UpperCamelCase letters and digits (e.g. Widget)`);
  const plural = def.plural ?? pluralOf(def.kind);
  const singular = def.singular ?? def.kind.toLowerCase();
  for (const [what, n] of [['plural', plural], ['singular', singular]] as const) check(DNS_LABEL.test(n), `${what} ${JSON.stringify(n)} must be a lowercase DNS label`);
  check(def.scope === 'Namespaced' || def.scope === 'Cluster', `scope must be Namespaced or Cluster, not ${JSON.stringify(def.scope)}`);
  const names = Object.keys(def.versions);
  check(names.length > 0, `${def.kind} has no versions`);
  for (const n of names) check(VERSION.test(n), `version ${JSON.stringify(n)} must look like v1, v1alpha1 or v2beta3`);
  const storage = def.storageVersion ?? (names.length === 1 ? names[0] : undefined);
  check(storage !== undefined, `${def.kind} has ${names.length} versions: name the storage one with storageVersion`);
  check(names.includes(storage!), `storageVersion ${JSON.stringify(storage)} is not one of the versions (${names.join(', ')})`);
  const apiVersion = (v: string): string => `${def.group}/${v}`;
  const schemaSpec: APIResourceSchemaSpec = {
    group: def.group,
    names: {
      plural,
      singular,
      kind: def.kind,
      listKind: `${def.kind}List`,
      ...(def.shortNames?.length ? { shortNames: [...def.shortNames] } : {}),
      ...(def.categories?.length ? { categories: [...def.categories] } : {}),
    },
    scope: def.scope,
    versions: names.map((n) => resourceVersion(n, def.versions[n]!, n === storage)),
    // kcp requires a conversion strategy as soon as there are several versions; None is all it serves.
    ...(names.length > 1 ? { conversion: { strategy: 'None' } } : {}),
  };
  const versions = Object.fromEntries(names.map((n) => [n, { apiVersion: apiVersion(n), kind: def.kind }])) as DefinedAPI<V, S>['versions'];
  return {
    group: def.group,
    kind: def.kind,
    plural,
    scope: def.scope,
    storageVersion: storage as S,
    exportName: def.exportName ?? `${plural}.${def.group}`,
    claims: (def.claims ?? []).map((c) => ({ ...c })),
    type: { apiVersion: apiVersion(storage!), kind: def.kind },
    versions,
    schemaSpec,
  };
}
