/**
 * Structural schemas of the apis.kcp.io kinds, transcribed from kcp's Go types
 * (sdk/apis/apis/v1alpha1 and v1alpha2). `required` lists only what kcp's CRDs require; defaults
 * kubebuilder would apply (`served`, `storage: {crd: {}}`, claim `group`) are applied by admission.
 */
import { kcpConditionsSchema, kindSchema, labelSelectorSchema } from '../../api/builtins.js';
import type { Schema } from '../../types.js';

const str = (): Schema => ({ type: 'string' });
const bool = (): Schema => ({ type: 'boolean' });
const int = (): Schema => ({ type: 'integer' });
const bytes = (): Schema => ({ type: 'string', format: 'byte' });
const pattern = (p: string): Schema => ({ type: 'string', pattern: p });
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const obj = (properties: Record<string, Schema>, required?: string[]): Schema =>
  required?.length ? { type: 'object', properties, required } : { type: 'object', properties };
const free = (): Schema => ({ type: 'object', preserveUnknownFields: true });
const atomic = (items: Schema): Schema => ({ type: 'array', items, listType: 'atomic' });
const set = (items: Schema): Schema => ({ type: 'array', items, listType: 'set' });
const map = (items: Schema, ...keys: string[]): Schema => ({ type: 'array', items, listType: 'map', mergeKeys: keys });

/** The workspace path pattern of export references. */
export const PATH_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** The version name pattern of APIResourceSchema versions. */
export const VERSION_PATTERN = '^v[1-9][0-9]*([a-z]+[1-9][0-9]*)?$';
const GROUP_PATTERN = '^(|[a-z0-9]([-a-z0-9]*[a-z0-9](\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?)$';
const RESOURCE_PATTERN = '^[a-z][-a-z0-9]*[a-z0-9]$';

const labelSelector = labelSelectorSchema as Extract<Schema, { type: 'object' }>;
/** PermissionClaimSelector: a label selector or `matchAll`. */
const claimSelector = (): Schema => obj({ ...labelSelector.properties, matchAll: bool() });

const identity = (): Schema => obj({ secretRef: obj({ name: str(), namespace: str() }) });
const maximalPermissionPolicy = (): Schema => obj({ local: obj({}) });
const exportReference = (): Schema => obj({ path: pattern(PATH_PATTERN), name: str() }, ['name']);
const virtualWorkspaces = (): Schema => atomic(obj({ url: str() }, ['url']));

/** The fields of a v1alpha2 PermissionClaim; a binding's AcceptablePermissionClaim embeds them. */
const claimV2Fields = (): Record<string, Schema> => ({
  group: pattern(GROUP_PATTERN),
  resource: pattern(RESOURCE_PATTERN),
  verbs: set(str()),
  identityHash: str(),
  defaultSelector: claimSelector(),
});

/** v1alpha2 PermissionClaim (export side). */
const claimV2 = (): Schema => obj(claimV2Fields(), ['resource', 'verbs']);

/** The fields of a v1alpha1 PermissionClaim (`all` or `resourceSelector`, no verbs); embedded like v1alpha2's. */
const claimV1Fields = (): Record<string, Schema> => ({
  group: pattern(GROUP_PATTERN),
  resource: str(),
  all: bool(),
  resourceSelector: atomic(obj({ name: str(), namespace: str() })),
  identityHash: str(),
});

/** v1alpha1 PermissionClaim. */
const claimV1 = (): Schema => obj(claimV1Fields(), ['resource']);

/** A binding's answer to a claim. */
const claimState = (): Schema => enumOf('Accepted', 'Rejected');

const boundResources = (): Schema =>
  map(
    obj(
      {
        group: str(),
        resource: str(),
        schema: obj({ name: str(), UID: str(), identityHash: str() }, ['UID', 'identityHash', 'name']),
        storageVersions: set(str()),
      },
      ['group', 'resource', 'schema'],
    ),
    'group',
    'resource',
  );

const exportStatus = (): Schema =>
  obj({ identityHash: str(), conditions: kcpConditionsSchema, virtualWorkspaces: virtualWorkspaces() });

