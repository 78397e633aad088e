/**
 * Permission claims (kcp's pkg/permissionclaim labeler and the mutating PermissionClaims
 * admission plugin): which claim labels an object in a consumer workspace must carry, given the
 * accepted claims of the APIBindings there, and the admission plugin that puts and removes them on
 * every create and update. Also the effective (verb-intersected) claims the virtual workspace uses.
 */
import { labelSelectorFromMatch, matchesLabels, type LabelSelectorSpec } from '../../api/selectors.js';
import type { AdmissionPlugin } from '../../api/objects.js';
import type { Topology } from '../../shards/topology.js';
import type { JsonObject, KubeObject, ResourceDef } from '../../types.js';
import { bindingRef, bindingsFor, findExport, resolveRefCluster } from './lookup.js';
import {
  BINDINGS,
  CLAIM_LABEL_PREFIX,
  REFLEXIVE_CLAIM_VALUE,
  claimLabel,
  clusterOf,
  exportHash,
  isBoundStorage,
  obj,
  objs,
  specOf,
  statusOf,
  str,
  strs,
  type ClaimKey,
} from './names.js';

/** A claim of a binding as the controllers and the virtual workspace use it. */
export interface EffectiveClaim extends ClaimKey {
  identityHash: string;
  /** Export verbs ∩ binding verbs (`*` matches everything). */
  verbs: string[];
  /** `{matchAll: true}` or a label selector. */
  selector: JsonObject;
  /** The claim label this claim puts on selected objects. */
  label: [string, string];
}

/** The verbs both sides grant; `*` on one side yields the other side. */
export function intersectVerbs(a: readonly string[], b: readonly string[]): string[] {
  if (a.includes('*')) return [...b];
  if (b.includes('*')) return [...a];
  return a.filter((v) => b.includes(v));
}

/** A claim's group/resource/identity key. */
export function claimKeyOf(c: JsonObject): ClaimKey & { identityHash: string } {
  return { group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']) };
}

/** Whether two claims name the same group, resource and identity. */
export function sameClaim(a: ClaimKey, b: ClaimKey): boolean {
  return a.group === b.group && a.resource === b.resource && (a.identityHash ?? '') === (b.identityHash ?? '');
}

/** The export a binding points at: its cluster name and stored object, when both are known. */
export function exportOfBinding(topo: Topology, b: KubeObject): { cluster: string; name: string; export: KubeObject } | undefined {
  const ref = bindingRef(b);
  const cluster = str(statusOf(b)['apiExportClusterName']) || resolveRefCluster(topo, clusterOf(b), ref);
  if (!cluster) return undefined;
  const exp = findExport(topo, cluster, ref.name);
  return exp ? { cluster, name: ref.name, export: exp } : undefined;
}

/** The accepted claims of a binding (`spec.permissionClaims[]` with state Accepted). */
export function acceptedClaimsOf(b: KubeObject): JsonObject[] {
  return objs(specOf(b)['permissionClaims']).filter((c) => str(c['state']) === 'Accepted');
}

/**
 * The claims a binding grants its export: accepted by the binding and requested by the export, with
 * the verbs both allow. This is what the APIExport virtual workspace may serve for that cluster.
 */
export function effectiveClaims(topo: Topology, b: KubeObject): EffectiveClaim[] {
  const target = exportOfBinding(topo, b);
  if (!target) return [];
  const requested = objs(specOf(target.export)['permissionClaims']);
  const out: EffectiveClaim[] = [];
  for (const c of acceptedClaimsOf(b)) {
    const key = claimKeyOf(c);
    const asked = requested.find((r) => sameClaim(claimKeyOf(r), key));
    if (!asked) continue;
    out.push({ ...key, verbs: intersectVerbs(strs(asked['verbs']), strs(c['verbs'])), selector: obj(c['selector']), label: claimLabel(target.cluster, target.name, key) });
  }
  return out;
}

/** Events of both groups are one claimable resource, labelled as core events (kcp normalises them). */
function normalGR(group: string, resource: string): string {
  return resource === 'events' && (group === '' || group === 'events.k8s.io') ? '/events' : `${group}/${resource}`;
}

/** Whether a claim covers objects stored under `def` (same group/resource, same identity). */
export function claimCovers(c: ClaimKey, def: ResourceDef): boolean {
  if (normalGR(c.group, c.resource) !== normalGR(def.group, def.resource)) return false;
  if (c.identityHash) return def.storage.endsWith(`:${c.identityHash}`);
  return !isBoundStorage(def.storage);
}

/** Whether a claim's selector selects an object with these labels. */
export function selectorSelects(selector: JsonObject, labels: Record<string, string> | undefined): boolean {
  if (selector['matchAll'] === true) return true;
  const spec: LabelSelectorSpec = {};
  if (Object.keys(obj(selector['matchLabels'])).length) spec.matchLabels = obj(selector['matchLabels']) as Record<string, string>;
  if (objs(selector['matchExpressions']).length) spec.matchExpressions = objs(selector['matchExpressions']) as unknown as LabelSelectorSpec['matchExpressions'];
  if (!spec.matchLabels && !spec.matchExpressions) return false;
  try {
    return matchesLabels(labelSelectorFromMatch(spec), labels);
  } catch {
    return false;
  }
}

/**
 * The claim labels an object must carry: one per accepted claim (of any binding in the cluster)
 * that covers its resource and selects it, plus the reflexive label of an APIBinding on its own
 * export's key when nothing else claims it.
 */
export function claimLabelsFor(topo: Topology, cluster: string, def: ResourceDef, o: KubeObject): Record<string, string> {
  const labels: Record<string, string> = {};
  const bindings = bindingsFor(topo, cluster);
  for (const b of bindings) {
    const accepted = acceptedClaimsOf(b).filter((c) => claimCovers(claimKeyOf(c), def));
    if (!accepted.length) continue;
    const target = exportOfBinding(topo, b);
    if (!target) continue;
    for (const c of accepted) {
      if (!selectorSelects(obj(c['selector']), o.metadata.labels)) continue;
      const [k, v] = claimLabel(target.cluster, target.name, claimKeyOf(c));
      labels[k] = v;
    }
  }
  if (def.storage === BINDINGS) {
    const ref = bindingRef(o);
    const exportCluster = resolveRefCluster(topo, cluster, ref);
    if (exportCluster && findExport(topo, exportCluster, ref.name)) {
      const k = CLAIM_LABEL_PREFIX + exportHash(exportCluster, ref.name);
      labels[k] ??= REFLEXIVE_CLAIM_VALUE;
    }
  }
  return labels;
}

/** The mutating admission plugin: sets the expected claim labels and drops stale ones. */
export function claimsAdmission(topo: Topology): AdmissionPlugin {
  return (op, ctx, def, o) => {
    if (op === 'DELETE' || ctx.cluster === '*') return;
    const current = o.metadata.labels ?? {};
    const hasClaimLabels = Object.keys(current).some((k) => k.startsWith(CLAIM_LABEL_PREFIX));
    if (!hasClaimLabels && def.storage !== BINDINGS && bindingsFor(topo, ctx.cluster).length === 0) return;
    const expected = claimLabelsFor(topo, ctx.cluster, def, o);
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(current)) if (!k.startsWith(CLAIM_LABEL_PREFIX) || k in expected) next[k] = v;
    Object.assign(next, expected);
    if (Object.keys(next).length) o.metadata.labels = next;
    else delete o.metadata.labels;
    return o;
  };
}
