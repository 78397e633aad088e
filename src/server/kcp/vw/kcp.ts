/**
 * What the virtual workspaces read of the kcp objects: the apis.kcp.io and tenancy names, hashes and
 * lookups of the layers that write them, plus the few readers only a VW needs (claims with their
 * state and selector, and the binding authorizer's lookup on one shard).
 */
import { BINDINGS, objs, specOf, statusOf, str, strs, obj } from '../apis/index.js';
import type { Shard } from '../../shards/shard.js';
import type { JsonObject, KubeObject } from '../../types.js';

export {
  APIS_GROUP,
  BINDINGS,
  BINDING_DEF,
  BINDING_V1_DEF,
  CLAIM_LABEL_PREFIX,
  EXPORTS,
  EXPORT_LABEL,
  SCHEMAS,
  boundResourcesOf,
  claimHash,
  claimedResourceDefs,
  exportHash,
  findExport,
  identityOf,
  isBoundStorage,
  resourceDefsForExport,
  sameClaim,
} from '../apis/index.js';
export { PHASE_LABEL, initializerLabel } from '../tenancy/index.js';
export { OWNER_ANNOTATION } from '../tenancy/names.js';

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

/** The claims of an export or binding (`spec.permissionClaims`). */
export function claimsOf(o: KubeObject): Claim[] {
  return objs(specOf(o)['permissionClaims']).map((c) => {
    const out: Claim = { group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']), verbs: strs(c['verbs']) };
    if (typeof c['state'] === 'string') out.state = c['state'];
    if (c['selector'] !== undefined) out.selector = obj(c['selector']);
    return out;
  });
}

/**
 * The binding in `cluster` that points at the export, in any phase (kcp's binding authorizer
 * lookup: `spec.reference.export.name` and `status.apiExportClusterName`). Only the shard the VW
 * runs on is consulted: each shard's VW serves its own logical clusters.
 */
export function bindingForExport(shard: Shard, cluster: string, exportCluster: string, exportName: string): KubeObject | undefined {
  return shard.store.list(BINDINGS, { cluster, namespace: '' }).find((b) => {
    const ref = obj(obj(specOf(b)['reference'])['export']);
    return str(ref['name']) === exportName && str(statusOf(b)['apiExportClusterName']) === exportCluster;
  });
}
