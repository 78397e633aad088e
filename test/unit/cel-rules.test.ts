import { expect } from 'chai';
import { compileSchema, evaluateRules, type RuleSet } from '../../src/server/cel/index.js';
import type { Json, JsonObject } from '../../src/server/types.js';

const AT = 'spec.versions[0].schema.openAPIV3Schema';

/** A resource schema whose `spec` is `spec`. */
function schemaOf(spec: JsonObject, root: JsonObject = {}): JsonObject {
  return { type: 'object', ...root, properties: { spec } };
}

function rulesOf(spec: JsonObject, root: JsonObject = {}): RuleSet {
  const { ruleSet, errors } = compileSchema(schemaOf(spec, root), AT);
  expect(errors, JSON.stringify(errors)).to.deep.equal([]);
  return ruleSet;
}

/** Registration errors as `field: message` lines. */
function errorsOf(spec: JsonObject): string[] {
  return compileSchema(schemaOf(spec), AT).errors.map((c) => `${c.field}: ${c.message}`);
}

function obj(spec: Json, name = 'w'): Json {
  return { apiVersion: 'example.dev/v1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec };
}

/** Causes as `field: message` lines, and warnings. */
function check(set: RuleSet, spec: Json, old?: Json): { causes: string[]; warnings: string[] } {
  const r = evaluateRules(set, obj(spec), old === undefined ? undefined : obj(old));
  return { causes: r.causes.map((c) => `${c.field}: ${c.message}`), warnings: r.warnings };
}

const int = (rules: JsonObject[]): JsonObject => ({ type: 'integer', 'x-kubernetes-validations': rules });

describe('server CEL: validation rules', () => {
  describe('failures, as kube >= 1.35 words them', () => {
    it('prints scalars after Invalid value and omits objects and lists', () => {
      const set = rulesOf({
        type: 'object',
        'x-kubernetes-validations': [{ rule: 'self.size < 5', message: 'too big' }],
        properties: {
          size: int([{ rule: 'self < 3' }]),
          color: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'red'", message: 'no red' }] },
          on: { type: 'boolean', 'x-kubernetes-validations': [{ rule: 'self', message: '  must be on  ' }] },
          tags: { type: 'array', maxItems: 4, items: { type: 'string', maxLength: 8 }, 'x-kubernetes-validations': [{ rule: 'size(self) == 0', message: 'no tags' }] },
        },
      });
      expect(check(set, { size: 7, color: 'red', on: false, tags: ['a'] }).causes).to.deep.equal([
        'spec: Invalid value: too big',
        'spec.size: Invalid value: 7: failed rule: self < 3',
        'spec.color: Invalid value: "red": no red',
        'spec.on: Invalid value: false: must be on',
        'spec.tags: Invalid value: no tags',
      ]);
    });

    it('words each reason as kube does, dropping the detail for Duplicate', () => {
      const rule = (reason: string): JsonObject => ({ rule: 'false', message: 'nope', reason });
      const set = rulesOf({
        type: 'object',
        properties: {
          a: int([rule('FieldValueForbidden')]),
          b: int([rule('FieldValueRequired')]),
          c: int([rule('FieldValueDuplicate')]),
          d: int([rule('FieldValueInvalid')]),
        },
      });
      expect(check(set, { a: 1, b: 2, c: 3, d: 4 }).causes).to.deep.equal([
        'spec.a: Forbidden: nope',
        'spec.b: Required value: nope',
        'spec.c: Duplicate value: 3',
        'spec.d: Invalid value: 4: nope',
      ]);
      expect(evaluateRules(set, obj({ a: 1 }), undefined).causes[0]!.reason).to.equal('FieldValueForbidden');
    });

    it('adds the fieldPath to the node path, names a root rule <nil>, and falls back from a failing messageExpression', () => {
      const set = rulesOf(
        {
          type: 'object',
          'x-kubernetes-validations': [
            { rule: "self.limits.all(k, k != 'cpu')", fieldPath: ".limits['cpu']", message: 'no cpu limit' },
            { rule: 'self.size < 2', fieldPath: '.size', messageExpression: "'size ' + string(self.size) + ' over 1'" },
            { rule: 'self.size < 3', messageExpression: 'string(self.size / 0)', message: 'static message' },
            { rule: 'self.size < 4', messageExpression: "'  '" },
          ],
          properties: { size: { type: 'integer' }, limits: { type: 'object', maxProperties: 4, additionalProperties: { type: 'string', maxLength: 10 } } },
        },
        { 'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('w-')", message: 'names start with w-' }] },
      );
      expect(check(set, { size: 9, limits: { cpu: '1' } }).causes).to.deep.equal([
        '<nil>: Invalid value: names start with w-',
        'spec.limits[cpu]: Invalid value: no cpu limit',
        'spec.size: Invalid value: size 9 over 1',
        'spec: Invalid value: static message',
        'spec: Invalid value: failed rule: self.size < 4',
      ]);
    });

    it('reports a runtime error with the schema type, and later rules still run', () => {
      const set = rulesOf({
        type: 'object',
        'x-kubernetes-validations': [{ rule: "self.m['missing'] == 1", message: 'lookup' }, { rule: 'self.n / 0 == 1' }, { rule: 'false', message: 'ran' }],
        properties: { m: { type: 'object', additionalProperties: { type: 'integer' } }, n: { type: 'integer' } },
      });
      expect(check(set, { m: {}, n: 1 }).causes).to.deep.equal([
        'spec: Invalid value: "object": no such key: missing evaluating rule: lookup',
        'spec: Invalid value: "object": division by zero evaluating rule: self.n / 0 == 1',
        'spec: Invalid value: ran',
      ]);
    });
  });

  describe('self and oldSelf', () => {
    it('skips a transition rule on create and runs it against the old value on update', () => {
      const set = rulesOf({ type: 'object', properties: { size: int([{ rule: 'self >= oldSelf', message: 'size may only grow' }]) } });
      expect(check(set, { size: 1 }).causes).to.deep.equal([]);
      expect(check(set, { size: 1 }, {}).causes, 'no old value').to.deep.equal([]);
      expect(check(set, { size: 4 }, { size: 3 }).causes).to.deep.equal([]);
      expect(check(set, { size: 2 }, { size: 3 }).causes).to.deep.equal(['spec.size: Invalid value: 2: size may only grow']);
    });

    it('runs an optionalOldSelf rule on create with an empty optional', () => {
      const set = rulesOf({
        type: 'object',
        properties: { mode: { type: 'string', 'x-kubernetes-validations': [{ rule: "oldSelf.hasValue() ? self == oldSelf.value() : self == 'new'", optionalOldSelf: true, message: 'starts new, then immutable' }] } },
      });
      expect(check(set, { mode: 'other' }).causes).to.deep.equal(['spec.mode: Invalid value: "other": starts new, then immutable']);
      expect(check(set, { mode: 'new' }).causes).to.deep.equal([]);
      expect(check(set, { mode: 'x' }, { mode: 'new' }).causes).to.deep.equal(['spec.mode: Invalid value: "x": starts new, then immutable']);
    });

    it('correlates map-list items by key and compares whole objects', () => {
      const set = rulesOf({
        type: 'object',
        'x-kubernetes-validations': [{ rule: 'self == oldSelf || !has(oldSelf.frozen) || !oldSelf.frozen', message: 'frozen' }],
        properties: {
          frozen: { type: 'boolean' },
          ports: {
            type: 'array',
            maxItems: 8,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: {
              type: 'object',
              properties: { name: { type: 'string', maxLength: 10 }, port: int([{ rule: 'self == oldSelf', message: 'port is immutable' }]) },
            },
          },
        },
      });
      const old = { ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] };
      expect(check(set, { ports: [{ name: 'b', port: 2 }, { name: 'a', port: 1 }, { name: 'c', port: 3 }] }, old).causes).to.deep.equal([]);
      expect(check(set, { ports: [{ name: 'b', port: 5 }] }, old).causes).to.deep.equal(['spec.ports[0].port: Invalid value: 5: port is immutable']);
      expect(check(set, { frozen: true, ports: [] }, { frozen: true, ports: [] }).causes).to.deep.equal([]);
      expect(check(set, { frozen: true, ports: [{ name: 'z', port: 1 }] }, { frozen: true, ports: [] }).causes).to.deep.equal(['spec: Invalid value: frozen']);
    });

    it('ratchets: a failing rule on an unchanged value is a warning on update', () => {
      const set = rulesOf({ type: 'object', properties: { size: int([{ rule: 'self <= 10', message: 'at most 10' }]), note: { type: 'string' } } });
      expect(check(set, { size: 20, note: 'b' }, { size: 20, note: 'a' })).to.deep.equal({ causes: [], warnings: ['spec.size: Invalid value: 20: at most 10'] });
      expect(check(set, { size: 21 }, { size: 20 }).causes).to.deep.equal(['spec.size: Invalid value: 21: at most 10']);
    });

    it('sees escaped property names, and only name and generateName of metadata', () => {
      const set = rulesOf({
        type: 'object',
        'x-kubernetes-validations': [{ rule: "self.__namespace__ == 'ns' && self.dash__dash__name == 'd' && self.a__dot__b == 'x'", message: 'escaped' }],
        properties: { namespace: { type: 'string' }, 'dash-name': { type: 'string' }, 'a.b': { type: 'string' } },
      });
      expect(check(set, { namespace: 'ns', 'dash-name': 'd', 'a.b': 'x' }).causes).to.deep.equal([]);
      expect(check(set, { namespace: 'other', 'dash-name': 'd', 'a.b': 'x' }).causes).to.deep.equal(['spec: Invalid value: escaped']);
      const meta = compileSchema({ type: 'object', 'x-kubernetes-validations': [{ rule: "self.metadata.namespace == 'x'" }] }, AT);
      expect(meta.errors[0]!.message).to.include("compilation failed: ERROR: <input>:1:14: undefined field 'namespace'");
    });
  });

  describe('registration', () => {
    it('refuses malformed rules with apiextensions’ messages', () => {
      const at = `${AT}.properties[spec].x-kubernetes-validations`;
      expect(
        errorsOf({
          type: 'object',
          properties: { a: { type: 'string' } },
          'x-kubernetes-validations': [
            { rule: '' },
            { rule: 'true', message: ' ' },
            { rule: 'true', message: 'a\nb' },
            { rule: 'true &&\ntrue' },
            { rule: 'true', messageExpression: ' ' },
            { rule: 'true', reason: 'Nope' },
            { rule: 'true', fieldPath: '.nope' },
            { rule: 'self.a' },
            { rule: 'self.a == "x"', optionalOldSelf: true },
            { rule: 'true', messageExpression: '1' },
          ],
        }),
      ).to.deep.equal([
        `${at}[0].rule: Required value: rule is not specified`,
        `${at}[1].message: Invalid value: " ": must be non-empty if specified`,
        `${at}[2].message: Invalid value: "a\\nb": must not contain line breaks`,
        `${at}[3].message: Required value: message must be specified if rule contains line breaks`,
        `${at}[4].messageExpression: Required value: messageExpression must be non-empty if specified`,
        `${at}[5].reason: Unsupported value: "Nope": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
        `${at}[6].fieldPath: Invalid value: ".nope": must be a valid path`,
        `${at}[7].rule: Invalid value: {"Rule":"self.a","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: cel expression must evaluate to a bool`,
        `${at}[8].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`,
        `${at}[9].messageExpression: Invalid value: {"Rule":"true","Message":"","MessageExpression":"1","Reason":null,"FieldPath":"","OptionalOldSelf":null}: messageExpression must evaluate to a string`,
      ]);
    });

    it('renders a compile failure as cel-go does: position, line and caret', () => {
      expect(errorsOf({ type: 'object', properties: { size: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: "self.size > 'a' && self.size < 3", message: 'm' }] })).to.deep.equal([
        `${AT}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {"Rule":"self.size \\u003e 'a' \\u0026\\u0026 self.size \\u003c 3","Message":"m","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: ERROR: <input>:1:11: found no matching overload for '_>_' applied to '(int, string)'\n | self.size > 'a' && self.size < 3\n | ..........^`,
      ]);
    });

    it('checks regex literals when the rule compiles', () => {
      const errs = errorsOf({ type: 'object', properties: { s: { type: 'string', maxLength: 10, 'x-kubernetes-validations': [{ rule: "self.matches('[a-')" }, { rule: "self.matches('(?i)^a')" }, { rule: "self.find('(?i)^a') == 'A'" }] } } });
      expect(errs).to.have.length(2);
      expect(errs[0]).to.include("compilation failed: ERROR: <input>:1:14: invalid matches argument: Invalid regular expression: /[a-/: Unterminated character class\n | self.matches('[a-')\n | .............^");
      expect(errs[1]).to.include('x-kubernetes-validations[1].rule: ');
    });

    it('refuses oldSelf where no old value can correlate', () => {
      expect(errorsOf({ type: 'object', properties: { tags: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 5, 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } } } })).to.deep.equal([
        `${AT}.properties[spec].properties[tags].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ${AT}.properties[spec].properties[tags].items`,
      ]);
    });

    it('refuses rules whose estimated cost exceeds the budget, and accepts them once bounded', () => {
      const unbounded = { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: "self.all(x, x.matches('^[a-z]+$'))" }] };
      const errs = errorsOf({ type: 'object', properties: { names: unbounded } });
      expect(errs[0]).to.equal(
        `${AT}.properties[spec].properties[names].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
      );
      expect(errs.at(-1)).to.match(/^spec\.versions\[0\]\.schema\.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of /);
      expect(errorsOf({ type: 'object', properties: { names: { ...unbounded, maxItems: 100, items: { type: 'string', maxLength: 63 } } } })).to.deep.equal([]);
    });
  });

  it('stops a rule whose cost on the actual object exceeds the per-call limit', () => {
    const set = rulesOf({
      type: 'object',
      properties: {
        xs: {
          type: 'array',
          maxItems: 100,
          items: { type: 'integer' },
          'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))', message: 'cubic' }, { rule: 'false', message: 'not reached' }],
        },
      },
    });
    expect(check(set, { xs: [1, 2, 3] }).causes).to.deep.equal(['spec.xs: Invalid value: not reached']);
    const big = Array.from({ length: 100 }, (_, i) => i);
    expect(check(set, { xs: big }).causes).to.deep.equal([
      "spec.xs: Invalid value: \"array\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: cubic",
    ]);
  });
});
