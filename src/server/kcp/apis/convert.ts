/**
 * APIExport conversion between v1alpha1 and the stored v1alpha2, as kcp's
 * types_apiexport_conversion.go does it: what one version cannot represent travels in
 * `apis.v1alpha2.kcp.io/*` annotations, JSON-encoded in Go's field order, and is restored on the
 * way back, so a write in either version reads back the same in that version.
 */
import { invalid, cause } from '../../http/errors.js';
import type { Json, JsonObject, KubeObject } from '../../types.js';
import { clone, obj, objs, str, strs } from './names.js';

/** Non-CRD resource schemas of a v1alpha2 export, kept while it is viewed as v1alpha1. */
export const RESOURCE_SCHEMAS_ANNOTATION = 'apis.v1alpha2.kcp.io/resource-schemas';
/** v1alpha2 claims v1alpha1 cannot represent (verbs other than `*`). */
export const PERMISSION_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/permission-claims';
/** The original v1alpha1 claims (`all`, `resourceSelector`) of an object written as v1alpha1. */
export const V1ALPHA1_CLAIMS_ANNOTATION = 'apis.v1alpha2.kcp.io/v1alpha1-permission-claims';

// ---------------------------------------------------------------------------------------------
// Go-ordered JSON of the claim shapes, so annotation values match what kcp writes byte for byte.

function put(out: JsonObject, key: string, v: Json | undefined, omitEmpty: boolean): void {
  if (v === undefined) return;
  if (omitEmpty && (v === '' || v === false || (Array.isArray(v) && v.length === 0))) return;
  out[key] = v;
}

/** metav1.LabelSelector plus `matchAll` (PermissionClaimSelector), in Go field order. */
export function selectorJson(s: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (Object.keys(obj(s['matchLabels'])).length) out['matchLabels'] = s['matchLabels']!;
  if (objs(s['matchExpressions']).length) out['matchExpressions'] = s['matchExpressions']!;
  put(out, 'matchAll', s['matchAll'] === true ? true : undefined, true);
  return out;
}

/** A v1alpha2 PermissionClaim (plus `selector`/`state` for binding claims), in Go field order. */
export function claimV2Json(c: JsonObject, extra: { selector?: boolean; state?: boolean } = {}): JsonObject {
  const out: JsonObject = {};
  put(out, 'group', str(c['group']), true);
  out['resource'] = str(c['resource']);
  out['verbs'] = Array.isArray(c['verbs']) ? strs(c['verbs']) : null;
  put(out, 'identityHash', str(c['identityHash']), true);
  if (Object.keys(obj(c['defaultSelector'])).length) out['defaultSelector'] = selectorJson(obj(c['defaultSelector']));
  if (extra.selector) out['selector'] = selectorJson(obj(c['selector']));
  if (extra.state) out['state'] = str(c['state']);
  return out;
}

/** A v1alpha1 PermissionClaim (plus `state` for binding claims), in Go field order. */
export function claimV1Json(c: JsonObject, state = false): JsonObject {
  const out: JsonObject = {};
  put(out, 'group', str(c['group']), true);
  out['resource'] = str(c['resource']);
  put(out, 'all', c['all'] === true, true);
  const sel = objs(c['resourceSelector']).map((r) => {
    const s: JsonObject = {};
    put(s, 'name', str(r['name']), true);
    put(s, 'namespace', str(r['namespace']), true);
    return s as Json;
  });
  put(out, 'resourceSelector', sel, true);
  put(out, 'identityHash', str(c['identityHash']), true);
  if (state) out['state'] = str(c['state']);
  return out;
}

/** Whether two claims name the same group, resource and identity (kcp's EqualGRI). */
export function sameGRI(a: JsonObject, b: JsonObject): boolean {
  return str(a['group']) === str(b['group']) && str(a['resource']) === str(b['resource']) && str(a['identityHash']) === str(b['identityHash']);
}

/** Whether verbs are exactly `["*"]`. */
export function wildcardVerbs(c: JsonObject): boolean {
  const v = strs(c['verbs']);
  return v.length === 1 && v[0] === '*';
}

/** Reads a JSON annotation holding a list, or [] when absent. */
export function annotationList(meta: { annotations?: Record<string, string> }, key: string): JsonObject[] {
  const raw = meta.annotations?.[key];
  if (raw === undefined) return [];
  try {
    return objs(JSON.parse(raw) as Json);
  } catch {
    throw invalid('APIExport', 'apis.kcp.io', '', [cause('FieldValueInvalid', `metadata.annotations[${key}]`, 'Invalid value: failed to decode from JSON')]);
  }
}

/** Sets (or, with an empty list, leaves out) a JSON annotation. */
export function setAnnotation(o: KubeObject, key: string, list: Json[]): void {
  if (!list.length) return;
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [key]: JSON.stringify(list) };
}

/** Deletes an annotation and drops an emptied annotation map, as kcp does for equality's sake. */
export function dropAnnotation(o: KubeObject, key: string): void {
  if (!o.metadata.annotations) return;
  delete o.metadata.annotations[key];
  if (Object.keys(o.metadata.annotations).length === 0) delete o.metadata.annotations;
}

function copyCommonSpec(from: JsonObject, to: JsonObject): void {
  if (from['identity'] !== undefined) to['identity'] = from['identity'];
  if (from['maximalPermissionPolicy'] !== undefined) to['maximalPermissionPolicy'] = from['maximalPermissionPolicy'];
}

/** Puts the converted spec on `out`, leaving it out only when the source had none and it is empty. */
function finishSpec(out: KubeObject, hadSpec: boolean, spec: JsonObject): KubeObject {
  if (hadSpec || Object.keys(spec).length) out['spec'] = spec;
  else delete out['spec'];
  return out;
}

