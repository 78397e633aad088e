/**
 * /openapi/v3 documents generated from `ResourceDef`s. The point is kubectl's field-validation
 * probe (cli-runtime query_param_verifier_v3): it needs, per group/version, a PATCH operation
 * tagged with the GVK that declares a `fieldValidation` query parameter. The schemas make
 * `kubectl explain` useful as well.
 */
import { createHash } from 'node:crypto';
import { objectMetaSchema } from './builtins.js';
import type { Json, JsonObject, ResourceDef, Schema } from '../types.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const PATCH = `${META}.Patch`;

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** Deep copy with object keys sorted, so serialisation and hashing are independent of build order. */
function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]!);
    return out;
  }
  return v;
}

/** A stable hash of a document, used as the `hash` query parameter of serverRelativeURL. */
export function openapiHash(doc: Json): string {
  // kube uses an upper-case SHA-512 hex digest; clients treat it as opaque.
  return createHash('sha512').update(JSON.stringify(canonical(doc))).digest('hex').toUpperCase();
}

/** Our Schema rendered as an OpenAPI v3 schema object. */
function toOpenAPI(s: Schema, builtin: boolean, shareMeta = true): JsonObject {
  if (shareMeta && s === objectMetaSchema) return ref(OBJECT_META);
  switch (s.type) {
    case 'any':
      return { 'x-kubernetes-preserve-unknown-fields': true };
    case 'string': {
      if (s.format === 'int-or-string') {
        const o: JsonObject = { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
        if (s.pattern) o.pattern = s.pattern;
        return o;
      }
      const o: JsonObject = { type: 'string' };
      if (s.enum) o.enum = [...s.enum];
      if (s.format) o.format = s.format;
      if (s.pattern) o.pattern = s.pattern;
      return o;
    }
    case 'integer':
    case 'number':
    case 'boolean':
      return { type: s.type };
    case 'array': {
      const o: JsonObject = { type: 'array', items: toOpenAPI(s.items, builtin) };
      if (s.listType) o['x-kubernetes-list-type'] = s.listType;
      if (s.listType === 'map' && s.mergeKeys) o['x-kubernetes-list-map-keys'] = [...s.mergeKeys];
      // Patch-strategy hints are only meaningful where strategic merge patch is served.
      if (builtin && s.mergeKeys && s.mergeKeys.length > 0) {
        o['x-kubernetes-patch-strategy'] = 'merge';
        o['x-kubernetes-patch-merge-key'] = s.mergeKeys[0]!;
      } else if (builtin && s.listType === 'set') {
        o['x-kubernetes-patch-strategy'] = 'merge';
      }
      return o;
    }
    case 'object': {
      if (s.anyValue) return { 'x-kubernetes-preserve-unknown-fields': true };
      const o: JsonObject = { type: 'object' };
      if (s.properties) {
        const props: JsonObject = {};
        for (const [k, v] of Object.entries(s.properties)) props[k] = toOpenAPI(v, builtin);
        o.properties = props;
      }
      if (s.additionalProperties) o.additionalProperties = toOpenAPI(s.additionalProperties, builtin);
      if (s.required && s.required.length > 0) o.required = [...s.required];
      if (s.preserveUnknownFields) o['x-kubernetes-preserve-unknown-fields'] = true;
      return o;
    }
  }
}

function pascal(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `core`, `rbacAuthorization`, `coreKcpIo`: kube's spelling of a group inside operation ids and tags. */
function groupToken(group: string): string {
  if (!group) return 'core';
  const g = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  const words = g.split(/[.-]/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : pascal(w))).join('');
}

/** Component name: kube's Go package path for built-ins, the reversed group for the rest. */
function schemaName(def: ResourceDef, kind: string): string {
  if (!def.group) return `io.k8s.api.core.${def.version}.${kind}`;
  if (def.group.endsWith('.k8s.io')) return `io.k8s.api.${def.group.split('.')[0]}.${def.version}.${kind}`;
  return `${def.group.split('.').reverse().join('.')}.${def.version}.${kind}`;
}

interface ParamSpec {
  name: string;
  type: 'string' | 'integer' | 'boolean';
  description: string;
}

const QUERY: Record<string, ParamSpec> = Object.fromEntries(
  (
    [
      ['allowWatchBookmarks', 'boolean', 'requests watch events with type "BOOKMARK"'],
      ['continue', 'string', 'continue token from a previous chunked list'],
      ['dryRun', 'string', 'when present, modifications are not persisted; the only valid value is All'],
      ['fieldManager', 'string', 'name of the actor making the change'],
      ['fieldSelector', 'string', 'restricts the returned objects by their fields'],
      [
        'fieldValidation',
        'string',
        'how to handle unknown or duplicate fields in the request body: Ignore, Warn (default) or Strict',
      ],
      ['force', 'boolean', 're-acquires conflicting fields owned by other managers (apply requests only)'],
      ['gracePeriodSeconds', 'integer', 'seconds before the object should be deleted'],
      ['labelSelector', 'string', 'restricts the returned objects by their labels'],
      ['limit', 'integer', 'maximum number of items to return in one list chunk'],
      ['orphanDependents', 'boolean', 'deprecated; use propagationPolicy'],
      ['pretty', 'string', 'if true, the output is pretty printed'],
      ['propagationPolicy', 'string', 'whether and how garbage collection is performed: Orphan, Background or Foreground'],
      ['resourceVersion', 'string', 'constraint on the resource versions a request may be served from'],
      ['resourceVersionMatch', 'string', 'how resourceVersion is applied to list calls: Exact or NotOlderThan'],
      ['sendInitialEvents', 'boolean', 'start a watch stream with synthetic events for the current state'],
      ['timeoutSeconds', 'integer', 'timeout for the list/watch call'],
      ['watch', 'boolean', 'watch for changes and return them as a stream of events'],
    ] as const
  ).map(([name, type, description]) => [name, { name, type, description }]),
);

function queryParams(...names: string[]): Json[] {
  return names.map((n) => {
    const p = QUERY[n]!;
    return { name: p.name, in: 'query', description: p.description, schema: { type: p.type, uniqueItems: true } };
  });
}

function pathParam(name: 'name' | 'namespace', kind: string): JsonObject {
  const description = name === 'name' ? `name of the ${kind}` : 'object name and auth scope, such as for teams and projects';
  return { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}

const LIST_PARAMS = [
  'allowWatchBookmarks',
  'continue',
  'fieldSelector',
  'labelSelector',
  'limit',
  'resourceVersion',
  'resourceVersionMatch',
  'sendInitialEvents',
  'timeoutSeconds',
  'watch',
];
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];

function jsonContent(schema: JsonObject): JsonObject {
  return { 'application/json': { schema } };
}

function responses(codes: Record<string, JsonObject>): JsonObject {
  const out: JsonObject = {};
  for (const [code, schema] of Object.entries(codes)) out[code] = { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: jsonContent(schema) };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

interface OpInput {
  action: string;
  opId: string;
  description: string;
  params: Json[];
  requestBody?: JsonObject;
  responses: JsonObject;
}

function operation(def: ResourceDef, tag: string, o: OpInput): JsonObject {
  const op: JsonObject = {
    description: o.description,
    operationId: o.opId,
    tags: [tag],
    parameters: o.params,
    responses: o.responses,
    'x-kubernetes-action': o.action,
    'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
  };
  if (o.requestBody) op.requestBody = o.requestBody;
  return op;
}

// Strategic merge patch is deliberately absent: kubectl only computes SMP from OpenAPI when the
// PATCH operation offers it, and otherwise falls back to its compiled-in types or merge patch.
const PATCH_CONTENT_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

function pathItems(def: ResourceDef): Record<string, JsonObject> {
  const prefix = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
  const ns = def.namespaced ? 'Namespaced' : '';
  const id = `${pascal(groupToken(def.group))}${pascal(def.version)}`;
  const tag = `${groupToken(def.group)}_${def.version}`;
  const kindRef = ref(schemaName(def, def.kind));
  const listRef = ref(schemaName(def, def.listKind));
  const has = (verb: string): boolean => (def.discoveryVerbs ?? def.verbs).includes(verb);
  const pretty = queryParams('pretty')[0]! as JsonObject;
  const nsParams: Json[] = def.namespaced ? [pathParam('namespace', def.kind)] : [];

  const collectionPath = def.namespaced ? `${prefix}/namespaces/{namespace}/${def.resource}` : `${prefix}/${def.resource}`;
  const itemPath = `${collectionPath}/{name}`;
  const items: Record<string, JsonObject> = {};

  const collection: JsonObject = { parameters: [...nsParams, pretty] };
  if (has('list')) {
    collection.get = operation(def, tag, {
      action: 'list',
      opId: `list${id}${ns}${def.kind}`,
      description: `list or watch objects of kind ${def.kind}`,
      params: queryParams(...LIST_PARAMS),
      responses: responses({ '200': listRef }),
    });
  }
  if (has('create')) {
    collection.post = operation(def, tag, {
      action: 'post',
      opId: `create${id}${ns}${def.kind}`,
      description: `create a ${def.kind}`,
      params: queryParams(...WRITE_PARAMS),
      requestBody: { content: { '*/*': { schema: kindRef } }, required: true },
      responses: responses({ '200': kindRef, '201': kindRef, '202': kindRef }),
    });
  }
  if (has('deletecollection')) {
    collection.delete = operation(def, tag, {
      action: 'deletecollection',
      opId: `delete${id}Collection${ns}${def.kind}`,
      description: `delete collection of ${def.kind}`,
      params: queryParams(
        'continue',
        'dryRun',
        'fieldSelector',
        'gracePeriodSeconds',
        'labelSelector',
        'limit',
        'orphanDependents',
        'propagationPolicy',
        'resourceVersion',
        'resourceVersionMatch',
        'sendInitialEvents',
        'timeoutSeconds',
      ),
      requestBody: { content: { '*/*': { schema: ref(DELETE_OPTIONS) } } },
      responses: responses({ '200': ref(STATUS) }),
    });
  }
  if (Object.keys(collection).length > 1) items[collectionPath] = collection;

  const writeItem = (suffix: string, what: string): JsonObject => {
    const item: JsonObject = { parameters: [pathParam('name', def.kind), ...nsParams, pretty] };
    if (has('get')) {
      item.get = operation(def, tag, {
        action: 'get',
        opId: `read${id}${ns}${def.kind}${suffix}`,
        description: `read ${what}the specified ${def.kind}`,
        params: [],
        responses: responses({ '200': kindRef }),
      });
    }
    if (has('update')) {
      item.put = operation(def, tag, {
        action: 'put',
        opId: `replace${id}${ns}${def.kind}${suffix}`,
        description: `replace ${what}the specified ${def.kind}`,
        params: queryParams(...WRITE_PARAMS),
        requestBody: { content: { '*/*': { schema: kindRef } }, required: true },
        responses: responses({ '200': kindRef, '201': kindRef }),
      });
    }
    if (has('patch')) {
      const content: JsonObject = {};
      for (const t of PATCH_CONTENT_TYPES) content[t] = { schema: ref(PATCH) };
      item.patch = operation(def, tag, {
        action: 'patch',
        opId: `patch${id}${ns}${def.kind}${suffix}`,
        description: `partially update ${what}the specified ${def.kind}`,
        params: queryParams(...WRITE_PARAMS, 'force'),
        requestBody: { content, required: true },
        responses: responses({ '200': kindRef, '201': kindRef }),
      });
    }
    return item;
  };

  const item = writeItem('', '');
  if (has('delete')) {
    item.delete = operation(def, tag, {
      action: 'delete',
      opId: `delete${id}${ns}${def.kind}`,
      description: `delete a ${def.kind}`,
      params: queryParams('dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'),
      requestBody: { content: { '*/*': { schema: ref(DELETE_OPTIONS) } } },
      responses: responses({ '200': ref(STATUS), '202': ref(STATUS) }),
    });
  }
  if (Object.keys(item).length > 1) items[itemPath] = item;

  if (def.statusSubresource) {
    const status = writeItem('Status', 'status of ');
    if (Object.keys(status).length > 1) items[`${itemPath}/status`] = status;
  }

  if (def.namespaced && has('list')) {
    items[`${prefix}/${def.resource}`] = {
      parameters: [pretty],
      get: operation(def, tag, {
        action: 'list',
        opId: `list${id}${def.kind}ForAllNamespaces`,
        description: `list or watch objects of kind ${def.kind}`,
        params: queryParams(...LIST_PARAMS),
        responses: responses({ '200': listRef }),
      }),
    };
  }
  return items;
}

function metaComponents(): Record<string, JsonObject> {
  return {
    [OBJECT_META]: toOpenAPI(objectMetaSchema, true, false),
    [LIST_META]: {
      type: 'object',
      properties: {
        continue: { type: 'string' },
        remainingItemCount: { type: 'integer', format: 'int64' },
        resourceVersion: { type: 'string' },
        selfLink: { type: 'string' },
      },
    },
    [STATUS]: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        code: { type: 'integer', format: 'int32' },
        details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        kind: { type: 'string' },
        message: { type: 'string' },
        metadata: ref(LIST_META),
        reason: { type: 'string' },
        status: { type: 'string' },
      },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
    },
    [DELETE_OPTIONS]: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        dryRun: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
        gracePeriodSeconds: { type: 'integer', format: 'int64' },
        kind: { type: 'string' },
        orphanDependents: { type: 'boolean' },
        preconditions: { type: 'object', properties: { resourceVersion: { type: 'string' }, uid: { type: 'string' } } },
        propagationPolicy: { type: 'string' },
      },
    },
    [PATCH]: { type: 'object', description: 'a patch document in one of the accepted patch content types' },
  };
}

