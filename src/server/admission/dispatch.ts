/**
 * Webhook dispatch as kcp does it: the configurations of one logical cluster apply (the APIExport's
 * workspace for a bound resource, else the request's own), mutating webhooks run in order (one
 * more round for `reinvocationPolicy: IfNeeded`), the result is pruned and validated against the
 * schema, then validating webhooks run in parallel. Denials and failures read as kube's.
 */
import type { ClusterAuthorizer } from '../auth/auth.js';
import type { AuthorizeFn } from '../cel/index.js';
import { ApiError, forbidden, type StatusCause } from '../http/errors.js';
import { deepEqual, isObject, jsonCopy } from '../json.js';
import type { RequestContext, UserInfo } from '../api/objects.js';
import { jsonPatch } from '../api/patch.js';
import type { Json, JsonObject, KubeObject, ResourceDef } from '../types.js';
import { admissionReview, callWebhook, WebhookCallError, type ReviewInput, type WebhookAnswer } from './call.js';
import { decide } from './conditions.js';
import { ADMISSIONREGISTRATION_GROUP, MUTATING_CONFIGURATIONS, VALIDATING_CONFIGURATIONS, webhooksOf, type Webhook } from './configs.js';
import { matchWebhooks, type MatchAttributes, type MatchedWebhook } from './match.js';

/** The annotation naming the logical cluster of a reviewed object on CREATE. */
export const CLUSTER_ANNOTATION = 'kcp.io/cluster';

/** What dispatch reads from the server around it. */
export interface WebhookSources {
  /**
   * The logical cluster whose configurations apply to `group/resource` requests in `cluster`: the
   * APIExport's workspace when an APIBinding of `cluster` binds the resource, else `cluster` itself.
   */
  configurationCluster(cluster: string, group: string, resource: string): string;
  /** The stored objects of `storage` in `cluster`, on whichever shard holds it. */
  list(cluster: string, storage: string): readonly KubeObject[];
  /** A namespace of `cluster`. */
  namespace(cluster: string, name: string): KubeObject | undefined;
  /** Every resource `cluster` serves (for matchPolicy Equivalent). */
  resources(cluster: string): readonly ResourceDef[];
  /** The authorizer of `cluster`, for matchConditions that use `authorizer`. */
  authorizer(cluster: string): ClusterAuthorizer | undefined;
}

/** One write under admission: the request's attributes and its object in the served form. */
export interface Admission extends MatchAttributes {
  ctx: RequestContext;
  name: string;
}

/** Resources kube never sends to webhooks, so that a broken webhook cannot lock its own configuration (W3). */
function exempt(def: ResourceDef): boolean {
  return def.group === ADMISSIONREGISTRATION_GROUP;
}

// Stored objects are replaced on every write, never changed in place: a parse per stored version.
const parsed = new WeakMap<KubeObject, Webhook[]>();

function byConfiguration(configs: readonly KubeObject[], mutating: boolean): Webhook[] {
  const sorted = [...configs].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  return sorted.flatMap((c) => {
    let hooks = parsed.get(c);
    if (!hooks) parsed.set(c, (hooks = webhooksOf(c, mutating)));
    return hooks;
  });
}

/** kube's ToStatusErr: the webhook's own status, prefixed with who denied it (W8). */
function denial(name: string, status: JsonObject | undefined): ApiError {
  const s = status ?? {};
  const code = typeof s['code'] === 'number' && s['code'] >= 400 ? s['code'] : 400;
  const message = typeof s['message'] === 'string' ? s['message'] : '';
  const reason = typeof s['reason'] === 'string' ? s['reason'] : '';
  const text = message
    ? `admission webhook ${JSON.stringify(name)} denied the request: ${message}`
    : reason
      ? `admission webhook ${JSON.stringify(name)} denied the request: ${reason}`
      : `admission webhook ${JSON.stringify(name)} denied the request without explanation`;
  const details = isObject(s['details']) ? (s['details'] as ApiError['details']) : {};
  return new ApiError(code, reason, text, details);
}

