/** Shapes shared by the reference server's modules. */

import type { RuleSet } from './cel/index.js';

/** A JSON value as it travels on the wire. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A JSON object. */
export interface JsonObject { [key: string]: Json }

/** Object metadata as the server reads and writes it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: Json | undefined;
}

/** A metadata.ownerReferences entry. */
export interface OwnerReference extends JsonObject {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A metadata.managedFields entry (server-side apply bookkeeping). */
export interface ManagedFieldsEntry extends JsonObject {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
}

/** A Kubernetes object. Stored objects are never mutated in place. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: Json | ObjectMeta | undefined;
}

/**
 * The structural schema of a kind, small enough to write by hand for built-ins and to derive from
 * an OpenAPI v3 schema for custom resources. It drives pruning, strict field validation, strategic
 * merge patch, server-side apply list semantics and the /openapi/v3 documents.
 */
export type Schema =
  | { type: 'string'; enum?: string[]; format?: string; pattern?: string; default?: Json }
  | { type: 'integer' | 'number' | 'boolean'; minimum?: number; maximum?: number; default?: Json }
  | {
      type: 'object';
      /** Known fields; unknown ones are pruned (or rejected under fieldValidation=Strict). */
      properties?: Record<string, Schema>;
      /** A map whose values all follow this schema (e.g. ConfigMap.data). */
      additionalProperties?: Schema;
      required?: string[];
      /** Keep unknown fields (x-kubernetes-preserve-unknown-fields). */
      preserveUnknownFields?: boolean;
      /** Accepts any JSON value here (x-kubernetes-int-or-string, free-form values). */
      anyValue?: boolean;
    }
  | {
      type: 'array';
      items: Schema;
      /** Strategic merge patch / server-side apply: list items are merged by these keys. */
      mergeKeys?: string[];
      /** 'map' lists merge by key, 'set' lists merge by value, 'atomic' lists are replaced whole. */
      listType?: 'map' | 'set' | 'atomic';
    }
  | { type: 'any' };

/** A column of server-side printing (kubectl's table output). */
export interface PrinterColumn {
  name: string;
  /** 'date' cells print as an age (`5m`). */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath?: string;
  /** Computes the cell where a JSONPath cannot (counts, joins). */
  value?: (obj: KubeObject) => Json | undefined;
  format?: string;
  description?: string;
  /** 0 = shown by default, >0 only with -o wide. */
  priority?: number;
}

/**
 * The field labels a resource version accepts in `fieldSelector`, each with the reader of its value
 * from a *stored* object (so a converted view filters without converting).
 */
export type FieldLabels = Readonly<Record<string, (obj: KubeObject) => string>>;

/** One resource served by the API machinery. */
export interface ResourceDef {
  /** API group, '' for core. */
  group: string;
  version: string;
  /** Plural resource name, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Whether `<resource>/status` is served and status is only written through it. */
  statusSubresource: boolean;
  /**
   * Verbs discovery and OpenAPI list, where they differ from the verbs requests are routed for:
   * kcp drops `create` from a bound resource's discovery while its APIBinding is deleted, yet a
   * create still reaches admission and is refused with 403 (not the 405 of an unserved verb).
   */
  discoveryVerbs?: string[];
  /** Verbs discovery lists for `<resource>/status`; get, patch and update when absent (a read-only view lists none). */
  statusDiscoveryVerbs?: string[];
  /** Columns for `as=Table` answers besides Name (and Age, appended unless listed). */
  printerColumns?: PrinterColumn[];
  /** Field selector labels; `metadata.name` and `metadata.namespace` when absent. */
  fieldLabels?: FieldLabels;
  /** Built-in kinds accept strategic merge patch; custom resources answer 415. */
  builtin: boolean;
  /** Schema of the whole object (apiVersion, kind, metadata included). */
  schema: Schema;
  /** The compiled `x-kubernetes-validations` of a custom resource's schema, when it has any. */
  rules?: RuleSet;
  /**
   * Key of the storage bucket. Versions of one resource share it (v1alpha1 and v1alpha2 of an
   * export); distinct identities of the same group/resource do not.
   */
  storage: string;
  /**
   * For a version that is not the stored one (APIExport v1alpha1 over v1alpha2 storage): conversion
   * between this version's form and the stored form, applied on every read and write.
   */
  conversion?: {
    fromStorage(obj: KubeObject): KubeObject;
    toStorage(obj: KubeObject): KubeObject;
  };
}

/** Verbs a resource can serve, as discovery lists them. */
export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
