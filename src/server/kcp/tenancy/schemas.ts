/**
 * The tenancy resources: `tenancy.kcp.io/v1alpha1` Workspace and WorkspaceType (served in every
 * logical cluster) and `core.kcp.io/v1alpha1` Shard (root only), with their CRD schemas as kcp's
 * SDK types declare them.
 */
import { kcpConditionsSchema, kindSchema, labelSelectorSchema, objectMetaSchema } from '../../api/builtins.js';
import { ALL_VERBS, type KubeObject, type PrinterColumn, type ResourceDef, type Schema } from '../../types.js';

/** Storage key of Workspaces. */
export const WORKSPACES = 'tenancy.kcp.io/workspaces';
/** Storage key of WorkspaceTypes. */
export const WORKSPACE_TYPES = 'tenancy.kcp.io/workspacetypes';
/** Storage key of Shards. */
export const SHARDS = 'core.kcp.io/shards';

const str = (): Schema => ({ type: 'string' });
const bool = (): Schema => ({ type: 'boolean' });
const obj = (properties: Record<string, Schema>, required?: string[]): Schema =>
  required ? { type: 'object', properties, required } : { type: 'object', properties };
const list = (items: Schema): Schema => ({ type: 'array', items });
const strMap = (): Schema => ({ type: 'object', additionalProperties: { type: 'string' } });

const PATH_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const TYPE_NAME_PATTERN = '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';
const HOOK_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[a-z0-9][a-z0-9]([-a-z0-9]*[a-z0-9])?))|(system:.+)$';

const typeReference = (): Schema =>
  obj({ name: { type: 'string', pattern: TYPE_NAME_PATTERN }, path: { type: 'string', pattern: PATH_PATTERN } }, ['name']);

/** ObjectMeta whose name must match a pattern (the only metadata constraint a CRD may declare). */
function metaWithName(pattern: string): Schema {
  const base = objectMetaSchema as Extract<Schema, { type: 'object' }>;
  return { ...base, properties: { ...base.properties, name: { type: 'string', pattern } } };
}