/** kube's NewInternalError: 500 with the error text as the only cause (its empty reason and field omitted). */
function internalError(text: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${text}`, { causes: [{ message: text } as StatusCause] });
}

/** Dispatches admission webhooks for one server. */
export class WebhookDispatcher {
  constructor(private readonly sources: WebhookSources) {}

  private hooks(cluster: string, def: ResourceDef, mutating: boolean): Webhook[] {
    if (exempt(def) || cluster === '*') return [];
    const source = this.sources.configurationCluster(cluster, def.group, def.resource);
    return byConfiguration(this.sources.list(source, mutating ? MUTATING_CONFIGURATIONS : VALIDATING_CONFIGURATIONS), mutating);
  }

  private match(a: Admission, mutating: boolean): MatchedWebhook[] {
    const hooks = this.hooks(a.ctx.cluster, a.def, mutating);
    if (!hooks.length) return [];
    const equivalents = this.sources.resources(a.ctx.cluster).filter((d) => d.group === a.def.group && d.resource === a.def.resource);
    return matchWebhooks(hooks, a, equivalents, (ns) => this.sources.namespace(a.ctx.cluster, ns));
  }

  /** Whether some mutating webhook's rules name this resource, so that schema validation must wait for it. */
  mayMutate(cluster: string, def: ResourceDef): boolean {
    return this.hooks(cluster, def, true).some((h) =>
      h.rules.some((r) => (r.apiGroups.includes('*') || r.apiGroups.includes(def.group)) && r.resources.some((x) => x === '*' || x === '*/*' || x.split('/')[0] === def.resource)),
    );
  }

  /**
   * Whether the rules and selectors of any webhook (mutating or validating) reach this write.
   * matchConditions are left to the run, which sees the object as mutated so far. Synchronous: store reads only.
   */
  reaches(a: Admission): boolean {
    return this.match(a, true).length > 0 || this.match(a, false).length > 0;
  }

  private review(a: Admission, m: MatchedWebhook, object: KubeObject | undefined): ReviewInput {
    const asMatched = (o: KubeObject | undefined): KubeObject | undefined => {
      if (!o || m.def === a.def) return o;
      // Versions of one custom resource differ only in apiVersion (conversion strategy None).
      return { ...o, apiVersion: m.def.group ? `${m.def.group}/${m.def.version}` : m.def.version };
    };
    return {
      operation: a.operation,
      def: m.def,
      requestDef: a.def,
      subresource: a.subresource,
      name: a.name,
      namespace: a.namespace,
      object: asMatched(object),
      oldObject: asMatched(a.oldObject),
      user: a.ctx.user,
      dryRun: a.ctx.dryRun ?? false,
      fieldManager: a.ctx.fieldManager,
    };
  }

  /**
   * Whether the webhook's matchConditions let it be called on `object` (kube evaluates them on the
   * object in the matched version, as the call would send it). An evaluation error under `Fail`
   * refuses the request with kube's 403.
   */
  private conditionsAllow(a: Admission, m: MatchedWebhook, object: KubeObject | undefined): boolean {
    if (!m.hook.matchConditions.length) return true;
    const r = this.review(a, m, object);
    const request = { ...(admissionReview(r, '')['request'] as JsonObject) };
    for (const k of ['uid', 'object', 'oldObject']) delete request[k];
    const vars = { object: (r.object ?? null) as Json, oldObject: (r.oldObject ?? null) as Json, request, authorize: this.authorizeAs(a.ctx) };
    const d = decide(m.hook.matchConditions, vars, m.hook.failurePolicy);
    if (d.error !== undefined) throw forbidden(a.def.resource, a.def.group, a.name, d.error);
    return d.call;
  }

  /** `authorizer` checks in the request's logical cluster, as its user or as a named service account. */
  private authorizeAs(ctx: RequestContext): AuthorizeFn {
    return (subject, attrs) => {
      const authz = this.sources.authorizer(ctx.cluster);
      if (!authz) return { allowed: false, reason: '' };
      let user: UserInfo = ctx.user;
      if (subject) {
        const { namespace, name } = subject.serviceAccount;
        user = { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
      }
      return authz.authorize(user, attrs);
    };
  }

  /** One call with failurePolicy applied: undefined when a failure is ignored. */
  private async call(a: Admission, m: MatchedWebhook, object: KubeObject | undefined): Promise<WebhookAnswer | undefined> {
    let answer: WebhookAnswer;
    try {
      answer = await callWebhook(m.hook, this.review(a, m, object));
    } catch (e) {
      if (!(e instanceof WebhookCallError)) throw e;
      if (m.hook.failurePolicy === 'Ignore') return undefined;
      throw internalError(`failed calling webhook ${JSON.stringify(m.hook.name)}: ${e.message}`);
    }
    if (answer.warnings.length) {
      const warnings = (a.ctx.warnings ??= []);
      for (const w of answer.warnings) if (!warnings.includes(w)) warnings.push(w);
    }
    if (!answer.allowed) throw denial(m.hook.name, answer.status);
    return answer;
  }

  /**
   * The mutating chain on `a.object` (served form, with kcp.io/cluster on CREATE). Returns the
   * object after every patch, or undefined when nothing changed it.
   */
  async mutate(a: Admission): Promise<KubeObject | undefined> {
    const matched = this.match(a, true);
    if (!matched.length) return undefined;
    let cur = a.object;
    // Position in the chain of the last change, and where each webhook last saw the object.
    let lastChange = -1;
    const sawAt = new Map<MatchedWebhook, number>();
    const runOne = async (m: MatchedWebhook, at: number): Promise<void> => {
      // Conditions see the object as the chain has made it so far.
      if (!this.conditionsAllow(a, m, cur)) return;
      sawAt.set(m, at);
      const answer = await this.call(a, m, cur);
      if (!answer?.patch) return;
      if (a.operation === 'DELETE' || !cur) {
        if (Array.isArray(answer.patch) && answer.patch.length === 0) return;
        throw internalError(`admission webhook ${JSON.stringify(m.hook.name)} attempted to modify the object, which is not supported for this operation`);
      }
      let next: Json;
      try {
        next = jsonPatch(jsonCopy(cur) as unknown as Json, answer.patch);
      } catch (e) {
        return this.failed(m, `received undecodable patch in webhook response: ${(e as Error).message}`);
      }
      if (!isObject(next) || !isObject(next['metadata'])) return this.failed(m, 'received undecodable patch in webhook response: the patch removed the object metadata');
      if (!deepEqual(next, cur)) {
        cur = next as unknown as KubeObject;
        lastChange = at;
      }
    };
    for (const [i, m] of matched.entries()) await runOne(m, i);
    // reinvocationPolicy IfNeeded: one more round for webhooks that saw an object changed later (W13).
    if (lastChange >= 0) {
      for (const [i, m] of matched.entries()) {
        if (m.hook.reinvocationPolicy === 'IfNeeded' && (sawAt.get(m) ?? Infinity) < lastChange) await runOne(m, matched.length + i);
      }
    }
    return lastChange >= 0 ? cur : undefined;
  }

  /** A patch that cannot be applied is a call failure: ignored under `Ignore`, else kube's 500. */
  private failed(m: MatchedWebhook, why: string): void {
    if (m.hook.failurePolicy === 'Fail') throw internalError(`failed calling webhook ${JSON.stringify(m.hook.name)}: ${why}`);
  }

  /** The validating webhooks on `a.object` (after mutation and schema validation), in parallel; the first refusal wins. */
  async validate(a: Admission): Promise<void> {
    // Every condition is decided before any call, so that a condition error refuses the request first.
    const matched = this.match(a, false).filter((m) => this.conditionsAllow(a, m, a.object));
    await Promise.all(matched.map((m) => this.call(a, m, a.object)));
  }
}
