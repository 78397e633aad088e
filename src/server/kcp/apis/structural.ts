/**
 * The structural-schema rules apiextensions applies to a CRD's (and kcp to an APIResourceSchema's)
 * OpenAPI v3 schema: every specified field typed, value validations (anyOf, allOf, oneOf, not)
 * free of types, defaults and extensions, the JSON Schema keywords apiextensions does not support
 * refused, and `metadata` at the root limited to name and generateName. A schema kcp would refuse
 * is refused here too, so that tests against the reference server catch it.
 */
import type { Json, JsonObject } from '../../types.js';

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
/** Keywords of JSON Schema that apiextensions' JSONSchemaProps refuses (or does not have). */
const UNSUPPORTED: Record<string, string> = {
  $ref: '$ref is not supported',
  $schema: '$schema is not supported',
  $id: '$id is not supported',
  id: 'id is not supported',
  definitions: 'definitions are not supported',
  $defs: '$defs are not supported',
  dependencies: 'dependencies are not supported',
  additionalItems: 'additionalItems is not supported',
  patternProperties: 'patternProperties is not supported',
  const: 'const is not supported (use enum)',
};
const VALUE_VALIDATIONS = ['anyOf', 'allOf', 'oneOf'] as const;
/** What a value validation (inside anyOf, allOf, oneOf, not) must leave to the structural part. */
const STRUCTURAL_ONLY = ['type', 'default', 'nullable', 'additionalProperties', 'description', 'title'];

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One structural-schema error: the field, the Go field-error reason and the text after `<field>: `. */
export interface StructuralError {
  /** The schema node's path, e.g. `spec.versions[0].schema.openAPIV3Schema.properties[spec].type`. */
  field: string;
  /** `FieldValueRequired`, `FieldValueForbidden`, `FieldValueInvalid` or `FieldValueNotSupported`. */
  reason: string;
  /** The message as apiextensions prints it after the field, e.g. `Required value: must not be empty…`. */
  message: string;
}

interface Walk {
  errs: StructuralError[];
}

const REASONS: Record<string, string> = {
  'Required value': 'FieldValueRequired',
  Forbidden: 'FieldValueForbidden',
  'Unsupported value': 'FieldValueNotSupported',
  'Invalid value': 'FieldValueInvalid',
};

/** Records `<field>: <message>`, the reason read from the message's Go field-error prefix. */
function fail(w: Walk, field: string, message: string): void {
  const prefix = Object.keys(REASONS).find((p) => message.startsWith(p)) ?? 'Invalid value';
  w.errs.push({ field, reason: REASONS[prefix]!, message });
}

function isIntOrStringAnyOf(s: JsonObject): boolean {
  const any = s['anyOf'];
  if (!Array.isArray(any) || any.length !== 2) return false;
  const types = any.map((a) => (isObject(a) && Object.keys(a).length === 1 ? a['type'] : undefined));
  return types[0] === 'integer' && types[1] === 'string';
}

function checkUnsupported(w: Walk, s: JsonObject, path: string): void {
  for (const [k, msg] of Object.entries(UNSUPPORTED)) if (s[k] !== undefined) fail(w, `${path}.${k}`, `Forbidden: ${msg}`);
  if (s['uniqueItems'] === true) fail(w, `${path}.uniqueItems`, `Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`);
  if (s['items'] !== undefined && !isObject(s['items'])) fail(w, `${path}.items`, `Forbidden: items must be a schema object and not an array`);
}

/** Checks a value validation subtree: no structural keywords of its own. */
function valueValidation(w: Walk, s: Json, path: string, intOrString: boolean): void {
  if (!isObject(s)) {
    fail(w, `${path}`, `Invalid value: ${JSON.stringify(s)}: must be a schema object`);
    return;
  }
  checkUnsupported(w, s, path);
  for (const k of STRUCTURAL_ONLY) {
    // int-or-string's own `anyOf: [{type: integer}, {type: string}]` is the one allowed exception.
    if (k === 'type' && intOrString) continue;
    if (s[k] !== undefined) fail(w, `${path}.${k}`, `Forbidden: must be empty to be structural`);
  }
  for (const k of Object.keys(s)) if (k.startsWith('x-kubernetes-')) fail(w, `${path}.${k}`, `Forbidden: must be empty to be structural`);
  for (const k of VALUE_VALIDATIONS) {
    const list = s[k];
    if (Array.isArray(list)) list.forEach((x, i) => valueValidation(w, x, `${path}.${k}[${i}]`, intOrString));
  }
  if (s['not'] !== undefined) valueValidation(w, s['not'], `${path}.not`, false);
  if (isObject(s['properties'])) for (const [k, v] of Object.entries(s['properties'])) valueValidation(w, v, `${path}.properties[${k}]`, false);
  if (s['items'] !== undefined && isObject(s['items'])) valueValidation(w, s['items'], `${path}.items`, false);
}

