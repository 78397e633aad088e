/**
 * The kcp object shapes the virtual workspaces read: storage keys, label keys and hashes of
 * APIExports, APIBindings, APIResourceSchemas and LogicalClusters, plus the lookups over them.
 * Everything here reads stored objects only; the controllers that write them live in
 * `../apis` and `../tenancy`.
 */
import { createHash } from 'node:crypto';
import { resourceSchemaFromOpenAPI } from '../../builtins.js';
import { isObject } from '../../json.js';
import { LOGICAL_CLUSTERS } from '../../objects.js';
import type { Shard } from '../../shard.js';
import type { Topology } from '../../topology.js';
import { ALL_VERBS, type Json, type JsonObject, type KubeObject, type ResourceDef } from '../../types.js';

/** The apis.kcp.io group. */
export const APIS_GROUP = 'apis.kcp.io';
/** Storage key of APIExports (v1alpha2 is stored). */
export const EXPORTS = 'apis.kcp.io/apiexports';
/** Storage key of APIBindings (v1alpha2 is stored). */
export const BINDINGS = 'apis.kcp.io/apibindings';
/** Storage key of APIResourceSchemas. */
export const SCHEMAS = 'apis.kcp.io/apiresourceschemas';
/** Label on APIBindings: the hash of the export they point to. */
export const EXPORT_LABEL = 'internal.apis.kcp.io/export';
/** Prefix of the label that makes an object visible to a claiming export. */
export const CLAIM_LABEL_PREFIX = 'claimed.internal.apis.kcp.io/';
/** Phase label on Workspaces and LogicalClusters. */
export const PHASE_LABEL = 'tenancy.kcp.io/phase';
/** Prefix of the hashed initializer labels on LogicalClusters. */
export const INITIALIZER_LABEL_PREFIX = 'initializer.internal.kcp.io/';
/** Owner annotation a workspace's LogicalCluster carries (JSON user info). */
export const OWNER_ANNOTATION = 'experimental.tenancy.kcp.io/owner';

export { LOGICAL_CLUSTERS };

const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Go's `big.Int.Text(62)` of a big-endian byte string, as kcp encodes SHA-224 sums. */
export function base62(bytes: Buffer): string {
  let n = BigInt('0x' + (bytes.toString('hex') || '0'));
  if (n === 0n) return '0';
  let s = '';
  while (n > 0n) {
    s = BASE62[Number(n % 62n)]! + s;
    n /= 62n;
  }
  return s;
}

function sha224(s: string): Buffer {
  return createHash('sha224').update(s).digest();
}

/** base62(SHA-224("<cluster>:<export>")): the export label value and the claim label suffix. */
export function exportHash(exportClusterName: string, exportName: string): string {
  return base62(sha224(`${exportClusterName}:${exportName}`));
}

/** A permission claim as stored on an APIExport or APIBinding (v1alpha2). */
export interface Claim {
  group: string;
  resource: string;
  identityHash: string;
  verbs: string[];
  /** Binding claims only. */
  state?: string;
  /** Binding claims only: `{matchAll}` or a label selector. */
  selector?: JsonObject;
}

/**
 * The claim label value: base62(SHA-224) of the claim's JSON as Go marshals a v1alpha2
 * PermissionClaim with its verbs cleared, so that verb changes do not relabel objects.
 */
export function claimHash(c: Pick<Claim, 'group' | 'resource' | 'identityHash'>): string {
  const parts = [c.group ? `"group":${JSON.stringify(c.group)},` : '', `"resource":${JSON.stringify(c.resource)},"verbs":null`];
  if (c.identityHash) parts.push(`,"identityHash":${JSON.stringify(c.identityHash)}`);
  return base62(sha224(`{${parts.join('')}}`));
}

/** Storage key of a bound resource: objects of one group/resource and export identity. */
export function boundResourceStorage(group: string, resource: string, identityHash: string): string {
  return `${group || 'core'}/${resource}:${identityHash}`;
}

