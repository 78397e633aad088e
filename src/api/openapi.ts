/**
 * JSON Schema as TypeBox writes it → the structural OpenAPI v3 subset kcp (apiextensions) takes:
 * unions of literals become `enum`, `const` an `enum` of one, `X | null` `nullable`, integer-or-
 * string `x-kubernetes-int-or-string`, records `additionalProperties`, intersections of objects one
 * object, draft-2020 exclusive bounds the OpenAPI booleans. `$id` and `$schema` go; `x-kubernetes-*`
 * (validations included), defaults and bounds stay. Anything apiextensions cannot express is an
 * error naming the field, never a schema kcp refuses at apply time.
 */

/** A JSON value, as schemas and manifests hold them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** An OpenAPI v3 schema node (apiextensions' JSONSchemaProps), as emitted. */
export interface OpenAPISchema {
  [keyword: string]: JsonValue;
}

/** A definition apiextensions cannot express: the field and why. */
export class APIDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'APIDefinitionError';
  }
}

/** Keywords copied as they are (apiextensions' JSONSchemaProps, less the structural ones handled below). */
const KEPT = new Set([
  'description', 'title', 'format', 'default', 'example', 'externalDocs', 'nullable', 'pattern',
  'minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties',
]);
/** Keywords dropped: identifiers and the closed-object flag (kube prunes unknown fields instead). */
const DROPPED = new Set(['$id', '$schema', '$comment', 'examples']);
const PRIMITIVES = new Set(['string', 'integer', 'number', 'boolean']);

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(path: string, message: string): never {
  throw new APIDefinitionError(`${path || '<root>'}: ${message}`);
}

