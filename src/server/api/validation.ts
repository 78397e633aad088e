/**
 * Structural validation of request bodies against a `Schema`: pruning, strict/warn/ignore handling
 * of unknown fields, type/enum/pattern/required checks and the ObjectMeta rules kube applies to
 * every kind. Messages follow kube's wording so clients and tests can match them.
 */
import { evaluateRules } from '../cel/index.js';
import { ApiError, badRequest, cause, invalid } from '../http/errors.js';
import type { StatusCause } from '../http/errors.js';
import { jsonCopy as clone, jsonShapeExcess, MAX_JSON_DEPTH } from '../json.js';
import { setOwn } from './patch.js';
import type { Json, JsonObject, KubeObject, ResourceDef, Schema } from '../types.js';

/** How unknown fields are treated, as in kube's `fieldValidation` query parameter. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Options of `normalizeObject`; kind/group/name only feed the 422 message and details. */
export interface NormalizeOptions {
  fieldValidation: FieldValidation;
  kind: string;
  group: string;
  name: string;
  /** Leave the 422 checks to a later step (admission validates after mutating webhooks); pruning and Strict still apply. */
  deferInvalid?: boolean;
  /**
   * The kind has CEL rules: schema errors that do not block them are returned in `invalid`
   * instead of thrown, to be reported together with the rules' errors as apiextensions does.
   */
  celRules?: boolean;
}

/** The pruned object and the `Warning` header texts (without the `299 - ` framing). */
export interface NormalizeResult {
  object: KubeObject;
  warnings: string[];
  /** Schema errors deferred to the CEL rules check (only with `celRules`). */
  invalid?: StatusCause[];
}

