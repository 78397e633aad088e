/**
 * The structural scan of watch lines and list bodies: key fields and object ranges must be exactly
 * what JSON.parse would give, whatever the key order, spacing, escapes or nesting, and anything it
 * cannot vouch for must be left to JSON.parse (undefined), never half-read.
 */
import { expect } from 'chai';
import { findFieldsV1, scanList, scanObject, scanWatchEvent } from '../../src/informer/scan.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

function scanLine(text: string) {
  const b = enc(text);
  return { b, ev: scanWatchEvent(b, 0, b.length) };
}

const sample = {
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: {
    name: 'cm-1',
    namespace: 'default',
    uid: '0f8e4c62-9d0b-4d8e-9a55-4f1b2a3c4d5e',
    resourceVersion: '42',
    labels: { app: 'web' },
    annotations: { 'a.example/x': 'y', 'kcp.io/cluster': 'root:org' },
    managedFields: [{ manager: 'm', operation: 'Update', fieldsV1: { 'f:data': { '.': {}, 'f:k': {} } } }],
  },
  data: { k: 'v' },
};

describe('informer scan: watch lines', () => {
  it('notes where metadata.managedFields is; findFieldsV1 finds each entry\'s fieldsV1 in it; a duplicate key is left to JSON.parse', () => {
    const text = JSON.stringify({ type: 'ADDED', object: sample });
    const { b, ev } = scanLine(text);
    const o = ev!.object;
    const [ms, me] = [o.start + o.managedFieldsStart, o.start + o.managedFieldsEnd];
    expect(JSON.parse(b.toString('utf8', ms, me))).to.deep.equal(sample.metadata.managedFields);
    const out: number[] = [];
    expect(findFieldsV1(b, ms, me, o.start, out)).to.equal(3);
    expect(out[0]).to.equal(0);
    expect(JSON.parse(b.toString('utf8', o.start + out[1]!, o.start + out[2]!))).to.deep.equal(sample.metadata.managedFields[0]!.fieldsV1);
    const fields = (managed: unknown[]): number[] => {
      const x = Buffer.from(JSON.stringify(managed));
      const got: number[] = [];
      const n = findFieldsV1(x, 0, x.length, 0, got);
      return n < 0 ? [n] : got.slice(0, n).filter((_, k) => k % 3 === 0);
    };
    expect(fields([{ manager: 'a' }, 'x', { fieldsV1: { 'f:a': {} } }, { fieldsV1: null }, { fieldsV1: [] }])).to.deep.equal([2]);
    expect(fields([])).to.deep.equal([]);
    const dup = Buffer.from('[{"fieldsV1":{},"fieldsV1":{"f:a":{}}}]');
    expect(findFieldsV1(dup, 0, dup.length, 0, [])).to.equal(-1);
    const none = { ...sample, metadata: { ...sample.metadata, managedFields: undefined } };
    expect(scanLine(JSON.stringify({ type: 'ADDED', object: none })).ev!.object).to.deep.include({ managedFieldsStart: 0, managedFieldsEnd: 0 });
    expect(scanLine(text.replace('"managedFields":', '"managedFields":[],"managedFields":')).ev).to.equal(undefined);
  });

  it('finds the type, key fields and the exact byte range of the object', () => {
    const { b, ev } = scanLine(JSON.stringify({ type: 'MODIFIED', object: sample }));
    expect(ev).to.deep.include({ type: 'MODIFIED' });
    expect(ev!.object).to.deep.include({ namespace: 'default', name: 'cm-1', resourceVersion: '42', cluster: 'root:org', typed: true });
    expect(JSON.parse(b.toString('utf8', ev!.object.start, ev!.object.end))).to.deep.equal(sample);
  });

  it('reads the fields wherever they are: object before type, sorted metadata keys', () => {
    const sorted = {
      apiVersion: 'wildwest.dev/v1',
      kind: 'Cowboy',
      metadata: {
        annotations: { 'kcp.io/cluster': 'abc123' },
        managedFields: [{ manager: 'x', fieldsV1: { 'f:spec': { 'f:intent': {} } } }],
        name: 'billy',
        namespace: 'ns',
        resourceVersion: '7',
      },
      spec: { intent: 'ride' },
    };
    for (const text of [JSON.stringify({ object: sorted, type: 'ADDED' }), JSON.stringify({ type: 'ADDED', object: sorted })]) {
      const { b, ev } = scanLine(text);
      expect(ev, text).to.not.equal(undefined);
      expect(ev!.type).to.equal('ADDED');
      expect(ev!.object).to.deep.include({ namespace: 'ns', name: 'billy', resourceVersion: '7', cluster: 'abc123' });
      expect(JSON.parse(b.toString('utf8', ev!.object.start, ev!.object.end))).to.deep.equal(sorted);
    }
  });

  it('is not fooled by keys and brackets inside strings, or by nested keys named like metadata fields', () => {
    const tricky = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      data: { metadata: '{"name":"evil"}', '"name"': 'x]}', 'kcp.io/cluster': 'other', esc: 'a\\"}b\\\\', ['x'.repeat(40)]: '"'.repeat(50) },
      metadata: {
        labels: { name: 'label-name', namespace: 'nope' },
        annotations: { note: '{"kcp.io/cluster":"wrong"}', 'kcp.io/cluster': 'right' },
        ownerReferences: [{ name: 'owner', kind: 'X', uid: 'u', apiVersion: 'v1' }],
        name: 'real',
        resourceVersion: '9',
      },
    };
    const { b, ev } = scanLine(JSON.stringify({ type: 'ADDED', object: tricky }));
    expect(ev!.object).to.deep.include({ name: 'real', namespace: '', resourceVersion: '9', cluster: 'right' });
    expect(JSON.parse(b.toString('utf8', ev!.object.start, ev!.object.end))).to.deep.equal(tricky);
  });

  it('decodes escaped and multi-byte key fields as JSON.parse does', () => {
    const text = '{"type":"ADDED","object":{"metadata":{"name":"caf\\u00e9","annotations":{"kcp.io/cluster":"ro\\u006ft"},"resourceVersion":"1"},"data":{"k":"żółw 🐢"}}}';
    const { b, ev } = scanLine(text);
    expect(ev!.object).to.deep.include({ name: 'café', cluster: 'root' });
    expect(JSON.parse(b.toString('utf8', ev!.object.start, ev!.object.end)).data.k).to.equal('żółw 🐢');
  });

  it('treats a missing or null namespace and an object without annotations as cluster-scoped and unannotated', () => {
    const { ev } = scanLine('{"type":"DELETED","object":{"metadata":{"name":"n","namespace":null,"resourceVersion":"3"}}}');
    expect(ev!.object).to.deep.include({ name: 'n', namespace: '', cluster: undefined, typed: false });
  });

  it('leaves to JSON.parse what it cannot vouch for, including JSON with whitespace between tokens', () => {
    const bad = [
      JSON.stringify({ type: 'ADDED', object: sample }, null, 1),
      ` ${JSON.stringify({ type: 'ADDED', object: sample })}`,
      JSON.stringify({ type: 'ADDED', object: sample }) + ' ',
      '{"type": "ADDED","object":{"metadata":{"name":"x"}}}',
      '{"type":"ADDED","object":{"metadata":{"name": "x"}}}',
      '{"type":"ADDED","object":{"metadata":{"name":"x","labels":{"a": "b"}}}}',
      '',
      'not json',
      '[1,2]',
      '{"type":"ADDED","object":{"metadata"',
      '{"type":"ADDED","object":{"metadata":{"name":"x"}}', // one brace short
      '{"type":"ADDED","object":{"metadata":{"name":"x"}}} trailing',
      '{"object":{"metadata":{"name":"x"}}},"type":"ADDED"}}', // object first: scanned whole
      '{"type":"ADDED","object":{"kind":"X"}}', // no metadata
      '{"type":"ADDED","object":{"metadata":"x"}}',
      '{"type":"ADDED","object":{"metadata":{"name":5}}}',
      '{"type":"ADDED","object":{"metadata":{"resourceVersion":true}}}',
      '{"type":"ADDED","object":[]}',
      '{"type":7,"object":{"metadata":{}}}',
      '{"object":{"metadata":{}}}',
      '{"type":"ADDED"}',
      '{"type":"ADDED","object":{"metadata":{"name":"x\\"}}}',
      '{"type":"ADDED","object":{"metadata":{"name" "x"}}}',
      '{"type":"ADDED","object":{"metadata":{"name":"x",}}}',
    ];
    for (const text of bad) expect(scanLine(text).ev, text).to.equal(undefined);
  });

  it('scans past the metadata only when the line is framed as type-then-object; the rest is the decoder\'s to check', () => {
    // The object's end comes from the line's tail, so damage after the metadata shows when the
    // object is decoded (as a decode error), not here.
    const { b, ev } = scanLine('{"type":"ADDED","object":{"metadata":{"name":"x","resourceVersion":"1"},"data":{"k":tru}}}');
    expect(ev!.object).to.deep.include({ name: 'x', resourceVersion: '1' });
    expect(() => JSON.parse(b.toString('utf8', ev!.object.start, ev!.object.end))).to.throw(SyntaxError);
    expect(scanLine('{"type":"ADDED","object":{"metadata":{"name":"x"}} ,"x":1}').ev).to.equal(undefined);
  });

  it('agrees with JSON.parse on generated objects with hostile strings and deep nesting', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['a', '"', '\\', '{', '}', '[', ']', ':', ',', ' ', 'é', '🐢', '\n', '\u0001', 'kcp.io/cluster', 'metadata', 'name'];
    const str = (): string => Array.from({ length: rand(12) }, () => pieces[rand(pieces.length)]).join('');
    const value = (depth: number): unknown => {
      switch (depth > 3 ? rand(4) : rand(6)) {
        case 0:
          return str();
        case 1:
          return rand(1000) - 500;
        case 2:
          return [true, false, null][rand(3)];
        case 3:
          return rand(2) ? 1.5e3 : -0.25;
        case 4:
          return Array.from({ length: rand(4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: rand(4) }, () => [str(), value(depth + 1)]));
      }
    };
    for (let i = 0; i < 300; i++) {
      const metadata: Record<string, unknown> = { [str()]: value(1), name: str(), resourceVersion: String(i) };
      if (rand(2)) metadata['namespace'] = str();
      if (rand(2)) metadata['annotations'] = { [str()]: str(), 'kcp.io/cluster': str() };
      const obj = { apiVersion: 'v1', [str()]: value(0), metadata, spec: value(0) };
      const text = rand(2) ? JSON.stringify({ type: 'MODIFIED', object: obj }) : JSON.stringify({ object: obj, type: 'MODIFIED' });
      const { b, ev } = scanLine(text);
      expect(ev, text).to.not.equal(undefined);
      expect(ev!.object.name).to.equal(metadata['name']);
      expect(ev!.object.namespace).to.equal(metadata['namespace'] ?? '');
      expect(ev!.object.resourceVersion).to.equal(String(i));
      expect(ev!.object.cluster).to.equal((metadata['annotations'] as Record<string, string> | undefined)?.['kcp.io/cluster']);
      expect(JSON.parse(b.toString('utf8', ev!.object.start, ev!.object.end))).to.deep.equal(obj);
    }
  });
});

