/**
 * APIBinding conversion between v1alpha1 and the stored v1alpha2, following kcp's
 * types_apibinding_conversion.go: v1alpha2 claims carry verbs and a selector, v1alpha1 claims
 * `all`/`resourceSelector`; whatever one side cannot hold is kept in `apis.v1alpha2.kcp.io/*`
 * annotations (spec and status alike) and restored on the way back.
 */
import type { Json, JsonObject, KubeObject } from '../../types.js';
import {
  V1ALPHA1_CLAIMS_ANNOTATION,
  annotationList,
  claimV1Json,
  claimV2Json,
  dropAnnotation,
  reorder,
  sameGRI,
  setAnnotation,
  wildcardVerbs,
} from './convert.js';
import { clone, obj, objs, str, strs } from './names.js';

/** v1alpha2 binding claims v1alpha1 cannot represent (verbs other than `*`, or a label selector). */
export const ACCEPTABLE_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/acceptable-permission-claims';
/** status.exportPermissionClaims v1alpha1 cannot represent. */
export const STATUS_EXPORT_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/status-export-permission-claims';
/** status.appliedPermissionClaims v1alpha1 cannot represent. */
export const STATUS_APPLIED_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/status-applied-permission-claims';
/** The original v1alpha1 status.exportPermissionClaims. */
export const V1ALPHA1_STATUS_EXPORT_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/v1alpha1-status-export-permission-claims';
/** The original v1alpha1 status.appliedPermissionClaims that had a resourceSelector. */
export const V1ALPHA1_STATUS_APPLIED_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/v1alpha1-status-applied-permission-claims';

function matchAll(c: JsonObject): boolean {
  return obj(c['selector'])['matchAll'] === true;
}

function emptySelector(c: JsonObject): boolean {
  const s = obj(c['selector']);
  return s['matchAll'] !== true && !Object.keys(obj(s['matchLabels'])).length && !objs(s['matchExpressions']).length;
}