/** Stored (v1alpha2) APIExport → v1alpha1. */
export function exportToV1(stored: KubeObject): KubeObject {
  const src = clone(stored);
  const spec = obj(src['spec'] as Json);
  const resources = objs(spec['resources']);
  const claims = objs(spec['permissionClaims']);
  const out: KubeObject = { ...src, apiVersion: 'apis.kcp.io/v1alpha1' };
  const outSpec: JsonObject = {};
  const overhangingRS: Json[] = [];
  const latest: Json[] = [];
  resources.forEach((r, index) => {
    if (isObjectStorage(r, 'crd')) latest.push(str(r['schema']));
    else overhangingRS.push({ ...resourceSchemaJson(r), index });
  });
  setAnnotation(out, RESOURCE_SCHEMAS_ANNOTATION, overhangingRS);
  setAnnotation(out, PERMISSION_CLAIMS_ANNOTATION, claims.filter((c) => !wildcardVerbs(c)).map((c) => claimV2Json(c)));
  copyCommonSpec(spec, outSpec);
  if (spec['permissionClaims'] !== undefined) outSpec['permissionClaims'] = claims.map((c) => claimV1Json(c));
  if (latest.length) outSpec['latestResourceSchemas'] = latest;
  const original = annotationList(src.metadata, V1ALPHA1_CLAIMS_ANNOTATION);
  if (src.metadata.annotations?.[V1ALPHA1_CLAIMS_ANNOTATION] !== undefined) {
    for (const pc of original) {
      for (const c of objs(outSpec['permissionClaims'])) {
        if (!sameGRI(pc, c)) continue;
        if (pc['all'] === true) c['all'] = true;
        else delete c['all'];
        if (objs(pc['resourceSelector']).length) c['resourceSelector'] = pc['resourceSelector']!;
        else delete c['resourceSelector'];
        reorder(c, claimV1Json(c));
      }
    }
    dropAnnotation(out, V1ALPHA1_CLAIMS_ANNOTATION);
  }
  return finishSpec(out, src['spec'] !== undefined, outSpec);
}

/** v1alpha1 APIExport → stored v1alpha2. */
export function exportToV2(v1: KubeObject): KubeObject {
  const src = clone(v1);
  const spec = obj(src['spec'] as Json);
  const out: KubeObject = { ...src, apiVersion: 'apis.kcp.io/v1alpha2' };
  const outSpec: JsonObject = {};
  copyCommonSpec(spec, outSpec);
  const v1Claims = objs(spec['permissionClaims']);
  if (spec['permissionClaims'] !== undefined) {
    outSpec['permissionClaims'] = v1Claims.map((c) => claimV2Json({ group: str(c['group']), resource: str(c['resource']), identityHash: str(c['identityHash']) }));
  }
  if (spec['latestResourceSchemas'] !== undefined) {
    outSpec['resources'] = strs(spec['latestResourceSchemas']).map((name, i) => {
      const parts = name.split('.');
      if (parts.length < 3) {
        throw invalid('APIExport', 'apis.kcp.io', src.metadata.name ?? '', [
          cause('FieldValueInvalid', `spec.latestResourceSchemas[${i}]`, `Invalid value: "${name}": must have at least 3 dot-separated segments`),
        ]);
      }
      const group = parts.slice(2).join('.');
      return { name: parts[1]!, group: group === 'core' ? '' : group, schema: name, storage: { crd: {} } };
    });
  }
  setAnnotation(out, V1ALPHA1_CLAIMS_ANNOTATION, v1Claims.map((c) => claimV1Json(c)));
  if (src.metadata.annotations?.[RESOURCE_SCHEMAS_ANNOTATION] !== undefined) {
    const resources = objs(outSpec['resources']);
    for (const r of annotationList(src.metadata, RESOURCE_SCHEMAS_ANNOTATION)) {
      const index = r['index'];
      const schema = resourceSchemaJson(r);
      if (typeof index === 'number' && index <= resources.length) resources.splice(index, 0, schema);
      else resources.push(schema);
    }
    if (resources.length) outSpec['resources'] = resources;
    dropAnnotation(out, RESOURCE_SCHEMAS_ANNOTATION);
  }
  if (src.metadata.annotations?.[PERMISSION_CLAIMS_ANNOTATION] !== undefined) {
    for (const pc of annotationList(src.metadata, PERMISSION_CLAIMS_ANNOTATION)) {
      for (const c of objs(outSpec['permissionClaims'])) {
        if (!sameGRI(pc, c)) continue;
        c['verbs'] = pc['verbs'] ?? null;
        if (pc['defaultSelector'] !== undefined) c['defaultSelector'] = pc['defaultSelector'];
        reorder(c, claimV2Json(c));
      }
    }
    dropAnnotation(out, PERMISSION_CLAIMS_ANNOTATION);
  }
  for (const c of objs(outSpec['permissionClaims'])) if (!strs(c['verbs']).length) c['verbs'] = ['*'];
  return finishSpec(out, src['spec'] !== undefined, outSpec);
}

function isObjectStorage(r: JsonObject, kind: 'crd' | 'virtual'): boolean {
  const storage = obj(r['storage']);
  // kubebuilder defaults an absent storage to {crd: {}}.
  if (kind === 'crd') return storage['crd'] !== undefined || storage['virtual'] === undefined;
  return storage['virtual'] !== undefined;
}

function resourceSchemaJson(r: JsonObject): JsonObject {
  return { name: str(r['name']), group: str(r['group']), schema: str(r['schema']), storage: obj(r['storage']) };
}

/** Rewrites `target` in place with the key order (and values) of `ordered`. */
export function reorder(target: JsonObject, ordered: JsonObject): void {
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, ordered);
}
