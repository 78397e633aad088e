/**
 * Read-only lookups over stored apis.kcp.io objects across shards: exports by cluster name or
 * path, bindings of a cluster, schemas, and the resource definitions an export's schemas produce
 * (storage keyed by the export's identity). Controllers here and the virtual workspaces share them.
 */
import { resourceSchemaFromOpenAPI } from '../../api/builtins.js';
import { compileSchema } from '../../cel/index.js';
import { selectableFieldLabels } from '../../api/fieldlabels.js';
import { isObject } from '../../json.js';
import type { Topology } from '../../shards/topology.js';
import { ALL_VERBS, type JsonObject, type KubeObject, type PrinterColumn, type ResourceDef } from '../../types.js';
import {
  BINDINGS,
  EXPORTS,
  SCHEMAS,
  boundResourceStorage,
  clusterOf,
  isBoundStorage,
  obj,
  objs,
  specOf,
  statusOf,
  str,
  strs,
  type ClaimKey,
} from './names.js';
import { APIS_DEFS } from './resources.js';

/** An APIExport by its logical cluster name and name (stored v1alpha2 form), on whichever shard holds it. */
export function findExport(topo: Topology, clusterName: string, exportName: string): KubeObject | undefined {
  return topo.shardOf(clusterName)?.store.get(EXPORTS, clusterName, '', exportName);
}

/** Every APIExport on every shard. */
export function allExports(topo: Topology): KubeObject[] {
  return topo.shards.flatMap((s) => s.store.list(EXPORTS, { cluster: '*', namespace: '' }));
}

/** An APIResourceSchema by logical cluster name and name. */
export function findSchema(topo: Topology, clusterName: string, name: string): KubeObject | undefined {
  return topo.shardOf(clusterName)?.store.get(SCHEMAS, clusterName, '', name);
}

/** The APIBindings of one logical cluster (stored v1alpha2 form). */
export function bindingsFor(topo: Topology, cluster: string): KubeObject[] {
  return topo.shardOf(cluster)?.store.list(BINDINGS, { cluster, namespace: '' }) ?? [];
}

/** `spec.reference.export` of a binding or `spec.export` of an endpoint slice. */
export interface ExportRef {
  path: string;
  name: string;
}

/** The export reference of an APIBinding. */
export function bindingRef(b: KubeObject): ExportRef {
  const e = obj(obj(specOf(b)['reference'])['export']);
  return { path: str(e['path']), name: str(e['name']) };
}

/**
 * The logical cluster an export reference points into: an empty path is the referring object's own
 * cluster, anything else is resolved like `/clusters/<path>` (a name or a workspace path).
 */
export function resolveRefCluster(topo: Topology, ownCluster: string, ref: ExportRef): string | undefined {
  return ref.path ? topo.resolve(ref.path) : ownCluster;
}

/** `status.identityHash` of an export ('' until its identity exists). */
export function identityOf(exp: KubeObject): string {
  return str(statusOf(exp)['identityHash']);
}

/** `spec.resources[]` of a stored export: group, plural name and schema name (CRD storage only). */
export function exportedResources(exp: KubeObject): { group: string; name: string; schema: string }[] {
  return objs(specOf(exp)['resources'])
    .filter((r) => obj(r['storage'])['virtual'] === undefined)
    .map((r) => ({ group: str(r['group']), name: str(r['name']), schema: str(r['schema']) }));
}

const defCache = new Map<string, ResourceDef[]>();

function printerColumns(version: JsonObject): PrinterColumn[] | undefined {
  const cols = objs(version['additionalPrinterColumns']);
  if (!cols.length) return undefined;
  const types = ['string', 'integer', 'number', 'boolean', 'date'] as const;
  return cols.map((c) => {
    const t = str(c['type']);
    const col: PrinterColumn = { name: str(c['name']), type: (types as readonly string[]).includes(t) ? (t as PrinterColumn['type']) : 'string', jsonPath: str(c['jsonPath']) };
    if (typeof c['priority'] === 'number') col.priority = c['priority'];
    if (str(c['format'])) col.format = str(c['format']);
    if (str(c['description'])) col.description = str(c['description']);
    return col;
  });
}

/**
 * The served versions of an APIResourceSchema as resource definitions over `storage`. Versions other
 * than the storage version convert by rewriting apiVersion only (conversion strategy None).
 * Definitions are cached per schema UID and storage: schemas are immutable.
 */
