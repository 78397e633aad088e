/**
 * `matchConditions` of admission webhooks, as kube's webhook matcher applies them: CEL expressions
 * over `object`, `oldObject` and `request`; any false skips the webhook, and an evaluation error
 * follows the webhook's failurePolicy. Also kube's validation of the list (422 field errors).
 */
import { compileAdmissionExpression, evaluateAdmissionExpression, type AdmissionVariables, type CompiledExpression } from '../cel/index.js';
import { cause, type StatusCause } from '../http/errors.js';
import { deepEqual, isObject } from '../json.js';
import type { Json } from '../types.js';
import { qualifiedName } from '../api/validation.js';

/** kube's limit on the conditions of one webhook. */
const MAX_MATCH_CONDITIONS = 64;

/** One condition of a stored webhook, compiled. */
export interface MatchCondition {
  name: string;
  expression: string;
  compiled: CompiledExpression;
}

function entries(raw: Json | undefined): { name: string; expression: string }[] {
  return (Array.isArray(raw) ? raw : []).map((c) => {
    const o = isObject(c) ? c : {};
    return { name: typeof o['name'] === 'string' ? o['name'] : '', expression: typeof o['expression'] === 'string' ? o['expression'] : '' };
  });
}

/** The conditions of a stored webhook, compiled once per stored version. */
export function parseMatchConditions(raw: Json | undefined): MatchCondition[] {
  return entries(raw).map((c) => ({ ...c, compiled: compileAdmissionExpression(c.expression) }));
}

/** kube's validateMatchConditions: count, expression present and compiling to a bool, names qualified and unique. */
export function matchConditionCauses(raw: Json | undefined, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  const list = entries(raw);
  if (list.length > MAX_MATCH_CONDITIONS) {
    out.push(cause('FieldValueTooMany', field, `Too many: ${list.length}: must have at most ${MAX_MATCH_CONDITIONS} items`));
  }
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const at = `${field}[${i}]`;
    const expression = c.expression.trim();
    if (!expression) {
      out.push(cause('FieldValueRequired', `${at}.expression`, 'Required value'));
    } else {
      const compiled = compileAdmissionExpression(expression);
      if (compiled.error !== undefined) out.push(cause('FieldValueInvalid', `${at}.expression`, `Invalid value: ${JSON.stringify(expression)}: ${compiled.error}`));
    }
    if (!c.name) {
      out.push(cause('FieldValueRequired', `${at}.name`, 'Required value'));
    } else {
      for (const m of qualifiedName(c.name)) out.push(cause('FieldValueInvalid', `${at}.name`, `Invalid value: ${JSON.stringify(c.name)}: ${m}`));
      if (seen.has(c.name)) out.push(cause('FieldValueDuplicate', `${at}.name`, `Duplicate value: ${JSON.stringify(c.name)}`));
      seen.add(c.name);
    }
  });
  return out;
}

/**
 * Whether an update leaves every webhook's conditions as they were, in which case kube does not
 * validate them again (an expression stored under an older environment stays accepted).
 */
export function sameMatchConditions(webhooks: Json | undefined, oldWebhooks: Json | undefined): boolean {
  const a = Array.isArray(webhooks) ? webhooks : [];
  const b = Array.isArray(oldWebhooks) ? oldWebhooks : [];
  if (a.length !== b.length) return false;
  const conditions = (h: Json | undefined): Json => (isObject(h) ? (h['matchConditions'] ?? null) : null);
  return a.every((h, i) => deepEqual(conditions(h), conditions(b[i])));
}

/** What the conditions decide: call the webhook, skip it, or fail the request with `error`. */
export type ConditionsDecision = { call: boolean; error?: undefined } | { call?: undefined; error: string };

/**
 * Evaluates the conditions as kube's matcher does: a false condition skips the webhook whatever
 * the other results; otherwise errors fail the request under `Fail` and skip the webhook under
 * `Ignore`.
 */
export function decide(conditions: readonly MatchCondition[], vars: AdmissionVariables, failurePolicy: 'Fail' | 'Ignore'): ConditionsDecision {
  const errors: string[] = [];
  for (const c of conditions) {
    const r = c.compiled.error !== undefined ? { error: c.compiled.error } : evaluateAdmissionExpression(c.expression, c.compiled.program, vars);
    if (r.error !== undefined) errors.push(r.error);
    else if (!r.value) return { call: false };
  }
  if (!errors.length) return { call: true };
  if (failurePolicy === 'Ignore') return { call: false };
  // Go's error aggregate: duplicates dropped, several in brackets.
  const unique = [...new Set(errors)];
  return { error: unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]` };
}
