import { expect } from 'chai';
import { jsonEqual, jsonPatch, mergePatch, strategicMergePatch } from '../../src/server/api/index.js';
import type { Json, JsonObject, Schema } from '../../src/server/types.js';
import { apiErrorOf as errorOf } from '../support/api-error.js';

/** Freezes a value deeply so that any mutation by the code under test throws (ESM is strict). */
function frozen<T extends Json>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) frozen(x as Json);
    Object.freeze(v);
  }
  return v;
}

/** Every key anywhere in a value, to check that no directive leaked into a result. */
function allKeys(v: Json): string[] {
  if (Array.isArray(v)) return v.flatMap(allKeys);
  if (typeof v === 'object' && v !== null) return Object.entries(v).flatMap(([k, x]) => [k, ...allKeys(x)]);
  return [];
}

describe('jsonEqual', () => {
  it('compares structurally, ignoring key order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).to.equal(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).to.equal(false);
    expect(jsonEqual([1, 2], [2, 1])).to.equal(false);
    expect(jsonEqual({}, [])).to.equal(false);
    expect(jsonEqual(null, {})).to.equal(false);
    expect(jsonEqual(1, 1.0)).to.equal(true);
  });
});

describe('mergePatch (RFC 7386)', () => {
  it('passes the RFC 7386 appendix A examples', () => {
    const cases: [Json, Json, Json][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, want] of cases) {
      expect(mergePatch(frozen(target), frozen(patch)), JSON.stringify([target, patch])).to.deep.equal(want);
    }
  });

  it('keeps nulls inside arrays, which are values and not deletions', () => {
    expect(mergePatch({ a: 1 }, { a: [null, { b: null }] })).to.deep.equal({ a: [null, { b: null }] });
  });

  it('does not mutate its inputs', () => {
    const target = frozen({ spec: { replicas: 1, template: { labels: { a: 'b' } } } });
    const patch = frozen({ spec: { replicas: 2, template: { labels: { a: null, c: 'd' } } } });
    const out = mergePatch(target, patch);
    expect(out).to.deep.equal({ spec: { replicas: 2, template: { labels: { c: 'd' } } } });
    expect(target).to.deep.equal({ spec: { replicas: 1, template: { labels: { a: 'b' } } } });
  });

  it('treats __proto__ as an ordinary key', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as Json;
    const out = mergePatch({}, patch) as JsonObject;
    expect(Object.hasOwn(out, '__proto__')).to.equal(true);
    expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(JSON.stringify(out)).to.equal('{"__proto__":{"polluted":true}}');
  });
});

