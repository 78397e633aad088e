/**
 * Webhooks around the synchronous write path. A write runs once; when its admission point finds
 * webhooks that apply, it stops with a PendingAdmission. The webhooks then run (mutating, schema
 * validation, validating) and the write runs again, taking the admitted object when it reaches the
 * same point with the same input. If the stored object changed meanwhile, the input differs and
 * admission runs again on the new one, as kube's GuaranteedUpdate retries call admission again.
 * The commit thus stays synchronous with the store: no write is lost between admission and storage.
 */
import { conflict } from '../http/errors.js';
import { jsonCopy } from '../json.js';
import { warn, type DeferredAdmission, type ObjectService, type RequestContext, type WebhookAdmission } from '../api/objects.js';
import type { KubeObject, ResourceDef } from '../types.js';
import { normalizeObject, validateRules } from '../api/validation.js';
import { CLUSTER_ANNOTATION, WebhookDispatcher, type Admission } from './dispatch.js';
import type { Operation } from './match.js';

/** A write stopped at its admission point until its webhooks have run. */
class PendingAdmission extends Error {
  constructor(
    readonly key: string,
    readonly admission: Admission,
    readonly input: KubeObject,
    readonly generatedName: boolean,
  ) {
    super('admission pending');
  }
}

/** Server-set metadata that differs between two runs of the same create. */
const VOLATILE = ['uid', 'creationTimestamp', 'generation', 'managedFields'] as const;

function fingerprint(op: Operation, obj: KubeObject, old: KubeObject | undefined, generatedName: boolean): string {
  const meta: Record<string, unknown> = { ...obj.metadata };
  for (const k of VOLATILE) delete meta[k];
  if (generatedName) delete meta['name'];
  return JSON.stringify([op, old?.metadata.resourceVersion ?? '', { ...obj, metadata: meta }]);
}

/**
 * Schema validation of an admitted object (pruning included: fields a mutating webhook adds outside
 * the schema are dropped, as kube does), then its CEL rules against the old object (`served` form).
 * Throws kube's 422; the rules' warnings go to the request.
 */
export function validateAdmitted(ctx: RequestContext, def: ResourceDef, served: KubeObject, old: KubeObject | undefined): KubeObject {
  const name = served.metadata.name ?? '';
  const r = normalizeObject(served as never, def.schema, { fieldValidation: 'Ignore', kind: def.kind, group: def.group, name, celRules: def.rules !== undefined });
  const warnings = validateRules(def, r.object, old, r.invalid);
  warn(ctx, warnings);
  return r.object;
}

