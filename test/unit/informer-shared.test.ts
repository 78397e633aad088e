/**
 * managedFields[].fieldsV1 values decoded once and shared between cached objects: every object must
 * still equal what JSON.parse gives for its text, and a shared value must never be changeable.
 */
import { expect } from 'chai';
import { deepFreeze } from '../../src/informer/freeze.js';
import { scanObject } from '../../src/informer/scan.js';
import { SharedFields } from '../../src/informer/shared.js';
import { Store } from '../../src/informer/store.js';
import type { KubeObject } from '../../src/informer/types.js';

interface Managed {
  manager?: string;
  time?: string;
  fieldsV1?: unknown;
}
type Obj = KubeObject & { data?: Record<string, string> };

const fieldsA = { 'f:data': { '.': {}, 'f:k': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } };
const fieldsB = { 'f:spec': { 'f:replicas': {} } };

function object(name: string, managed: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: '1', managedFields: managed }, data: { k: name }, ...extra };
}

/** The texts in one buffer (newline-separated, as a list body or a socket read holds many), scanned. */
function load(store: Store<Obj>, objects: Record<string, unknown>[]): Buffer {
  const texts = objects.map((o) => JSON.stringify(o));
  const buf = Buffer.from(texts.join('\n'));
  let at = 0;
  for (const t of texts) {
    const end = at + Buffer.byteLength(t);
    const scanned = scanObject(buf, at, end);
    expect(scanned, t).to.not.equal(undefined);
    store.upsertEntry('c', store.bytesEntry(scanned!, buf, at, end));
    at = end + 1;
  }
  return buf;
}

const managedOf = (o: Obj | undefined): Managed[] => (o?.metadata?.managedFields ?? []) as Managed[];

