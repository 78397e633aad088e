/**
 * Admission for the apis.kcp.io kinds, as kcp's plugins do it: APIResourceSchema validation
 * (403 from admission, 422 where kcp's CRD schema or CEL rules answer), the `kcp.io/path`
 * annotation on APIExports and APIBindings, APIBinding defaulting and the bind check (403 for a
 * missing export), immutable references, and the refusal of creates into a resource whose
 * APIBinding is being deleted.
 */
import { rbacAllows } from '../../auth.js';
import { ApiError, cause, forbidden, invalid, type StatusCause } from '../../errors.js';
import { deepEqual } from '../../json.js';
import type { AdmissionPlugin, RequestContext } from '../../objects.js';
import type { Topology } from '../../topology.js';
import type { JsonObject, KubeObject, ResourceDef } from '../../types.js';
import { bindingRef, findExport, resolveRefCluster } from './lookup.js';
import {
  APIS_GROUP,
  BINDINGS,
  BINDING_FINALIZER,
  EXPORTS,
  EXPORT_LABEL,
  PATH_ANNOTATION,
  SCHEMAS,
  SLICES,
  boundResourceStorage,
  exportHash,
  isBoundStorage,
  obj,
  objs,
  specOf,
  statusOf,
  str,
} from './names.js';
import { VERSION_PATTERN } from './schemas.js';
import { boundResourcesOf } from './served.js';
import { structuralSchemaErrors } from './structural.js';

/** A Go-style field error line, as kcp's admission plugins print them inside their 403s. */
function fieldError(field: string, message: string): StatusCause {
  return cause('FieldValueInvalid', field, message);
}

/** kcp's `admission.NewForbidden(a, fmt.Errorf("%v", errs))`: 403 with the error list in brackets. */
function forbiddenList(def: ResourceDef, name: string, errs: StatusCause[]): ApiError {
  const e = forbidden(def.resource, def.group, name, `[${errs.map((c) => `${c.field}: ${c.message}`).join(', ')}]`);
  e.details.causes = errs;
  return e;
}

const NAME_PREFIX = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SINGLE_SEGMENT_GROUPS = new Set(['apps', 'batch', 'extensions', 'policy', 'autoscaling']);

/** The checks of kcp's ValidateAPIResourceSchema (admission, hence 403). */
function schemaErrors(s: KubeObject): StatusCause[] {
  const errs: StatusCause[] = [];
  const name = s.metadata.name ?? '';
  const spec = specOf(s);
  const names = obj(spec['names']);
  const plural = str(names['plural']);
  const group = str(spec['group']);
  if (plural) {
    const suffix = `.${plural}.${group || 'core'}`;
    if (!name.endsWith(suffix)) errs.push(fieldError('metadata.name', `Invalid value: ${JSON.stringify(name)}: must end in ${suffix}`));
    else if (!NAME_PREFIX.test(name.slice(0, -suffix.length))) {
      errs.push(fieldError('metadata.name', `Invalid value: ${JSON.stringify(name)}: must match ^[a-z]([-a-z0-9]*[a-z0-9])?$ in front of ${suffix}`));
    }
  }
  if (group === 'core') errs.push(fieldError('spec.group', 'Invalid value: "core": must be empty string for the core group'));
  else if (group && !DNS1123_SUBDOMAIN.test(group)) errs.push(fieldError('spec.group', `Invalid value: ${JSON.stringify(group)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`));
  else if (group && !group.includes('.') && !SINGLE_SEGMENT_GROUPS.has(group)) errs.push(fieldError('spec.group', `Invalid value: ${JSON.stringify(group)}: should be a domain with at least one dot`));
  const versions = objs(spec['versions']);
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((v, i) => {
    const vn = str(v['name']);
    if (v['storage'] === true) storage++;
    if (seen.has(vn)) errs.push(fieldError('spec.versions', 'Invalid value: "array": must contain unique version names'));
    seen.add(vn);
    if (!DNS1035.test(vn)) errs.push(fieldError(`spec.versions[${i}].name`, `Invalid value: ${JSON.stringify(vn)}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character`));
    if (v['schema'] === undefined || v['schema'] === null) errs.push(cause('FieldValueRequired', `spec.versions[${i}].schema`, 'Required value'));
    else {
      // Structural schema at the root, as apiextensions checks it. A schema nested one level too deep
      // (`schema: {openAPIV3Schema: ...}`, the CRD spelling) has no root type and lands here.
      const root = obj(v['schema']);
      const type = root['type'];
      const untyped = type === undefined || type === '';
      if (!untyped && type !== 'object') {
        errs.push(fieldError(`spec.versions[${i}].schema.openAPIV3Schema.type`, `Invalid value: ${JSON.stringify(type)}: must be object at the root`));
      } else if (untyped && root['x-kubernetes-preserve-unknown-fields'] !== true && root['x-kubernetes-int-or-string'] !== true) {
        errs.push(cause('FieldValueRequired', `spec.versions[${i}].schema.openAPIV3Schema.type`, 'Required value: must not be empty at the root'));
      }
      for (const e of structuralSchemaErrors(root, `spec.versions[${i}].schema.openAPIV3Schema`)) errs.push(cause(e.reason, e.field, e.message));
    }
  });
  if (storage !== 1) errs.push(fieldError('spec.versions', 'Invalid value: "array": must have exactly one version marked as storage version'));
  for (const f of ['plural', 'singular', 'kind', 'listKind']) {
    if (!str(names[f])) errs.push(cause('FieldValueRequired', `spec.names.${f}`, 'Required value'));
  }
  return errs;
}