/** APIResourceSchema v1alpha1. */
export const apiResourceSchemaSchema: Schema = kindSchema({
  spec: obj(
    {
      group: str(),
      names: obj(
        {
          plural: str(),
          singular: str(),
          shortNames: atomic(str()),
          kind: str(),
          listKind: str(),
          categories: atomic(str()),
        },
        ['kind', 'plural'],
      ),
      scope: enumOf('Cluster', 'Namespaced'),
      versions: map(
        obj(
          {
            name: pattern(VERSION_PATTERN),
            served: bool(),
            storage: bool(),
            deprecated: bool(),
            deprecationWarning: str(),
            // A raw OpenAPI v3 document (RawExtension): kept as written.
            schema: { type: 'any' },
            subresources: obj({
              status: free(),
              scale: obj({ specReplicasPath: str(), statusReplicasPath: str(), labelSelectorPath: str() }),
            }),
            additionalPrinterColumns: map(
              obj({ name: str(), type: str(), format: str(), description: str(), priority: int(), jsonPath: str() }, ['jsonPath', 'name', 'type']),
              'name',
            ),
            selectableFields: atomic(obj({ jsonPath: str() }, ['jsonPath'])),
          },
          ['name', 'schema', 'storage'],
        ),
        'name',
      ),
      nameValidation: enumOf('DNS1123Subdomain', 'PathSegmentName'),
      conversion: obj(
        {
          strategy: enumOf('None', 'Webhook'),
          webhook: obj({
            clientConfig: obj({ url: str(), caBundle: bytes() }),
            conversionReviewVersions: atomic(str()),
          }),
        },
        ['strategy'],
      ),
    },
    ['group', 'names', 'scope', 'versions'],
  ),
});

/** APIExport v1alpha2 (the stored version). */
export const apiExportV2Schema: Schema = kindSchema({
  spec: obj({
    resources: map(
      obj(
        {
          name: str(),
          group: str(),
          schema: str(),
          storage: obj({
            crd: obj({}),
            virtual: obj({ reference: obj({ apiGroup: str(), kind: str(), name: str() }, ['kind', 'name']) }, ['reference']),
          }),
        },
        ['group', 'name', 'schema'],
      ),
      'name',
      'group',
    ),
    identity: identity(),
    maximalPermissionPolicy: maximalPermissionPolicy(),
    permissionClaims: map(claimV2(), 'group', 'resource'),
  }),
  status: exportStatus(),
});

/** APIExport v1alpha1. */
export const apiExportV1Schema: Schema = kindSchema({
  spec: obj({
    latestResourceSchemas: set(str()),
    identity: identity(),
    maximalPermissionPolicy: maximalPermissionPolicy(),
    permissionClaims: map(claimV1(), 'group', 'resource'),
  }),
  status: exportStatus(),
});

/** APIExportEndpointSlice v1alpha1. */
export const apiExportEndpointSliceSchema: Schema = kindSchema(
  {
    spec: obj({ export: exportReference(), partition: str() }, ['export']),
    status: obj({
      conditions: kcpConditionsSchema,
      endpoints: map(obj({ url: str(), shards: free() }, ['url']), 'url'),
      shardSelector: str(),
    }),
  },
  ['spec'],
);

/**
 * An APIBinding: both versions have the same reference and status and differ only in how claims
 * are written (the binding's own in `spec.permissionClaims`, the applied and the export's in status).
 */
const bindingSchema = (claims: { spec: Schema; applied: Schema; exported: Schema }): Schema =>
  kindSchema(
    {
      spec: obj({ reference: obj({ export: exportReference() }), permissionClaims: claims.spec }, ['reference']),
      status: obj({
        apiExportClusterName: str(),
        boundResources: boundResources(),
        phase: enumOf('', 'Binding', 'Bound'),
        conditions: kcpConditionsSchema,
        appliedPermissionClaims: claims.applied,
        exportPermissionClaims: claims.exported,
      }),
    },
    ['spec'],
  );

/** APIBinding v1alpha2 (the stored version). */
export const apiBindingV2Schema: Schema = bindingSchema({
  spec: map(
    obj({ ...claimV2Fields(), selector: claimSelector(), state: claimState() }, ['resource', 'selector', 'state', 'verbs']),
    'group',
    'resource',
    'identityHash',
  ),
  applied: map(
    obj({ group: str(), resource: str(), verbs: set(str()), identityHash: str(), defaultSelector: claimSelector(), selector: claimSelector() }, ['resource']),
    'group',
    'resource',
    'identityHash',
  ),
  exported: atomic(claimV2()),
});

/** APIBinding v1alpha1. */
export const apiBindingV1Schema: Schema = bindingSchema({
  spec: atomic(obj({ ...claimV1Fields(), state: claimState() }, ['resource', 'state'])),
  applied: atomic(claimV1()),
  exported: atomic(claimV1()),
});
