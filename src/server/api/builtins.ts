/**
 * Schemas of the kinds every workspace serves out of the box, and the conversion of custom-resource
 * OpenAPI schemas into the same `Schema` vocabulary.
 *
 * Rule for `required`: a field is listed only where a real server refuses an object without it
 * (kube's validation for built-ins, the CRD schema for kcp types), because `normalizeObject`
 * enforces it. Go's non-omitempty fields that kube merely zero-fills are left optional.
 */
import { ALL_VERBS } from '../types.js';
import { EVENT_COLUMNS, EVENTS, eventToCore, eventToEventsV1 } from './events.js';
import { CORE_EVENT_FIELDS, EVENTS_V1_EVENT_FIELDS, NAMESPACE_FIELDS, SECRET_FIELDS } from './fieldlabels.js';
import type { FieldLabels, Json, JsonObject, KubeObject, PrinterColumn, ResourceDef, Schema } from '../types.js';

// Schemas are shared by every request and every module; freezing turns an accidental in-place
// edit into an immediate TypeError instead of a cross-request heisenbug.
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const str = (): Schema => ({ type: 'string' });
const int = (): Schema => ({ type: 'integer' });
const bool = (): Schema => ({ type: 'boolean' });
/** metav1.Time and metav1.MicroTime both travel as RFC 3339 strings. */
const time = (): Schema => ({ type: 'string', format: 'date-time' });
const bytes = (): Schema => ({ type: 'string', format: 'byte' });
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const obj = (properties: Record<string, Schema>, required?: string[]): Schema =>
  required && required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties };
const mapOf = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const atomicList = (items: Schema): Schema => ({ type: 'array', items, listType: 'atomic' });
const setList = (items: Schema): Schema => ({ type: 'array', items, listType: 'set' });
const mapList = (items: Schema, ...keys: string[]): Schema => ({ type: 'array', items, listType: 'map', mergeKeys: keys });

const ownerReferenceSchema = obj(
  {
    apiVersion: str(),
    kind: str(),
    name: str(),
    uid: str(),
    controller: bool(),
    blockOwnerDeletion: bool(),
  },
  ['apiVersion', 'kind', 'name', 'uid'],
);

const managedFieldsEntrySchema = obj({
  manager: str(),
  operation: str(),
  apiVersion: str(),
  time: time(),
  fieldsType: str(),
  // The field set is an opaque trie of `f:`/`k:`/`v:` keys; only its object-ness is checked.
  fieldsV1: { type: 'object', preserveUnknownFields: true },
  subresource: str(),
});

/** Every field of metav1.ObjectMeta, with the list semantics Kubernetes declares for them. */
export const objectMetaSchema: Schema = deepFreeze(
  obj({
    name: str(),
    generateName: str(),
    namespace: str(),
    selfLink: str(),
    uid: str(),
    resourceVersion: str(),
    generation: int(),
    creationTimestamp: time(),
    deletionTimestamp: time(),
    deletionGracePeriodSeconds: int(),
    labels: mapOf(str()),
    annotations: mapOf(str()),
    ownerReferences: mapList(ownerReferenceSchema, 'uid'),
    finalizers: setList(str()),
    managedFields: atomicList(managedFieldsEntrySchema),
  }),
);

/** The schema of a top-level kind: apiVersion, kind and metadata plus the kind's own fields. */
export function kindSchema(fields: Record<string, Schema>, required?: string[], metadata: Schema = objectMetaSchema): Schema {
  return deepFreeze(obj({ apiVersion: str(), kind: str(), metadata, ...fields }, required));
}

/** metav1.LabelSelector. */
export const labelSelectorSchema: Schema = deepFreeze(
  obj({
    matchLabels: mapOf(str()),
    matchExpressions: atomicList(
      obj({ key: str(), operator: str(), values: atomicList(str()) }, ['key', 'operator']),
    ),
  }),
);

/** kcp's third-party `conditions` list (Cluster API style, with severity), merged by `type`. */
export const kcpConditionsSchema: Schema = deepFreeze(
  mapList(
    obj(
      {
        type: str(),
        status: str(),
        severity: str(),
        lastTransitionTime: time(),
        reason: str(),
        message: str(),
      },
      ['lastTransitionTime', 'status', 'type'],
    ),
    'type',
  ),
);

