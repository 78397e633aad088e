/**
 * The CEL view of an OpenAPI v3 schema, as apiextensions builds it: which CEL type each node has,
 * which property names are visible (escaped as kube escapes them), and the conversion of a JSON
 * value into the values the CEL engine evaluates.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { Json, JsonObject } from '../types.js';
import { celEqual } from './values.js';

/** One `x-kubernetes-validations` entry as written in the schema. */
export interface RuleSpec {
  rule: Json | undefined;
  message: Json | undefined;
  messageExpression: Json | undefined;
  reason: Json | undefined;
  fieldPath: Json | undefined;
  optionalOldSelf: Json | undefined;
}

/** A schema node with what CEL needs of it. */
export interface SchemaNode {
  /** How values of the node are represented in CEL. */
  kind: 'struct' | 'map' | 'list' | 'string' | 'int' | 'double' | 'bool' | 'dyn';
  /** The OpenAPI type, as kube prints it in runtime errors (`Invalid value: "object"`). */
  schemaType: string;
  format?: string;
  intOrString?: boolean;
  /** Properties by JSON name, with their CEL field name (absent when the name cannot be escaped). */
  properties?: Map<string, { node: SchemaNode; celName: string | undefined }>;
  additional?: SchemaNode;
  items?: SchemaNode;
  listType?: string;
  listMapKeys?: string[];
  maxItems?: number;
  maxLength?: number;
  maxProperties?: number;
  rules: RuleSpec[];
  /** The declared CEL type: a registered object type name, `list<...>`, `map<string, ...>` or a scalar. */
  celType: string;
  /** Constructor of struct values (a Map subclass named like the registered type). */
  ctor?: new (entries: [string, unknown][]) => Map<string, unknown>;
}