describe('jsonPatch (RFC 6902)', () => {
  const apply = (doc: Json, ops: Json): Json => jsonPatch(frozen(doc), frozen(ops));

  it('adds object members, array elements and appends with -', () => {
    expect(apply({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }])).to.deep.equal({ foo: 'bar', baz: 'qux' });
    expect(apply({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }])).to.deep.equal({ foo: ['bar', 'qux', 'baz'] });
    expect(apply({ foo: ['bar'] }, [{ op: 'add', path: '/foo/1', value: 'end' }])).to.deep.equal({ foo: ['bar', 'end'] });
    expect(apply({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }])).to.deep.equal({
      foo: ['bar', ['abc', 'def']],
    });
    expect(apply({ foo: 'bar' }, [{ op: 'add', path: '/foo', value: 'replaced' }])).to.deep.equal({ foo: 'replaced' });
    expect(apply({ foo: 1 }, [{ op: 'add', path: '', value: [1] }])).to.deep.equal([1]);
    expect(apply({}, [{ op: 'add', path: '/', value: 'empty key' }])).to.deep.equal({ '': 'empty key' });
  });

  it('removes and replaces', () => {
    expect(apply({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }])).to.deep.equal({ foo: 'bar' });
    expect(apply({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }])).to.deep.equal({ foo: ['bar', 'baz'] });
    expect(apply({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }])).to.deep.equal({ baz: 'boo', foo: 'bar' });
    expect(apply({ a: [1, 2] }, [{ op: 'replace', path: '/a/0', value: 9 }])).to.deep.equal({ a: [9, 2] });
    expect(apply({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }])).to.deep.equal({ b: 2 });
    expect(apply({ a: null }, [{ op: 'replace', path: '/a', value: 1 }])).to.deep.equal({ a: 1 });
  });

  it('moves and copies', () => {
    const doc = { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } };
    expect(apply(doc, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }])).to.deep.equal({
      foo: { bar: 'baz' },
      qux: { corge: 'grault', thud: 'fred' },
    });
    expect(apply({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }])).to.deep.equal({
      foo: ['all', 'cows', 'eat', 'grass'],
    });
    expect(apply({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }])).to.deep.equal({ a: { b: 1 }, c: { b: 1 } });
    expect(apply({ a: 1 }, [{ op: 'move', from: '/a', path: '/a' }])).to.deep.equal({ a: 1 });
  });

  it('tests values structurally', () => {
    const doc = { baz: 'qux', foo: ['a', 2, 'c'], o: { x: 1, y: [1] } };
    expect(
      apply(doc, [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
        { op: 'test', path: '/o', value: { y: [1], x: 1 } },
      ]),
    ).to.deep.equal(doc);
  });

  it('resolves escaped pointers (~0, ~1, and ~01 is "~1")', () => {
    const doc = { 'a/b': 1, 'm~n': 2, '~1': 3, annotations: { 'example.com/x': 'y' } };
    expect(apply(doc, [{ op: 'test', path: '/a~1b', value: 1 }])).to.deep.equal(doc);
    expect(apply(doc, [{ op: 'test', path: '/m~0n', value: 2 }])).to.deep.equal(doc);
    expect(apply(doc, [{ op: 'remove', path: '/~01' }])).to.deep.equal({ 'a/b': 1, 'm~n': 2, annotations: { 'example.com/x': 'y' } });
    expect(apply(doc, [{ op: 'replace', path: '/annotations/example.com~1x', value: 'z' }])).to.deep.include({
      annotations: { 'example.com/x': 'z' },
    });
  });

  it('applies operations in order and leaves the input untouched', () => {
    const doc = frozen({ metadata: { labels: { a: '1' } }, spec: { list: [1, 2, 3] } });
    const out = jsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'remove', path: '/spec/list/0' },
      { op: 'test', path: '/spec/list', value: [2, 3] },
      { op: 'copy', from: '/metadata/labels', path: '/spec/labels' },
    ]);
    expect(out).to.deep.equal({ metadata: { labels: { a: '1', b: '2' } }, spec: { list: [2, 3], labels: { a: '1', b: '2' } } });
    expect(doc).to.deep.equal({ metadata: { labels: { a: '1' } }, spec: { list: [1, 2, 3] } });
  });

  it('answers 422 Invalid for operations that do not apply', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const cases: [Json, string][] = [
      [[{ op: 'add', path: '/missing/x', value: 1 }], 'add operation does not apply: doc is missing path: "/missing/x"'],
      [[{ op: 'add', path: '/a/b/5', value: 1 }], 'add operation does not apply'],
      [[{ op: 'add', path: '/a/b/01', value: 1 }], 'add operation does not apply'],
      [[{ op: 'add', path: '/c/x', value: 1 }], 'add operation does not apply'],
      [[{ op: 'remove', path: '/nope' }], 'remove operation does not apply: doc is missing path: "/nope"'],
      [[{ op: 'remove', path: '/a/b/2' }], 'remove operation does not apply'],
      [[{ op: 'remove', path: '/a/b/-' }], 'remove operation does not apply'],
      [[{ op: 'remove', path: '' }], 'remove operation does not apply'],
      [[{ op: 'replace', path: '/nope', value: 1 }], 'replace operation does not apply: doc is missing key: "/nope"'],
      [[{ op: 'move', from: '/nope', path: '/x' }], 'move operation does not apply: doc is missing from path: "/nope"'],
      [[{ op: 'move', from: '/a', path: '/a/b/0' }], 'into its own child'],
      [[{ op: 'copy', from: '/nope', path: '/x' }], 'copy operation does not apply'],
      [[{ op: 'test', path: '/c', value: 'y' }], 'testing value "/c" failed: test failed'],
      [[{ op: 'test', path: '/nope', value: null }], 'testing value "/nope" failed'],
      [[{ op: 'test', path: '/a/b', value: [2, 1] }], 'test failed'],
    ];
    for (const [ops, msg] of cases) {
      const err = errorOf(() => jsonPatch(frozen(doc), frozen(ops)));
      expect(err.code, JSON.stringify(ops)).to.equal(422);
      expect(err.reason).to.equal('Invalid');
      expect(err.message).to.match(/^the server rejected our request due to an error in our request: /);
      expect(err.message).to.contain(msg);
    }
  });

  it('is all or nothing: a failing later op leaves nothing half-applied', () => {
    const doc = frozen({ a: 1 });
    errorOf(() => jsonPatch(doc, [{ op: 'add', path: '/b', value: 2 }, { op: 'test', path: '/a', value: 2 }]));
    expect(doc).to.deep.equal({ a: 1 });
  });

  it('answers 400 BadRequest for malformed patch documents', () => {
    const cases: Json[] = [
      { op: 'add', path: '/a', value: 1 },
      'nope',
      [1],
      [{ path: '/a' }],
      [{ op: 'frobnicate', path: '/a' }],
      [{ op: 'add', value: 1 }],
      [{ op: 'add', path: '/a' }],
      [{ op: 'replace', path: '/a' }],
      [{ op: 'test', path: '/a' }],
      [{ op: 'move', path: '/a' }],
      [{ op: 'copy', path: '/a', from: 1 }],
      [{ op: 'add', path: 'a', value: 1 }],
      [{ op: 'add', path: '/a~2', value: 1 }],
      [{ op: 'add', path: '/a~', value: 1 }],
    ];
    for (const ops of cases) {
      const err = errorOf(() => jsonPatch({ a: 1 }, ops));
      expect(err.code, JSON.stringify(ops)).to.equal(400);
      expect(err.reason).to.equal('BadRequest');
    }
  });

  it('accepts an explicit null value and an empty patch', () => {
    expect(jsonPatch({ a: 1 }, [{ op: 'add', path: '/b', value: null }])).to.deep.equal({ a: 1, b: null });
    expect(jsonPatch({ a: 1 }, [])).to.deep.equal({ a: 1 });
  });
});

