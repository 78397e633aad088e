/** Kubernetes label and field selectors: parsing, validation and matching. */
import { badRequest } from '../http/errors.js';
import type { FieldLabels, KubeObject } from '../types.js';

/** A label requirement operator, named as in metav1.LabelSelectorRequirement (plus Gt/Lt from the string syntax). */
export type LabelOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

/** One ANDed term of a label selector. `=`/`==` parse to In and `!=` to NotIn with a single value. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/** A parsed label selector: every requirement must hold. No requirements selects everything. */
export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
}

/** One ANDed term of a field selector; `==` parses to `=`. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** A parsed field selector: every requirement must hold. No requirements selects everything. */
export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

/** The metav1.LabelSelector wire form. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Whether a label or field selector selects everything. */
export function isEmptySelector(sel: LabelSelector | FieldSelector): boolean {
  return sel.requirements.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Label key/value validation. The wording follows apimachinery's validation messages so that
// clients (and people) see the errors they already know from a real API server.

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_FMT_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Problems with a label key, empty when it is valid. */
function labelKeyErrors(key: string): string[] {
  const parts = key.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN_RE.test(prefix)) {
        errs.push(
          "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
            "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        );
      }
    }
  } else {
    return [`a qualified name ${NAME_FMT_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else {
    if (name.length > 63) errs.push('name part must be no more than 63 characters');
    if (!NAME_RE.test(name)) errs.push(`name part ${NAME_FMT_MSG}`);
  }
  return errs;
}

/** Problems with a label value, empty when it is valid. */
function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (value !== '' && !NAME_RE.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and " +
        "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is " +
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return errs;
}

/** Error text in the `field: Invalid value: "x": why` shape of apimachinery's field errors. */
function invalidValue(field: string, value: string, why: string): string {
  return `${field}: Invalid value: ${JSON.stringify(value)}: ${why}`;
}

/** Builds a validated requirement; returns an error message instead when it is not valid. */
function makeRequirement(key: string, operator: LabelOperator, values: readonly string[]): LabelRequirement | string {
  const keyErrs = labelKeyErrors(key);
  if (keyErrs.length > 0) return invalidValue('key', key, keyErrs.join('; '));
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) return "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty";
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length !== 0) return 'values: Invalid value: [...]: values set must be empty for exists and does not exist';
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) return "values: Invalid value: [...]: for 'Gt', 'Lt' operators, exactly one value is required";
      if (!/^[-+]?[0-9]+$/.test(values[0]!)) {
        return invalidValue('values[0]', values[0]!, "for 'Gt', 'Lt' operators, the value must be an integer");
      }
      return { key, operator, values: [...values] };
    default:
      return `operator: Unsupported value: ${JSON.stringify(operator)}`;
  }
  for (let i = 0; i < values.length; i++) {
    const errs = labelValueErrors(values[i]!);
    if (errs.length > 0) return invalidValue(`values[${i}][${key}]`, values[i]!, errs.join('; '));
  }
  // Sorted and de-duplicated like a Go sets.String, so equal selectors print equally.
  return { key, operator, values: [...new Set(values)].sort() };
}

// ---------------------------------------------------------------------------------------------
// Label selector string syntax.

type TokKind = 'ident' | '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '<' | '>' | 'end';
interface Tok {
  kind: TokKind;
  text: string;
}

const SPECIAL = new Set(['!', '=', '(', ')', ',', '<', '>']);

/** Splits a label selector into tokens; identifiers are runs of anything that is neither space nor an operator character. */
function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const two = s.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        toks.push({ kind: two, text: two });
        i += 2;
      } else {
        toks.push({ kind: c as TokKind, text: c });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < s.length && !SPECIAL.has(s[j]!) && !/\s/.test(s[j]!)) j++;
    toks.push({ kind: 'ident', text: s.slice(i, j) });
    i = j;
  }
  toks.push({ kind: 'end', text: '' });
  return toks;
}

/** Recursive-descent parser over the token list; errors carry kube's "found X, expected Y" wording. */
class LabelParser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.pos]!;
  }
  private next(): Tok {
    const t = this.toks[this.pos]!;
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    if (this.peek().kind === 'end') return reqs;
    for (;;) {
      reqs.push(this.requirement());
      const t = this.next();
      if (t.kind === 'end') return reqs;
      if (t.kind !== ',') throw new Error(`found '${t.text}', expected: ',' or 'end of string'`);
    }
  }

  private requirement(): LabelRequirement {
    const first = this.next();
    if (first.kind === '!') {
      const key = this.next();
      if (key.kind !== 'ident') throw new Error(`found '${key.text}', expected: identifier after '!'`);
      return this.build(key.text, 'DoesNotExist', []);
    }
    if (first.kind !== 'ident') throw new Error(`found '${first.text}', expected: !, identifier`);
    const key = first.text;
    const op = this.peek();
    if (op.kind === ',' || op.kind === 'end') return this.build(key, 'Exists', []);
    this.next();
    switch (op.kind) {
      case '=':
      case '==':
        return this.build(key, 'In', [this.exactValue()]);
      case '!=':
        return this.build(key, 'NotIn', [this.exactValue()]);
      case '<':
      case '>': {
        const v = this.next();
        if (v.kind !== 'ident') throw new Error(`found '${v.text}', expected: identifier`);
        return this.build(key, op.kind === '<' ? 'Lt' : 'Gt', [v.text]);
      }
      case 'ident':
        if (op.text === 'in') return this.build(key, 'In', this.valueList());
        if (op.text === 'notin') return this.build(key, 'NotIn', this.valueList());
        break;
      default:
        break;
    }
    throw new Error(`found '${op.text}', expected: in, notin, =, ==, !=, gt, lt`);
  }

  /** The value after `=`, `==` or `!=`; nothing before `,` or the end means the empty value. */
  private exactValue(): string {
    const t = this.peek();
    if (t.kind === ',' || t.kind === 'end') return '';
    if (t.kind !== 'ident') throw new Error(`found '${t.text}', expected: identifier`);
    this.next();
    return t.text;
  }

  /** `( v1, v2 )`; empty slots are empty values, as in kube (`in (a,)` holds "a" and ""). */
  private valueList(): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new Error(`found '${open.text}', expected: '('`);
    const values: string[] = [];
    let expectValue = true;
    for (;;) {
      const t = this.next();
      if (t.kind === 'ident') {
        if (!expectValue) throw new Error(`found '${t.text}', expected: ',' or ')'`);
        values.push(t.text);
        expectValue = false;
      } else if (t.kind === ',') {
        if (expectValue) values.push('');
        expectValue = true;
      } else if (t.kind === ')') {
        if (expectValue) values.push('');
        return values;
      } else {
        throw new Error(`found '${t.text}', expected: ',', ')' or identifier`);
      }
    }
  }

  private build(key: string, op: LabelOperator, values: string[]): LabelRequirement {
    const r = makeRequirement(key, op, values);
    if (typeof r === 'string') throw new Error(r);
    return r;
  }
}

/** Parses the `labelSelector` query syntax; throws 400 BadRequest on malformed input. */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return { requirements: new LabelParser(tokenize(s)).parse() };
  } catch (e) {
    throw badRequest(`unable to parse requirement: ${(e as Error).message}`);
  }
}

/** Converts a metav1.LabelSelector into a selector; throws 400 BadRequest when it is invalid. */
export function labelSelectorFromMatch(s: LabelSelectorSpec): LabelSelector {
  const reqs: LabelRequirement[] = [];
  const add = (key: string, op: LabelOperator, values: readonly string[]): void => {
    const r = makeRequirement(key, op, values);
    if (typeof r === 'string') throw badRequest(r);
    reqs.push(r);
  };
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) add(k, 'In', [v]);
  for (const e of s.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
      throw badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    }
    add(e.key, e.operator, e.values ?? []);
  }
  return { requirements: reqs };
}

/** Whether a label set satisfies every requirement of the selector. */
export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  return sel.requirements.every((r) => matchesRequirement(r, labels ?? {}));
}

function matchesRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = has ? labels[r.key]! : undefined;
  switch (r.operator) {
    case 'In':
      return v !== undefined && r.values.includes(v);
    case 'NotIn':
      return v === undefined || !r.values.includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // Integers only, as kube does: a label that is not an integer never matches.
      if (v === undefined || !/^[-+]?[0-9]+$/.test(v)) return false;
      const lv = BigInt(v);
      const rv = BigInt(r.values[0]!);
      return r.operator === 'Gt' ? lv > rv : lv < rv;
    }
  }
}

/** The canonical string form of a label selector (requirements sorted by key), parseable again. */
export function formatLabelSelector(sel: LabelSelector): string {
  const parts = [...sel.requirements]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => {
      switch (r.operator) {
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'Gt':
          return `${r.key}>${r.values[0]}`;
        case 'Lt':
          return `${r.key}<${r.values[0]}`;
      }
    });
  return parts.join(',');
}

// ---------------------------------------------------------------------------------------------
// Field selectors. Terms are split on unescaped commas; `\,`, `\=`, `\!` and `\\` escape the
// operator characters inside values, as fields.ParseSelector allows.

/** Splits `s` on unescaped `sep`, keeping escapes in the pieces for the next stage. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** Resolves backslash escapes; returns undefined for an escape of anything but `\ , = !`. */
function unescapeFieldValue(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === undefined || !'\\,=!'.includes(n)) return undefined;
    out += n;
    i++;
  }
  return out;
}

/** Parses the `fieldSelector` query syntax; fields outside `allowed` are rejected with 400 BadRequest. */
export function parseFieldSelector(s: string, allowed: ReadonlySet<string>): FieldSelector {
  const reqs: FieldRequirement[] = [];
  for (const term of splitUnescaped(s, ',')) {
    if (term.trim() === '') continue;
    const bad = (): Error => badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    // The first unescaped '=' or '!=' separates field and value.
    let at = -1;
    for (let i = 0; i < term.length; i++) {
      if (term[i] === '\\') {
        i++;
        continue;
      }
      if (term[i] === '=' || (term[i] === '!' && term[i + 1] === '=')) {
        at = i;
        break;
      }
    }
    if (at < 0) throw bad();
    let operator: '=' | '!=' = '=';
    let rest: string;
    if (term[at] === '!') {
      operator = '!=';
      rest = term.slice(at + 2);
    } else if (term[at + 1] === '=') {
      rest = term.slice(at + 2);
    } else {
      rest = term.slice(at + 1);
    }
    const field = term.slice(0, at).trim();
    const value = unescapeFieldValue(rest.trim());
    if (field === '' || value === undefined) throw bad();
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, operator, value });
  }
  return { requirements: reqs };
}

/** Whether an object's selectable fields satisfy every requirement; absent fields read as "". */
export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  return sel.requirements.every((r) => {
    const v = Object.hasOwn(fields, r.field) ? fields[r.field]! : '';
    return r.operator === '=' ? v === r.value : v !== r.value;
  });
}

/** The field set every resource supports: metadata.name, plus metadata.namespace when namespaced. */
export function fieldsOf(obj: KubeObject, namespaced: boolean): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '' };
  if (namespaced) f['metadata.namespace'] = obj.metadata.namespace ?? '';
  return f;
}

const labelSets = new WeakMap<FieldLabels, ReadonlySet<string>>();

/**
 * Compiles the `fieldSelector` query syntax into a predicate that reads each field with its
 * label's getter (no per-object field map); undefined when the selector selects everything.
 * A label outside `labels` is a 400 with kube's "field label not supported" message.
 */
export function compileFieldSelector(s: string, labels: FieldLabels): ((obj: KubeObject) => boolean) | undefined {
  let allowed = labelSets.get(labels);
  if (!allowed) labelSets.set(labels, (allowed = new Set(Object.keys(labels))));
  const reqs = parseFieldSelector(s, allowed).requirements;
  if (reqs.length === 0) return undefined;
  const terms = reqs.map((r) => ({ get: labels[r.field]!, equal: r.operator === '=', value: r.value }));
  return (obj) => {
    for (const t of terms) if ((t.get(obj) === t.value) !== t.equal) return false;
    return true;
  };
}

/** The string form of a field selector, with operator characters in values escaped. */
export function formatFieldSelector(sel: FieldSelector): string {
  const esc = (v: string): string => v.replace(/[\\,=!]/g, (c) => `\\${c}`);
  return sel.requirements.map((r) => `${r.field}${r.operator}${esc(r.value)}`).join(',');
}