const workspaceSchema = kindSchema(
  {
    spec: obj({
      type: typeReference(),
      location: obj({ selector: labelSelectorSchema }),
      cluster: str(),
      URL: str(),
      mount: obj({ ref: obj({ apiVersion: str(), kind: str(), name: str(), namespace: str() }, ['apiVersion', 'kind', 'name']) }, ['ref']),
    }),
    status: obj({
      phase: { type: 'string', enum: ['Scheduling', 'Initializing', 'Ready', 'Unavailable', 'Inactive', 'Terminating', 'Deleting'] },
      conditions: kcpConditionsSchema,
      initializers: list({ type: 'string', pattern: HOOK_PATTERN }),
      terminators: list({ type: 'string', pattern: HOOK_PATTERN }),
    }),
  },
  undefined,
  // Workspace names are DNS labels: they are path segments.
  metaWithName('^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
);

const policyRule = (): Schema =>
  obj(
    {
      verbs: list(str()),
      apiGroups: list(str()),
      resources: list(str()),
      resourceNames: list(str()),
      nonResourceURLs: list(str()),
    },
    ['verbs'],
  );

const typeSelector = (): Schema => obj({ none: bool(), types: list(typeReference()) });

const workspaceTypeSchema = kindSchema(
  {
    spec: obj({
      initializer: bool(),
      terminator: bool(),
      extend: obj({ with: list(typeReference()) }),
      additionalWorkspaceLabels: strMap(),
      defaultChildWorkspaceType: typeReference(),
      limitAllowedChildren: typeSelector(),
      limitAllowedParents: typeSelector(),
      defaultAPIBindings: list(obj({ path: { type: 'string', pattern: PATH_PATTERN }, export: str() }, ['export'])),
      defaultAPIBindingLifecycle: { type: 'string', enum: ['InitializeOnly', 'Maintain'] },
      initializerPermissions: list(policyRule()),
      terminatorPermissions: list(policyRule()),
    }),
    status: obj({
      conditions: kcpConditionsSchema,
      virtualWorkspaces: list(obj({ url: str(), type: str() }, ['url'])),
    }),
  },
  undefined,
  metaWithName(TYPE_NAME_PATTERN),
);

const shardSchema = kindSchema({
  spec: obj({ baseURL: str(), externalURL: str(), virtualWorkspaceURL: str() }, ['baseURL']),
  status: obj({
    capacity: { type: 'object', additionalProperties: { type: 'any' } },
    conditions: kcpConditionsSchema,
  }),
});

const label = (key: string) => (o: KubeObject) => o.metadata.labels?.[key];
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** kcp's kubebuilder printer columns (label-keyed ones computed: the JSONPath reader takes no quoted keys). */
const WORKSPACE_COLUMNS: PrinterColumn[] = [
  { name: 'Type', type: 'string', jsonPath: '.spec.type.name', description: 'Type of the workspace' },
  { name: 'Region', type: 'string', value: label('region'), description: 'The region this workspace is in' },
  { name: 'Phase', type: 'string', value: label('tenancy.kcp.io/phase'), description: 'The current phase (e.g. Scheduling, Initializing, Ready, Deleting)' },
  { name: 'URL', type: 'string', jsonPath: '.spec.URL', description: 'URL to access the workspace' },
  AGE,
];
const SHARD_COLUMNS: PrinterColumn[] = [
  { name: 'Region', type: 'string', value: label('region'), description: 'The region this workspace is in' },
  { name: 'URL', type: 'string', jsonPath: '.spec.baseURL', description: 'Type URL to directly connect to the shard' },
  { name: 'External URL', type: 'string', jsonPath: '.spec.externalURL', description: 'The URL exposed in workspaces created on that shard' },
  AGE,
];

function def(d: Pick<ResourceDef, 'group' | 'resource' | 'singular' | 'kind' | 'schema'> & { shortNames?: string[]; printerColumns?: PrinterColumn[] }): ResourceDef {
  const out: ResourceDef = {
    group: d.group,
    version: 'v1alpha1',
    resource: d.resource,
    singular: d.singular,
    kind: d.kind,
    listKind: `${d.kind}List`,
    namespaced: false,
    verbs: [...ALL_VERBS],
    categories: ['kcp'],
    statusSubresource: true,
    builtin: false,
    schema: d.schema,
    storage: `${d.group}/${d.resource}`,
  };
  if (d.shortNames) out.shortNames = d.shortNames;
  if (d.printerColumns) out.printerColumns = d.printerColumns;
  return Object.freeze(out);
}

/** `tenancy.kcp.io/v1alpha1` workspaces. */
export const WORKSPACE_DEF = def({ group: 'tenancy.kcp.io', resource: 'workspaces', singular: 'workspace', kind: 'Workspace', shortNames: ['ws'], schema: workspaceSchema, printerColumns: WORKSPACE_COLUMNS });
/** `tenancy.kcp.io/v1alpha1` workspacetypes. */
export const WORKSPACE_TYPE_DEF = def({ group: 'tenancy.kcp.io', resource: 'workspacetypes', singular: 'workspacetype', kind: 'WorkspaceType', schema: workspaceTypeSchema });
/** `core.kcp.io/v1alpha1` shards. */
export const SHARD_DEF = def({ group: 'core.kcp.io', resource: 'shards', singular: 'shard', kind: 'Shard', schema: shardSchema, printerColumns: SHARD_COLUMNS });

const EVERYWHERE: readonly ResourceDef[] = Object.freeze([WORKSPACE_DEF, WORKSPACE_TYPE_DEF]);
const IN_ROOT: readonly ResourceDef[] = Object.freeze([WORKSPACE_DEF, WORKSPACE_TYPE_DEF, SHARD_DEF]);

/** The tenancy resources a logical cluster serves: shards only in root. */
export function tenancyResources(cluster: string): readonly ResourceDef[] {
  return cluster === 'root' ? IN_ROOT : EVERYWHERE;
}