const CEL_KEYWORDS = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/** The CEL field name kube gives a property, or undefined when it cannot be escaped (C3). */
export function escapeName(name: string): string | undefined {
  if (CEL_KEYWORDS.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

function isObj(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: Json | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function rulesOf(j: JsonObject): RuleSpec[] {
  const raw = j['x-kubernetes-validations'];
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObj).map((r) => ({
    rule: r['rule'],
    message: r['message'],
    messageExpression: r['messageExpression'],
    reason: r['reason'],
    fieldPath: r['fieldPath'],
    optionalOldSelf: r['optionalOldSelf'],
  }));
}

const META_FIELDS: JsonObject = {
  type: 'object',
  properties: { name: { type: 'string' }, generateName: { type: 'string' } },
};

/** Registers the object types of a schema on an environment and builds the node tree. */
export class SchemaModel {
  private count = 0;

  constructor(private readonly env: Environment) {}

  /** The node of a whole resource: only apiVersion, kind, metadata.name and generateName of the envelope are visible. */
  root(openapi: Json | undefined): SchemaNode {
    const j = isObj(openapi) ? openapi : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    return this.build(withEnvelope(j));
  }

  /** The node of a schema that is not a whole resource (no envelope fields added). */
  node(openapi: JsonObject): SchemaNode {
    return this.build(openapi);
  }

  private build(j: JsonObject): SchemaNode {
    const rules = rulesOf(j);
    const base = { rules, maxItems: num(j['maxItems']), maxLength: num(j['maxLength']), maxProperties: num(j['maxProperties']) };
    if (j['x-kubernetes-int-or-string'] === true) return { ...base, kind: 'dyn', schemaType: 'string', intOrString: true, celType: 'dyn' };
    let type = typeof j['type'] === 'string' ? j['type'] : '';
    if (!type && (isObj(j['properties']) || isObj(j['additionalProperties']))) type = 'object';
    switch (type) {
      case 'string': {
        const format = typeof j['format'] === 'string' ? j['format'] : undefined;
        const celType = format === 'date-time' || format === 'date' ? 'google.protobuf.Timestamp' : format === 'duration' ? 'google.protobuf.Duration' : format === 'byte' ? 'bytes' : 'string';
        return { ...base, kind: 'string', schemaType: 'string', format, celType };
      }
      case 'integer':
        return { ...base, kind: 'int', schemaType: 'integer', celType: 'int' };
      case 'number':
        return { ...base, kind: 'double', schemaType: 'number', celType: 'double' };
      case 'boolean':
        return { ...base, kind: 'bool', schemaType: 'boolean', celType: 'bool' };
      case 'array': {
        const items = this.build(isObj(j['items']) ? j['items'] : {});
        const listType = typeof j['x-kubernetes-list-type'] === 'string' ? j['x-kubernetes-list-type'] : undefined;
        const keys = Array.isArray(j['x-kubernetes-list-map-keys']) ? j['x-kubernetes-list-map-keys'].filter((k): k is string => typeof k === 'string') : undefined;
        return { ...base, kind: 'list', schemaType: 'array', items, listType, listMapKeys: keys, celType: `list<${items.celType}>` };
      }
      case 'object':
        return this.object(j['x-kubernetes-embedded-resource'] === true ? withEnvelope(j) : j, base);
      default:
        return { ...base, kind: 'dyn', schemaType: type || 'object', celType: 'dyn' };
    }
  }

  private object(j: JsonObject, base: Pick<SchemaNode, 'rules' | 'maxItems' | 'maxLength' | 'maxProperties'>): SchemaNode {
    const props = isObj(j['properties']) ? j['properties'] : undefined;
    const add = j['additionalProperties'];
    if (!props && isObj(add)) {
      const additional = this.build(add);
      return { ...base, kind: 'map', schemaType: 'object', additional, celType: `map<string, ${additional.celType}>` };
    }
    if (!props && (j['x-kubernetes-preserve-unknown-fields'] === true || add === true)) {
      return { ...base, kind: 'dyn', schemaType: 'object', celType: 'dyn' };
    }
    const properties = new Map<string, { node: SchemaNode; celName: string | undefined }>();
    const fields: Record<string, string> = {};
    for (const [name, sub] of Object.entries(props ?? {})) {
      const node = this.build(isObj(sub) ? sub : {});
      const celName = escapeName(name);
      properties.set(name, { node, celName });
      if (celName) fields[celName] = node.celType;
    }
    // Object types are structural in kube; a generated name keeps them apart in the engine's registry.
    const name = `kubernetes.object${++this.count}`;
    const ctor = { [name]: class extends Map<string, unknown> {} }[name]!;
    this.env.registerType(name, { ctor, fields });
    this.env.registerOperator(`${name} == ${name}`, (a: unknown, b: unknown) => celEqual(a, b));
    return { ...base, kind: 'struct', schemaType: 'object', properties, celType: name, ctor };
  }
}

/** A resource or embedded-resource schema with the envelope fields CEL may see. */
function withEnvelope(j: JsonObject): JsonObject {
  const props = isObj(j['properties']) ? { ...j['properties'] } : {};
  props['apiVersion'] = { type: 'string' };
  props['kind'] = { type: 'string' };
  props['metadata'] = META_FIELDS;
  return { ...j, type: 'object', properties: props };
}

const durations = new Environment().registerVariable('s', 'string');

/** A JSON value as CEL sees it at `node`: ints as bigint, objects as typed Maps, formats decoded. */
export function toCel(v: Json, node: SchemaNode): unknown {
  if (v === null) return null;
  switch (node.kind) {
    case 'struct': {
      if (!isObj(v) || !node.ctor) return toDyn(v);
      const entries: [string, unknown][] = [];
      for (const [k, x] of Object.entries(v)) {
        const p = node.properties?.get(k);
        if (p?.celName && x !== null) entries.push([p.celName, toCel(x, p.node)]);
      }
      return new node.ctor(entries);
    }
    case 'map':
      if (!isObj(v) || !node.additional) return toDyn(v);
      return new Map(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, toCel(x, node.additional!)]));
    case 'list':
      return Array.isArray(v) && node.items ? v.map((x) => toCel(x, node.items!)) : toDyn(v);
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : toDyn(v);
    case 'string':
      return typeof v === 'string' ? formatted(v, node.format) : toDyn(v);
    default:
      return toDyn(v);
  }
}

function formatted(s: string, format: string | undefined): unknown {
  switch (format) {
    case 'date-time':
    case 'date':
      return new Date(s);
    case 'byte':
      return new Uint8Array(Buffer.from(s, 'base64'));
    case 'duration':
      try {
        return durations.evaluate('duration(s)', { s });
      } catch {
        return s;
      }
    default:
      return s;
  }
}

/** A value without a schema: integral numbers are ints, as cel-go decodes unstructured JSON. */
export function toDyn(v: Json): unknown {
  if (Array.isArray(v)) return v.map(toDyn);
  if (isObj(v)) return new Map(Object.entries(v).map(([k, x]) => [k, toDyn(x)]));
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v;
}