/** The hashed label `initializer.internal.kcp.io/<hash[0:35]>=<hash>` of an initializer name. */
export function initializerLabel(initializer: string): [string, string] {
  const h = createHash('sha224').update(initializer).digest('hex');
  return [INITIALIZER_LABEL_PREFIX + h.slice(0, 35), h];
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

function obj(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The claims of an export or binding (`spec.permissionClaims`). */
export function claimsOf(o: KubeObject): Claim[] {
  const list = obj(o['spec'])['permissionClaims'];
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((c) => {
    const out: Claim = { group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']), verbs: strings(c['verbs']) };
    if (typeof c['state'] === 'string') out.state = c['state'];
    if (isObject(c['selector'])) out.selector = c['selector'];
    return out;
  });
}

/** Whether two claims name the same group, resource and identity. */
export function sameClaim(a: Claim, b: Claim): boolean {
  return a.group === b.group && a.resource === b.resource && a.identityHash === b.identityHash;
}

/** `status.identityHash` of an APIExport ('' until the identity exists). */
export function identityOf(exp: KubeObject): string {
  return str(obj(exp['status'])['identityHash']);
}

const FALLBACK_STORAGE: Record<string, string> = { apiexports: EXPORTS, apibindings: BINDINGS, apiresourceschemas: SCHEMAS };

/**
 * The storage key of an apis.kcp.io resource as the registry serves it, so that the virtual
 * workspaces read whatever bucket the apis layer writes (the constants when it serves none).
 */
export function apisStorage(topo: Topology, resource: 'apiexports' | 'apibindings' | 'apiresourceschemas'): string {
  let known = storageMemo.get(topo);
  if (!known) storageMemo.set(topo, (known = new Map()));
  const hit = known.get(resource);
  if (hit) return hit;
  const d = topo.root.svc.registry.resourcesFor('root').find((r) => r.group === APIS_GROUP && r.resource === resource);
  // Remembered only once served: the apis layer may register its resources after this layer.
  if (d) known.set(resource, d.storage);
  return d?.storage ?? FALLBACK_STORAGE[resource]!;
}

const storageMemo = new WeakMap<Topology, Map<string, string>>();

/** An APIExport by its logical cluster name and name, on whichever shard holds it. */
export function findExport(topo: Topology, clusterName: string, exportName: string): KubeObject | undefined {
  return topo.shardOf(clusterName)?.store.get(apisStorage(topo, 'apiexports'), clusterName, '', exportName);
}

/** Every APIExport on every shard (the cache server's view, shared by all shards here). */
export function allExports(topo: Topology): KubeObject[] {
  const out: KubeObject[] = [];
  const storage = apisStorage(topo, 'apiexports');
  for (const s of topo.shards) out.push(...s.store.list(storage, { cluster: '*', namespace: '' }));
  return out;
}

/** The APIBindings of one logical cluster on one shard. */
export function bindingsOn(topo: Topology, shard: Shard, cluster: string): KubeObject[] {
  return shard.store.list(apisStorage(topo, 'apibindings'), { cluster, namespace: '' });
}

/** The binding in `cluster` that points at the export, Ready or not (kcp's binding authorizer lookup). */
export function bindingForExport(topo: Topology, shard: Shard, cluster: string, exportCluster: string, exportName: string): KubeObject | undefined {
  return bindingsOn(topo, shard, cluster).find((b) => {
    const ref = obj(obj(obj(b['spec'])['reference'])['export']);
    return str(ref['name']) === exportName && str(obj(b['status'])['apiExportClusterName']) === exportCluster;
  });
}

/** `status.boundResources[]` group/resource pairs of a binding. */
export function boundResourcesOf(b: KubeObject): { group: string; resource: string }[] {
  const list = obj(b['status'])['boundResources'];
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((r) => ({ group: str(r['group']), resource: str(r['resource']) }));
}

/** One exported resource of `spec.resources[]` (v1alpha2). */
export interface ExportedResource {
  group: string;
  name: string;
  schema: string;
}

/** `spec.resources[]` of an APIExport. */
export function exportedResources(exp: KubeObject): ExportedResource[] {
  const list = obj(exp['spec'])['resources'];
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((r) => ({ group: str(r['group']), name: str(r['name']), schema: str(r['schema']) }));
}

/** The served versions of an APIResourceSchema as resource definitions over `storage`. */
export function defsFromSchema(schema: KubeObject, storage: string): ResourceDef[] {
  const spec = obj(schema['spec']);
  const names = obj(spec['names']);
  const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isObject) : [];
  const out: ResourceDef[] = [];
  for (const v of versions) {
    if (v['served'] === false) continue;
    const d: ResourceDef = {
      group: str(spec['group']),
      version: str(v['name']),
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
    const shortNames = strings(names['shortNames']);
    const categories = strings(names['categories']);
    if (shortNames.length) d.shortNames = shortNames;
    if (categories.length) d.categories = categories;
    out.push(d);
  }
  return out;
}

/**
 * The definitions an export serves for its own resources: every served version of every schema it
 * references, over storage keyed by the export's identity. Schemas are looked up in the export's
 * logical cluster.
 */
export function resourceDefsForExport(topo: Topology, exp: KubeObject): ResourceDef[] {
  const cluster = exp.metadata.annotations?.['kcp.io/cluster'] ?? '';
  const shard = topo.shardOf(cluster);
  const identity = identityOf(exp);
  if (!shard || !identity) return [];
  const out: ResourceDef[] = [];
  for (const r of exportedResources(exp)) {
    const schema = shard.store.get(apisStorage(topo, 'apiresourceschemas'), cluster, '', r.schema);
    if (!schema) continue;
    out.push(...defsFromSchema(schema, boundResourceStorage(r.group, r.name, identity)));
  }
  return out;
}

/** The definitions of a resource claimed by identity: served by whichever export has that identity. */
export function claimedIdentityDefs(topo: Topology, c: Claim): ResourceDef[] {
  for (const exp of allExports(topo)) {
    if (identityOf(exp) !== c.identityHash) continue;
    const defs = resourceDefsForExport(topo, exp).filter((d) => d.group === c.group && d.resource === c.resource);
    if (defs.length) return defs;
  }
  return [];
}
