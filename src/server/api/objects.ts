/**
 * Generic object semantics for every resource in every logical cluster: create, get, update, patch,
 * server-side apply, delete with finalizers and preconditions, and the metadata rules around them
 * (uid, timestamps, resourceVersion, generation, no-op writes, status subresource).
 */
import { randomUUID } from 'node:crypto';
import { serverSideApply, recordUpdate } from './apply.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  cause,
  conflict,
  invalid,
  notFound,
  unsupportedMediaType,
} from '../http/errors.js';
import type { StatusCause } from '../http/errors.js';
import { EVENTS, validateEventCreate, validateEventUpdate } from './events.js';
import { deepEqual, isObject, shallowCopy } from '../json.js';
import { randomSuffix } from './names.js';
import { jsonPatch, mergePatch, setOwn, strategicMergePatch } from './patch.js';
import type { Registry } from './registry.js';
import type { Store } from '../storage/store.js';
import type { Json, JsonObject, KubeObject, ObjectMeta, ResourceDef } from '../types.js';
import { normalizeObject, validateName, validateRules } from './validation.js';

/** The authenticated caller. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** Extra attributes (from impersonation headers). */
  extra?: Record<string, string[]>;
}

/** Per-request context of a write or read. */
export interface RequestContext {
  cluster: string;
  user: UserInfo;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings to send back as `Warning` headers. */
  warnings?: string[];
  /** Admission that needs I/O (webhooks), set while `ObjectService.admitted` runs the write. */
  admission?: DeferredAdmission;
  /** Schema errors of the decoded body, reported together with the CEL rules' errors. */
  schemaCauses?: StatusCause[];
}

/**
 * Admission run around the synchronous write path (webhooks, in `admission/`): the write reaches
 * `admit` at its admission point, which answers with the admitted object or throws (a refusal, or
 * a signal for its driver to call webhooks and run the write again).
 */
export interface DeferredAdmission {
  /** Whether decoding leaves schema validation to admission, because a mutating webhook may complete the object first. */
  defersValidation(def: ResourceDef): boolean;
  /** The object after admission; `generatedName` when the server made the name from generateName. */
  admit(op: 'CREATE' | 'UPDATE' | 'DELETE', def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, info?: { generatedName?: boolean }): KubeObject;
}

/** Runs client writes under webhook admission. */
export interface WebhookAdmission {
  /** Runs `write` (a create, update, patch or delete of `svc`) under admission; `subresource` as addressed. */
  run<T>(svc: ObjectService, ctx: RequestContext, subresource: string | undefined, write: () => T): Promise<T>;
}

/** Admission: may replace the object about to be stored, or refuse with an ApiError. */
export type AdmissionPlugin = (
  op: 'CREATE' | 'UPDATE' | 'DELETE',
  ctx: RequestContext,
  def: ResourceDef,
  obj: KubeObject,
  old: KubeObject | undefined,
) => KubeObject | void;

/** Options of a DELETE. */
export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

/** The patch content types the server understands. */
export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;
/** One of PATCH_TYPES. */
export type PatchType = (typeof PATCH_TYPES)[number];

export const CLUSTER_ANNOTATION = 'kcp.io/cluster';
export const NAMESPACES = 'core/namespaces';
export const LOGICAL_CLUSTERS = 'core.kcp.io/logicalclusters';

let nowCache = { sec: NaN, text: '' };