function json(v: unknown, path: string): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(path, `${v} is not a JSON number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => json(x, `${path}[${i}]`));
  if (isNode(v)) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, json(x, `${path}.${k}`)]));
  return fail(path, `${typeof v} is not a JSON value`);
}

/** The JSON type of a literal, integers told apart as OpenAPI does. */
function literalType(v: unknown, path: string): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return fail(path, `literal ${JSON.stringify(v)} is not a string, number or boolean`);
}

/** The literal values a union member stands for, or undefined when it is not a literal. */
function literals(s: unknown): unknown[] | undefined {
  if (!isNode(s)) return undefined;
  if ('const' in s) return [s['const']];
  if (Array.isArray(s['enum'])) return s['enum'] as unknown[];
  return undefined;
}

/** `enum` with its type: all members must share one JSON type (integers widen to number). */
function enumOf(values: unknown[], path: string): OpenAPISchema {
  const types = new Set(values.map((v) => literalType(v, path)));
  if (types.size === 2 && types.has('integer') && types.has('number')) types.delete('integer');
  if (types.size !== 1) fail(path, `enum mixes ${[...types].join(' and ')}: a structural schema has one type per field`);
  return { type: [...types][0]!, enum: values.map((v) => json(v, path)) };
}

/** Collapses an anyOf/oneOf into one structural node, or explains why it cannot. */
function union(members: unknown[], rest: Node, path: string, kw: string): OpenAPISchema {
  const lits = members.map(literals);
  if (lits.every((l) => l !== undefined)) return { ...enumOf(lits.flat(), path), ...convertNode(rest, path, true) };
  const nonNull = members.filter((m) => !(isNode(m) && m['type'] === 'null'));
  if (nonNull.length < members.length) {
    const inner = nonNull.length === 1 ? nonNull[0] : { [kw]: nonNull };
    return { ...convertNode({ ...rest, ...(inner as Node) }, path), nullable: true };
  }
  const types = members.map((m) => (isNode(m) ? m['type'] : undefined)).sort();
  if (members.length === 2 && types[0] === 'integer' && types[1] === 'string') {
    return { ...convertNode(rest, path, true), 'x-kubernetes-int-or-string': true };
  }
  return fail(path, `${kw} of different shapes is not structural: use one type (with x-kubernetes-validations for the rule), or Type.Unsafe for a schema written by hand`);
}

/** Merges an allOf of objects (TypeBox's Intersect) into one object. */
function intersection(members: unknown[], rest: Node, path: string): OpenAPISchema {
  const properties: Node = {};
  const required: string[] = [];
  for (const m of members) {
    if (!isNode(m) || m['type'] !== 'object') fail(path, 'allOf is supported only for objects (intersections of Type.Object)');
    Object.assign(properties, isNode(m['properties']) ? m['properties'] : {});
    for (const r of Array.isArray(m['required']) ? (m['required'] as string[]) : []) if (!required.includes(r)) required.push(r);
  }
  return convertNode({ ...rest, type: 'object', properties, ...(required.length ? { required } : {}) }, path);
}

function convertNode(s: Node, path: string, typeFromElsewhere = false): OpenAPISchema {
  for (const kw of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[kw])) {
      const { [kw]: members, ...rest } = s;
      return union(members as unknown[], rest, path, kw);
    }
  }
  if (Array.isArray(s['allOf'])) {
    const { allOf, ...rest } = s;
    return intersection(allOf as unknown[], rest, path);
  }
  const out: OpenAPISchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined || DROPPED.has(k)) continue;
    if (KEPT.has(k) || k.startsWith('x-kubernetes-')) out[k] = json(v, `${path}.${k}`);
    else if (k === 'exclusiveMinimum' || k === 'exclusiveMaximum') {
      // Draft 2020 bounds are numbers; OpenAPI v3's are flags on minimum/maximum.
      if (typeof v === 'number') {
        out[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = v;
        out[k] = true;
      } else out[k] = json(v, `${path}.${k}`);
    } else if (!['type', 'const', 'enum', 'properties', 'required', 'items', 'additionalProperties', 'patternProperties', 'not', 'uniqueItems', 'additionalItems', 'prefixItems'].includes(k)) {
      fail(`${path}.${k}`, `${k} is not supported by apiextensions`);
    }
  }
  if (s['uniqueItems'] === true) fail(`${path}.uniqueItems`, 'uniqueItems is not supported by apiextensions (use x-kubernetes-list-type: set)');
  if (s['not'] !== undefined) fail(`${path}.not`, 'not is not supported here: write the rule as x-kubernetes-validations');
  const lits = literals(s);
  if (lits !== undefined) return { ...enumOf(lits, path), ...out };
  const type = s['type'];
  if (Array.isArray(type)) fail(`${path}.type`, `a list of types (${type.join(', ')}) is not structural`);
  if (type === undefined) {
    if (typeFromElsewhere || s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-int-or-string'] === true) return out;
    return fail(path, 'has no type: every field of a structural schema has one (Type.Unknown needs x-kubernetes-preserve-unknown-fields)');
  }
  if (typeof type !== 'string') return fail(`${path}.type`, 'must be a string');
  if (PRIMITIVES.has(type)) return { type, ...out };
  if (type === 'array') {
    if (!isNode(s['items'])) fail(`${path}.items`, 'an array needs one item schema (tuples are not structural)');
    return { type, ...out, items: convertNode(s['items'], `${path}.items`) };
  }
  if (type === 'object') return { type, ...out, ...objectParts(s, path) };
  return fail(`${path}.type`, `${JSON.stringify(type)} is not a JSON type apiextensions knows (string, integer, number, boolean, array, object)`);
}

function objectParts(s: Node, path: string): OpenAPISchema {
  const out: OpenAPISchema = {};
  if (isNode(s['properties'])) {
    const props: OpenAPISchema = {};
    for (const [k, v] of Object.entries(s['properties'])) {
      if (!isNode(v)) fail(`${path}.properties.${k}`, 'must be a schema');
      props[k] = convertNode(v, `${path}.properties.${k}`);
    }
    if (Object.keys(props).length) out['properties'] = props;
  }
  if (Array.isArray(s['required']) && s['required'].length) out['required'] = json(s['required'], `${path}.required`);
  const pattern = s['patternProperties'];
  let additional = s['additionalProperties'];
  if (isNode(pattern)) {
    const entries = Object.entries(pattern);
    // TypeBox writes Record(String(), X) as the one catch-all pattern: that is a map.
    if (entries.length !== 1 || !['^.*$', '^(.*)$'].includes(entries[0]![0])) {
      fail(`${path}.patternProperties`, 'patternProperties is not supported by apiextensions: use a Record with string keys (a map)');
    }
    additional = entries[0]![1];
  }
  if (isNode(additional)) {
    if (out['properties']) fail(`${path}.additionalProperties`, 'properties and additionalProperties cannot be combined in a structural schema');
    out['additionalProperties'] = convertNode(additional, `${path}.additionalProperties`);
  }
  return out;
}

/**
 * The structural OpenAPI v3 schema of a JSON Schema (a TypeBox type, or a plain object written by
 * hand). Throws an {@link APIDefinitionError} naming the field when apiextensions cannot express it.
 */
export function toStructuralSchema(schema: object, path = ''): OpenAPISchema {
  if (!isNode(schema)) fail(path, 'a schema must be an object');
  return convertNode(schema as Node, path);
}