describe('informer: shared managedFields values', () => {
  it('objects decoded from text share equal fieldsV1 values, frozen even when the cache does not freeze, and equal JSON.parse of their text', () => {
    const store = new Store<Obj>({ freeze: false });
    const objects = [
      object('a', [{ manager: 'm', time: 't1', fieldsV1: fieldsA }, { manager: 'n', fieldsV1: fieldsB }]),
      object('b', [{ manager: 'm', time: 't2', fieldsV1: fieldsA }, { manager: 'n', fieldsV1: fieldsB }]),
      object('c', [{ manager: 'm', time: 't3', fieldsV1: fieldsB }]),
    ];
    load(store, objects);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => store.get('c', 'default', n) as Obj);
    objects.forEach((o, i) => expect([a, b, c][i]).to.deep.equal(o));
    expect(managedOf(a)[0]!.fieldsV1).to.equal(managedOf(b)[0]!.fieldsV1);
    expect(managedOf(a)[1]!.fieldsV1).to.equal(managedOf(b)[1]!.fieldsV1);
    expect(managedOf(c)[0]!.fieldsV1).to.equal(managedOf(a)[1]!.fieldsV1);
    // The rest of each object is its own, and not frozen here.
    expect(managedOf(a)[0]).to.not.equal(managedOf(b)[0]);
    expect(Object.isFrozen(a!.metadata)).to.equal(false);
    const shared = managedOf(a)[0]!.fieldsV1 as { 'f:data': Record<string, unknown> };
    expect(Object.isFrozen(shared) && Object.isFrozen(shared['f:data']) && Object.isFrozen(shared['f:data']['.'])).to.equal(true);
    expect(() => {
      shared['f:data']['f:other'] = {};
    }).to.throw(TypeError);
    expect(managedOf(b)[0]!.fieldsV1).to.deep.equal(fieldsA);
  });

  it('objects decoded whole (every object read anyway) share equal fieldsV1 values of the same manager entry, and stay equal to what was decoded', () => {
    const store = new Store<Obj>({ freeze: false });
    const objects = [
      object('a', [{ manager: 'm', operation: 'Update', time: 't1', fieldsV1: fieldsA }, { manager: 'n', fieldsV1: fieldsB }]),
      object('b', [{ manager: 'm', operation: 'Update', time: 't2', fieldsV1: fieldsA }, { manager: 'n', fieldsV1: fieldsB }]),
      // Same manager entry, different fields: its own value (and the one shared from now on).
      object('c', [{ manager: 'm', operation: 'Update', fieldsV1: fieldsB }]),
      // Same fields, another operation of the same manager: not mixed up with `m`/Update.
      object('d', [{ manager: 'm', operation: 'Apply', fieldsV1: fieldsB }, 'odd', { manager: 'm', operation: 'Update', fieldsV1: { ...fieldsB, 'f:x': {} } }]),
    ];
    for (const o of objects) store.upsertEntry('c', store.objectEntry(JSON.parse(JSON.stringify(o)) as Obj));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => store.get('c', 'default', n) as Obj);
    objects.forEach((o, i) => expect([a, b, c, d][i]).to.deep.equal(o));
    expect(managedOf(b)[0]!.fieldsV1).to.equal(managedOf(a)[0]!.fieldsV1);
    expect(managedOf(b)[1]!.fieldsV1).to.equal(managedOf(a)[1]!.fieldsV1);
    expect(managedOf(c)[0]!.fieldsV1).to.not.equal(managedOf(a)[0]!.fieldsV1);
    expect(managedOf(d)[0]!.fieldsV1).to.not.equal(managedOf(c)[0]!.fieldsV1);
    const shared = managedOf(a)[0]!.fieldsV1 as { 'f:data': Record<string, unknown> };
    expect(Object.isFrozen(shared) && Object.isFrozen(shared['f:data'])).to.equal(true);
    expect(Object.isFrozen(a!.metadata)).to.equal(false);
    // A transform that drops managedFields leaves nothing to share, and nothing breaks.
    const bare = new Store<Obj>({ freeze: true, transform: (o) => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } }) });
    bare.upsertEntry('c', bare.objectEntry(JSON.parse(JSON.stringify(objects[0])) as Obj));
    expect(bare.get('c', 'default', 'a')!.metadata!.managedFields).to.equal(undefined);
  });

  it('managedFields entries without fieldsV1, or with a fieldsV1 that is not an object, decode as JSON.parse has them', () => {
    const store = new Store<Obj>({ freeze: true });
    const objects = [
      object('a', [{ manager: 'm' }, { manager: 'n', fieldsV1: null }, { manager: 'o', fieldsV1: [1, { x: 2 }] }, 'odd', { fieldsV1: fieldsA }]),
      object('b', [], { spec: { fieldsV1: fieldsA, managedFields: [{ fieldsV1: fieldsB }] } }),
      object('c', [{ fieldsV1: {} }, { fieldsV1: { 'f:x': { '.': {} } } }]),
    ];
    load(store, objects);
    for (const o of objects) expect(store.get('c', 'default', (o['metadata'] as { name: string }).name)).to.deep.equal(o);
  });

  it('a managedFields entry with fieldsV1 twice decodes as JSON.parse has it (the last one)', () => {
    const store = new Store<Obj>({ freeze: false });
    const text = '{"metadata":{"name":"d","managedFields":[{"fieldsV1":{"f:a":{}},"fieldsV1":{"f:b":{}}}]}}';
    const b = Buffer.from(text);
    store.upsertEntry('c', store.bytesEntry(scanObject(b, 0, b.length)!, b, 0, b.length));
    expect(store.get('c', '', 'd')).to.deep.equal(JSON.parse(text));
  });

  it('a shared value survives a compaction that moves the text, and a decode after it is still exact', () => {
    const store = new Store<Obj>({ freeze: false });
    const objects = Array.from({ length: 50 }, (_, i) => object(`o${i}`, [{ manager: 'm', time: `t${i}`, fieldsV1: fieldsA }], { pad: 'x'.repeat(300) }));
    load(store, objects);
    const decoded = store.get('c', 'default', 'o1') as Obj;
    // Replace all but o0 so that the first buffer is mostly dead, then compact: o0's text moves.
    load(store, objects.slice(1).map((o) => ({ ...o, metadata: { ...(o['metadata'] as object), resourceVersion: '2' } })));
    expect(store.getEntry('c', 'default', 'o0')!.decoded).to.equal(false);
    expect(store.compact()).to.be.greaterThan(0);
    const moved = store.get('c', 'default', 'o0') as Obj;
    expect(moved).to.deep.equal(objects[0]);
    const later = store.get('c', 'default', 'o7') as Obj;
    expect(later).to.deep.equal({ ...objects[7], metadata: { ...(objects[7]!['metadata'] as object), resourceVersion: '2' } });
    expect(managedOf(moved)[0]!.fieldsV1).to.equal(managedOf(decoded)[0]!.fieldsV1);
    expect(managedOf(later)[0]!.fieldsV1).to.equal(managedOf(decoded)[0]!.fieldsV1);
  });

  it('the table of shared values is bounded: past its size it starts over, and values stay right', () => {
    const t = new SharedFields(3);
    const texts = ['{"a":{}}', '{"b":{}}', '{"c":{}}', '{"d":{}}'];
    const first = t.get(texts[0]!);
    expect(t.get(texts[0]!)).to.equal(first);
    for (const s of texts) expect(t.get(s)).to.deep.equal(JSON.parse(s));
    expect(t.size).to.be.at.most(3);
    expect(() => t.get('{"a":')).to.throw(SyntaxError);
  });

  it('deepFreeze freezes objects in arrays and nested objects, and leaves primitives alone', () => {
    const v = deepFreeze({ a: [{ b: { c: 1 } }, [{ d: 2 }]], e: null, f: 'x' });
    expect([v, v.a, v.a[0], (v.a[0] as { b: object }).b, v.a[1], (v.a[1] as object[])[0]].every((o) => Object.isFrozen(o))).to.equal(true);
    expect(deepFreeze(3)).to.equal(3);
    expect(deepFreeze(null)).to.equal(null);
  });
});
