/**
 * CEL expressions of admission (webhook `matchConditions`), in kube's admission environment: the
 * Kubernetes libraries plus `object`, `oldObject` (dyn), a typed `request`, `namespaceObject` and
 * `authorizer` (with `authorizer.requestResource`).
 */
import type { Environment, ParseResult } from '@marcbachmann/cel-js';
import type { Json, JsonObject } from '../types.js';
import { authorizerFor, registerAuthorizer, type AuthorizeFn } from './authz.js';
import { compileExpr } from './compile.js';
import { PER_CALL_LIMIT, actualSize, estimate } from './cost.js';
import { kubernetesEnvironment } from './library.js';
import { SchemaModel, toCel, toDyn, type SchemaNode } from './model.js';
import { celError } from './validate.js';

const str = { type: 'string' };
const obj = (properties: Record<string, Json>): JsonObject => ({ type: 'object', properties });
const gvk = obj({ group: str, version: str, kind: str });
const gvr = obj({ group: str, version: str, resource: str });

/** kube's `kubernetes.AdmissionRequest` CEL type, as an OpenAPI schema. */
const REQUEST_SCHEMA = obj({
  kind: gvk,
  resource: gvr,
  subResource: str,
  requestKind: gvk,
  requestResource: gvr,
  requestSubResource: str,
  name: str,
  namespace: str,
  operation: str,
  userInfo: obj({
    username: str,
    uid: str,
    groups: { type: 'array', items: str },
    extra: { type: 'object', additionalProperties: { type: 'array', items: str } },
  }),
  dryRun: { type: 'boolean' },
  options: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
});

/** kube's `kubernetes.Namespace` CEL type. Webhook match conditions always see it null. */
const NAMESPACE_SCHEMA = obj({
  metadata: obj({
    name: str,
    generateName: str,
    namespace: str,
    labels: { type: 'object', additionalProperties: str },
    annotations: { type: 'object', additionalProperties: str },
    UID: str,
    creationTimestamp: { type: 'string', format: 'date-time' },
    deletionGracePeriodSeconds: { type: 'integer' },
    deletionTimestamp: { type: 'string', format: 'date-time' },
    generation: { type: 'integer' },
    resourceVersion: str,
    finalizers: { type: 'array', items: str },
  }),
  spec: obj({ finalizers: { type: 'array', items: str } }),
  status: obj({ phase: str }),
});

const DYN: SchemaNode = { kind: 'dyn', schemaType: 'object', rules: [], celType: 'dyn' };

let env: { env: Environment; request: SchemaNode } | undefined;

function admissionEnvironment(): { env: Environment; request: SchemaNode } {
  if (!env) {
    const e = kubernetesEnvironment();
    const model = new SchemaModel(e);
    const request = model.node(REQUEST_SCHEMA);
    const namespace = model.node(NAMESPACE_SCHEMA);
    registerAuthorizer(e);
    e.registerVariable('object', 'dyn').registerVariable('oldObject', 'dyn').registerVariable('request', request.celType).registerVariable('namespaceObject', namespace.celType);
    env = { env: e, request };
  }
  return env;
}

/** cel-go prints parameterised types with parentheses: `list(int)`, `map(string, dyn)`. */
function goType(t: string): string {
  return t.replace(/</g, '(').replace(/>/g, ')');
}

/** A compiled boolean admission expression, or kube's reason for refusing it. */
export type CompiledExpression = { program: ParseResult; error?: undefined } | { program?: undefined; error: string };

/** Compiles a boolean admission expression; `error` is kube's detail after `Invalid value: "<expr>": `. */
export function compileAdmissionExpression(expression: string): CompiledExpression {
  const compiled = compileExpr(admissionEnvironment().env, expression);
  if (compiled.error !== undefined) return { error: `compilation failed: ${compiled.error}` };
  if (compiled.type !== 'bool') return { error: `must evaluate to bool but got ${goType(compiled.type ?? 'dyn')}` };
  return { program: compiled.program! };
}

/**
 * The variables an admission expression sees; `request` is the AdmissionRequest without its
 * objects, and `authorize` answers `authorizer` checks for the request's user.
 */
export interface AdmissionVariables {
  object: Json | null;
  oldObject: Json | null;
  request: JsonObject;
  authorize: AuthorizeFn;
}

const field = (o: Json | undefined, k: string): string => {
  const v = typeof o === 'object' && o !== null && !Array.isArray(o) ? o[k] : undefined;
  return typeof v === 'string' ? v : '';
};

/** The result of one expression: its boolean, or the error kube reports for it. */
export type ExpressionResult = { value: boolean; error?: undefined } | { value?: undefined; error: string };

/**
 * Evaluates a compiled admission expression. Errors read as kube's filter reports them
 * (`expression '<e>' resulted in error: <cel error>`); a cost over the per-call budget is refused
 * before evaluation so that a runaway expression cannot stall the server.
 */
export function evaluateAdmissionExpression(expression: string, program: ParseResult, vars: AdmissionVariables): ExpressionResult {
  const { request } = admissionEnvironment();
  const size = (v: Json | null) => actualSize(DYN, v === null ? [] : [v]);
  const cost = estimate(program.ast, new Map([['object', size(vars.object)], ['oldObject', size(vars.oldObject)]]));
  if (cost > PER_CALL_LIMIT) return { error: 'validation failed due to running out of cost budget, no further validation rules will be run' };
  try {
    const value: unknown = program({
      object: vars.object === null ? null : toDyn(vars.object),
      oldObject: vars.oldObject === null ? null : toDyn(vars.oldObject),
      request: toCel(vars.request, request),
      namespaceObject: null,
      authorizer: authorizerFor(vars.authorize, {
        group: field(vars.request['resource'], 'group'),
        resource: field(vars.request['resource'], 'resource'),
        subresource: field(vars.request, 'subResource'),
        namespace: field(vars.request, 'namespace'),
        name: field(vars.request, 'name'),
      }),
    });
    if (typeof value !== 'boolean') return { error: `expression '${expression}' resulted in error: no such overload` };
    return { value };
  } catch (err) {
    return { error: `expression '${expression}' resulted in error: ${celError(err)}` };
  }
}
