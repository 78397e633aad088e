/**
 * The apis.kcp.io shapes `defineAPI` and `kcp-mc apigen` emit: APIResourceSchema (v1alpha1),
 * APIExport (v1alpha2) and APIBinding (v1alpha2), as far as a service provider writes them.
 */
import type { KubernetesObject } from '../client/index.js';
import type { JsonValue, OpenAPISchema } from './openapi.js';

/** A kubectl column of a version (apiextensions' CustomResourceColumnDefinition). */
export interface PrinterColumn {
  /** Column header. */
  name: string;
  /** `string`, `integer`, `number`, `boolean` or `date`. */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** JSONPath into the object, e.g. `.spec.size`. */
  jsonPath: string;
  /** OpenAPI format of the column. */
  format?: string;
  /** What the column shows. */
  description?: string;
  /** 0 shows by default; higher shows with `-o wide`. */
  priority?: number;
}

/** The scale subresource's paths. */
export interface ScaleSubresource {
  /** JSONPath of the desired replicas, e.g. `.spec.replicas`. */
  specReplicasPath: string;
  /** JSONPath of the observed replicas, e.g. `.status.replicas`. */
  statusReplicasPath: string;
  /** JSONPath of the label selector in string form. */
  labelSelectorPath?: string;
}

/** One version of an APIResourceSchema. */
export interface ResourceVersion {
  /** Version name. */
  name: string;
  /** Served by the API server. */
  served: boolean;
  /** The one version objects are stored in. */
  storage: boolean;
  /** Deprecated version. */
  deprecated?: boolean;
  /** Warning for clients of a deprecated version. */
  deprecationWarning?: string;
  /** The structural OpenAPI v3 schema of the whole object (not wrapped in `openAPIV3Schema`). */
  schema: OpenAPISchema;
  /** Status and scale subresources. */
  subresources?: { status?: Record<string, never>; scale?: ScaleSubresource };
  /** kubectl columns. */
  additionalPrinterColumns?: PrinterColumn[];
  /** Fields usable in field selectors. */
  selectableFields?: { jsonPath: string }[];
}

/** The spec of an APIResourceSchema. */
export interface APIResourceSchemaSpec {
  /** API group. */
  group: string;
  /** Resource names. */
  names: { plural: string; singular: string; kind: string; listKind: string; shortNames?: string[]; categories?: string[] };
  /** Namespaced or cluster-scoped. */
  scope: 'Namespaced' | 'Cluster';
  /** The versions, storage version included. */
  versions: ResourceVersion[];
  /** Conversion between versions (kcp requires one with several versions). */
  conversion?: { strategy: string; [field: string]: JsonValue };
}

/** An APIResourceSchema manifest. */
export interface APIResourceSchema extends KubernetesObject {
  /** `apis.kcp.io/v1alpha1`. */
  apiVersion: 'apis.kcp.io/v1alpha1';
  /** `APIResourceSchema`. */
  kind: 'APIResourceSchema';
  /** Its name, `v<yyMMdd>-<hash>.<plural>.<group>`. */
  metadata: { name: string };
  /** What it serves. */
  spec: APIResourceSchemaSpec;
}

/** A permission claim of an export on resources of the consumer workspaces. */
export interface PermissionClaim {
  /** API group; `''` for the core group. */
  group: string;
  /** Resource, e.g. `configmaps`. */
  resource: string;
  /** Verbs claimed (default `['*']`). */
  verbs?: string[];
  /** The identity hash of the export that serves the resource, for resources of other exports. */
  identityHash?: string;
}

/** An exported resource of an APIExport (v1alpha2). */
export interface ExportedResource {
  /** API group. */
  group: string;
  /** Resource name. */
  name: string;
  /** The APIResourceSchema's name. */
  schema: string;
  /** Where objects live; kcp's CRD-like storage. */
  storage: { crd: Record<string, never> };
}

/** An APIExport manifest (v1alpha2). */
export interface APIExport extends KubernetesObject {
  /** `apis.kcp.io/v1alpha2`. */
  apiVersion: 'apis.kcp.io/v1alpha2';
  /** `APIExport`. */
  kind: 'APIExport';
  /** Its name. */
  metadata: { name: string };
  /** Exported resources and claims (fields written by others are kept by apigen). */
  spec: { resources: ExportedResource[]; permissionClaims?: Required<Pick<PermissionClaim, 'group' | 'resource' | 'verbs'>>[]; [field: string]: unknown };
}

/** An APIBinding manifest (v1alpha2) with the export's claims accepted. */
export interface APIBinding extends KubernetesObject {
  /** `apis.kcp.io/v1alpha2`. */
  apiVersion: 'apis.kcp.io/v1alpha2';
  /** `APIBinding`. */
  kind: 'APIBinding';
  /** Its name. */
  metadata: { name: string };
  /** The export bound and the claims accepted. */
  spec: {
    reference: { export: { path: string; name: string } };
    permissionClaims: { group: string; resource: string; verbs: string[]; identityHash?: string; selector: { matchAll: true }; state: 'Accepted' }[];
  };
}
