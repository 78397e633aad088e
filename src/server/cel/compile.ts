/**
 * Registration of `x-kubernetes-validations`: every rule of a schema is checked and compiled once
 * (apiextensions' ValidateCustomResourceDefinition wording under `…x-kubernetes-validations[i].`),
 * including type checking against the schema and kube's estimated cost limits.
 */
import type { ASTNode, Environment, ParseResult } from '@marcbachmann/cel-js';
import { cause, type StatusCause } from '../http/errors.js';
import type { Json } from '../types.js';
import {
  PER_RULE_ESTIMATE_LIMIT,
  PER_SCHEMA_ESTIMATE_LIMIT,
  costErrorMessage,
  declaredBound,
  declaredSize,
  estimate,
  identifiers,
} from './cost.js';
import { compileRegex, kubernetesEnvironment } from './library.js';
import { SchemaModel, type RuleSpec, type SchemaNode } from './model.js';

/** A rule ready to evaluate. */
export interface CompiledRule {
  rule: string;
  message: string;
  reason: string;
  /** The fieldPath relative to the node, as kube appends it (`x.y`, `[key]`), or '' when unset. */
  fieldPath: string;
  optionalOldSelf: boolean;
  usesOldSelf: boolean;
  program: ParseResult;
  messageProgram?: ParseResult;
}

/** The compiled rules of one schema: its CEL node tree and the rules at each node. */
export interface RuleSet {
  root: SchemaNode;
  rules: ReadonlyMap<SchemaNode, CompiledRule[]>;
}

/** What registering a schema yields: the rule set and the errors that refuse the schema. */
export interface CompileResult {
  ruleSet: RuleSet;
  errors: StatusCause[];
}

const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

/** Go's json.Marshal of a string: HTML-significant characters escaped as \u00XX. */
function goJson(v: Json): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The internal ValidationRule as kube prints it after `Invalid value: ` (JSON with Go field names). */
function ruleValue(r: RuleSpec): string {
  const s = (v: Json | undefined): string => goJson(typeof v === 'string' ? v : '');
  const opt = (v: Json | undefined): string => (v === undefined || v === null ? 'null' : goJson(v));
  return `{"Rule":${s(r.rule)},"Message":${s(r.message)},"MessageExpression":${s(r.messageExpression)},"Reason":${opt(r.reason)},"FieldPath":${s(r.fieldPath)},"OptionalOldSelf":${opt(r.optionalOldSelf)}}`;
}

const BINARY_OPERATORS = new Set(['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', 'in']);

/** The cel-go rendering of a compile issue: `ERROR: <input>:line:col: msg`, the line and a caret. */
function issue(expr: string, err: unknown): string {
  const e = err as { summary?: string; message?: string; range?: { start: number }; node?: { pos?: number; op?: string; args?: unknown } };
  let msg = e.summary ?? String(e.message ?? err).split('\n')[0]!;
  let offset = e.range?.start ?? e.node?.pos ?? 0;
  const op = /^no such overload: (\S+) (\S+) (\S+)$/.exec(msg);
  if (op && BINARY_OPERATORS.has(op[2]!)) {
    // cel-go names the operator function and places the issue at the operator.
    const fn = op[2] === 'in' ? '@in' : `_${op[2]}_`;
    msg = `found no matching overload for '${fn}' applied to '(${op[1]}, ${op[3]})'`;
    const left = Array.isArray(e.node?.args) ? (e.node.args[0] as { range?: { end: number } } | undefined) : undefined;
    const at = expr.indexOf(op[2]!, left?.range?.end ?? offset);
    if (at >= 0) offset = at;
  }
  msg = msg
    .replace(/^No such key: (.*)$/, "undefined field '$1'")
    .replace(/^Unknown variable: (.*)$/, "undeclared reference to '$1' (in container '')");
  // cel-go places a select at its dot, the engine at the field name.
  if (msg.startsWith('undefined field') && expr[offset - 1] === '.') offset--;
  const before = expr.slice(0, offset).split('\n');
  const line = before.length;
  const col = before[before.length - 1]!.length;
  const text = expr.split('\n')[line - 1] ?? '';
  return `ERROR: <input>:${line}:${col + 1}: ${msg}\n | ${text}\n | ${'.'.repeat(col)}^`;
}

/** Regex literals are checked when the rule compiles, as cel-go does; the first bad one, if any. */
function badRegexLiteral(ast: ASTNode): { pos: number; message: string } | undefined {
  let found: { pos: number; message: string } | undefined;
  const visit = (n: unknown): void => {
    if (found || typeof n !== 'object' || n === null) return;
    if (Array.isArray(n)) return n.forEach(visit);
    const node = n as ASTNode;
    if (!('op' in node) || node.op === 'value' || node.op === 'id') return;
    if (node.op === 'rcall' || node.op === 'call') {
      const name = node.args[0];
      const args = node.op === 'rcall' ? node.args[2] : node.args[1].slice(1);
      const pattern = args[0];
      if ((name === 'matches' || name === 'find' || name === 'findAll') && pattern?.op === 'value' && typeof pattern.args === 'string') {
        try {
          // `matches` runs on the engine's own RegExp, without the inline-flag translation.
          if (name === 'matches') new RegExp(pattern.args);
          else compileRegex(pattern.args);
        } catch (err) {
          found = { pos: pattern.pos, message: `invalid ${name} argument: ${(err as Error).message}` };
        }
      }
    }
    visit(node.args);
  };
  visit(ast);
  return found;
}