describe('informer scan: list bodies', () => {
  it('finds list metadata and every item, typed or not, in any member order', () => {
    const items = [
      { metadata: { name: 'a', namespace: 'n', resourceVersion: '1', annotations: { 'kcp.io/cluster': 'c1' } }, data: { x: '}' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', resourceVersion: '2' } },
    ];
    for (const body of [
      { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '10', continue: 'tok' }, items },
      { items, metadata: { continue: 'tok', resourceVersion: '10' }, apiVersion: 'v1', kind: 'ConfigMapList' },
    ]) {
      for (const text of [JSON.stringify(body), JSON.stringify(body) + '\n']) {
        const b = enc(text);
        const l = scanList(b);
        expect(l).to.deep.include({ kind: 'ConfigMapList', apiVersion: 'v1', resourceVersion: '10', continue: 'tok' });
        expect(l!.items.map((i) => [i.name, i.namespace, i.cluster, i.typed])).to.deep.equal([
          ['a', 'n', 'c1', false],
          ['b', '', undefined, true],
        ]);
        expect(l!.items.map((i) => JSON.parse(b.toString('utf8', i.start, i.end)))).to.deep.equal(items);
      }
    }
  });

  it('reads empty and null item lists, and refuses bodies it cannot vouch for', () => {
    expect(scanList(enc('{"kind":"XList","metadata":{"resourceVersion":"5"},"items":[]}'))!.items).to.deep.equal([]);
    expect(scanList(enc('{"kind":"XList","metadata":{"resourceVersion":"5"},"items":null}'))).to.deep.include({ resourceVersion: '5', items: [] });
    for (const text of ['', '{', '{"items":[{"metadata":{}}', '{"items":[{"kind":"no metadata"}]}', '{"items":[1]}', '{"items":{}}', '{"items":[]} x', '{"items": []}', JSON.stringify({ items: [] }, null, 2)]) {
      expect(scanList(enc(text)), text).to.equal(undefined);
    }
  });

  it('scans an object on its own, at an offset', () => {
    const b = enc('xx {"metadata":{"name":"o","resourceVersion":"1"}} yy');
    const o = scanObject(b, 3, b.length - 3);
    expect(o).to.deep.include({ name: 'o', start: 3, end: b.length - 3 });
  });
});