/** Schema error kinds after which apiextensions does not run CEL rules. */
const RULE_BLOCKING_REASONS = new Set(['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);

function blocksRules(c: StatusCause): boolean {
  return RULE_BLOCKING_REASONS.has(c.reason) || / in body must be of type /.test(c.message);
}

/** Name rules kube applies to object names, per kind. */
export type NameKind = 'dns1123-subdomain' | 'dns1123-label' | 'path-segment';

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** More values than a 3 MiB body (about 1.5 million at most) plus a stored object can hold. */
const MAX_OBJECT_VALUES = 4 * 1024 * 1024;

interface Walk {
  unknown: string[];
  causes: StatusCause[];
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Type names as kube-openapi reports them in "must be of type" messages. */
function jsonTypeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A value the way kube's field.Error prints it after "Invalid value: ". */
function showValue(v: Json): string {
  return JSON.stringify(v);
}

const patternCache = new Map<string, RegExp | null>();
function compiled(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    // A pattern JS cannot compile (an RE2-only construct) is skipped rather than failing every write.
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    patternCache.set(pattern, re);
  }
  return re;
}

function child(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function typeError(w: Walk, path: string, expected: string, v: Json): undefined {
  const actual = jsonTypeName(v);
  const where = path || '<root>';
  w.causes.push(
    cause('FieldValueInvalid', path, `Invalid value: ${showValue(actual)}: ${where} in body must be of type ${expected}: ${showValue(actual)}`),
  );
  return undefined;
}

function checkString(w: Walk, path: string, s: Extract<Schema, { type: 'string' }>, v: string): void {
  if (s.enum && !s.enum.includes(v)) {
    const supported = s.enum.map((e) => JSON.stringify(e)).join(', ');
    w.causes.push(cause('FieldValueNotSupported', path, `Unsupported value: ${showValue(v)}: supported values: ${supported}`));
  }
  if (s.pattern) {
    const re = compiled(s.pattern);
    if (re && !re.test(v)) {
      w.causes.push(cause('FieldValueInvalid', path, `Invalid value: ${showValue(v)}: ${path} in body should match '${s.pattern}'`));
    }
  }
}

function checkRange(w: Walk, path: string, s: { minimum?: number; maximum?: number }, v: number): void {
  if (s.minimum !== undefined && v < s.minimum) {
    w.causes.push(cause('FieldValueInvalid', path, `Invalid value: ${v}: ${path} in body should be greater than or equal to ${s.minimum}`));
  }
  if (s.maximum !== undefined && v > s.maximum) {
    w.causes.push(cause('FieldValueInvalid', path, `Invalid value: ${v}: ${path} in body should be less than or equal to ${s.maximum}`));
  }
}

/** Returns the pruned copy of `v`, or undefined when `v` has the wrong type (a cause is recorded). */
function walk(w: Walk, v: Json, s: Schema, path: string): Json | undefined {
  switch (s.type) {
    case 'any':
      return clone(v);
    case 'string':
      if (s.format === 'int-or-string') {
        if (typeof v === 'number' && Number.isInteger(v)) return v;
        if (typeof v !== 'string') return typeError(w, path, 'integer or string', v);
      } else if (typeof v !== 'string') {
        return typeError(w, path, 'string', v);
      }
      checkString(w, path, s, v);
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return typeError(w, path, 'integer', v);
      checkRange(w, path, s, v);
      return v;
    case 'number':
      if (typeof v !== 'number') return typeError(w, path, 'number', v);
      checkRange(w, path, s, v);
      return v;
    case 'boolean':
      return typeof v === 'boolean' ? v : typeError(w, path, 'boolean', v);
    case 'array': {
      if (!Array.isArray(v)) return typeError(w, path, 'array', v);
      const out: Json[] = [];
      v.forEach((item, i) => {
        const r = walk(w, item, s.items, `${path}[${i}]`);
        out.push(r === undefined ? null : r);
      });
      return out;
    }
    case 'object': {
      if (s.anyValue) return clone(v);
      if (!isObject(v)) return typeError(w, path, 'object', v);
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        const p = child(path, k);
        // Own properties only: `properties["constructor"]` would find Object's constructor and
        // silently drop an unknown field named like a prototype member instead of reporting it.
        const sub = (s.properties && Object.hasOwn(s.properties, k) ? s.properties[k] : undefined) ?? s.additionalProperties;
        if (sub) {
          // kube drops nulls of non-nullable fields before validating (Go zero values for built-ins).
          if (x === null) continue;
          const r = walk(w, x, sub, p);
          if (r !== undefined) setOwn(out, k, r);
        } else if (s.preserveUnknownFields) {
          setOwn(out, k, clone(x));
        } else {
          w.unknown.push(p);
        }
      }
      // Structural defaults (apiextensions): absent properties with a `default` get it, before `required` is checked.
      for (const [k, sub] of Object.entries(s.properties ?? {})) {
        if ('default' in sub && sub.default !== undefined && !Object.hasOwn(out, k)) setOwn(out, k, clone(sub.default));
      }
      for (const r of s.required ?? []) {
        if (!Object.hasOwn(out, r) && !(Object.hasOwn(v, r) && v[r] !== null)) w.causes.push(cause('FieldValueRequired', child(path, r), 'Required value'));
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes name syntax (k8s.io/apimachinery/pkg/util/validation), with kube's messages.

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  // kube joins examples as "'a',  or 'b', " — the doubled space is part of its wording.
  const eg = examples.map((e, i) => `${i > 0 ? ' or ' : ''}'${e}', `).join('');
  return `${msg} (e.g. ${eg}regex used for validation is '${fmt}')`;
}

const maxLenError = (n: number): string => `must be no more than ${n} characters`;

/** kube's two checks of a DNS name or label value, each reported on its own: length, then format. */
function lengthAndFormat(value: string, maxLen: number, re: RegExp, msg: string, fmt: string, ...examples: string[]): string[] {
  const errs: string[] = [];
  if (value.length > maxLen) errs.push(maxLenError(maxLen));
  if (!re.test(value)) errs.push(regexError(msg, fmt, ...examples));
  return errs;
}

function dns1123Subdomain(value: string): string[] {
  return lengthAndFormat(
    value,
    253,
    DNS1123_SUBDOMAIN_RE,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    DNS1123_SUBDOMAIN_FMT,
    'example.com',
  );
}

function dns1123Label(value: string): string[] {
  return lengthAndFormat(
    value,
    63,
    DNS1123_LABEL_RE,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    DNS1123_LABEL_FMT,
    'my-name',
    '123-abc',
  );
}

const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Problems with a qualified name (`[prefix/]name`, as label keys and Event reportingController), empty when valid. */
export function qualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const m of dns1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

function labelValue(value: string): string[] {
  return lengthAndFormat(
    value,
    63,
    LABEL_VALUE_RE,
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    LABEL_VALUE_FMT,
    'MyValue',
    'my_value',
    '12345',
  );
}

function pathSegment(value: string): string[] {
  const errs: string[] = [];
  if (value === '.' || value === '..') errs.push(`may not be '${value}'`);
  for (const bad of ['/', '%']) if (value.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/**
 * Checks an object name the way kube does for the given kind of name; returns kube's message
 * (several joined with ", ") or undefined when the name is acceptable.
 */
export function validateName(name: string, kind: NameKind): string | undefined {
  const errs = kind === 'dns1123-label' ? dns1123Label(name) : kind === 'dns1123-subdomain' ? dns1123Subdomain(name) : pathSegment(name);
  return errs.length > 0 ? errs.join(', ') : undefined;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** ObjectMeta rules that hold for every kind (apimachinery's ValidateObjectMeta, minus names). */
function validateMetadata(w: Walk, meta: JsonObject): void {
  const labels = meta.labels;
  if (isObject(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      for (const m of qualifiedName(k)) w.causes.push(cause('FieldValueInvalid', 'metadata.labels', `Invalid value: ${showValue(k)}: ${m}`));
      if (typeof v === 'string') {
        for (const m of labelValue(v)) w.causes.push(cause('FieldValueInvalid', 'metadata.labels', `Invalid value: ${showValue(v)}: ${m}`));
      }
    }
  }
  const annotations = meta.annotations;
  if (isObject(annotations)) {
    let total = 0;
    for (const [k, v] of Object.entries(annotations)) {
      // kube lower-cases annotation keys before the qualified-name check.
      for (const m of qualifiedName(k.toLowerCase())) {
        w.causes.push(cause('FieldValueInvalid', 'metadata.annotations', `Invalid value: ${showValue(k)}: ${m}`));
      }
      total += utf8Length(k) + (typeof v === 'string' ? utf8Length(v) : 0);
    }
    if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
      w.causes.push(
        cause('FieldValueTooLong', 'metadata.annotations', `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`),
      );
    }
  }
  const finalizers = meta.finalizers;
  if (Array.isArray(finalizers)) {
    for (const f of finalizers) {
      if (typeof f !== 'string') continue;
      for (const m of qualifiedName(f)) w.causes.push(cause('FieldValueInvalid', 'metadata.finalizers', `Invalid value: ${showValue(f)}: ${m}`));
    }
  }
}

/**
 * Prunes `obj` to `schema`, applies the fieldValidation policy to unknown fields and validates
 * types, enums, patterns, required fields and ObjectMeta. Throws 400 for a non-object body, a
 * missing metadata object or (under Strict) unknown fields; 422 for every other violation.
 */
export function normalizeObject(obj: Json, schema: Schema, opts: NormalizeOptions): NormalizeResult {
  if (!isObject(obj)) throw badRequest('the body of the request must be a JSON object');
  // A missing or null metadata decodes to an empty ObjectMeta in kube (so a create then fails on
  // the missing name with 422); only metadata of the wrong type is a decoding error.
  if (obj.metadata !== undefined && obj.metadata !== null && !isObject(obj.metadata)) {
    throw badRequest('the body of the request must carry metadata as a JSON object');
  }
  // Request bodies were checked when parsed; this catches what patches build from them (JSON patch
  // `copy` shares subtrees, so a few dozen copies expand exponentially), before walk() recurses.
  const excess = jsonShapeExcess(obj, MAX_OBJECT_VALUES);
  if (excess === 'depth') throw badRequest(`the object could not be decoded: exceeded max depth of ${MAX_JSON_DEPTH}`);
  if (excess === 'values') {
    // kube bounds the same amplification with its JSON patch copy limit, a 422.
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: the object would hold more than ${MAX_OBJECT_VALUES} values`);
  }

  const w: Walk = { unknown: [], causes: [] };
  const out = walk(w, obj, schema, '');

  // Strict decoding fails before any validation runs in kube, so it wins over 422s.
  if (w.unknown.length > 0 && opts.fieldValidation === 'Strict') {
    throw badRequest(`strict decoding error: ${w.unknown.map((p) => `unknown field ${JSON.stringify(p)}`).join(', ')}`);
  }
  if (isObject(out) && isObject(out.metadata)) validateMetadata(w, out.metadata);
  let deferred: StatusCause[] | undefined;
  if (w.causes.length > 0 && !opts.deferInvalid) {
    if (!opts.celRules) throw invalid(opts.kind, opts.group, opts.name, w.causes);
    if (w.causes.some(blocksRules)) {
      throw invalid(opts.kind, opts.group, opts.name, [
        ...w.causes,
        cause('FieldValueInvalid', '<nil>', 'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'),
      ]);
    }
    deferred = w.causes;
  }

  const warnings = opts.fieldValidation === 'Warn' ? w.unknown.map((p) => `unknown field ${JSON.stringify(p)}`) : [];
  const object = (isObject(out) ? out : {}) as unknown as KubeObject;
  if (!isObject(object.metadata as unknown as Json)) object.metadata = {};
  return deferred ? { object, warnings, invalid: deferred } : { object, warnings };
}

/**
 * Runs a custom resource's `x-kubernetes-validations` on an object about to be written, after the
 * structural checks and before validating admission, as apiextensions does on create, update and
 * status update (`old` undefined on create). Failures throw kube's 422, after the schema errors
 * `normalizeObject` deferred to here; failures ratcheted on unchanged values come back as warnings.
 */
export function validateRules(def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, schemaCauses: StatusCause[] = []): string[] {
  if (!def.rules) return [];
  const { causes, warnings } = evaluateRules(def.rules, obj as unknown as Json, old as unknown as Json | undefined);
  const all = [...schemaCauses, ...causes];
  if (all.length > 0) throw invalid(def.kind, def.group, obj.metadata.name ?? '', all);
  return warnings;
}