function node(w: Walk, s: Json, path: string, where: 'root' | 'object fields' | 'array items'): void {
  if (!isObject(s)) {
    fail(w, `${path}`, `Invalid value: ${JSON.stringify(s)}: must be a schema object`);
    return;
  }
  checkUnsupported(w, s, path);
  const type = s['type'];
  const preserve = s['x-kubernetes-preserve-unknown-fields'];
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (preserve === false) fail(w, `${path}.x-kubernetes-preserve-unknown-fields`, `Invalid value: false: must be true or undefined`);
  if (type === undefined || type === '') {
    if (!intOrString && preserve !== true && where !== 'root') fail(w, `${path}.type`, `Required value: must not be empty for specified ${where}`);
  } else if (typeof type !== 'string' || !TYPES.has(type)) {
    fail(w, `${path}.type`, `Unsupported value: ${JSON.stringify(type)}: supported values: "array", "boolean", "integer", "number", "object", "string"`);
  } else if (intOrString) {
    fail(w, `${path}.type`, `Invalid value: ${JSON.stringify(type)}: must be empty if x-kubernetes-int-or-string is true`);
  }
  if (s['x-kubernetes-embedded-resource'] === true && type !== 'object') {
    fail(w, `${path}.type`, `Invalid value: ${JSON.stringify(type ?? '')}: must be object if x-kubernetes-embedded-resource is true`);
  }
  if (type === 'array' && s['items'] === undefined) fail(w, `${path}.items`, `Required value: must be specified`);
  const props = s['properties'];
  const additional = s['additionalProperties'];
  if (isObject(props) && Object.keys(props).length > 0 && additional !== undefined && additional !== true) {
    fail(w, `${path}.additionalProperties`, `Forbidden: additionalProperties and properties are mutual exclusive`);
  } else if (additional === false) {
    fail(w, `${path}.additionalProperties`, `Forbidden: must not be false (unknown fields are pruned; use properties)`);
  }
  for (const k of VALUE_VALIDATIONS) {
    const list = s[k];
    if (list === undefined) continue;
    if (!Array.isArray(list)) fail(w, `${path}.${k}`, `Invalid value: ${JSON.stringify(list)}: must be a list of schemas`);
    else list.forEach((x, i) => valueValidation(w, x, `${path}.${k}[${i}]`, intOrString && k !== 'oneOf' && isIntOrStringAnyOf(s)));
  }
  if (s['not'] !== undefined) valueValidation(w, s['not'], `${path}.not`, false);
  if (isObject(props)) for (const [k, v] of Object.entries(props)) node(w, v, `${path}.properties[${k}]`, 'object fields');
  if (isObject(additional)) node(w, additional, `${path}.additionalProperties`, 'object fields');
  if (isObject(s['items'])) node(w, s['items'], `${path}.items`, 'array items');
}

function rootMetadata(w: Walk, root: JsonObject, path: string): void {
  const props = root['properties'];
  if (!isObject(props) || !isObject(props['metadata'])) return;
  const meta = props['metadata'];
  const allowed = new Set(['type']);
  const bad = Object.keys(meta).filter((k) => !allowed.has(k) && k !== 'properties');
  const metaProps = isObject(meta['properties']) ? meta['properties'] : {};
  const badProps = Object.keys(metaProps).filter((k) => k !== 'name' && k !== 'generateName');
  if (bad.length || badProps.length) {
    fail(w, `${path}.properties[metadata]`, `Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`);
  }
}

/**
 * The structural-schema errors of an OpenAPI v3 schema, as apiextensions words them; `path` is where the schema sits (e.g.
 * `spec.versions[0].schema.openAPIV3Schema`). Empty when the schema is structural.
 */
export function structuralSchemaErrors(schema: unknown, path: string): StructuralError[] {
  const w: Walk = { errs: [] };
  const root = schema as Json;
  node(w, root, path, 'root');
  if (isObject(root)) rootMetadata(w, root, path);
  return w.errs;
}