/** RFC 3339 with seconds, as Kubernetes writes timestamps. */
export function now(): string {
  // Formatted once per second, not on every write (several calls per request).
  const sec = Math.floor(Date.now() / 1000);
  if (sec !== nowCache.sec) nowCache = { sec, text: new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return nowCache.text;
}

/** The apiVersion string of a resource. */
export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** Per-storage behaviour beyond the generic rules (kube's "strategies"). */
interface Strategy {
  /**
   * kube's conversion of a decoded body to its internal form (write-only fields folded in,
   * defaults set), run on every create, update, patch result and applied configuration.
   */
  normalize?(obj: KubeObject): void;
  prepareForCreate?(obj: KubeObject): void;
  /** Whether DELETE only marks the object (besides metadata.finalizers). */
  gracefulDelete?(obj: KubeObject): boolean;
  onDeleteMark?(obj: KubeObject): void;
  /**
   * kube's strategy Validate / ValidateUpdate on the stored form; `def` is the API the write came
   * through (one storage may be served as several APIs with different rules).
   */
  validate?(def: ResourceDef, obj: KubeObject, old: KubeObject | undefined): StatusCause[];
  nameRule: 'dns1123-subdomain' | 'dns1123-label' | 'path-segment';
}

const STRATEGIES: Record<string, Strategy> = {
  [NAMESPACES]: {
    nameRule: 'dns1123-label',
    prepareForCreate(obj) {
      const spec = isObject(obj['spec']) ? obj['spec'] : {};
      if (!Array.isArray(spec['finalizers'])) spec['finalizers'] = ['kubernetes'];
      obj['spec'] = spec;
      obj['status'] = { phase: 'Active' };
    },
    // The namespace lifecycle controller empties a namespace before it goes.
    gracefulDelete: () => true,
    onDeleteMark(obj) {
      obj['status'] = { ...(isObject(obj['status']) ? obj['status'] : {}), phase: 'Terminating' };
    },
  },
};
STRATEGIES['core/secrets'] = {
  nameRule: 'dns1123-subdomain',
  // stringData is write-only: kube's v1 conversion merges it into data (base64, overriding the same
  // keys) and never stores it; an empty type defaults to Opaque.
  normalize(obj) {
    const stringData = obj['stringData'];
    if (isObject(stringData)) {
      const data: JsonObject = isObject(obj['data']) ? { ...obj['data'] } : {};
      for (const [k, v] of Object.entries(stringData)) setOwn(data, k, Buffer.from(String(v), 'utf8').toString('base64'));
      obj['data'] = data;
    }
    delete obj['stringData'];
    if (typeof obj['type'] !== 'string' || obj['type'] === '') obj['type'] = 'Opaque';
  },
};
STRATEGIES[EVENTS] = {
  // Core v1 checks Event names as path segments only; events.k8s.io/v1 adds the DNS subdomain rule.
  nameRule: 'path-segment',
  validate(def, obj, old) {
    const strict = def.group === 'events.k8s.io';
    return old ? validateEventUpdate(obj, old, strict) : validateEventCreate(obj, strict);
  },
};
for (const r of ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']) {
  STRATEGIES[`rbac.authorization.k8s.io/${r}`] = { nameRule: 'path-segment' };
}
const DEFAULT_STRATEGY: Strategy = { nameRule: 'dns1123-subdomain' };

function strategyOf(def: ResourceDef): Strategy {
  return STRATEGIES[def.storage] ?? DEFAULT_STRATEGY;
}

/** The fields that define generation: everything but metadata and status. */
/** Adds `Warning` header texts to the request's answer. */
/** Adds `warnings` to the request's `Warning` headers. */
export function warn(ctx: RequestContext, warnings: string[]): void {
  if (warnings.length > 0) (ctx.warnings ??= []).push(...warnings);
}

function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function withoutVolatile(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

function managedWithoutTime(obj: KubeObject): unknown {
  return (obj.metadata.managedFields ?? []).map(({ time: _t, ...e }) => e);
}

/** Create/read/update/delete of objects of any resource, over one shard's store. */
export class ObjectService {
  readonly admission: AdmissionPlugin[] = [];
  /** Webhook admission of client writes (set by the server). */
  webhooks: WebhookAdmission | undefined;

  constructor(
    readonly store: Store,
    readonly registry: Registry,
  ) {}

  /** Whether a logical cluster exists on this shard (it has its `LogicalCluster` object). */
  clusterExists(name: string): boolean {
    return this.store.get(LOGICAL_CLUSTERS, name, '', 'cluster') !== undefined;
  }

  /** One object; 404 if absent. */
  get(ctx: RequestContext, def: ResourceDef, namespace: string, name: string): KubeObject {
    const obj = this.store.get(def.storage, ctx.cluster, def.namespaced ? namespace : '', name);
    if (!obj) throw notFound(def.resource, def.group, name);
    return this.present(def, obj);
  }

  /** The object as served: apiVersion and kind of the requested version. */
  present(def: ResourceDef, obj: KubeObject): KubeObject {
    if (def.conversion) return def.conversion.fromStorage(obj);
    const apiVersion = apiVersionOf(def);
    if (obj.apiVersion === apiVersion && obj.kind === def.kind) return obj;
    return { ...obj, apiVersion, kind: def.kind };
  }

  private decode(def: ResourceDef, ctx: RequestContext, body: Json, name: string): KubeObject {
    if (!isObject(body)) throw badRequest('the request body must be a JSON or YAML object');
    const apiVersion = apiVersionOf(def);
    if (body['apiVersion'] !== undefined && body['apiVersion'] !== apiVersion) {
      throw badRequest(`the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${apiVersion})`);
    }
    if (body['kind'] !== undefined && body['kind'] !== def.kind) {
      throw badRequest(`the kind in the data (${String(body['kind'])}) does not match the expected kind (${def.kind})`);
    }
    const { object, warnings, invalid: schemaInvalid } = normalizeObject(body, def.schema, {
      fieldValidation: ctx.fieldValidation ?? 'Ignore',
      kind: def.kind,
      group: def.group,
      name,
      deferInvalid: ctx.admission?.defersValidation(def),
      celRules: def.rules !== undefined,
    });
    warn(ctx, warnings);
    if (schemaInvalid) ctx.schemaCauses = schemaInvalid;
    object.apiVersion = apiVersion;
    object.kind = def.kind;
    strategyOf(def).normalize?.(object);
    return def.conversion ? def.conversion.toStorage(object) : object;
  }

  private namespaceFor(def: ResourceDef, meta: ObjectMeta, urlNamespace: string): string {
    if (!def.namespaced) {
      delete meta.namespace;
      return '';
    }
    if (meta.namespace && meta.namespace !== urlNamespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = urlNamespace;
    return urlNamespace;
  }

  private checkNamespaceOpen(ctx: RequestContext, def: ResourceDef, namespace: string): void {
    if (!def.namespaced) return;
    const ns = this.store.get(NAMESPACES, ctx.cluster, '', namespace);
    if (!ns) throw notFound('namespaces', '', namespace);
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `${def.resource}${def.group ? '.' + def.group : ''} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { group: def.group, kind: def.resource, causes: [cause('NamespaceTerminating', 'metadata.namespace', `namespace ${namespace} is being terminated`)] },
      );
    }
  }

  private admit(op: 'CREATE' | 'UPDATE' | 'DELETE', ctx: RequestContext, def: ResourceDef, obj: KubeObject, old?: KubeObject, generatedName = false): KubeObject {
    let cur = obj;
    for (const a of this.admission) cur = a(op, ctx, def, cur, old) ?? cur;
    return ctx.admission ? ctx.admission.admit(op, def, cur, old, { generatedName }) : cur;
  }

  /** Runs a client's write under webhook admission, when the server has it. */
  admitted<T>(ctx: RequestContext, subresource: string | undefined, write: () => T): Promise<T> | T {
    return this.webhooks ? this.webhooks.run(this, ctx, subresource, write) : write();
  }

  private stamp(ctx: RequestContext, obj: KubeObject): void {
    const annotations = shallowCopy(obj.metadata.annotations);
    annotations[CLUSTER_ANNOTATION] = ctx.cluster;
    obj.metadata.annotations = annotations;
  }

  /** POST on a collection. */
  create(ctx: RequestContext, def: ResourceDef, urlNamespace: string, body: Json, opts: { applied?: KubeObject } = {}): KubeObject {
    const obj = opts.applied ?? this.decode(def, ctx, body, isObject(body) && isObject(body['metadata']) ? String(body['metadata']['name'] ?? '') : '');
    const meta = obj.metadata;
    const namespace = this.namespaceFor(def, meta, urlNamespace);
    const generatedName = !meta.name && !!meta.generateName;
    if (generatedName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) {
      throw invalid(def.kind, def.group, '', [cause('FieldValueRequired', 'metadata.name', 'Required value: name or generateName is required')]);
    }
    const strategy = strategyOf(def);
    const nameErr = validateName(meta.name, strategy.nameRule);
    if (nameErr) throw invalid(def.kind, def.group, meta.name, [cause('FieldValueInvalid', 'metadata.name', `Invalid value: "${meta.name}": ${nameErr}`)]);
    this.checkNamespaceOpen(ctx, def, namespace);
    if (this.store.get(def.storage, ctx.cluster, namespace, meta.name)) throw alreadyExists(def.resource, def.group, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (def.statusSubresource && !def.builtin) delete obj['status'];
    strategy.prepareForCreate?.(obj);
    const errs = strategy.validate?.(def, obj, undefined);
    if (errs?.length) throw invalid(def.kind, def.group, meta.name, errs);
    // Where a mutating webhook may still change the object, admission runs the rules after it.
    if (!ctx.admission?.defersValidation(def)) warn(ctx, validateRules(def, this.present(def, obj), undefined, ctx.schemaCauses));
    let final = this.admit('CREATE', ctx, def, obj, undefined, generatedName);
    if (!opts.applied) {
      final = recordUpdate({ before: undefined, after: final, manager: ctx.fieldManager ?? '', schema: def.schema, apiVersion: apiVersionOf(def), now: now() });
    }
    this.stamp(ctx, final);
    // Answered in the version asked for (a converted view answers in its own form).
    if (ctx.dryRun) return this.present(def, final);
    return this.present(def, this.store.put(def.storage, ctx.cluster, final));
  }

  /** PUT on an object (or its status). */
  update(ctx: RequestContext, def: ResourceDef, urlNamespace: string, name: string, body: Json, subresource?: string): KubeObject {
    const next = this.decode(def, ctx, body, name);
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    next.metadata.name = name;
    const namespace = this.namespaceFor(def, next.metadata, urlNamespace);
    const old = this.store.get(def.storage, ctx.cluster, namespace, name);
    if (!old) throw notFound(def.resource, def.group, name);
    const rv = next.metadata.resourceVersion;
    if (!rv && !def.builtin) {
      throw invalid(def.kind, def.group, name, [
        cause('FieldValueInvalid', 'metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update'),
      ]);
    }
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(def.resource, def.group, name);
    return this.writeUpdate(ctx, def, old, next, subresource);
  }

  /** PATCH on an object (or its status); server-side apply creates a missing object. */
  patch(
    ctx: RequestContext,
    def: ResourceDef,
    urlNamespace: string,
    name: string,
    type: PatchType,
    body: Json,
    opts: { subresource?: string; force?: boolean } = {},
  ): KubeObject {
    const namespace = def.namespaced ? urlNamespace : '';
    const old = this.store.get(def.storage, ctx.cluster, namespace, name);
    if (type === 'application/apply-patch+yaml') return this.apply(ctx, def, namespace, name, old, body, opts);
    if (!old) throw notFound(def.resource, def.group, name);
    let patched: Json;
    const base = this.present(def, old) as unknown as Json;
    switch (type) {
      case 'application/merge-patch+json':
        if (!isObject(body)) throw badRequest('a merge patch must be a JSON object');
        patched = mergePatch(base, body);
        break;
      case 'application/json-patch+json':
        patched = jsonPatch(base, body);
        break;
      case 'application/strategic-merge-patch+json':
        if (!def.builtin) throw unsupportedMediaType(type, PATCH_TYPES.filter((t) => t !== type));
        if (!isObject(body)) throw badRequest('a strategic merge patch must be a JSON object');
        patched = strategicMergePatch(base, body, def.schema);
        break;
    }
    if (!isObject(patched) || !isObject(patched['metadata'])) throw badRequest('the patch removed the object metadata');
    const next = this.decode(def, ctx, patched, name);
    if (next.metadata.name !== name) throw badRequest(`the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`);
    if (next.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(def.resource, def.group, name);
    return this.writeUpdate(ctx, def, old, next, opts.subresource);
  }

  private apply(
    ctx: RequestContext,
    def: ResourceDef,
    namespace: string,
    name: string,
    old: KubeObject | undefined,
    body: Json,
    opts: { subresource?: string; force?: boolean },
  ): KubeObject {
    if (!ctx.fieldManager) {
      throw invalid('PatchOptions', 'meta.k8s.io', '', [cause('FieldValueRequired', 'fieldManager', 'Required value: is required for apply patch')]);
    }
    const applied = this.decode(def, ctx, body, name);
    if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
      throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
    }
    applied.metadata.name = name;
    if (def.namespaced) this.namespaceFor(def, applied.metadata, namespace);
    if (!old && opts.subresource) throw notFound(def.resource, def.group, name);
    // Fields the target endpoint cannot change are neither merged nor owned.
    let ignoreFields: string[] | undefined;
    if (opts.subresource === 'status') ignoreFields = Object.keys(applied).filter((k) => !['status', 'metadata', 'apiVersion', 'kind'].includes(k));
    else if (def.statusSubresource) ignoreFields = ['status'];
    const merged = serverSideApply({
      // Both sides in the stored form: `applied` was converted by decode.
      live: old,
      applied,
      manager: ctx.fieldManager,
      force: opts.force ?? false,
      schema: def.schema,
      apiVersion: apiVersionOf(def),
      now: now(),
      subresource: opts.subresource,
      ignoreFields,
    });
    if (!old) return this.create(ctx, def, namespace, null, { applied: merged });
    if (applied.metadata.resourceVersion && applied.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(def.resource, def.group, name);
    }
    return this.writeUpdate(ctx, def, old, merged, opts.subresource, true);
  }

  /**
   * The common tail of every update: status subresource rules, system metadata kept from the stored
   * object, finalizer rules, generation, no-op detection, and deletion when the last finalizer goes.
   */
  writeUpdate(ctx: RequestContext, def: ResourceDef, old: KubeObject, next: KubeObject, subresource?: string, managedDone = false): KubeObject {
    if (subresource !== undefined && subresource !== 'status') throw badRequest(`unsupported subresource "${subresource}"`);
    if (subresource === 'status' && !def.statusSubresource) throw notFoundSubresource(def, subresource);
    let merged: KubeObject;
    if (subresource === 'status') {
      // Copies built with shallowCopy, not spread: keys are added to them below.
      merged = shallowCopy(old);
      merged.metadata = shallowCopy(old.metadata);
      merged.metadata.managedFields = next.metadata.managedFields ?? old.metadata.managedFields;
      if (next['status'] === undefined) delete merged['status'];
      else merged['status'] = next['status'];
    } else {
      merged = shallowCopy(next);
      merged.metadata = shallowCopy(next.metadata);
      if (def.statusSubresource) {
        if (old['status'] === undefined) delete merged['status'];
        else merged['status'] = old['status'];
      }
    }
    const m = merged.metadata;
    const o = old.metadata;
    m.name = o.name;
    if (def.namespaced) m.namespace = o.namespace;
    m.uid = o.uid;
    m.creationTimestamp = o.creationTimestamp;
    m.generation = o.generation;
    if (o.deletionTimestamp) {
      m.deletionTimestamp = o.deletionTimestamp;
      m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
      const added = (m.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f));
      if (added.length) {
        throw invalid(def.kind, def.group, o.name ?? '', [
          cause('FieldValueForbidden', 'metadata.finalizers', `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`),
        ]);
      }
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    if (m.finalizers && m.finalizers.length === 0) delete m.finalizers;
    merged.apiVersion = old.apiVersion ?? apiVersionOf(def);
    merged.kind = def.kind;
    const errs = strategyOf(def).validate?.(def, merged, old);
    if (errs?.length) throw invalid(def.kind, def.group, o.name ?? '', errs);
    if (!ctx.admission?.defersValidation(def)) warn(ctx, validateRules(def, this.present(def, merged), this.present(def, old), ctx.schemaCauses));
    merged = this.admit('UPDATE', ctx, def, merged, old);
    if (!deepEqual(specPart(old), specPart(merged))) merged.metadata.generation = (o.generation ?? 1) + 1;
    if (!managedDone) {
      merged = recordUpdate({
        before: old,
        after: merged,
        manager: ctx.fieldManager ?? '',
        schema: def.schema,
        apiVersion: apiVersionOf(def),
        now: now(),
        subresource,
      });
    }
    this.stamp(ctx, merged);
    merged.metadata.resourceVersion = o.resourceVersion;
    if (deepEqual(withoutVolatile(old), withoutVolatile(merged)) && deepEqual(managedWithoutTime(old), managedWithoutTime(merged))) {
      return this.present(def, old);
    }
    if (ctx.dryRun) return this.present(def, merged);
    const namespace = o.namespace ?? '';
    if (m.deletionTimestamp && !(m.finalizers?.length) && !strategyOf(def).gracefulDelete?.(merged)) {
      return this.present(def, this.store.delete(def.storage, ctx.cluster, namespace, o.name ?? '', merged)!);
    }
    return this.present(def, this.store.put(def.storage, ctx.cluster, merged));
  }

  /**
   * DELETE on an object. Objects with finalizers (and namespaces) are only marked; the rest go at
   * once. Returns the object (marked or last state) for custom resources and kcp types, and a
   * success Status for built-ins, as kube does.
   */
  delete(ctx: RequestContext, def: ResourceDef, urlNamespace: string, name: string, opts: DeleteOptions = {}): KubeObject | JsonObject {
    const namespace = def.namespaced ? urlNamespace : '';
    const old = this.store.get(def.storage, ctx.cluster, namespace, name);
    if (!old) throw notFound(def.resource, def.group, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw conflict(def.resource, def.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        def.resource,
        def.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    this.admit('DELETE', ctx, def, old, old);
    const strategy = strategyOf(def);
    if ((old.metadata.finalizers?.length ?? 0) > 0 || strategy.gracefulDelete?.(old)) {
      if (old.metadata.deletionTimestamp || ctx.dryRun) return this.present(def, old);
      const marked: KubeObject = { ...old, metadata: { ...old.metadata, deletionTimestamp: now(), deletionGracePeriodSeconds: 0 } };
      strategy.onDeleteMark?.(marked);
      return this.present(def, this.store.put(def.storage, ctx.cluster, marked));
    }
    if (ctx.dryRun) return this.present(def, old);
    const last = this.store.delete(def.storage, ctx.cluster, namespace, name)!;
    if (!def.builtin) return this.present(def, last);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: def.group, kind: def.resource, uid: old.metadata.uid ?? '' },
    };
  }

  /** Finally removes a marked object whose finalizers are all gone (namespace lifecycle, GC). */
  finalize(cluster: string, def: ResourceDef, namespace: string, name: string): void {
    const obj = this.store.get(def.storage, cluster, namespace, name);
    if (obj && obj.metadata.deletionTimestamp && !(obj.metadata.finalizers?.length)) this.store.delete(def.storage, cluster, namespace, name);
  }
}

function notFoundSubresource(def: ResourceDef, sub: string): ApiError {
  return new ApiError(404, 'NotFound', `the server could not find the requested resource (${def.resource}/${sub})`);
}
