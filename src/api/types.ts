/**
 * The apis.kcp.io shapes `defineAPI` and `kcp-mc apigen` emit: APIResourceSchema (v1alpha1),
 * APIExport (v1alpha2) and APIBinding (v1alpha2), as far as a service provider writes them.
 */
import type { KubernetesObject, ObjectMeta } from '../client/index.js';
import type { JsonValue, OpenAPISchema } from './openapi.js';

/** The resource names of an APIResourceSchema. */
export interface ResourceNames {
  /** Resource name, e.g. `widgets`. */
  plural: string;
  /** Singular name, e.g. `widget`. */
  singular: string;
  /** Kind, e.g. `Widget`. */
  kind: string;
  /** List kind, e.g. `WidgetList`. */
  listKind: string;
  /** Short names for kubectl. */
  shortNames?: string[];
  /** Categories for kubectl. */
  categories?: string[];
}

/** Object metadata with the name set, as manifests carry it. */
export interface NamedMeta extends ObjectMeta {
  /** Object name. */
  name: string;
}

/** A claim as a binding accepts it. */
export interface AcceptedClaim {
  /** API group; `''` for the core group. */
  group: string;
  /** Resource. */
  resource: string;
  /** Verbs, as the export claims them. */
  verbs: string[];
  /** Identity hash of the serving export, for resources of other exports. */
  identityHash?: string;
  /** Which objects: all of them. */
  selector: {
    /** Every object of the resource. */
    matchAll: true;
  };
  /** Accepted. */
  state: 'Accepted';
}

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
  subresources?: {
    /** `{}` turns the status subresource on. */
    status?: Record<string, never>;
    /** The scale subresource. */
    scale?: ScaleSubresource;
  };
  /** kubectl columns. */
  additionalPrinterColumns?: PrinterColumn[];
  /** Fields usable in field selectors. */
  selectableFields?: {
    /** JSONPath of the field, e.g. `.spec.color`. */
    jsonPath: string;
  }[];
}

/** The spec of an APIResourceSchema. */
export interface APIResourceSchemaSpec {
  /** API group. */
  group: string;
  /** Resource names. */
  names: ResourceNames;
  /** Namespaced or cluster-scoped. */
  scope: 'Namespaced' | 'Cluster';
  /** The versions, storage version included. */
  versions: ResourceVersion[];
  /** Conversion between versions (kcp requires one with several versions). */
  conversion?: {
    /** `None` (kcp serves every version of one stored object) or `Webhook`. */
    strategy: string;
    [field: string]: JsonValue;
  };
}

/** An APIResourceSchema manifest. */
export interface APIResourceSchema extends KubernetesObject {
  /** `apis.kcp.io/v1alpha1`. */
  apiVersion: 'apis.kcp.io/v1alpha1';
  /** `APIResourceSchema`. */
  kind: 'APIResourceSchema';
  /** Its name, `v<yyMMdd>-<hash>.<plural>.<group>`. */
  metadata: NamedMeta;
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
  storage: {
    /** Stored like a CRD's objects. */
    crd: Record<string, never>;
  };
}

/** An APIExport manifest (v1alpha2). */
export interface APIExport extends KubernetesObject {
  /** `apis.kcp.io/v1alpha2`. */
  apiVersion: 'apis.kcp.io/v1alpha2';
  /** `APIExport`. */
  kind: 'APIExport';
  /** Its name. */
  metadata: NamedMeta;
  /** Exported resources and claims (fields written by others are kept by apigen). */
  spec: {
    /** The resources served, each pointing at its schema. */
    resources: ExportedResource[];
    /** Resources of the consumer workspaces the export asks for. */
    permissionClaims?: Required<Pick<PermissionClaim, 'group' | 'resource' | 'verbs'>>[];
    [field: string]: unknown;
  };
}

/** An APIBinding manifest (v1alpha2) with the export's claims accepted. */
export interface APIBinding extends KubernetesObject {
  /** `apis.kcp.io/v1alpha2`. */
  apiVersion: 'apis.kcp.io/v1alpha2';
  /** `APIBinding`. */
  kind: 'APIBinding';
  /** Its name. */
  metadata: NamedMeta;
  /** The export bound and the claims accepted. */
  spec: {
    /** The export: its workspace path and name. */
    reference: {
      /** The export. */
      export: {
        /** Workspace path, e.g. `root:providers`. */
        path: string;
        /** Export name. */
        name: string;
      };
    };
    /** The export's claims, each accepted for all objects. */
    permissionClaims: AcceptedClaim[];
  };
}
