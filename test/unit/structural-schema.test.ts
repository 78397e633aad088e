/** The reference server's structural-schema rules (apiextensions'), on schemas as kcp would refuse them. */
import { expect } from 'chai';
import { structuralSchemaErrors } from '../../src/server/index.js';
import type { Json } from '../../src/server/types.js';

const at = 'spec.versions[0].schema.openAPIV3Schema';
const lines = (schema: Json): string[] => structuralSchemaErrors(schema, at).map((e) => `${e.field}: ${e.message}`);
const root = (spec: Json): Json => ({ type: 'object', properties: { spec } });

describe('reference server: structural schemas', () => {
  it('accepts controller-gen style schemas: int-or-string with its anyOf, preserved and embedded objects, maps, list maps', () => {
    expect(lines(root({
      type: 'object',
      properties: {
        size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^[0-9]+$' },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        any: { 'x-kubernetes-preserve-unknown-fields': true },
        tpl: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' } } } },
        either: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
      },
    }))).to.deep.equal([]);
  });

  it('refuses untyped fields and items, anyOf of typed consts, JSON Schema keywords apiextensions lacks, and more', () => {
    expect(lines(root({
      type: 'object',
      properties: {
        untyped: { description: 'x' },
        list: { type: 'array', items: { properties: {} } },
        color: { anyOf: [{ type: 'string', const: 'red' }, { type: 'string', const: 'blue' }] },
        ref: { $ref: '#/definitions/x', type: 'string' },
        map: { type: 'object', patternProperties: { '^.*$': { type: 'string' } } },
        set: { type: 'array', uniqueItems: true, items: { type: 'string' } },
        closed: { type: 'object', additionalProperties: false },
        both: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } },
        weird: { type: 'null' },
        noItems: { type: 'array' },
        keep: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
      },
    }))).to.deep.equal([
      `${at}.properties[spec].properties[untyped].type: Required value: must not be empty for specified object fields`,
      `${at}.properties[spec].properties[list].items.type: Required value: must not be empty for specified array items`,
      `${at}.properties[spec].properties[color].type: Required value: must not be empty for specified object fields`,
      `${at}.properties[spec].properties[color].anyOf[0].const: Forbidden: const is not supported (use enum)`,
      `${at}.properties[spec].properties[color].anyOf[0].type: Forbidden: must be empty to be structural`,
      `${at}.properties[spec].properties[color].anyOf[1].const: Forbidden: const is not supported (use enum)`,
      `${at}.properties[spec].properties[color].anyOf[1].type: Forbidden: must be empty to be structural`,
      `${at}.properties[spec].properties[ref].$ref: Forbidden: $ref is not supported`,
      `${at}.properties[spec].properties[map].patternProperties: Forbidden: patternProperties is not supported`,
      `${at}.properties[spec].properties[set].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
      `${at}.properties[spec].properties[closed].additionalProperties: Forbidden: must not be false (unknown fields are pruned; use properties)`,
      `${at}.properties[spec].properties[both].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
      `${at}.properties[spec].properties[weird].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      `${at}.properties[spec].properties[noItems].items: Required value: must be specified`,
      `${at}.properties[spec].properties[keep].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
    ]);
  });

  it('refuses $schema and $id at the root and metadata fields beyond name and generateName', () => {
    expect(lines({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'x', type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } })).to.deep.equal([
      `${at}.$schema: Forbidden: $schema is not supported`,
      `${at}.$id: Forbidden: $id is not supported`,
      `${at}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ]);
    expect(lines({ type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } } } })).to.deep.equal([]);
  });
});