/** The checks kcp's CRD schema and CEL rules make on an APIResourceSchema (422). */
function schemaOpenAPIErrors(s: KubeObject): StatusCause[] {
  const errs: StatusCause[] = [];
  const spec = specOf(s);
  const versions = objs(spec['versions']);
  if (spec['versions'] !== undefined && versions.length === 0) {
    errs.push(fieldError('spec.versions', 'Invalid value: 0: spec.versions in body should have at least 1 items'));
  }
  const re = new RegExp(VERSION_PATTERN);
  versions.forEach((v, i) => {
    const vn = str(v['name']);
    if (!re.test(vn)) errs.push(fieldError(`spec.versions[${i}].name`, `Invalid value: ${JSON.stringify(vn)}: spec.versions[${i}].name in body should match '${VERSION_PATTERN}'`));
  });
  if (versions.length > 1 && spec['conversion'] === undefined) {
    errs.push(fieldError('spec', 'Invalid value: "object": Conversion must be specified when multiple versions exist'));
  }
  return errs;
}

function admitSchema(op: string, def: ResourceDef, o: KubeObject, old: KubeObject | undefined): KubeObject {
  const name = o.metadata.name ?? '';
  // kubebuilder's default of `served: true`, applied before validation as the CRD would.
  for (const v of objs(specOf(o)['versions'])) if (v['served'] === undefined) v['served'] = true;
  const schemaErrs = schemaOpenAPIErrors(o);
  if (schemaErrs.length) throw invalid(def.kind, def.group, name, schemaErrs);
  const errs = schemaErrors(o);
  if (op === 'UPDATE' && old && !deepEqual(specOf(old), specOf(o))) errs.push(fieldError('spec', 'Invalid value: "object": is immutable'));
  if (errs.length) throw forbiddenList(def, name, errs);
  return o;
}

/** The canonical path of a logical cluster; kcp falls back to the cluster name. */
function canonicalPath(topo: Topology, cluster: string): string {
  return topo.pathOf(cluster) ?? cluster;
}

function admitExport(topo: Topology, ctx: RequestContext, def: ResourceDef, o: KubeObject, old: KubeObject | undefined): KubeObject {
  const path = canonicalPath(topo, ctx.cluster);
  const value = o.metadata.annotations?.[PATH_ANNOTATION];
  if (value !== undefined && value !== path) {
    throw forbidden(def.resource, def.group, o.metadata.name ?? '', `annotation "${PATH_ANNOTATION}" must match canonical path "${path}"`);
  }
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [PATH_ANNOTATION]: path };
  // kubebuilder's default `storage: {crd: {}}` for exported resources.
  for (const r of objs(specOf(o)['resources'])) if (r['storage'] === undefined) r['storage'] = { crd: {} };
  const oldHash = old ? str(statusOf(old)['identityHash']) : '';
  const newHash = str(statusOf(o)['identityHash']);
  if (oldHash && newHash !== oldHash) {
    throw invalid(def.kind, def.group, o.metadata.name ?? '', [fieldError('status.identityHash', `Invalid value: ${JSON.stringify(newHash)}: field is immutable`)]);
  }
  return o;
}

function immutableReference(def: ResourceDef, o: KubeObject, before: JsonObject, after: JsonObject, field: string): void {
  if (!deepEqual(before, after)) {
    throw invalid(def.kind, def.group, o.metadata.name ?? '', [fieldError(field, 'Invalid value: "object": APIExport reference must not be changed')]);
  }
}

/** 403 unless the export exists (or the path is local or root) and the user may `bind` it. */
function checkBind(topo: Topology, ctx: RequestContext, def: ResourceDef, o: KubeObject, ref: { path: string; name: string }, what: string): string {
  const shown = ref.path ? `${ref.path}:${ref.name}` : ref.name;
  const refused = forbidden(def.resource, def.group, o.metadata.name ?? '', `unable to ${what}: no permission to bind to export ${shown}`);
  let exportCluster: string | undefined;
  if (ref.path === '') exportCluster = ctx.cluster;
  // kcp's special case for bootstrapping: root's exports may be bound before they exist.
  else if (ref.path === 'root' && def.resource === 'apibindings') exportCluster = 'root';
  else {
    exportCluster = resolveRefCluster(topo, ctx.cluster, ref);
    if (!exportCluster || !findExport(topo, exportCluster, ref.name)) throw refused;
  }
  const shard = topo.shardOf(exportCluster);
  const attrs = { verb: 'bind', apiGroup: APIS_GROUP, resource: 'apiexports', name: ref.name };
  if (!ctx.user.groups.includes('system:masters') && (!shard || !rbacAllows(shard.store, exportCluster, ctx.user, attrs))) throw refused;
  return exportCluster;
}

