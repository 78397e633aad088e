import { expect } from 'chai';
import { BUILTIN_RESOURCES, resourceSchemaFromOpenAPI, normalizeObject, validateName, type FieldValidation } from '../../src/server/api/index.js';
import type { Json, Schema } from '../../src/server/types.js';
import { apiErrorOf as thrown } from '../support/api-error.js';

const widgetSchema = resourceSchemaFromOpenAPI({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'string', enum: ['S', 'M', 'L'] },
        replicas: { type: 'integer' },
        host: { type: 'string', pattern: '^[a-z.]+$' },
        port: { 'x-kubernetes-int-or-string': true },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'integer' } } },
        anything: { 'x-kubernetes-preserve-unknown-fields': true },
        items: {
          type: 'array',
          items: { type: 'object', properties: { name: { type: 'string' }, nested: { type: 'object', properties: { x: { type: 'string' } } } } },
        },
        labels: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
});

const opts = (fieldValidation: FieldValidation = 'Ignore') => ({ fieldValidation, kind: 'Widget', group: 'example.com', name: 'w' });

function widget(spec: Json, extra: Record<string, Json> = {}): Json {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec, ...extra };
}

function schemaOf(group: string, resource: string): Schema {
  const d = BUILTIN_RESOURCES.find((r) => r.group === group && r.resource === resource);
  if (!d) throw new Error(resource);
  return d.schema;
}