export function defsFromSchema(schema: KubeObject, storage: string): ResourceDef[] {
  const key = `${schema.metadata.uid ?? ''}|${schema.metadata.resourceVersion ?? ''}|${storage}`;
  const cached = defCache.get(key);
  if (cached) return cached;
  const spec = specOf(schema);
  const names = obj(spec['names']);
  const group = str(spec['group']);
  const versions = objs(spec['versions']);
  const storageVersion = str(versions.find((v) => v['storage'] === true)?.['name']);
  const gv = (v: string): string => (group ? `${group}/${v}` : v);
  const out: ResourceDef[] = [];
  for (const v of versions) {
    if (v['served'] === false) continue;
    const version = str(v['name']);
    const d: ResourceDef = {
      group,
      version,
      resource: str(names['plural']),
      singular: str(names['singular']) || str(names['kind']).toLowerCase(),
      kind: str(names['kind']),
      listKind: str(names['listKind']) || `${str(names['kind'])}List`,
      namespaced: str(spec['scope']) !== 'Cluster',
      verbs: [...ALL_VERBS],
      statusSubresource: isObject(obj(v['subresources'])['status']),
      builtin: false,
      schema: resourceSchemaFromOpenAPI(v['schema'] ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
      storage,
    };
    // Rules that fail to compile were refused when the schema was created; a stored one keeps the rest.
    const { ruleSet } = compileSchema(v['schema'], '');
    if (ruleSet.rules.size > 0) d.rules = ruleSet;
    const shortNames = strs(names['shortNames']);
    const categories = strs(names['categories']);
    if (shortNames.length) d.shortNames = shortNames;
    if (categories.length) d.categories = categories;
    const cols = printerColumns(v);
    if (cols) d.printerColumns = cols;
    const selectable = objs(v['selectableFields']).map((f) => str(f['jsonPath'])).filter(Boolean);
    if (selectable.length) d.fieldLabels = selectableFieldLabels(selectable);
    if (storageVersion && version !== storageVersion) {
      d.conversion = {
        fromStorage: (o) => ({ ...o, apiVersion: gv(version) }),
        toStorage: (o) => ({ ...o, apiVersion: gv(storageVersion) }),
      };
    }
    out.push(Object.freeze(d));
  }
  if (defCache.size > 10_000) defCache.clear();
  defCache.set(key, out);
  return out;
}

/**
 * The resource definitions an export serves for its own resources: every served version of every
 * schema it references, over storage keyed by the export's identity. Empty until the export has an
 * identity. Schemas are looked up in the export's logical cluster.
 */
export function resourceDefsForExport(topo: Topology, exp: KubeObject): ResourceDef[] {
  const cluster = clusterOf(exp);
  const identity = identityOf(exp);
  if (!identity) return [];
  const out: ResourceDef[] = [];
  for (const r of exportedResources(exp)) {
    const schema = findSchema(topo, cluster, r.schema);
    if (schema) out.push(...defsFromSchema(schema, boundResourceStorage(r.group, r.name, identity)));
  }
  return out;
}

function isEvents(c: ClaimKey): boolean {
  return c.resource === 'events' && (c.group === '' || c.group === 'events.k8s.io');
}

/**
 * The resource definitions a permission claim covers: a resource of another export when the claim
 * names an identity, else a built-in or kcp resource. A claim on `events` of either group covers
 * both core/v1 and events.k8s.io/v1 events, as in kcp's virtual workspace.
 */
export function claimedResourceDefs(topo: Topology, claim: ClaimKey): ResourceDef[] {
  if (claim.identityHash) {
    for (const exp of allExports(topo)) {
      if (identityOf(exp) !== claim.identityHash) continue;
      const defs = resourceDefsForExport(topo, exp).filter((d) => d.group === claim.group && d.resource === claim.resource);
      if (defs.length) return defs;
    }
    return [];
  }
  const builtins = topo.root.svc.registry.resourcesFor('root').filter((d) => !isBoundStorage(d.storage));
  const all = [...builtins, ...APIS_DEFS.filter((d) => !builtins.includes(d))];
  const seen = new Set<ResourceDef>();
  return all.filter((d) => {
    const hit = isEvents(claim) ? isEvents(d) : d.group === claim.group && d.resource === claim.resource;
    if (!hit || seen.has(d)) return false;
    seen.add(d);
    return true;
  });
}

/** The preferred definition a permission claim covers (see `claimedResourceDefs`), if any. */
export function claimedResourceDef(topo: Topology, claim: ClaimKey): ResourceDef | undefined {
  const defs = claimedResourceDefs(topo, claim);
  return defs.find((d) => d.group === claim.group && !d.conversion) ?? defs[0];
}