describe('strategicMergePatch', () => {
  const str: Schema = { type: 'string' };
  const container: Schema = {
    type: 'object',
    properties: {
      name: str,
      image: str,
      args: { type: 'array', items: str },
      ports: {
        type: 'array',
        items: { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: str, name: str } },
        mergeKeys: ['containerPort', 'protocol'],
        listType: 'map',
      },
      env: {
        type: 'array',
        items: { type: 'object', properties: { name: str, value: str } },
        mergeKeys: ['name'],
        listType: 'map',
      },
      resources: { type: 'object', properties: { limits: { type: 'object', additionalProperties: { type: 'object', anyValue: true } } } },
    },
  };
  const pod: Schema = {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: {
        type: 'object',
        properties: {
          name: str,
          labels: { type: 'object', additionalProperties: str },
          annotations: { type: 'object', additionalProperties: str },
          finalizers: { type: 'array', items: str, listType: 'set' },
        },
      },
      spec: {
        type: 'object',
        properties: {
          containers: { type: 'array', items: container, mergeKeys: ['name'], listType: 'map' },
          volumes: {
            type: 'object',
            properties: { emptyDir: { type: 'object', properties: { medium: str } }, hostPath: { type: 'object', properties: { path: str } } },
          },
          tolerations: { type: 'array', items: { type: 'object', properties: { key: str } }, listType: 'atomic' },
          extra: { type: 'any' },
          template: { type: 'object', preserveUnknownFields: true, properties: { known: str } },
        },
      },
    },
  };
  const smp = (target: Json, patch: Json): Json => {
    const out = strategicMergePatch(frozen(target), frozen(patch), pod);
    const directives = allKeys(out).filter((k) => k.startsWith('$patch') || k.startsWith('$retainKeys') || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/'));
    expect(directives, 'directive keys in the result').to.deep.equal([]);
    return out;
  };

  const base: Json = {
    metadata: { name: 'p', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', args: ['--x'], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
        { name: 'sidecar', image: 'side:1' },
      ],
    },
  };

  it('merges maps recursively and deletes keys set to null', () => {
    expect(smp(base, { metadata: { labels: { tier: null, new: 'x' } } })).to.deep.equal({
      ...(base as JsonObject),
      metadata: { name: 'p', labels: { app: 'web', new: 'x' }, finalizers: ['a', 'b'] },
    });
  });

  it('merges lists with merge keys item by item, appending new items in patch order', () => {
    const out = smp(base, {
      spec: { containers: [{ name: 'new2', image: 'n2' }, { name: 'app', image: 'app:2' }, { name: 'new1', image: 'n1' }] },
    }) as JsonObject;
    expect((out['spec'] as JsonObject)['containers']).to.deep.equal([
      { name: 'app', image: 'app:2', args: ['--x'], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'sidecar', image: 'side:1' },
      { name: 'new2', image: 'n2' },
      { name: 'new1', image: 'n1' },
    ]);
  });

  it('merges nested keyed lists and replaces lists without merge semantics', () => {
    const out = smp(base, {
      spec: { containers: [{ name: 'app', args: ['--y'], env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] },
    }) as JsonObject;
    expect(((out['spec'] as JsonObject)['containers'] as Json[])[0]).to.deep.equal({
      name: 'app',
      image: 'app:1',
      args: ['--y'],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '3' },
        { name: 'C', value: '4' },
      ],
    });
  });

  it('deletes list items with $patch: delete', () => {
    const out = smp(base, { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'ghost', $patch: 'delete' }] } }) as JsonObject;
    expect(((out['spec'] as JsonObject)['containers'] as Json[]).map((c) => (c as JsonObject)['name'])).to.deep.equal(['app']);
    const nested = smp(base, { spec: { containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }] }] } }) as JsonObject;
    expect((((nested['spec'] as JsonObject)['containers'] as Json[])[0] as JsonObject)['env']).to.deep.equal([{ name: 'B', value: '2' }]);
  });

  it('replaces a whole list with a $patch: replace item', () => {
    const out = smp(base, { spec: { containers: [{ name: 'only', image: 'o' }, { $patch: 'replace' }] } }) as JsonObject;
    expect((out['spec'] as JsonObject)['containers']).to.deep.equal([{ name: 'only', image: 'o' }]);
  });

  it('honours $patch: replace and $patch: delete on maps', () => {
    expect(smp(base, { metadata: { labels: { $patch: 'replace', only: 'me', gone: null } } })).to.deep.include({
      metadata: { name: 'p', labels: { only: 'me' }, finalizers: ['a', 'b'] },
    });
    const deleted = smp(base, { metadata: { labels: { $patch: 'delete' } } }) as JsonObject;
    expect(deleted['metadata']).to.deep.equal({ name: 'p', finalizers: ['a', 'b'] });
    expect(smp(base, { $patch: 'delete' })).to.deep.equal({});
    expect(smp(base, { $patch: 'replace', kind: 'Pod' })).to.deep.equal({ kind: 'Pod' });
    // As in kube, a list item carrying $patch: replace is only a marker: the list becomes the other items.
    const item = smp(base, { spec: { containers: [{ name: 'app', image: 'x', $patch: 'replace' }, { name: 'b' }] } }) as JsonObject;
    expect((item['spec'] as JsonObject)['containers']).to.deep.equal([{ name: 'b' }]);
  });

  it('merges set lists as sets and honours $deleteFromPrimitiveList', () => {
    expect((smp(base, { metadata: { finalizers: ['b', 'c', 'c'] } }) as JsonObject)['metadata']).to.deep.include({
      finalizers: ['a', 'b', 'c'],
    });
    expect(
      (smp(base, { metadata: { $deleteFromPrimitiveList: 1, '$deleteFromPrimitiveList/finalizers': ['a', 'zzz'], finalizers: ['d'] } }) as JsonObject)[
        'metadata'
      ],
    ).to.deep.include({ finalizers: ['b', 'd'], $deleteFromPrimitiveList: 1 });
  });

  it('uses $retainKeys to clear fields the patch does not keep', () => {
    const target = { spec: { volumes: { emptyDir: { medium: 'Memory' } } } };
    expect(smp(target, { spec: { volumes: { $retainKeys: ['hostPath'], hostPath: { path: '/x' } } } })).to.deep.equal({
      spec: { volumes: { hostPath: { path: '/x' } } },
    });
    const err = errorOf(() => strategicMergePatch(target, { spec: { volumes: { $retainKeys: ['emptyDir'], hostPath: { path: '/x' } } } }, pod));
    expect(err.code).to.equal(422);
    const bad = errorOf(() => strategicMergePatch(target, { spec: { volumes: { $retainKeys: 'emptyDir' } } }, pod));
    expect(bad.code).to.equal(400);
  });

  it('orders lists by $setElementOrder and strips the directive', () => {
    const out = smp(base, {
      spec: {
        $setElementOrder: null,
        '$setElementOrder/containers': [{ name: 'new' }, { name: 'sidecar' }, { name: 'app' }],
        containers: [{ name: 'new', image: 'n' }],
      },
    }) as JsonObject;
    expect(((out['spec'] as JsonObject)['containers'] as JsonObject[]).map((c) => c['name'])).to.deep.equal(['new', 'sidecar', 'app']);
    const prim = smp(base, { metadata: { '$setElementOrder/finalizers': ['b', 'c', 'a'], finalizers: ['c'] } }) as JsonObject;
    expect((prim['metadata'] as JsonObject)['finalizers']).to.deep.equal(['b', 'c', 'a']);
  });

  it('keeps server-only items before patch items they preceded under $setElementOrder', () => {
    const target = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
    const out = smp(target, { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'd' }], containers: [{ name: 'd' }] } }) as JsonObject;
    expect(((out['spec'] as JsonObject)['containers'] as JsonObject[]).map((c) => c['name'])).to.deep.equal(['a', 'b', 'c', 'd']);
  });

  it('reorders a list the patch does not touch and rejects a delete without its merge key', () => {
    const out = smp(base, { metadata: { '$setElementOrder/finalizers': ['b', 'a'] } }) as JsonObject;
    expect((out['metadata'] as JsonObject)['finalizers']).to.deep.equal(['b', 'a']);
    const err = errorOf(() => strategicMergePatch(base, { spec: { containers: [{ $patch: 'delete' }] } }, pod));
    expect(err.code).to.equal(422);
  });

  it('lets null-valued keys through $retainKeys', () => {
    const target = { spec: { volumes: { emptyDir: { medium: 'Memory' }, hostPath: { path: '/old' } } } };
    expect(smp(target, { spec: { volumes: { $retainKeys: ['hostPath'], emptyDir: null } } })).to.deep.equal({
      spec: { volumes: { hostPath: { path: '/old' } } },
    });
  });

  it('replaces atomic lists and lists without merge keys', () => {
    const target = { spec: { tolerations: [{ key: 'a' }, { key: 'b' }] } };
    expect(smp(target, { spec: { tolerations: [{ key: 'c' }] } })).to.deep.equal({ spec: { tolerations: [{ key: 'c' }] } });
  });

  it('matches on the first merge key and narrows by the other keys the patch names', () => {
    const target = {
      spec: {
        containers: [
          {
            name: 'app',
            ports: [
              { containerPort: 80, protocol: 'TCP', name: 'http' },
              { containerPort: 80, protocol: 'UDP', name: 'dns' },
            ],
          },
        ],
      },
    };
    const out = smp(target, { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, protocol: 'UDP', name: 'udp' }] }] } }) as JsonObject;
    expect((((out['spec'] as JsonObject)['containers'] as JsonObject[])[0]!)['ports']).to.deep.equal([
      { containerPort: 80, protocol: 'TCP', name: 'http' },
      { containerPort: 80, protocol: 'UDP', name: 'udp' },
    ]);
    const err = errorOf(() => strategicMergePatch(target, { spec: { containers: [{ image: 'x' }] } }, pod));
    expect(err.code).to.equal(422);
    expect(err.message).to.contain('does not contain declared merge key: name');
  });

  it('falls back to merge-patch semantics where the schema knows nothing', () => {
    const target = { spec: { extra: { a: { b: 1, c: 2 }, list: [{ name: 'x', v: 1 }] }, template: { known: 'k', free: { x: 1 } } } };
    const out = smp(target, {
      spec: {
        extra: { a: { b: null, d: 3 }, list: [{ name: 'x', v: 2 }] },
        template: { free: { y: 2, nested: { $patch: 'delete' } }, other: [1] },
        unknownField: { keep: true, drop: null },
      },
    });
    expect(out).to.deep.equal({
      spec: {
        extra: { a: { c: 2, d: 3 }, list: [{ name: 'x', v: 2 }] },
        template: { known: 'k', free: { x: 1, y: 2 }, other: [1] },
        unknownField: { keep: true },
      },
    });
  });

  it('treats anyValue objects as free-form', () => {
    const target = { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '1', memory: { a: 1 } } } }] } };
    const out = smp(target, { spec: { containers: [{ name: 'app', resources: { limits: { memory: { b: 2 }, cpu: null } } }] } }) as JsonObject;
    expect((((out['spec'] as JsonObject)['containers'] as JsonObject[])[0]!)['resources']).to.deep.equal({ limits: { memory: { a: 1, b: 2 } } });
  });

  it('cleans new values: nulls and directives never reach the result', () => {
    const out = smp({}, {
      metadata: { labels: { a: 'x', b: null } },
      spec: { containers: [{ name: 'c', env: [{ name: 'gone', $patch: 'delete' }, { name: 'E', value: null }] }] },
    });
    expect(out).to.deep.equal({ metadata: { labels: { a: 'x' } }, spec: { containers: [{ name: 'c', env: [{ name: 'E' }] }] } });
  });

  it('rejects malformed patches with 400', () => {
    const patches: Json[] = [[1], 'x', null, { $patch: 'sideways' }, { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, { spec: { '$setElementOrder/containers': {} } }, { spec: { '$setElementOrder/containers': ['app'] } }];
    for (const patch of patches) {
      const err = errorOf(() => strategicMergePatch(base, patch, pod));
      expect(err.code, JSON.stringify(patch)).to.equal(400);
      expect(err.reason).to.equal('BadRequest');
    }
  });

  it('replaces values whose type changes', () => {
    expect(smp({ spec: { extra: [1, 2] } }, { spec: { extra: { a: 1 } } })).to.deep.equal({ spec: { extra: { a: 1 } } });
    expect(smp({ spec: { extra: { a: 1 } } }, { spec: { extra: 'scalar' } })).to.deep.equal({ spec: { extra: 'scalar' } });
  });
});
