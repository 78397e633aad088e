/**
 * kcp's binding authorizer of the APIExport virtual workspace (the fix of CVE-2025-29922) and the
 * claim-selector admission that runs there: a provider reaches into a logical cluster only through
 * an APIBinding to its export, only for bound resources or accepted claims within their verbs, and
 * only for objects its claim's selector covers.
 */
import { forbidden } from '../../http/errors.js';
import { isObject } from '../../json.js';
import type { AdmissionPlugin, UserInfo } from '../../api/objects.js';
import { labelSelectorFromMatch, matchesLabels, type LabelSelectorSpec } from '../../api/selectors.js';
import type { Shard } from '../../shards/shard.js';
import type { KubeObject } from '../../types.js';
import { claimCovers, type APISet } from './apiset.js';
import { APIS_GROUP, bindingForExport, boundResourcesOf, claimsOf, sameClaim, type Claim } from './kcp.js';
import { authzDenied, type RequestInfo } from './requestinfo.js';

/** Why the binding authorizer allowed a request. */
export interface BindingGrant {
  binding: KubeObject;
  /** The binding's accepted claim, when access comes from a claim. */
  claim?: Claim;
}

const READ_ONLY = ['get', 'list', 'watch'];

/** Whether a verb is in both verb lists, `*` standing for every verb. */
function verbGranted(verb: string, exportVerbs: string[], bindingVerbs: string[]): boolean {
  const has = (vs: string[]) => vs.includes(verb) || vs.includes('*');
  return has(exportVerbs) && has(bindingVerbs);
}

/**
 * Authorizes a request into one logical cluster (never `*`) through the export's VW, throwing kcp's
 * 403s. Non-resource requests (discovery) describe the export, not the cluster, and pass, as in kcp.
 */
export function authorizeBinding(
  shard: Shard,
  cluster: string,
  set: APISet,
  info: RequestInfo,
  user: UserInfo,
  path: string,
): BindingGrant | undefined {
  if (!info.resourceRequest) return undefined;
  const binding = bindingForExport(shard, cluster, set.exportCluster, set.exportName);
  if (!binding) throw authzDenied(user, info, path, 'could not find suitable APIBinding in target logical cluster');
  if (boundResourcesOf(binding).some((r) => r.group === info.group && r.resource === info.resource)) return { binding };
  const exportClaims = claimsOf(set.export);
  for (const c of claimsOf(binding)) {
    if (c.state !== 'Accepted' || !claimCovers(c, info.group, info.resource)) continue;
    const ec = exportClaims.find((e) => sameClaim(e, c));
    if (ec && verbGranted(info.verb, ec.verbs, c.verbs)) return { binding, claim: c };
  }
  if (info.group === APIS_GROUP && info.resource === 'apibindings') {
    if (READ_ONLY.includes(info.verb)) return { binding };
    throw authzDenied(user, info, path, 'write access to APIBinding is not allowed from virtual workspace');
  }
  throw authzDenied(user, info, path, 'failed to find suitable reason to allow access in APIBinding');
}

function selectorSpec(sel: Record<string, unknown>): LabelSelectorSpec {
  const spec: LabelSelectorSpec = {};
  if (isObject(sel['matchLabels'])) {
    spec.matchLabels = Object.fromEntries(Object.entries(sel['matchLabels']).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  if (Array.isArray(sel['matchExpressions'])) spec.matchExpressions = sel['matchExpressions'] as LabelSelectorSpec['matchExpressions'];
  return spec;
}

/**
 * The VW admission of claimed objects under a label-selector claim (kcp's `selectorAdmission`):
 * creates and updates get the selector's `matchLabels` filled in (a different value is a protected
 * label, 403), and every write must leave the object inside the selector (403). `matchExpressions`
 * are checked, never filled in, as kcp does.
 */
export function selectorAdmission(grant: BindingGrant | undefined): AdmissionPlugin | undefined {
  const claim = grant?.claim;
  const sel = claim?.selector;
  if (!claim || !sel || sel['matchAll'] === true) return undefined;
  const spec = selectorSpec(sel);
  const selector = labelSelectorFromMatch(spec);
  return (op, _ctx, def, obj, old) => {
    if (!claimCovers(claim, def.group, def.resource)) return;
    const name = obj.metadata.name ?? old?.metadata.name ?? '';
    let out: KubeObject | undefined;
    if (op !== 'DELETE' && spec.matchLabels) {
      const labels = { ...(obj.metadata.labels ?? {}) };
      for (const [k, v] of Object.entries(spec.matchLabels)) {
        if (labels[k] === undefined) labels[k] = v;
        else if (labels[k] !== v) throw forbidden(def.resource, def.group, name, `protected label ${k} must have value ${v}`);
      }
      out = { ...obj, metadata: { ...obj.metadata, labels } };
    }
    const subject = op === 'DELETE' ? (old ?? obj) : (out ?? obj);
    if (!matchesLabels(selector, subject.metadata.labels)) throw forbidden(def.resource, def.group, name, 'object does not match required labels');
    return out;
  };
}