function admitBinding(topo: Topology, op: string, ctx: RequestContext, def: ResourceDef, o: KubeObject, old: KubeObject | undefined): KubeObject {
  const name = o.metadata.name ?? '';
  const ref = bindingRef(o);
  if (!ref.name) throw forbiddenList(def, name, [cause('FieldValueRequired', 'spec.reference.export', 'Required value')]);
  if (old) {
    immutableReference(def, o, obj(specOf(old)['reference']), obj(specOf(o)['reference']), 'spec.reference');
    const oldPhase = str(statusOf(old)['phase']);
    if (oldPhase && !str(statusOf(o)['phase'])) {
      throw forbiddenList(def, name, [cause('FieldValueForbidden', 'status.phase', `Forbidden: cannot transition from "${oldPhase}" to ""`)]);
    }
    for (const c of objs(specOf(o)['permissionClaims'])) {
      const was = objs(specOf(old)['permissionClaims']).find(
        (p) => str(p['group']) === str(c['group']) && str(p['resource']) === str(c['resource']) && str(p['identityHash']) === str(c['identityHash']),
      );
      if (was && !deepEqual(obj(was['selector']), obj(c['selector']))) {
        throw invalid(def.kind, def.group, name, [fieldError('spec.permissionClaims', 'Invalid value: "object": Permission claim selector is immutable')]);
      }
    }
  }
  const labels = { ...(o.metadata.labels ?? {}) };
  if (op === 'CREATE' || labels[EXPORT_LABEL] !== old?.metadata.labels?.[EXPORT_LABEL]) {
    const exportCluster = checkBind(topo, ctx, def, o, ref, `${op === 'CREATE' ? 'create' : 'update'} APIBinding`);
    labels[EXPORT_LABEL] = exportHash(exportCluster, ref.name);
    o.metadata.labels = labels;
  }
  if (op === 'CREATE' && !(o.metadata.finalizers ?? []).includes(BINDING_FINALIZER)) {
    o.metadata.finalizers = [...(o.metadata.finalizers ?? []), BINDING_FINALIZER];
  }
  // APIBindings are exempt from the path check: the value is simply (re)set.
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [PATH_ANNOTATION]: canonicalPath(topo, ctx.cluster) };
  return o;
}

function admitSlice(topo: Topology, op: string, ctx: RequestContext, def: ResourceDef, o: KubeObject, old: KubeObject | undefined): KubeObject {
  const ref = obj(specOf(o)['export']);
  if (old) immutableReference(def, o, obj(specOf(old)['export']), ref, 'spec.export');
  if (op === 'CREATE') checkBind(topo, ctx, def, o, { path: str(ref['path']), name: str(ref['name']) }, 'create APIExportEndpointSlice');
  return o;
}

/** 403 for creates into a bound resource whose APIBinding is being deleted. */
function refuseWhileUnbinding(topo: Topology, ctx: RequestContext, def: ResourceDef, o: KubeObject): void {
  const shard = topo.shardOf(ctx.cluster);
  if (!shard) return;
  for (const b of shard.store.list(BINDINGS, { cluster: ctx.cluster, namespace: '' })) {
    if (!b.metadata.deletionTimestamp) continue;
    for (const r of boundResourcesOf(b)) {
      if (def.storage === boundResourceStorage(r.group, r.resource, r.identityHash)) {
        throw forbidden(def.resource, def.group, o.metadata.name ?? '', 'create not allowed while custom resource definition is terminating');
      }
    }
  }
}

/** The admission plugin for apis.kcp.io objects and bound resources. */
export function apisAdmission(topo: Topology): AdmissionPlugin {
  return (op, ctx, def, o, old) => {
    if (op === 'DELETE') return;
    if (isBoundStorage(def.storage)) {
      if (op === 'CREATE') refuseWhileUnbinding(topo, ctx, def, o);
      return;
    }
    switch (def.storage) {
      case SCHEMAS:
        return admitSchema(op, def, o, old);
      case EXPORTS:
        return admitExport(topo, ctx, def, o, old);
      case BINDINGS:
        return admitBinding(topo, op, ctx, def, o, old);
      case SLICES:
        return admitSlice(topo, op, ctx, def, o, old);
    }
    return;
  };
}