const objectReferenceSchema = (): Schema =>
  obj({
    kind: str(),
    namespace: str(),
    name: str(),
    uid: str(),
    apiVersion: str(),
    resourceVersion: str(),
    fieldPath: str(),
  });

const eventSourceSchema = (): Schema => obj({ component: str(), host: str() });

const namespaceSchema = kindSchema({
  spec: obj({ finalizers: atomicList(str()) }),
  status: obj({
    phase: enumOf('Active', 'Terminating'),
    conditions: mapList(
      obj({ type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str() }),
      'type',
    ),
  }),
});

const configMapSchema = kindSchema({
  data: mapOf(str()),
  binaryData: mapOf(bytes()),
  immutable: bool(),
});

const secretSchema = kindSchema({
  data: mapOf(bytes()),
  stringData: mapOf(str()),
  type: str(),
  immutable: bool(),
});

const coreEventSchema = kindSchema({
  involvedObject: objectReferenceSchema(),
  reason: str(),
  message: str(),
  source: eventSourceSchema(),
  firstTimestamp: time(),
  lastTimestamp: time(),
  count: int(),
  type: str(),
  eventTime: time(),
  series: obj({ count: int(), lastObservedTime: time() }),
  action: str(),
  related: objectReferenceSchema(),
  reportingComponent: str(),
  reportingInstance: str(),
});

const serviceAccountSchema = kindSchema({
  secrets: mapList(objectReferenceSchema(), 'name'),
  imagePullSecrets: atomicList(obj({ name: str() })),
  automountServiceAccountToken: bool(),
});

const leaseSchema = kindSchema({
  spec: obj({
    holderIdentity: str(),
    leaseDurationSeconds: int(),
    acquireTime: time(),
    renewTime: time(),
    leaseTransitions: int(),
    strategy: str(),
    preferredHolder: str(),
  }),
});

// Required fields (eventTime, series.count, ...) are checked by validateEventCreate with kube's messages.
const eventsV1EventSchema = kindSchema(
  {
    eventTime: time(),
    series: obj({ count: int(), lastObservedTime: time() }),
    reportingController: str(),
    reportingInstance: str(),
    action: str(),
    reason: str(),
    regarding: objectReferenceSchema(),
    related: objectReferenceSchema(),
    note: str(),
    type: str(),
    deprecatedSource: eventSourceSchema(),
    deprecatedFirstTimestamp: time(),
    deprecatedLastTimestamp: time(),
    deprecatedCount: int(),
  },
);

const policyRuleSchema = (): Schema =>
  obj(
    {
      verbs: atomicList(str()),
      apiGroups: atomicList(str()),
      resources: atomicList(str()),
      resourceNames: atomicList(str()),
      nonResourceURLs: atomicList(str()),
    },
    ['verbs'],
  );

// apiGroup is defaulted by rbac/v1 (to "" for ServiceAccount, the RBAC group otherwise), so it is
// optional here even though the Go field has no omitempty; kind is checked against the three values
// kube's validation accepts.
const subjectsSchema = (): Schema =>
  atomicList(
    obj({ kind: enumOf('ServiceAccount', 'User', 'Group'), apiGroup: str(), name: str(), namespace: str() }, [
      'kind',
      'name',
    ]),
  );

const roleRefSchema = (...kinds: string[]): Schema =>
  obj({ apiGroup: str(), kind: enumOf(...kinds), name: str() }, ['kind', 'name']);

const roleSchema = kindSchema({ rules: atomicList(policyRuleSchema()) });
const clusterRoleSchema = kindSchema({
  rules: atomicList(policyRuleSchema()),
  aggregationRule: obj({ clusterRoleSelectors: atomicList(labelSelectorSchema) }),
});
const roleBindingSchema = kindSchema({ subjects: subjectsSchema(), roleRef: roleRefSchema('Role', 'ClusterRole') }, [
  'roleRef',
]);
const clusterRoleBindingSchema = kindSchema({ subjects: subjectsSchema(), roleRef: roleRefSchema('ClusterRole') }, [
  'roleRef',
]);