/** Parses and type checks `expr` in `env`; the error reads as cel-go's issues. */
export function compileExpr(env: Environment, expr: string): { program?: ParseResult; type?: string; error?: string } {
  try {
    const program = env.parse(expr);
    const checked = program.check();
    if (!checked.valid) return { error: issue(expr, checked.error) };
    const bad = badRegexLiteral(program.ast);
    if (bad) return { error: issue(expr, { message: bad.message, range: { start: bad.pos } }) };
    return { program, type: checked.type };
  } catch (err) {
    return { error: issue(expr, err) };
  }
}

/** Normalises a fieldPath (`.a.b`, `.a['k']`) against the node; undefined when it names no field. */
function resolveFieldPath(fp: string, node: SchemaNode): string | undefined {
  const tokens = /^(?:\.([a-zA-Z_][a-zA-Z0-9_-]*)|\['((?:[^'\\]|\\.)*)'\])/;
  let rest = fp;
  let cur: SchemaNode | undefined = node;
  let out = '';
  while (rest.length > 0) {
    const m = tokens.exec(rest);
    if (!m || !cur) return undefined;
    const name = m[1] ?? m[2]!.replace(/\\(.)/g, '$1');
    if (cur.kind === 'struct' && cur.properties?.has(name)) {
      cur = cur.properties.get(name)!.node;
      out += m[1] !== undefined ? `${out ? '.' : ''}${name}` : `[${name}]`;
    } else if (cur.kind === 'map') {
      cur = cur.additional;
      out += `[${name}]`;
    } else return undefined;
    rest = rest.slice(m[0].length);
  }
  return out;
}

interface Walk {
  errors: StatusCause[];
  rules: Map<SchemaNode, CompiledRule[]>;
  base: Environment;
  envs: Map<string, Environment>;
  /** Estimated costs of rules by their schema path, for the schema total. */
  costs: { path: string; cost: number }[];
}

function envFor(w: Walk, node: SchemaNode, optionalOldSelf: boolean): Environment {
  const key = `${node.celType}|${optionalOldSelf}`;
  let env = w.envs.get(key);
  if (!env) {
    env = w.base.clone().registerVariable('self', node.celType).registerVariable('oldSelf', optionalOldSelf ? `optional<${node.celType}>` : node.celType);
    w.envs.set(key, env);
  }
  return env;
}

