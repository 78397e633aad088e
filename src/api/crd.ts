/**
 * CustomResourceDefinitions (controller-gen output, a chart's CRDs) → APIResourceSchema specs, as
 * kcp's apigen converts them: versions, the schema (`openAPIV3Schema` unwrapped), subresources,
 * printer columns, selectable fields, names, scope and conversion carried over.
 */
import type { JsonValue, OpenAPISchema } from './openapi.js';
import { APIDefinitionError } from './openapi.js';
import type { APIResourceSchemaSpec, PrinterColumn, ResourceVersion } from './types.js';

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.length && v.every((x) => typeof x === 'string') ? [...(v as string[])] : undefined;
}

function fail(message: string): never {
  throw new APIDefinitionError(message);
}

function version(crdName: string, v: unknown, i: number): ResourceVersion {
  if (!isNode(v)) fail(`CustomResourceDefinition ${crdName}: spec.versions[${i}] is not an object`);
  const name = str(v['name']) ?? fail(`CustomResourceDefinition ${crdName}: spec.versions[${i}] has no name`);
  const schema = isNode(v['schema']) ? v['schema']['openAPIV3Schema'] : undefined;
  if (!isNode(schema)) fail(`CustomResourceDefinition ${crdName}: version ${name} has no schema.openAPIV3Schema (kcp needs a structural schema for every version)`);
  const out: ResourceVersion = { name, served: v['served'] !== false, storage: v['storage'] === true, schema: structuredClone(schema) as OpenAPISchema };
  if (v['deprecated'] === true) out.deprecated = true;
  if (str(v['deprecationWarning'])) out.deprecationWarning = str(v['deprecationWarning'])!;
  if (isNode(v['subresources'])) {
    const sub: ResourceVersion['subresources'] = {};
    if (v['subresources']['status'] !== undefined) sub.status = {};
    const scale = v['subresources']['scale'];
    if (isNode(scale)) {
      sub.scale = {
        specReplicasPath: str(scale['specReplicasPath']) ?? fail(`CustomResourceDefinition ${crdName}: version ${name}: subresources.scale needs specReplicasPath`),
        statusReplicasPath: str(scale['statusReplicasPath']) ?? fail(`CustomResourceDefinition ${crdName}: version ${name}: subresources.scale needs statusReplicasPath`),
        ...(str(scale['labelSelectorPath']) ? { labelSelectorPath: str(scale['labelSelectorPath'])! } : {}),
      };
    }
    if (Object.keys(sub).length) out.subresources = sub;
  }
  if (Array.isArray(v['additionalPrinterColumns']) && v['additionalPrinterColumns'].length) {
    out.additionalPrinterColumns = structuredClone(v['additionalPrinterColumns']) as PrinterColumn[];
  }
  if (Array.isArray(v['selectableFields']) && v['selectableFields'].length) out.selectableFields = structuredClone(v['selectableFields']) as { jsonPath: string }[];
  return out;
}

function conversion(crdName: string, spec: Node, versions: number): APIResourceSchemaSpec['conversion'] {
  const c = spec['conversion'];
  if (!isNode(c) || c['strategy'] === undefined || c['strategy'] === 'None') return versions > 1 ? { strategy: 'None' } : undefined;
  const webhook = isNode(c['webhook']) ? c['webhook'] : {};
  const client = isNode(webhook['clientConfig']) ? webhook['clientConfig'] : {};
  if (!str(client['url'])) fail(`CustomResourceDefinition ${crdName}: a conversion webhook by service is not supported by kcp (give clientConfig.url, or strategy None)`);
  return { strategy: 'Webhook', webhook: structuredClone(webhook) as JsonValue };
}

/** Whether a parsed document is a CustomResourceDefinition (of any apiextensions version). */
export function isCRD(doc: unknown): boolean {
  return isNode(doc) && doc['kind'] === 'CustomResourceDefinition' && typeof doc['apiVersion'] === 'string' && doc['apiVersion'].startsWith('apiextensions.k8s.io/');
}

/**
 * The APIResourceSchema spec of an `apiextensions.k8s.io/v1` CustomResourceDefinition. Throws an
 * {@link APIDefinitionError} (one line) for what kcp cannot serve: another apiextensions version,
 * a version without schema, no or several storage versions, a conversion webhook by service.
 */
export function schemaSpecFromCRD(doc: unknown): APIResourceSchemaSpec {
  if (!isCRD(doc)) fail('not a CustomResourceDefinition (apiVersion apiextensions.k8s.io/v1, kind CustomResourceDefinition)');
  const crd = doc as Node;
  const meta = isNode(crd['metadata']) ? crd['metadata'] : {};
  const crdName = str(meta['name']) ?? '(unnamed)';
  if (crd['apiVersion'] !== 'apiextensions.k8s.io/v1') fail(`CustomResourceDefinition ${crdName}: ${String(crd['apiVersion'])} is not supported, convert it to apiextensions.k8s.io/v1`);
  const spec = isNode(crd['spec']) ? crd['spec'] : fail(`CustomResourceDefinition ${crdName} has no spec`);
  const names = isNode(spec['names']) ? spec['names'] : fail(`CustomResourceDefinition ${crdName} has no spec.names`);
  const group = str(spec['group']) ?? fail(`CustomResourceDefinition ${crdName} has no spec.group`);
  const kind = str(names['kind']) ?? fail(`CustomResourceDefinition ${crdName} has no spec.names.kind`);
  const plural = str(names['plural']) ?? fail(`CustomResourceDefinition ${crdName} has no spec.names.plural`);
  const scope = spec['scope'];
  if (scope !== 'Namespaced' && scope !== 'Cluster') fail(`CustomResourceDefinition ${crdName}: spec.scope must be Namespaced or Cluster`);
  const list = Array.isArray(spec['versions']) ? spec['versions'] : [];
  if (!list.length) fail(`CustomResourceDefinition ${crdName} has no versions`);
  const versions = list.map((v, i) => version(crdName, v, i));
  const storage = versions.filter((v) => v.storage).length;
  if (storage !== 1) fail(`CustomResourceDefinition ${crdName} has ${storage} storage versions; exactly one must be marked storage: true`);
  const out: APIResourceSchemaSpec = {
    group,
    names: {
      plural,
      singular: str(names['singular']) ?? kind.toLowerCase(),
      kind,
      listKind: str(names['listKind']) ?? `${kind}List`,
      ...(strings(names['shortNames']) ? { shortNames: strings(names['shortNames'])! } : {}),
      ...(strings(names['categories']) ? { categories: strings(names['categories'])! } : {}),
    },
    scope,
    versions,
  };
  const conv = conversion(crdName, spec, versions.length);
  if (conv) out.conversion = conv;
  return out;
}
