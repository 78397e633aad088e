/**
 * Rough CEL cost accounting in the spirit of cel-go's estimator: one unit per operation, string
 * scans at a tenth of a unit per character, comprehensions multiplied by the size of what they
 * iterate. The same estimator runs with the schema's declared bounds at registration (kube's
 * estimated cost) and with the actual sizes of the object at admission (an upper bound of the
 * actual cost), so a runaway rule is stopped before it runs.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import type { Json } from '../types.js';
import type { SchemaNode } from './model.js';

/** Runtime budget of one rule evaluation. */
export const PER_CALL_LIMIT = 1_000_000;
/** Runtime budget of all rules of one object. */
export const PER_OBJECT_LIMIT = 10_000_000;
/** Estimated budget of one rule times the number of times it can run. */
export const PER_RULE_ESTIMATE_LIMIT = 10_000_000;
/** Estimated budget of all rules of a schema. */
export const PER_SCHEMA_ESTIMATE_LIMIT = 100_000_000;

/** kube's largest request, which bounds unbounded lists, maps and strings. */
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** The size of a value as the estimator knows it: length (list, map, string) and its parts. */
export interface Size {
  len: number;
  elem?: () => Size;
  field?: (celName: string) => Size | undefined;
}

const UNKNOWN: Size = { len: MAX_REQUEST_BYTES, elem: () => UNKNOWN };

/** The smallest JSON encoding of a value of `node`, plus its separator. */
function minSize(node: SchemaNode | undefined): number {
  switch (node?.kind) {
    case 'string':
    case 'struct':
    case 'map':
    case 'list':
      return 3;
    case 'bool':
      return 5;
    default:
      return 2;
  }
}

/** The most elements (or characters) a value of `node` may have under the schema. */
export function declaredBound(node: SchemaNode): number {
  switch (node.kind) {
    case 'list':
      return node.maxItems ?? Math.floor(MAX_REQUEST_BYTES / minSize(node.items));
    case 'map':
    case 'struct':
    case 'dyn':
      return node.maxProperties ?? Math.floor(MAX_REQUEST_BYTES / (minSize(node.additional) + 4));
    case 'string':
      return node.maxLength ?? MAX_REQUEST_BYTES;
    default:
      return 1;
  }
}

/** Sizes from the schema alone. */
export function declaredSize(node: SchemaNode): Size {
  return {
    len: declaredBound(node),
    elem: () => (node.items ? declaredSize(node.items) : node.additional ? declaredSize(node.additional) : UNKNOWN),
    field: (name) => {
      for (const p of node.properties?.values() ?? []) if (p.celName === name) return declaredSize(p.node);
      return undefined;
    },
  };
}

function lengthOf(v: Json): number {
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length;
  return 1;
}

/** Sizes of the actual values at `node` (several when reached through an iteration). */
export function actualSize(node: SchemaNode, values: Json[]): Size {
  return {
    len: values.reduce((m: number, v) => Math.max(m, lengthOf(v)), 0),
    elem: () => {
      const sub = node.items ?? node.additional;
      const parts = values.flatMap((v) => (Array.isArray(v) ? v : typeof v === 'object' && v !== null ? Object.values(v) : []));
      return sub ? actualSize(sub, parts) : { len: parts.reduce((m: number, v) => Math.max(m, lengthOf(v)), 0), elem: () => UNKNOWN };
    },
    field: (name) => {
      for (const [json, p] of node.properties ?? []) {
        if (p.celName !== name) continue;
        const parts = values.flatMap((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && v[json] !== undefined ? [v[json]!] : []));
        return actualSize(p.node, parts);
      }
      return undefined;
    },
  };
}

interface Estimate {
  cost: number;
  size: Size;
}

const SCALAR: Size = { len: 1 };
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const STRING_SCANS = new Set([
  'matches', 'contains', 'startsWith', 'endsWith', 'find', 'findAll', 'replace', 'split', 'lowerAscii', 'upperAscii',
  'trim', 'indexOf', 'lastIndexOf', 'substring', 'reverse', 'charAt', 'quantity', 'isQuantity', 'url', 'isURL', 'quote',
  'ip', 'isIP', 'cidr', 'isCIDR', 'isCanonical',
]);
const LIST_SCANS = new Set(['sum', 'min', 'max', 'isSorted', 'indexOf', 'lastIndexOf', 'join', 'reverse', 'flatten', 'slice', 'sort', 'first', 'last']);

const scan = (len: number): number => Math.ceil(len * 0.1);

/** Estimates the cost of `ast` given the sizes of its variables. */
export function estimate(ast: ASTNode, vars: ReadonlyMap<string, Size>): number {
  return walk(ast, vars).cost;
}

