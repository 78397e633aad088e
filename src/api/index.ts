/**
 * Authoring: conditions (apimachinery's `meta`), createOrUpdate/createOrPatch (`controllerutil`),
 * typed built-in kinds; and kcp APIs: `defineAPI` (one TypeBox definition → the objects' type, the
 * APIResourceSchema and the APIExport), the manifests and their content-hashed names, `installAPIs`
 * for `kcp-mc run --install`, and the CRD conversion behind `kcp-mc apigen --from-crd`.
 */
export {
  setStatusCondition,
  removeStatusCondition,
  findStatusCondition,
  isStatusConditionTrue,
  isStatusConditionFalse,
  isStatusConditionPresentAndEqual,
  type Condition,
  type ConditionInput,
  type ConditionStatus,
  type ConditionsInput,
} from './conditions.js';
export {
  createOrUpdate,
  createOrPatch,
  type OperationResult,
  type ObjectAccess,
  type MutateFn,
  type CreateOrUpdateOptions,
} from './create-or-update.js';
export * from './core.js';
export { defineAPI, pluralOf, type APIDefinition, type APIVersion, type ValidationRule, type WithSpec, type WithStatus, type WithStatusSchema, type APIObject, type DefinedAPI, type ObjectOf } from './define.js';
export { toStructuralSchema, APIDefinitionError, type OpenAPISchema, type JsonValue } from './openapi.js';
export { apiManifests, apiExport, apiBinding, resourceSchema, schemaHash, canonicalJSON, type ApiOfExport, type NamingOptions, type ManifestOptions } from './manifests.js';
export { installAPIs, type InstallOptions } from './install.js';
export { schemaSpecFromCRD, isCRD } from './crd.js';
export type {
  APIResourceSchema,
  APIResourceSchemaSpec,
  APIExport,
  APIBinding,
  ExportedResource,
  PermissionClaim,
  PrinterColumn,
  ResourceVersion,
  ResourceNames,
  NamedMeta,
  AcceptedClaim,
  ScaleSubresource,
} from './types.js';
/** TypeBox's type builder, to write the schemas `defineAPI` takes (`Type.Object`, `Type.Integer`…). */
export { Type } from 'typebox';
/** The static type of a TypeBox schema. */
export type { Static, TSchema } from 'typebox';
