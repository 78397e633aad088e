/**
 * Evaluation of compiled `x-kubernetes-validations` on an object about to be stored, with kube's
 * semantics: rules run where the value is present, transition rules only against a correlated old
 * value, unchanged values ratchet (a failure becomes a warning), and failures and runtime errors
 * become field causes worded as apiextensions (kube >= 1.35) words them.
 */
import { Optional } from '@marcbachmann/cel-js';
import { cause, type StatusCause } from '../http/errors.js';
import { deepEqual } from '../json.js';
import type { Json, JsonObject } from '../types.js';
import type { CompiledRule, RuleSet } from './compile.js';
import { PER_CALL_LIMIT, PER_OBJECT_LIMIT, actualSize, estimate } from './cost.js';
import { toCel, type SchemaNode } from './model.js';

/** What the rules found: causes for a 422 and warnings (failures ratcheted on unchanged values). */
export interface RuleResult {
  causes: StatusCause[];
  warnings: string[];
}

const MAX_MESSAGE_EXPRESSION_BYTES = 5120;

interface State extends RuleResult {
  update: boolean;
  spent: number;
  stopped: boolean;
  /** CEL values already built for a JSON object or list at a node: several rules share one. */
  converted: WeakMap<object, Map<SchemaNode, unknown>>;
}

function celValue(s: State, v: Json, node: SchemaNode): unknown {
  if (typeof v !== 'object' || v === null) return toCel(v, node);
  let byNode = s.converted.get(v);
  if (!byNode) s.converted.set(v, (byNode = new Map()));
  if (!byNode.has(node)) byNode.set(node, toCel(v, node));
  return byNode.get(node);
}