function walk(n: ASTNode, vars: ReadonlyMap<string, Size>): Estimate {
  switch (n.op) {
    case 'value':
      return { cost: 0, size: typeof n.args === 'string' ? { len: n.args.length } : SCALAR };
    case 'id':
      return { cost: 1, size: vars.get(n.args) ?? UNKNOWN };
    case '.':
    case '.?': {
      const [operand, name] = n.args;
      const e = walk(operand, vars);
      return { cost: e.cost + 1, size: e.size.field?.(name) ?? e.size.elem?.() ?? UNKNOWN };
    }
    case '[]':
    case '[?]': {
      const a = walk(n.args[0], vars);
      const b = walk(n.args[1], vars);
      return { cost: a.cost + b.cost + 1, size: a.size.elem?.() ?? UNKNOWN };
    }
    case 'list': {
      const parts = n.args.map((x) => walk(x, vars));
      return { cost: 1 + parts.reduce((s, p) => s + p.cost, 0), size: { len: parts.length, elem: () => parts[0]?.size ?? UNKNOWN } };
    }
    case 'map': {
      const cost = n.args.reduce((s, [k, v]) => s + walk(k, vars).cost + walk(v, vars).cost, 1);
      return { cost, size: { len: n.args.length, elem: () => UNKNOWN } };
    }
    case '?:': {
      const [c, a, b] = n.args.map((x) => walk(x, vars)) as [Estimate, Estimate, Estimate];
      return { cost: c.cost + Math.max(a.cost, b.cost), size: a.size.len >= b.size.len ? a.size : b.size };
    }
    case '!_':
    case '-_': {
      const e = walk(n.args, vars);
      return { cost: e.cost + 1, size: SCALAR };
    }
    case 'call':
      return call(n.args[0], undefined, n.args[1], vars);
    case 'rcall':
      return call(n.args[0], n.args[1], n.args[2], vars);
    default: {
      // Binary operators; equality and concatenation scan their operands.
      const [a, b] = (n.args as [ASTNode, ASTNode]).map((x) => walk(x, vars)) as [Estimate, Estimate];
      const scanCost = n.op === '==' || n.op === '!=' || n.op === '+' || n.op === 'in' ? scan(Math.min(a.size.len, b.size.len)) : 0;
      const size = n.op === '+' ? { len: a.size.len + b.size.len, elem: a.size.elem ?? b.size.elem } : SCALAR;
      return { cost: a.cost + b.cost + 1 + scanCost, size };
    }
  }
}

function call(name: string, receiver: ASTNode | undefined, args: ASTNode[], vars: ReadonlyMap<string, Size>): Estimate {
  if (name === 'has') return { cost: 1, size: SCALAR };
  const r = receiver ? walk(receiver, vars) : undefined;
  if (r && MACROS.has(name) && args[0]?.op === 'id') {
    const inner = new Map(vars);
    inner.set(args[0].args, r.size.elem?.() ?? UNKNOWN);
    const body = args.slice(1).reduce((s, a) => s + walk(a, inner).cost, 0);
    const size = name === 'map' || name === 'filter' ? { len: r.size.len, elem: () => UNKNOWN } : SCALAR;
    return { cost: r.cost + r.size.len * (body + 1), size };
  }
  if (name === 'bind' && receiver?.op === 'id' && receiver.args === 'cel' && args[0]?.op === 'id') {
    const init = walk(args[1]!, vars);
    const inner = new Map(vars);
    inner.set(args[0].args, init.size);
    const body = walk(args[2]!, inner);
    return { cost: init.cost + body.cost, size: body.size };
  }
  const parts = args.map((a) => walk(a, vars));
  let cost = 1 + (r?.cost ?? 0) + parts.reduce((s, p) => s + p.cost, 0);
  const subject = r ?? parts[0];
  const len = subject?.size.len ?? 1;
  if (STRING_SCANS.has(name) || LIST_SCANS.has(name)) cost += name === 'sort' || name === 'distinct' ? scan(len) * Math.max(1, Math.ceil(Math.log2(len + 1))) : scan(len);
  if (name === 'matches' || name === 'find' || name === 'findAll') cost += scan(len) * Math.max(1, parts[0]?.size.len ?? 1);
  if (name === 'contains' || name === 'equivalent' || name === 'intersects') cost += (parts[0]?.size.len ?? 1) * (parts[1]?.size.len ?? 1);
  const size = name === 'size' || name.startsWith('is') || name.startsWith('get') ? SCALAR : (subject?.size ?? SCALAR);
  return { cost, size };
}

/** Which variables an expression reads. */
export function identifiers(ast: ASTNode, out = new Set<string>()): Set<string> {
  if (ast.op === 'id') out.add(ast.args);
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === 'object' && x !== null && 'op' in x && 'args' in x) identifiers(x as ASTNode, out);
  };
  if (ast.op !== 'id' && ast.op !== 'value') visit(ast.args);
  return out;
}

/** kube's wording of a cost overrun: `<name> exceeds budget by factor of <f>x (try ...)`. */
export function costErrorMessage(costName: string, cost: number, limit: number): string {
  const f = cost / limit;
  const factor = f > 100 ? 'more than 100x' : f < 1.5 ? `${f.toFixed(6)}x` : `${f.toFixed(1)}x`;
  return `${costName} exceeds budget by factor of ${factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}