function compileRule(w: Walk, node: SchemaNode, spec: RuleSpec, at: string, uncorrelatable: string | undefined, cardinality: number): void {
  const errs = w.errors;
  const before = errs.length;
  const rule = typeof spec.rule === 'string' ? spec.rule : '';
  const message = typeof spec.message === 'string' ? spec.message : '';
  const msgExpr = typeof spec.messageExpression === 'string' ? spec.messageExpression : undefined;
  const reason = typeof spec.reason === 'string' ? spec.reason : undefined;
  const fieldPath = typeof spec.fieldPath === 'string' ? spec.fieldPath : '';
  const optionalOldSelf = spec.optionalOldSelf === true;
  if (!rule.trim()) errs.push(cause('FieldValueRequired', `${at}.rule`, 'Required value: rule is not specified'));
  if (spec.message !== undefined && !message.trim()) errs.push(cause('FieldValueInvalid', `${at}.message`, `Invalid value: ${JSON.stringify(message)}: must be non-empty if specified`));
  if (/[\r\n]/.test(message)) errs.push(cause('FieldValueInvalid', `${at}.message`, `Invalid value: ${JSON.stringify(message)}: must not contain line breaks`));
  if (!message && msgExpr === undefined && /[\r\n]/.test(rule)) errs.push(cause('FieldValueRequired', `${at}.message`, 'Required value: message must be specified if rule contains line breaks'));
  if (msgExpr !== undefined && !msgExpr.trim()) errs.push(cause('FieldValueRequired', `${at}.messageExpression`, 'Required value: messageExpression must be non-empty if specified'));
  if (reason !== undefined && !REASONS.includes(reason)) {
    errs.push(cause('FieldValueNotSupported', `${at}.reason`, `Unsupported value: ${JSON.stringify(reason)}: supported values: ${REASONS.map((r) => JSON.stringify(r)).join(', ')}`));
  }
  const relPath = fieldPath ? resolveFieldPath(fieldPath, node) : '';
  if (relPath === undefined) errs.push(cause('FieldValueInvalid', `${at}.fieldPath`, `Invalid value: ${JSON.stringify(fieldPath)}: must be a valid path`));
  if (!rule.trim()) return;

  const env = envFor(w, node, optionalOldSelf);
  const compiled = compileExpr(env, rule);
  if (compiled.error) {
    errs.push(cause('FieldValueInvalid', `${at}.rule`, `Invalid value: ${ruleValue(spec)}: compilation failed: ${compiled.error}`));
    return;
  }
  if (compiled.type !== 'bool') errs.push(cause('FieldValueInvalid', `${at}.rule`, `Invalid value: ${ruleValue(spec)}: cel expression must evaluate to a bool`));
  const ast = compiled.program!.ast as ASTNode;
  const usesOldSelf = identifiers(ast).has('oldSelf');
  if (usesOldSelf && uncorrelatable !== undefined) {
    errs.push(cause('FieldValueInvalid', `${at}.rule`, `Invalid value: ${JSON.stringify(rule)}: oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}`));
  }
  if (optionalOldSelf && !usesOldSelf) errs.push(cause('FieldValueInvalid', `${at}.optionalOldSelf`, 'Invalid value: true: may not be set if oldSelf is not used in rule'));
  let messageProgram: ParseResult | undefined;
  if (msgExpr?.trim()) {
    const m = compileExpr(env, msgExpr);
    if (m.error) errs.push(cause('FieldValueInvalid', `${at}.messageExpression`, `Invalid value: ${ruleValue(spec)}: messageExpression compilation failed: ${m.error}`));
    else if (m.type !== 'string') errs.push(cause('FieldValueInvalid', `${at}.messageExpression`, `Invalid value: ${ruleValue(spec)}: messageExpression must evaluate to a string`));
    else messageProgram = m.program;
  }
  const size = declaredSize(node);
  const cost = estimate(ast, new Map([['self', size], ['oldSelf', size]])) * cardinality;
  if (cost > PER_RULE_ESTIMATE_LIMIT) {
    errs.push(cause('FieldValueForbidden', `${at}.rule`, `Forbidden: ${costErrorMessage('estimated rule cost', cost, PER_RULE_ESTIMATE_LIMIT)}`));
  }
  w.costs.push({ path: `${at}.rule`, cost });
  if (errs.length > before) return;
  const list = w.rules.get(node) ?? [];
  list.push({ rule, message: message.trim(), reason: reason ?? 'FieldValueInvalid', fieldPath: relPath ?? '', optionalOldSelf, usesOldSelf, program: compiled.program!, messageProgram });
  w.rules.set(node, list);
}

function walkSchema(w: Walk, node: SchemaNode, path: string, uncorrelatable: string | undefined, cardinality: number): void {
  node.rules.forEach((r, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`;
    try {
      compileRule(w, node, r, at, uncorrelatable, cardinality);
    } catch (err) {
      w.errors.push(cause('FieldValueInvalid', `${at}.rule`, `Invalid value: ${ruleValue(r)}: compilation failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  for (const [name, p] of node.properties ?? []) walkSchema(w, p.node, `${path}.properties[${name}]`, uncorrelatable, cardinality);
  if (node.additional) walkSchema(w, node.additional, `${path}.additionalProperties`, uncorrelatable, cardinality * declaredBound(node));
  if (node.items) {
    const itemsPath = `${path}.items`;
    // Items of map lists correlate by key; set and atomic list items have no old counterpart.
    const unc = uncorrelatable ?? (node.listType === 'map' && node.listMapKeys?.length ? undefined : itemsPath);
    walkSchema(w, node.items, itemsPath, unc, cardinality * declaredBound(node));
  }
}

/**
 * Compiles the rules of an OpenAPI v3 schema. `path` prefixes error fields, e.g.
 * `spec.versions[0].schema.openAPIV3Schema`.
 */
export function compileSchema(openapi: Json | undefined, path: string): CompileResult {
  const base = kubernetesEnvironment();
  let root: SchemaNode;
  try {
    root = new SchemaModel(base).root(openapi);
  } catch (err) {
    // A schema the engine cannot declare types for must refuse its rules, not break the server.
    const msg = err instanceof Error ? err.message : String(err);
    return { ruleSet: { root: { kind: 'dyn', schemaType: 'object', rules: [], celType: 'dyn' }, rules: new Map() }, errors: [cause('FieldValueInvalid', path, `Invalid value: "object": ${msg}`)] };
  }
  const w: Walk = { errors: [], rules: new Map(), base, envs: new Map(), costs: [] };
  walkSchema(w, root, path, undefined, 1);
  const total = w.costs.reduce((s, c) => s + c.cost, 0);
  if (total > PER_SCHEMA_ESTIMATE_LIMIT) {
    for (const c of w.costs) {
      w.errors.push(cause('FieldValueForbidden', c.path, 'Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema'));
    }
    w.errors.push(cause('FieldValueForbidden', path, `Forbidden: ${costErrorMessage('x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema', total, PER_SCHEMA_ESTIMATE_LIMIT)}`));
  }
  return { ruleSet: { root, rules: w.rules }, errors: w.errors };
}