describe('validation', () => {
  describe('normalizeObject', () => {
    it('keeps known fields and returns a copy', () => {
      const input = widget({ size: 'M', replicas: 3, items: [{ name: 'a' }] });
      const { object, warnings } = normalizeObject(input, widgetSchema, opts('Strict'));
      expect(object).to.deep.equal(input);
      expect(object).not.to.equal(input);
      expect(warnings).to.deep.equal([]);
    });

    it('prunes unknown fields at every depth under Ignore', () => {
      const { object, warnings } = normalizeObject(
        widget(
          { size: 'S', bogus: 1, items: [{ name: 'a', extra: true, nested: { x: 'y', deep: 1 } }], labels: { k: { v: 'x', w: 'z' } } },
          { top: 'x', status: { ready: true, junk: 1 } },
        ),
        widgetSchema,
        opts('Ignore'),
      );
      expect(object).to.deep.equal(widget({ size: 'S', items: [{ name: 'a', nested: { x: 'y' } }], labels: { k: { v: 'x' } } }, { status: { ready: true } }));
      expect(warnings).to.deep.equal([]);
    });

    it('prunes unknown metadata fields too', () => {
      const { object } = normalizeObject({ metadata: { name: 'w', bogus: 1, labels: { a: 'b' } }, spec: { size: 'S' } }, widgetSchema, opts());
      expect(object.metadata).to.deep.equal({ name: 'w', labels: { a: 'b' } });
    });

    it('warns with kube’s wording under Warn', () => {
      const { object, warnings } = normalizeObject(widget({ size: 'S', foo: 1, items: [{ name: 'a', bar: 2 }] }, { bar: 1 }), widgetSchema, opts('Warn'));
      expect(warnings).to.deep.equal(['unknown field "spec.foo"', 'unknown field "spec.items[0].bar"', 'unknown field "bar"']);
      expect(object).to.deep.equal(widget({ size: 'S', items: [{ name: 'a' }] }));
    });

    it('rejects unknown fields with 400 under Strict', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'S', foo: 1 }, { bar: 1 }), widgetSchema, opts('Strict')));
      expect(err.code).to.equal(400);
      expect(err.reason).to.equal('BadRequest');
      expect(err.message).to.equal('strict decoding error: unknown field "spec.foo", unknown field "bar"');
    });

    it('prefers the strict decoding error over field errors, as kube decodes before validating', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'X', foo: 1 }), widgetSchema, opts('Strict')));
      expect(err.code).to.equal(400);
    });

    it('keeps unknown fields under x-kubernetes-preserve-unknown-fields and still checks known ones', () => {
      const spec = { size: 'S', free: { known: 1, other: { deep: [1, 'x'] } }, anything: [1, { a: null }] };
      const { object, warnings } = normalizeObject(widget(spec), widgetSchema, opts('Strict'));
      expect(object).to.deep.equal(widget(spec));
      expect(warnings).to.deep.equal([]);
      const err = thrown(() => normalizeObject(widget({ size: 'S', free: { known: 'one' } }), widgetSchema, opts()));
      expect(err.code).to.equal(422);
      expect(err.details.causes?.[0]?.field).to.equal('spec.free.known');
    });

    it('accepts integers and strings for int-or-string and nothing else', () => {
      for (const port of [8080, 'http']) {
        expect(normalizeObject(widget({ size: 'S', port }), widgetSchema, opts()).object).to.deep.equal(widget({ size: 'S', port }));
      }
      for (const port of [1.5, true, { a: 1 }]) {
        const err = thrown(() => normalizeObject(widget({ size: 'S', port }), widgetSchema, opts()));
        expect(err.code, JSON.stringify(port)).to.equal(422);
        expect(err.details.causes?.[0]).to.include({ reason: 'FieldValueInvalid', field: 'spec.port' });
      }
    });

    it('reports type errors as kube does for custom resources', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'S', replicas: 'string' }), widgetSchema, opts()));
      expect(err.code).to.equal(422);
      expect(err.reason).to.equal('Invalid');
      expect(err.details).to.deep.include({ kind: 'Widget', group: 'example.com', name: 'w' });
      expect(err.details.causes).to.deep.equal([
        {
          reason: 'FieldValueInvalid',
          field: 'spec.replicas',
          message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        },
      ]);
      expect(err.message).to.equal(
        'Widget.example.com "w" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      );
    });

    it('reports a fractional number where an integer is required', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'S', replicas: 1.5 }), widgetSchema, opts()));
      expect(err.details.causes?.[0]?.message).to.equal('Invalid value: "number": spec.replicas in body must be of type integer: "number"');
    });

    it('reports enum, pattern and required failures with kube’s reasons', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'XL', host: 'UPPER' }), widgetSchema, opts()));
      expect(err.details.causes).to.deep.equal([
        { reason: 'FieldValueNotSupported', field: 'spec.size', message: 'Unsupported value: "XL": supported values: "S", "M", "L"' },
        { reason: 'FieldValueInvalid', field: 'spec.host', message: `Invalid value: "UPPER": spec.host in body should match '^[a-z.]+$'` },
      ]);
      const missing = thrown(() => normalizeObject(widget({ replicas: 1 }), widgetSchema, opts()));
      expect(missing.details.causes).to.deep.equal([{ reason: 'FieldValueRequired', field: 'spec.size', message: 'Required value' }]);
      expect(missing.message).to.equal('Widget.example.com "w" is invalid: spec.size: Required value');
    });

    it('treats a null required field as missing and drops other nulls', () => {
      const err = thrown(() => normalizeObject(widget({ size: null }), widgetSchema, opts()));
      expect(err.details.causes?.[0]).to.include({ reason: 'FieldValueRequired', field: 'spec.size' });
      const { object } = normalizeObject(
        { metadata: { name: 'w', creationTimestamp: null }, spec: { size: 'S', replicas: null } },
        widgetSchema,
        opts(),
      );
      expect(object).to.deep.equal({ metadata: { name: 'w' }, spec: { size: 'S' } });
    });

    it('lists several causes in one message', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'XL', replicas: true }), widgetSchema, opts()));
      expect(err.details.causes).to.have.length(2);
      expect(err.message).to.match(/^Widget\.example\.com "w" is invalid: \[spec\.size: Unsupported value: .*, spec\.replicas: Invalid value: .*\]$/);
    });

    it('reports type errors inside arrays with indexed paths', () => {
      const err = thrown(() => normalizeObject(widget({ size: 'S', items: [{ name: 'a' }, { name: 7 }] }), widgetSchema, opts()));
      expect(err.details.causes?.[0]).to.include({ field: 'spec.items[1].name' });
    });

    it('answers 400 for a body that is not an object or whose metadata is not an object', () => {
      for (const body of [[], 'x', null, 3, { metadata: 'x' }, { metadata: [] }] as Json[]) {
        const err = thrown(() => normalizeObject(body, widgetSchema, opts()));
        expect(err.code, JSON.stringify(body)).to.equal(400);
      }
    });

    it('reads a missing or null metadata as empty, as kube decodes it (a create then fails on the name)', () => {
      for (const body of [{ spec: { size: 'S' } }, { metadata: null, spec: { size: 'S' } }] as Json[]) {
        expect(normalizeObject(body, widgetSchema, opts()).object.metadata, JSON.stringify(body)).to.deep.equal({});
      }
    });

    it('keeps keys named like Object.prototype members as data and reports them as unknown fields', () => {
      // JSON.parse makes "__proto__" an own key; plain assignment would drop it (or swap the prototype).
      const body = JSON.parse(
        '{"metadata":{"name":"w"},"spec":{"size":"S","anything":{"__proto__":{"x":1},"constructor":2}},"constructor":{"a":1},"toString":"s"}',
      ) as Json;
      const { object, warnings } = normalizeObject(body, widgetSchema, opts('Warn'));
      const anything = (object['spec'] as Record<string, Json>)['anything'] as Record<string, Json>;
      expect(Object.getPrototypeOf(anything)).to.equal(Object.prototype);
      expect(JSON.stringify(anything)).to.equal('{"__proto__":{"x":1},"constructor":2}');
      expect(warnings).to.deep.equal(['unknown field "constructor"', 'unknown field "toString"']);
      expect(thrown(() => normalizeObject(body, widgetSchema, opts('Strict'))).code).to.equal(400);
      const labels = JSON.parse('{"metadata":{"name":"w","labels":{"__proto__":"x"}},"spec":{"size":"S"}}') as Json;
      expect(thrown(() => normalizeObject(labels, widgetSchema, opts())).code).to.equal(422);
    });

    it('refuses values nested deeper than MAX_JSON_DEPTH before walking them', () => {
      let deep: Json = 1;
      for (let i = 0; i < 5000; i++) deep = { a: deep };
      const err = thrown(() => normalizeObject(widget({ size: 'S', anything: deep }), widgetSchema, opts()));
      expect(err.code).to.equal(400);
      expect(err.message).to.include('exceeded max depth');
    });

    it('validates label keys and values', () => {
      const err = thrown(() =>
        normalizeObject({ metadata: { name: 'w', labels: { 'bad key': 'ok', good: 'bad value', 'a/b/c': 'x' } }, spec: { size: 'S' } }, widgetSchema, opts()),
      );
      expect(err.code).to.equal(422);
      const causes = err.details.causes ?? [];
      expect(causes.every((c) => c.field === 'metadata.labels' && c.reason === 'FieldValueInvalid')).to.equal(true);
      expect(causes.map((c) => c.message)).to.deep.equal([
        `Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        `Invalid value: "bad value": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        `Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ]);
      const ok = normalizeObject(
        { metadata: { name: 'w', labels: { 'app.kubernetes.io/name': 'x', empty: '', 'kcp.io/cluster': 'root' } }, spec: { size: 'S' } },
        widgetSchema,
        opts(),
      );
      expect(ok.object.metadata.labels).to.have.property('empty', '');
      const long = thrown(() => normalizeObject({ metadata: { name: 'w', labels: { k: 'v'.repeat(64) } }, spec: { size: 'S' } }, widgetSchema, opts()));
      expect(long.details.causes?.[0]?.message).to.contain('must be no more than 63 characters');
      const prefix = thrown(() => normalizeObject({ metadata: { name: 'w', labels: { 'Bad_Prefix/x': 'v' } }, spec: { size: 'S' } }, widgetSchema, opts()));
      expect(prefix.details.causes?.[0]?.message).to.contain('prefix part a lowercase RFC 1123 subdomain');
    });

    it('validates annotation keys and total size', () => {
      const ok = normalizeObject(
        { metadata: { name: 'w', annotations: { 'Example.COM/Key': 'any value at all: {"json": true}' } }, spec: { size: 'S' } },
        widgetSchema,
        opts(),
      );
      expect(ok.object.metadata.annotations).to.have.property('Example.COM/Key');
      const bad = thrown(() => normalizeObject({ metadata: { name: 'w', annotations: { '-x': 'v' } }, spec: { size: 'S' } }, widgetSchema, opts()));
      expect(bad.details.causes?.[0]).to.include({ field: 'metadata.annotations', reason: 'FieldValueInvalid' });
      const big = thrown(() =>
        normalizeObject({ metadata: { name: 'w', annotations: { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(60 * 1024) } }, spec: { size: 'S' } }, widgetSchema, opts()),
      );
      expect(big.details.causes).to.deep.equal([
        { reason: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' },
      ]);
      expect(() =>
        normalizeObject({ metadata: { name: 'w', annotations: { a: 'x'.repeat(256 * 1024 - 1) } }, spec: { size: 'S' } }, widgetSchema, opts()),
      ).not.to.throw();
    });

    it('validates finalizer names', () => {
      expect(() => normalizeObject({ metadata: { name: 'w', finalizers: ['example.com/f', 'kubernetes'] }, spec: { size: 'S' } }, widgetSchema, opts())).not.to.throw();
      const err = thrown(() => normalizeObject({ metadata: { name: 'w', finalizers: ['bad finalizer'] }, spec: { size: 'S' } }, widgetSchema, opts()));
      expect(err.details.causes?.[0]).to.include({ field: 'metadata.finalizers' });
    });

    it('checks ObjectMeta types and required ownerReference fields', () => {
      const err = thrown(() => normalizeObject({ metadata: { name: 'w', generation: 'one' }, spec: { size: 'S' } }, widgetSchema, opts()));
      expect(err.details.causes?.[0]).to.include({ field: 'metadata.generation' });
      const owner = thrown(() =>
        normalizeObject({ metadata: { name: 'w', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c' }] }, spec: { size: 'S' } }, widgetSchema, opts()),
      );
      expect(owner.details.causes).to.deep.equal([{ reason: 'FieldValueRequired', field: 'metadata.ownerReferences[0].uid', message: 'Required value' }]);
    });

    it('validates built-in kinds', () => {
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: 'b' }, immutable: false, extra: 1 };
      const { object, warnings } = normalizeObject(cm, schemaOf('', 'configmaps'), { ...opts('Warn'), kind: 'ConfigMap', group: '' });
      expect(warnings).to.deep.equal(['unknown field "extra"']);
      expect(object).not.to.have.property('extra');
      const bad = thrown(() => normalizeObject({ ...cm, data: { a: 1 } }, schemaOf('', 'configmaps'), { ...opts(), kind: 'ConfigMap', group: '' }));
      expect(bad.message).to.equal('ConfigMap "w" is invalid: data.a: Invalid value: "integer": data.a in body must be of type string: "integer"');

      const rb = {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'system:rb', namespace: 'default' },
        subjects: [{ kind: 'Robot', name: 'x' }],
      };
      const rbErr = thrown(() =>
        normalizeObject(rb, schemaOf('rbac.authorization.k8s.io', 'rolebindings'), { ...opts(), kind: 'RoleBinding', group: 'rbac.authorization.k8s.io' }),
      );
      expect(rbErr.details.causes?.map((c) => `${c.reason} ${c.field}`)).to.deep.equal([
        'FieldValueNotSupported subjects[0].kind',
        'FieldValueRequired roleRef',
      ]);

      const lc = {
        apiVersion: 'core.kcp.io/v1alpha1',
        kind: 'LogicalCluster',
        metadata: { name: 'cluster' },
        status: { phase: 'Ready', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
        spec: { initializers: ['root:universal', 'system:apibindings'] },
      };
      const lcSchema = schemaOf('core.kcp.io', 'logicalclusters');
      expect(normalizeObject(lc, lcSchema, { ...opts('Strict'), kind: 'LogicalCluster', group: 'core.kcp.io' }).object).to.deep.equal(lc);
      const lcErr = thrown(() =>
        normalizeObject({ ...lc, metadata: { name: 'other' }, status: { phase: 'Dancing' } }, lcSchema, {
          ...opts(),
          kind: 'LogicalCluster',
          group: 'core.kcp.io',
        }),
      );
      expect(lcErr.details.causes?.map((c) => `${c.reason} ${c.field}`)).to.deep.equal([
        'FieldValueNotSupported metadata.name',
        'FieldValueNotSupported status.phase',
      ]);
    });
  });

  describe('validateName', () => {
    it('accepts valid names', () => {
      expect(validateName('my-ns', 'dns1123-label')).to.equal(undefined);
      expect(validateName('example.com', 'dns1123-subdomain')).to.equal(undefined);
      expect(validateName('system:controller:foo', 'path-segment')).to.equal(undefined);
    });

    it('returns kube’s messages', () => {
      expect(validateName('My.NS', 'dns1123-label')).to.equal(
        `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      );
      expect(validateName('Foo', 'dns1123-subdomain')).to.equal(
        `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      );
      expect(validateName('a'.repeat(64), 'dns1123-label')).to.equal('must be no more than 63 characters');
      expect(validateName('a'.repeat(254), 'dns1123-subdomain')).to.equal('must be no more than 253 characters');
      expect(validateName('..', 'path-segment')).to.equal(`may not be '..'`);
      expect(validateName('a/b%c', 'path-segment')).to.equal(`may not contain '/', may not contain '%'`);
      expect(validateName('', 'dns1123-subdomain')).to.be.a('string');
    });
  });
});
