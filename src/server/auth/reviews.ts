/**
 * The create-only review APIs kubectl's `auth can-i` and `auth whoami` call: access reviews and
 * rules reviews of `authorization.k8s.io/v1`, and `authentication.k8s.io/v1` SelfSubjectReview.
 * Nothing is stored; each POST is answered by the logical cluster's authorizer, the same one that
 * decides real requests there.
 */
import type { AuthorizationAttributes, ClusterAuthorizer, Decision } from './auth.js';
import { badRequest, cause, invalid, type StatusCause } from '../http/errors.js';
import { isObject } from '../json.js';
import type { RequestContext, UserInfo } from '../api/objects.js';
import type { Json, JsonObject, ResourceDef, Schema } from '../types.js';

const AUTHZ = 'authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';

const loose: Schema = { type: 'object', preserveUnknownFields: true };

function reviewDef(group: string, kind: string, namespaced = false): ResourceDef {
  const resource = `${kind.toLowerCase()}s`;
  const schema: Schema = { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: loose, spec: loose, status: loose } };
  const def: ResourceDef = {
    group,
    version: 'v1',
    resource,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    verbs: ['create'],
    statusSubresource: false,
    // Built-in: typed clients (kubectl auth) send these in protobuf.
    builtin: true,
    schema,
    // Never stored; the key only keeps the definition well-formed.
    storage: `reviews/${group}/${resource}`,
  };
  return Object.freeze(def);
}

/** The review resources every logical cluster serves (verbs `["create"]` in discovery). */
export const REVIEW_RESOURCES: readonly ResourceDef[] = Object.freeze([
  reviewDef(AUTHZ, 'SelfSubjectAccessReview'),
  reviewDef(AUTHZ, 'SelfSubjectRulesReview'),
  reviewDef(AUTHZ, 'SubjectAccessReview'),
  reviewDef(AUTHZ, 'LocalSubjectAccessReview', true),
  reviewDef(AUTHN, 'SelfSubjectReview'),
]);

const REVIEWS = new Set(REVIEW_RESOURCES);

/** Whether `def` is a review resource (answered, never stored). */
export function isReview(def: ResourceDef): boolean {
  return REVIEWS.has(def);
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The attributes of an access review's spec; LocalSubjectAccessReview pins them to `namespace`. */
function attributesOf(def: ResourceDef, spec: JsonObject, namespace: string): AuthorizationAttributes {
  const ra = spec['resourceAttributes'];
  const nra = spec['nonResourceAttributes'];
  const causes: StatusCause[] = [];
  if (isObject(ra) && isObject(nra)) {
    causes.push(cause('FieldValueInvalid', 'spec.nonResourceAttributes', 'Invalid value: cannot be specified in combination with resourceAttributes'));
  } else if (!isObject(ra) && !isObject(nra)) {
    causes.push(cause('FieldValueRequired', 'spec.resourceAttributes', 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  } else if (def.namespaced && isObject(nra)) {
    causes.push(cause('FieldValueInvalid', 'spec.nonResourceAttributes', 'Invalid value: disallowed on this kind of request'));
  }
  if (def.kind === 'SubjectAccessReview' || def.kind === 'LocalSubjectAccessReview') {
    if (!str(spec['user']) && strings(spec['groups']).length === 0) {
      causes.push(cause('FieldValueInvalid', 'spec.user', 'Invalid value: "": at least one of user or group must be specified'));
    }
  }
  if (causes.length) throw invalid(def.kind, def.group, '', causes);
  if (isObject(nra)) return { verb: str(nra['verb']), path: str(nra['path']) };
  const r = ra as JsonObject;
  let ns = str(r['namespace']);
  if (def.namespaced) {
    if (ns && ns !== namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
    ns = namespace;
  }
  return {
    verb: str(r['verb']),
    apiGroup: str(r['group']),
    resource: str(r['resource']),
    subresource: str(r['subresource']) || undefined,
    name: str(r['name']) || undefined,
    namespace: ns || undefined,
  };
}

/** The subject a SubjectAccessReview names (no implicit groups are added, as kube adds none). */
function subjectOf(spec: JsonObject): UserInfo {
  const user: UserInfo = { name: str(spec['user']), groups: strings(spec['groups']) };
  if (str(spec['uid'])) user.uid = str(spec['uid']);
  const extra = spec['extra'];
  if (isObject(extra)) user.extra = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, strings(v)]));
  return user;
}

function accessStatus(d: Decision): JsonObject {
  return d.reason ? { allowed: d.allowed, reason: d.reason } : { allowed: d.allowed };
}

function userInfoOf(u: UserInfo): JsonObject {
  const out: JsonObject = { username: u.name };
  if (u.uid) out['uid'] = u.uid;
  out['groups'] = [...u.groups];
  if (u.extra && Object.keys(u.extra).length) out['extra'] = Object.fromEntries(Object.entries(u.extra).map(([k, v]) => [k, [...v]]));
  return out;
}

/** Answers one review POST: the object as sent, with `status` filled in by `authorizer`. */
export function answerReview(def: ResourceDef, ctx: RequestContext, namespace: string, body: Json, authorizer: ClusterAuthorizer): JsonObject {
  if (!isObject(body)) throw badRequest(`a ${def.kind} must be a JSON object`);
  const kind = str(body['kind']);
  if (kind && kind !== def.kind) throw badRequest(`the object of kind "${kind}" cannot be created as ${def.kind}`);
  const meta: JsonObject = isObject(body['metadata']) ? { ...body['metadata'] } : {};
  if (def.namespaced) meta['namespace'] = namespace;
  const spec: JsonObject = isObject(body['spec']) ? body['spec'] : {};
  const out: JsonObject = { kind: def.kind, apiVersion: `${def.group}/${def.version}`, metadata: meta };
  switch (def.kind) {
    case 'SelfSubjectReview':
      return { ...out, status: { userInfo: userInfoOf(ctx.user) } };
    case 'SelfSubjectRulesReview': {
      const ns = str(spec['namespace']);
      if (!ns) throw badRequest('no namespace on request');
      const rules = authorizer.rules(ctx.user, ns);
      return { ...out, spec, status: { ...rules, resourceRules: rules.resourceRules as unknown as JsonObject[], nonResourceRules: rules.nonResourceRules as unknown as JsonObject[] } };
    }
    case 'SelfSubjectAccessReview':
      return { ...out, spec, status: accessStatus(authorizer.authorize(ctx.user, attributesOf(def, spec, namespace))) };
    default: {
      const attrs = attributesOf(def, spec, namespace);
      return { ...out, spec, status: accessStatus(authorizer.authorize(subjectOf(spec), attrs)) };
    }
  }
}