/** Path key of a group/version inside the /openapi/v3 index (`api/v1`, `apis/<g>/<v>`). */
function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/**
 * The OpenAPI 3.0 document of one group/version, or undefined when no resource of `defs` is
 * served there. Keys are sorted so equal inputs give byte-identical JSON and equal hashes.
 */
export function openapiV3Document(defs: readonly ResourceDef[], group: string, version: string): Json | undefined {
  const served = defs.filter((d) => d.group === group && d.version === version);
  if (served.length === 0) return undefined;
  const paths: JsonObject = {};
  const schemas: JsonObject = metaComponents();
  for (const def of served) {
    Object.assign(paths, pathItems(def));
    const gvk = (kind: string): Json => [{ group: def.group, kind, version: def.version }];
    schemas[schemaName(def, def.kind)] = {
      ...toOpenAPI(def.schema, def.builtin),
      'x-kubernetes-group-version-kind': gvk(def.kind),
    };
    schemas[schemaName(def, def.listKind)] = {
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        items: { type: 'array', items: ref(schemaName(def, def.kind)) },
        kind: { type: 'string' },
        metadata: ref(LIST_META),
      },
      'x-kubernetes-group-version-kind': gvk(def.listKind),
    };
  }
  return canonical({
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    components: { schemas },
  });
}

/**
 * The /openapi/v3 discovery index. serverRelativeURL is relative to the API root on purpose:
 * client-go prepends the `/clusters/<x>` base path of its rest config when following it.
 */
export function openapiV3Index(defs: readonly ResourceDef[]): Json {
  const gvs = new Map<string, { group: string; version: string }>();
  for (const d of defs) gvs.set(gvPath(d.group, d.version), { group: d.group, version: d.version });
  const paths: JsonObject = {};
  for (const [key, { group, version }] of gvs) {
    const doc = openapiV3Document(defs, group, version);
    if (doc === undefined) continue;
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${openapiHash(doc)}` };
  }
  return canonical({ paths });
}