const LOGICAL_CLUSTER_HOOK_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[a-z0-9][a-z0-9]([-a-z0-9]*[a-z0-9])?))|(system:.+)$';
const hookName = (): Schema => ({ type: 'string', pattern: LOGICAL_CLUSTER_HOOK_PATTERN });

/** ObjectMeta with extra constraints on name/generateName, the only metadata a CRD may constrain. */
function constrainedMeta(name?: Schema, generateName?: Schema): Schema {
  if (!name && !generateName) return objectMetaSchema;
  const base = objectMetaSchema as Extract<Schema, { type: 'object' }>;
  return deepFreeze({
    ...base,
    properties: {
      ...base.properties,
      ...(name ? { name } : {}),
      ...(generateName ? { generateName } : {}),
    },
  });
}

const logicalClusterSchema = kindSchema(
  {
    spec: obj({
      directlyDeletable: bool(),
      owner: obj(
        {
          apiVersion: { type: 'string', pattern: '^([^/]+/)?[^/]+$' },
          resource: str(),
          name: str(),
          namespace: str(),
          cluster: str(),
          uid: str(),
        },
        ['apiVersion', 'cluster', 'name', 'resource', 'uid'],
      ),
      createdBy: obj({
        username: str(),
        groups: atomicList(str()),
        uid: str(),
        extra: mapOf(atomicList(str())),
      }),
      initializers: { type: 'array', items: hookName() },
      terminators: { type: 'array', items: hookName() },
    }),
    status: obj({
      URL: str(),
      // kcp HEAD's enum; older CRDs stopped at Unavailable, but servers now write the last three.
      phase: enumOf('Scheduling', 'Initializing', 'Ready', 'Unavailable', 'Inactive', 'Terminating', 'Deleting'),
      conditions: kcpConditionsSchema,
      initializers: { type: 'array', items: hookName() },
      terminators: { type: 'array', items: hookName() },
    }),
  },
  undefined,
  constrainedMeta(enumOf('cluster')),
);

interface DefInput {
  group: string;
  version: string;
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  statusSubresource?: boolean;
  builtin?: boolean;
  schema: Schema;
  printerColumns?: PrinterColumn[];
  fieldLabels?: FieldLabels;
  /** Another resource's storage, served through `conversion`. */
  storage?: string;
  conversion?: ResourceDef['conversion'];
}

function def(d: DefInput): ResourceDef {
  const out: ResourceDef = {
    group: d.group,
    version: d.version,
    resource: d.resource,
    singular: d.singular,
    kind: d.kind,
    listKind: `${d.kind}List`,
    namespaced: d.namespaced,
    verbs: [...ALL_VERBS],
    statusSubresource: d.statusSubresource ?? false,
    builtin: d.builtin ?? true,
    schema: d.schema,
    storage: d.storage ?? `${d.group || 'core'}/${d.resource}`,
  };
  if (d.fieldLabels) out.fieldLabels = d.fieldLabels;
  if (d.conversion) out.conversion = d.conversion;
  if (d.shortNames) out.shortNames = d.shortNames;
  if (d.categories) out.categories = d.categories;
  if (d.printerColumns) out.printerColumns = d.printerColumns;
  return deepFreeze(out);
}

const RBAC = 'rbac.authorization.k8s.io';

/** Number of keys of a map field, as kubectl's DATA column counts them. */
function keyCount(...fields: string[]): (o: KubeObject) => number {
  return (o) => fields.reduce((n, f) => n + Object.keys((o[f] as Record<string, unknown> | undefined) ?? {}).length, 0);
}