/** v1alpha2 → v1alpha1 claim: group, resource and identity, `all` from `matchAll`. */
function downClaim(c: JsonObject, state: boolean): JsonObject {
  return claimV1Json({ group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']), all: matchAll(c), state: str(c['state']) }, state);
}

/** v1alpha1 → v1alpha2 claim: no verbs yet, `matchAll` from `all`. */
function upClaim(c: JsonObject, kind: 'acceptable' | 'scoped' | 'plain'): JsonObject {
  const base = { group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']), selector: { matchAll: c['all'] === true }, state: str(c['state']) };
  return claimV2Json(base, { selector: kind !== 'plain', state: kind === 'acceptable' });
}

/** Restores v1alpha1-only fields (`all`, `resourceSelector`) kept in an annotation onto v1alpha1 claims. */
function restoreV1(o: KubeObject, key: string, targets: JsonObject[], state: boolean): void {
  if (o.metadata.annotations?.[key] === undefined) return;
  for (const pc of annotationList(o.metadata, key)) {
    for (const c of targets) {
      if (!sameGRI(pc, c)) continue;
      c['all'] = pc['all'] === true;
      c['resourceSelector'] = objs(pc['resourceSelector']);
      reorder(c, claimV1Json(c, state));
    }
  }
  dropAnnotation(o, key);
}

/** Restores v1alpha2-only fields (verbs, selector) kept in an annotation onto v1alpha2 claims. */
function restoreV2(o: KubeObject, key: string, targets: JsonObject[], opts: { selector: boolean; state: boolean }): void {
  if (o.metadata.annotations?.[key] === undefined) return;
  for (const pc of annotationList(o.metadata, key)) {
    for (const c of targets) {
      if (!sameGRI(pc, c)) continue;
      c['verbs'] = pc['verbs'] ?? null;
      if (opts.selector) c['selector'] = obj(pc['selector']);
      reorder(c, claimV2Json(c, opts));
    }
  }
  dropAnnotation(o, key);
}

function statusCore(status: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of ['apiExportClusterName', 'boundResources', 'phase', 'conditions']) if (status[k] !== undefined) out[k] = status[k]!;
  return out;
}

/** Stored (v1alpha2) APIBinding → v1alpha1. */
export function bindingToV1(stored: KubeObject): KubeObject {
  const src = clone(stored);
  const out: KubeObject = { ...src, apiVersion: 'apis.kcp.io/v1alpha1' };
  const spec = obj(src['spec'] as Json);
  const claims = objs(spec['permissionClaims']);
  setAnnotation(out, ACCEPTABLE_CLAIMS_ANNOTATION, claims.filter((c) => !(wildcardVerbs(c) && matchAll(c))).map((c) => claimV2Json(c, { selector: true, state: true })));
  const outSpec: JsonObject = {};
  if (spec['reference'] !== undefined) outSpec['reference'] = spec['reference'];
  if (spec['permissionClaims'] !== undefined) outSpec['permissionClaims'] = claims.map((c) => downClaim(c, true));
  restoreV1(out, V1ALPHA1_CLAIMS_ANNOTATION, objs(outSpec['permissionClaims']), true);
  if (src['spec'] !== undefined) out['spec'] = outSpec;

  if (src['status'] !== undefined) {
    const status = obj(src['status'] as Json);
    const exported = objs(status['exportPermissionClaims']);
    const applied = objs(status['appliedPermissionClaims']);
    setAnnotation(out, STATUS_EXPORT_CLAIMS_ANNOTATION, exported.filter((c) => !wildcardVerbs(c)).map((c) => claimV2Json(c)));
    setAnnotation(out, STATUS_APPLIED_CLAIMS_ANNOTATION, applied.filter((c) => !(wildcardVerbs(c) && matchAll(c))).map((c) => claimV2Json(c, { selector: true })));
    const outStatus = statusCore(status);
    if (status['appliedPermissionClaims'] !== undefined) outStatus['appliedPermissionClaims'] = applied.map((c) => downClaim(c, false));
    if (status['exportPermissionClaims'] !== undefined) {
      outStatus['exportPermissionClaims'] = exported.map((c) => claimV1Json({ group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']) }));
    }
    restoreV1(out, V1ALPHA1_STATUS_EXPORT_CLAIMS_ANNOTATION, objs(outStatus['exportPermissionClaims']), false);
    restoreV1(out, V1ALPHA1_STATUS_APPLIED_CLAIMS_ANNOTATION, objs(outStatus['appliedPermissionClaims']), false);
    out['status'] = outStatus;
  }
  return out;
}

/** v1alpha1 APIBinding → stored v1alpha2. */
export function bindingToV2(v1: KubeObject): KubeObject {
  const src = clone(v1);
  const out: KubeObject = { ...src, apiVersion: 'apis.kcp.io/v1alpha2' };
  const spec = obj(src['spec'] as Json);
  const claims = objs(spec['permissionClaims']);
  const outSpec: JsonObject = {};
  if (spec['reference'] !== undefined) outSpec['reference'] = spec['reference'];
  if (spec['permissionClaims'] !== undefined) outSpec['permissionClaims'] = claims.map((c) => upClaim(c, 'acceptable'));
  setAnnotation(out, V1ALPHA1_CLAIMS_ANNOTATION, claims.filter((c) => objs(c['resourceSelector']).length > 0).map((c) => claimV1Json(c, true)));
  const specClaims = objs(outSpec['permissionClaims']);
  restoreV2(out, ACCEPTABLE_CLAIMS_ANNOTATION, specClaims, { selector: true, state: true });
  for (const c of specClaims) {
    if (!strs(c['verbs']).length) c['verbs'] = ['*'];
    // v1alpha1's resourceSelector always behaved as matchAll.
    if (emptySelector(c)) c['selector'] = { matchAll: true };
    reorder(c, claimV2Json(c, { selector: true, state: true }));
  }
  if (src['spec'] !== undefined) out['spec'] = outSpec;

  if (src['status'] !== undefined) {
    const status = obj(src['status'] as Json);
    const exported = objs(status['exportPermissionClaims']);
    const applied = objs(status['appliedPermissionClaims']);
    const outStatus = statusCore(status);
    if (status['appliedPermissionClaims'] !== undefined) outStatus['appliedPermissionClaims'] = applied.map((c) => upClaim(c, 'scoped'));
    if (status['exportPermissionClaims'] !== undefined) outStatus['exportPermissionClaims'] = exported.map((c) => upClaim(c, 'plain'));
    setAnnotation(out, V1ALPHA1_STATUS_EXPORT_CLAIMS_ANNOTATION, exported.map((c) => claimV1Json(c)));
    setAnnotation(out, V1ALPHA1_STATUS_APPLIED_CLAIMS_ANNOTATION, applied.filter((c) => objs(c['resourceSelector']).length > 0).map((c) => claimV1Json(c)));
    const outExported = objs(outStatus['exportPermissionClaims']);
    const outApplied = objs(outStatus['appliedPermissionClaims']);
    restoreV2(out, STATUS_EXPORT_CLAIMS_ANNOTATION, outExported, { selector: false, state: false });
    restoreV2(out, STATUS_APPLIED_CLAIMS_ANNOTATION, outApplied, { selector: true, state: false });
    for (const c of outExported) if (!strs(c['verbs']).length) c['verbs'] = ['*'];
    for (const c of outApplied) {
      if (!strs(c['verbs']).length) c['verbs'] = ['*'];
      if (emptySelector(c)) c['selector'] = { matchAll: true };
      reorder(c, claimV2Json(c, { selector: true }));
    }
    out['status'] = outStatus;
  }
  return out;
}