function isObj(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value after `Invalid value: `, as kube >= 1.35 prints it; undefined for objects and lists. */
function shown(v: Json): string | undefined {
  if (typeof v === 'object' && v !== null) return undefined;
  return JSON.stringify(v);
}

function childPath(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** The message or, without one, the rule: what kube names a rule by in runtime errors. */
function ruleName(r: CompiledRule): string {
  return r.message || r.rule.trim();
}

/** The first line of an engine error, worded as cel-go words the common ones. */
export function celError(err: unknown): string {
  const e = err as { summary?: string; message?: string };
  const msg = e.summary ?? String(e.message ?? err).split('\n')[0]!;
  return msg.replace(/^No such key: /, 'no such key: ');
}

function detail(r: CompiledRule, ctx: Record<string, unknown>): string {
  if (r.messageProgram) {
    // A failing, empty, multi-line or oversized messageExpression falls back to the message.
    try {
      const m: unknown = r.messageProgram(ctx);
      if (typeof m === 'string') {
        const t = m.trim();
        if (t && !/[\r\n]/.test(t) && Buffer.byteLength(t) <= MAX_MESSAGE_EXPRESSION_BYTES) return t;
      }
    } catch {
      // fall through to the static message
    }
  }
  return r.message || `failed rule: ${r.rule.trim()}`;
}

function failure(s: State, r: CompiledRule, node: SchemaNode, value: Json, path: string, text: string, ratchet: boolean): void {
  // kube appends the fieldPath as one child, so a map key reads `spec.[key]`.
  const field = r.fieldPath ? childPath(path, r.fieldPath) : path || '<nil>';
  let c: StatusCause;
  switch (r.reason) {
    case 'FieldValueForbidden':
      c = cause(r.reason, field, `Forbidden: ${text}`);
      break;
    case 'FieldValueRequired':
      c = cause(r.reason, field, `Required value: ${text}`);
      break;
    case 'FieldValueDuplicate':
      c = cause(r.reason, field, `Duplicate value: ${shown(value) ?? JSON.stringify(node.schemaType)}`);
      break;
    default: {
      const v = shown(value);
      c = cause('FieldValueInvalid', field, v === undefined ? `Invalid value: ${text}` : `Invalid value: ${v}: ${text}`);
    }
  }
  if (ratchet) s.warnings.push(`${c.field}: ${c.message}`);
  else s.causes.push(c);
}

function runRules(s: State, rules: CompiledRule[], node: SchemaNode, value: Json, old: Json | undefined, path: string, unchanged: boolean): void {
  const field = path || '<nil>';
  const typeValue = JSON.stringify(node.schemaType);
  for (const r of rules) {
    if (s.stopped) return;
    if (r.usesOldSelf && old === undefined && !r.optionalOldSelf) continue;
    const sizes = new Map([['self', actualSize(node, [value])], ['oldSelf', actualSize(node, old === undefined ? [] : [old])]]);
    const cost = estimate(r.program.ast, sizes);
    if (cost > PER_CALL_LIMIT) {
      s.causes.push(cause('FieldValueInvalid', field, `Invalid value: ${typeValue}: 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleName(r)}`));
      s.stopped = true;
      return;
    }
    if (s.spent + cost > PER_OBJECT_LIMIT) {
      s.causes.push(cause('FieldValueInvalid', field, `Invalid value: ${typeValue}: validation failed due to running out of cost budget, no further validation rules will be run`));
      s.stopped = true;
      return;
    }
    s.spent += cost;
    let ctx: Record<string, unknown> = {};
    let ok: unknown;
    try {
      const self = celValue(s, value, node);
      const oldSelf = old === undefined ? undefined : celValue(s, old, node);
      ctx = { self, oldSelf: r.optionalOldSelf ? (old === undefined ? Optional.none() : Optional.of(oldSelf)) : oldSelf };
      ok = r.program(ctx);
    } catch (err) {
      s.causes.push(cause('FieldValueInvalid', field, `Invalid value: ${typeValue}: ${celError(err)} evaluating rule: ${ruleName(r)}`));
      continue;
    }
    if (ok === true) continue;
    // Ratcheting: an unchanged value that already failed a rule without oldSelf is only warned about.
    failure(s, r, node, value, path, detail(r, ctx), s.update && unchanged && !r.usesOldSelf);
  }
}

function mapKeyOf(item: Json, keys: string[]): string | undefined {
  if (!isObj(item)) return undefined;
  return JSON.stringify(keys.map((k) => item[k] ?? null));
}

function walk(s: State, set: RuleSet, node: SchemaNode, value: Json | undefined, old: Json | undefined, path: string, unchanged: boolean): void {
  if (value === undefined || value === null || s.stopped) return;
  const rules = set.rules.get(node);
  if (rules) runRules(s, rules, node, value, old, path, unchanged);
  if (node.properties && isObj(value)) {
    for (const [name, p] of node.properties) {
      const o = isObj(old) ? old[name] : undefined;
      walk(s, set, p.node, value[name], o, childPath(path, name), o === undefined ? false : deepEqual(value[name]!, o));
    }
  } else if (node.additional && isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      const o = isObj(old) ? old[k] : undefined;
      walk(s, set, node.additional, v, o, `${path}[${k}]`, o === undefined ? false : deepEqual(v, o));
    }
  } else if (node.items && Array.isArray(value)) {
    const keys = node.listType === 'map' ? node.listMapKeys : undefined;
    const byKey = new Map<string, Json>();
    if (keys?.length && Array.isArray(old)) for (const o of old) byKey.set(mapKeyOf(o, keys) ?? '', o);
    value.forEach((item, i) => {
      const k = keys?.length ? mapKeyOf(item, keys) : undefined;
      const o = k !== undefined ? byKey.get(k) : undefined;
      // Items without an old counterpart ratchet with their nearest correlated ancestor.
      const same = keys?.length ? o !== undefined && deepEqual(item, o) : unchanged;
      walk(s, set, node.items!, item, o, `${path}[${i}]`, same);
    });
  }
}

/**
 * Evaluates the rules of `set` on `obj` (a create when `old` is undefined, else an update of `old`).
 */
export function evaluateRules(set: RuleSet, obj: Json, old: Json | undefined): RuleResult {
  const s: State = { causes: [], warnings: [], update: old !== undefined, spent: 0, stopped: false, converted: new WeakMap() };
  if (set.rules.size === 0) return s;
  walk(s, set, set.root, obj, old, '', old !== undefined && deepEqual(obj, old));
  return { causes: s.causes, warnings: s.warnings };
}