// The columns kube's own printers use for these kinds.
const COLUMNS: Record<string, PrinterColumn[]> = {
  namespaces: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }],
  configmaps: [{ name: 'Data', type: 'integer', value: keyCount('data', 'binaryData') }],
  secrets: [
    { name: 'Type', type: 'string', jsonPath: '.type' },
    { name: 'Data', type: 'integer', value: keyCount('data') },
  ],
  serviceaccounts: [{ name: 'Secrets', type: 'integer', value: (o) => ((o['secrets'] as unknown[] | undefined) ?? []).length }],
  leases: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }],
  events: [...EVENT_COLUMNS],
  roles: [{ name: 'Created At', type: 'string', jsonPath: '.metadata.creationTimestamp' }],
  clusterroles: [{ name: 'Created At', type: 'string', jsonPath: '.metadata.creationTimestamp' }],
  rolebindings: [{ name: 'Role', type: 'string', value: (o) => { const r = o['roleRef'] as { kind?: string; name?: string } | undefined; return r ? `${r.kind}/${r.name}` : undefined; } }],
  clusterrolebindings: [{ name: 'Role', type: 'string', value: (o) => { const r = o['roleRef'] as { kind?: string; name?: string } | undefined; return r ? `${r.kind}/${r.name}` : undefined; } }],
  logicalclusters: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'URL', type: 'string', jsonPath: '.status.URL' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

/** The resources every workspace serves before any APIBinding: Kubernetes built-ins plus LogicalCluster. */
export const BUILTIN_RESOURCES: readonly ResourceDef[] = Object.freeze([
  def({ group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, schema: namespaceSchema, printerColumns: COLUMNS['namespaces'], fieldLabels: NAMESPACE_FIELDS }),
  def({ group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], schema: configMapSchema, printerColumns: COLUMNS['configmaps'] }),
  def({ group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, schema: secretSchema, printerColumns: COLUMNS['secrets'], fieldLabels: SECRET_FIELDS }),
  def({ group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], schema: coreEventSchema, printerColumns: COLUMNS['events'], fieldLabels: CORE_EVENT_FIELDS }),
  def({ group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], schema: serviceAccountSchema, printerColumns: COLUMNS['serviceaccounts'] }),
  def({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, schema: leaseSchema, printerColumns: COLUMNS['leases'] }),
  def({ group: 'events.k8s.io', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], schema: eventsV1EventSchema, printerColumns: COLUMNS['events'], fieldLabels: EVENTS_V1_EVENT_FIELDS, storage: EVENTS, conversion: { fromStorage: eventToEventsV1, toStorage: eventToCore } }),
  def({ group: RBAC, version: 'v1', resource: 'roles', singular: 'role', kind: 'Role', namespaced: true, schema: roleSchema, printerColumns: COLUMNS['roles'] }),
  def({ group: RBAC, version: 'v1', resource: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true, schema: roleBindingSchema, printerColumns: COLUMNS['rolebindings'] }),
  def({ group: RBAC, version: 'v1', resource: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false, schema: clusterRoleSchema, printerColumns: COLUMNS['clusterroles'] }),
  def({ group: RBAC, version: 'v1', resource: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false, schema: clusterRoleBindingSchema, printerColumns: COLUMNS['clusterrolebindings'] }),
  def({ group: 'core.kcp.io', version: 'v1alpha1', resource: 'logicalclusters', singular: 'logicalcluster', kind: 'LogicalCluster', namespaced: false, categories: ['kcp'], statusSubresource: true, builtin: false, schema: logicalClusterSchema, printerColumns: COLUMNS['logicalclusters'] }),
]);

// ---------------------------------------------------------------------------------------------
// OpenAPI v3 (CRD / APIResourceSchema) → Schema

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: Json | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string');
  return out.length > 0 ? out : undefined;
}

function embeddedResourceFields(): Record<string, Schema> {
  return { apiVersion: str(), kind: str(), metadata: objectMetaSchema };
}

