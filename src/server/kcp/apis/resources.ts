/**
 * The apis.kcp.io resources every logical cluster serves: APIResourceSchemas and
 * APIExportEndpointSlices (v1alpha1), APIExports and APIBindings (v1alpha1 over v1alpha2 storage,
 * converted on every read and write). They are kcp types, not built-ins: strategic merge patch is
 * 415, and status is written only through the status subresource.
 */
import { ALL_VERBS, type KubeObject, type PrinterColumn, type ResourceDef, type Schema } from '../../types.js';
import { bindingToV1, bindingToV2 } from './convert-binding.js';
import { exportToV1, exportToV2 } from './convert.js';
import { APIS_GROUP, BINDINGS, EXPORTS, SCHEMAS, SLICES, objs, statusOf, str } from './names.js';
import {
  apiBindingV1Schema,
  apiBindingV2Schema,
  apiExportEndpointSliceSchema,
  apiExportV1Schema,
  apiExportV2Schema,
  apiResourceSchemaSchema,
} from './schemas.js';

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function conditionStatus(type: string): (o: KubeObject) => string | undefined {
  return (o) => objs(statusOf(o)['conditions']).find((c) => str(c['type']) === type)?.['status'] as string | undefined;
}

interface Input {
  version: string;
  resource: string;
  kind: string;
  storage: string;
  schema: Schema;
  columns: PrinterColumn[];
  status: boolean;
  conversion?: ResourceDef['conversion'];
}

function def(i: Input): ResourceDef {
  const d: ResourceDef = {
    group: APIS_GROUP,
    version: i.version,
    resource: i.resource,
    singular: i.kind.toLowerCase(),
    kind: i.kind,
    listKind: `${i.kind}List`,
    namespaced: false,
    verbs: [...ALL_VERBS],
    categories: ['kcp'],
    statusSubresource: i.status,
    printerColumns: i.columns,
    builtin: false,
    schema: i.schema,
    storage: i.storage,
  };
  if (i.conversion) d.conversion = i.conversion;
  return Object.freeze(d);
}

/** APIResourceSchema v1alpha1. */
export const SCHEMA_DEF = def({ version: 'v1alpha1', resource: 'apiresourceschemas', kind: 'APIResourceSchema', storage: SCHEMAS, schema: apiResourceSchemaSchema, columns: [AGE], status: false });

/** APIExport v1alpha2, the stored version. */
export const EXPORT_DEF = def({ version: 'v1alpha2', resource: 'apiexports', kind: 'APIExport', storage: EXPORTS, schema: apiExportV2Schema, columns: [AGE], status: true });

/** APIExport v1alpha1, converted from and to v1alpha2 storage. */
export const EXPORT_V1_DEF = def({
  version: 'v1alpha1',
  resource: 'apiexports',
  kind: 'APIExport',
  storage: EXPORTS,
  schema: apiExportV1Schema,
  columns: [AGE, { name: 'Ready', type: 'string', value: conditionStatus('VirtualWorkspaceURLsReady') }],
  status: true,
  conversion: { fromStorage: exportToV1, toStorage: exportToV2 },
});

/** APIExportEndpointSlice v1alpha1. */
export const SLICE_DEF = def({
  version: 'v1alpha1',
  resource: 'apiexportendpointslices',
  kind: 'APIExportEndpointSlice',
  storage: SLICES,
  schema: apiExportEndpointSliceSchema,
  columns: [
    { name: 'Export', type: 'string', jsonPath: '.spec.export.name' },
    { name: 'Partition', type: 'string', jsonPath: '.spec.partition' },
    AGE,
  ],
  status: true,
});

const BINDING_COLUMNS: PrinterColumn[] = [AGE, { name: 'Ready', type: 'string', value: conditionStatus('Ready') }];

/** APIBinding v1alpha2, the stored version. */
export const BINDING_DEF = def({ version: 'v1alpha2', resource: 'apibindings', kind: 'APIBinding', storage: BINDINGS, schema: apiBindingV2Schema, columns: BINDING_COLUMNS, status: true });

/** APIBinding v1alpha1, converted from and to v1alpha2 storage. */
export const BINDING_V1_DEF = def({
  version: 'v1alpha1',
  resource: 'apibindings',
  kind: 'APIBinding',
  storage: BINDINGS,
  schema: apiBindingV1Schema,
  columns: BINDING_COLUMNS,
  status: true,
  conversion: { fromStorage: bindingToV1, toStorage: bindingToV2 },
});

/** Every apis.kcp.io resource definition, served in every logical cluster. */
export const APIS_DEFS: readonly ResourceDef[] = Object.freeze([SCHEMA_DEF, EXPORT_V1_DEF, EXPORT_DEF, SLICE_DEF, BINDING_V1_DEF, BINDING_DEF]);