/** The admission state of one request, across its runs. */
class Round implements DeferredAdmission {
  private deferred = false;
  private readonly admitted = new Map<string, KubeObject>();

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly svc: ObjectService,
    private readonly ctx: RequestContext,
    private readonly subresource: string,
  ) {}

  defersValidation(def: ResourceDef): boolean {
    if (this.dispatcher.mayMutate(this.ctx.cluster, def)) this.deferred = true;
    return this.deferred;
  }

  admit(op: Operation, def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, info: { generatedName?: boolean } = {}): KubeObject {
    const generatedName = info.generatedName ?? false;
    const served = op === 'DELETE' ? undefined : this.svc.present(def, obj);
    const a: Admission = {
      ctx: this.ctx,
      operation: op,
      def,
      subresource: this.subresource,
      namespace: def.namespaced ? (obj.metadata.namespace ?? '') : '',
      name: obj.metadata.name ?? '',
      object: served,
      oldObject: old ? this.svc.present(def, old) : undefined,
    };
    if (!this.dispatcher.reaches(a)) return this.deferred && served ? this.toStorage(def, obj, validateAdmitted(this.ctx, def, served, a.oldObject)) : obj;
    const key = fingerprint(op, obj, old, generatedName);
    const done = this.admitted.get(key);
    // The admitted object keeps the uid, timestamp and generated name its validating webhooks saw.
    if (done) return { ...jsonCopy(done), metadata: { ...jsonCopy(done.metadata), managedFields: obj.metadata.managedFields } };
    throw new PendingAdmission(key, a, obj, generatedName);
  }

  private toStorage(def: ResourceDef, input: KubeObject, served: KubeObject): KubeObject {
    if (def.conversion) return def.conversion.toStorage(served);
    return { ...served, apiVersion: input.apiVersion, kind: input.kind };
  }

  /** Runs the webhooks of a pending write and remembers the admitted object. */
  async resolve(p: PendingAdmission): Promise<void> {
    const a = p.admission;
    const def = a.def;
    let object = a.object ? jsonCopy(a.object) : undefined;
    if (object && a.operation === 'CREATE') {
      // kcp names the consumer cluster on the reviewed object of a CREATE.
      object.metadata.annotations = { ...object.metadata.annotations, [CLUSTER_ANNOTATION]: this.ctx.cluster };
      // Mutating webhooks see the object before kube's BeforeCreate fills in system metadata.
      const meta: Record<string, unknown> = object.metadata;
      for (const k of VOLATILE) if (k !== 'managedFields') delete meta[k];
      if (p.generatedName) delete meta['name'];
    }
    const mutated = await this.dispatcher.mutate({ ...a, object, name: p.generatedName ? '' : a.name });
    if (mutated) object = mutated;
    if (object) {
      restoreVolatile(object, a.object!, p.generatedName && object.metadata.name === undefined);
      if (mutated || this.deferred) object = validateAdmitted(this.ctx, def, object, a.oldObject);
    }
    await this.dispatcher.validate({ ...a, object });
    const out = object ? keepStatusRules(def, this.subresource, p.input, this.toStorage(def, p.input, object)) : p.input;
    this.admitted.set(p.key, out);
  }
}

/**
 * kube's PrepareForCreate/PrepareForUpdate run after mutating admission: where a status subresource
 * exists, a write of the main resource keeps the status it had before admission, and a status write
 * keeps everything but the status (managedFields aside).
 */
function keepStatusRules(def: ResourceDef, subresource: string, input: KubeObject, admitted: KubeObject): KubeObject {
  if (!def.statusSubresource) return admitted;
  const out: KubeObject = subresource === 'status' ? { ...input, metadata: { ...input.metadata, managedFields: admitted.metadata.managedFields } } : { ...admitted };
  const status = subresource === 'status' ? admitted['status'] : input['status'];
  if (status === undefined) delete out['status'];
  else out['status'] = status;
  return out;
}

/** Copies the server-set metadata of `from` onto `to`, and the generated name when `name`. */
function restoreVolatile(to: KubeObject, from: KubeObject, name: boolean): void {
  const meta: Record<string, unknown> = (to.metadata ??= {});
  const src: Record<string, unknown> = from.metadata;
  for (const k of VOLATILE) {
    if (src[k] === undefined) delete meta[k];
    else meta[k] = src[k];
  }
  if (name) meta['name'] = src['name'];
}

/** Most runs of one write before it gives up with a conflict (the stored object kept changing). */
const MAX_RUNS = 8;

/** Webhook admission for the writes of every shard. */
export class Webhooks implements WebhookAdmission {
  constructor(
    readonly dispatcher: WebhookDispatcher,
    /** Whether any configuration exists; writes go straight through while none does. */
    private readonly configured: () => boolean,
  ) {}

  async run<T>(svc: ObjectService, ctx: RequestContext, subresource: string | undefined, write: () => T): Promise<T> {
    if (!this.configured()) return write();
    const round = new Round(this.dispatcher, svc, ctx, subresource ?? '');
    ctx.admission = round;
    try {
      for (let run = 1; ; run++) {
        try {
          return write();
        } catch (e) {
          if (!(e instanceof PendingAdmission)) throw e;
          if (run >= MAX_RUNS) throw conflict(e.admission.def.resource, e.admission.def.group, e.admission.name);
          await round.resolve(e);
        }
      }
    } finally {
      delete ctx.admission;
      // A write that ran more than once decoded its body more than once.
      if (ctx.warnings) ctx.warnings = [...new Set(ctx.warnings)];
    }
  }
}