function convert(j: Json | undefined): Schema {
  if (!isObject(j)) return { type: 'any' };
  const preserve = j['x-kubernetes-preserve-unknown-fields'] === true;
  const pattern = typeof j.pattern === 'string' ? j.pattern : undefined;

  // int-or-string has no single JSON type; the string type tagged with Kubernetes' own
  // `int-or-string` format is how the schema says "integer or string" (see validation.ts).
  if (j['x-kubernetes-int-or-string'] === true) {
    const s: Schema = { type: 'string', format: 'int-or-string' };
    if (pattern) s.pattern = pattern;
    return s;
  }

  let type = typeof j.type === 'string' ? j.type : undefined;
  if (!type && (isObject(j.properties) || j.additionalProperties !== undefined || j['x-kubernetes-embedded-resource'] === true)) {
    type = 'object';
  }

  switch (type) {
    case 'string': {
      const s: Extract<Schema, { type: 'string' }> = { type: 'string' };
      // Non-string enum members cannot match a string and would only confuse messages.
      const e = stringList(j.enum);
      if (e) s.enum = e;
      if (typeof j.format === 'string') s.format = j.format;
      if (pattern) s.pattern = pattern;
      if (j.default !== undefined) s.default = j.default;
      return s;
    }
    case 'integer':
    case 'number':
    case 'boolean': {
      const s: Extract<Schema, { type: 'integer' | 'number' | 'boolean' }> = { type };
      if (type !== 'boolean' && typeof j.minimum === 'number') s.minimum = j.minimum;
      if (type !== 'boolean' && typeof j.maximum === 'number') s.maximum = j.maximum;
      if (j.default !== undefined) s.default = j.default;
      return s;
    }
    case 'array': {
      const s: Extract<Schema, { type: 'array' }> = { type: 'array', items: convert(j.items) };
      const lt = j['x-kubernetes-list-type'];
      if (lt === 'map' || lt === 'set' || lt === 'atomic') s.listType = lt;
      if (lt === 'map') {
        const keys = stringList(j['x-kubernetes-list-map-keys']);
        if (keys) s.mergeKeys = keys;
      }
      return s;
    }
    case 'object': {
      const s: Extract<Schema, { type: 'object' }> = { type: 'object' };
      if (isObject(j.properties)) {
        const props: Record<string, Schema> = {};
        for (const [k, v] of Object.entries(j.properties)) props[k] = convert(v);
        s.properties = props;
      }
      if (isObject(j.additionalProperties)) s.additionalProperties = convert(j.additionalProperties);
      else if (j.additionalProperties === true) s.additionalProperties = { type: 'any' };
      if (j['x-kubernetes-embedded-resource'] === true) {
        // Embedded objects implicitly carry TypeMeta and ObjectMeta, which kube prunes and checks.
        s.properties = { ...embeddedResourceFields(), ...(s.properties ?? {}) };
        s.properties.metadata = objectMetaSchema;
      }
      const req = stringList(j.required);
      if (req) s.required = req;
      if (preserve) s.preserveUnknownFields = true;
      return s;
    }
    default:
      // Untyped nodes are only legal under preserve-unknown-fields; any value goes there.
      return { type: 'any' };
  }
}

/**
 * Converts a CRD / APIResourceSchema `openAPIV3Schema` into a whole-object `Schema`, adding the
 * apiVersion, kind and ObjectMeta fields Kubernetes implies for every custom resource.
 */
export function resourceSchemaFromOpenAPI(openapi: Json): Schema {
  const root = convert(openapi);
  const rootObj = root.type === 'object' ? root : undefined;
  const fields: Record<string, Schema> = { ...(rootObj?.properties ?? {}) };
  delete fields.apiVersion;
  delete fields.kind;
  delete fields.metadata;

  // Only metadata.name / generateName may be constrained by a CRD; everything else is ObjectMeta.
  let nameSchema: Schema | undefined;
  let generateNameSchema: Schema | undefined;
  const metaJson = isObject(openapi) && isObject(openapi.properties) ? openapi.properties.metadata : undefined;
  if (isObject(metaJson) && isObject(metaJson.properties)) {
    const n = metaJson.properties.name;
    const g = metaJson.properties.generateName;
    if (isObject(n)) {
      const c = convert({ ...n, type: 'string' });
      if (c.type === 'string' && (c.enum || c.pattern)) nameSchema = c;
    }
    if (isObject(g)) {
      const c = convert({ ...g, type: 'string' });
      if (c.type === 'string' && (c.enum || c.pattern)) generateNameSchema = c;
    }
  }

  const out: Extract<Schema, { type: 'object' }> = {
    type: 'object',
    properties: { apiVersion: str(), kind: str(), metadata: constrainedMeta(nameSchema, generateNameSchema), ...fields },
  };
  if (rootObj?.required) out.required = [...rootObj.required];
  if (rootObj?.preserveUnknownFields) out.preserveUnknownFields = true;
  return deepFreeze(out);
}
