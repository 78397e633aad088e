/** The informer cache: keys, indexes, read-only objects, relist deltas, scoped readers. */
import { expect } from 'chai';
import { Relist } from '../../src/informer/delta.js';
import { ScopedReader } from '../../src/informer/reader.js';
import { Store } from '../../src/informer/store.js';
import type { KubeObject } from '../../src/informer/types.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const cm = (name: string, rv: string, opts: { ns?: string; labels?: Record<string, string>; data?: Record<string, string> } = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: opts.ns ?? 'default', resourceVersion: rv, labels: opts.labels ?? {} },
  data: opts.data ?? {},
});

describe('informer: Store', () => {
  it('keys by (cluster, namespace, name): the same namespace/name in two clusters stays two entries', () => {
    const s = new Store();
    expect(s.upsert('c1', cm('x', '1'))?.type).to.equal('ADDED');
    expect(s.upsert('c2', cm('x', '2'))?.type).to.equal('ADDED');
    expect(s.upsert('c1', cm('x', '1', { ns: 'other' }))?.type).to.equal('ADDED');
    expect(s.size).to.equal(3);
    expect(s.get('c1', 'default', 'x')?.metadata?.resourceVersion).to.equal('1');
    expect(s.get('c2', 'default', 'x')?.metadata?.resourceVersion).to.equal('2');
    expect(s.clusters().sort()).to.deep.equal(['c1', 'c2']);
    expect(s.clusterSize('c1')).to.equal(2);
    expect(s.listCluster('c1').map((o) => o.metadata?.namespace).sort()).to.deep.equal(['default', 'other']);
    expect(s.listCluster('c1', 'other')).to.have.length(1);
    expect(s.listCluster('nope')).to.deep.equal([]);
  });

  it('reports MODIFIED with the old object, skips a replay of the same resourceVersion, DELETED with the final state', () => {
    const s = new Store();
    s.upsert('c', cm('a', '1'));
    expect(s.upsert('c', cm('a', '1'))).to.equal(undefined);
    const m = s.upsert('c', cm('a', '2'));
    expect(m?.type).to.equal('MODIFIED');
    expect(m?.type === 'MODIFIED' && m.old.metadata?.resourceVersion).to.equal('1');
    const d = s.delete('c', 'default', 'a', cm('a', '3'));
    expect(d?.type).to.equal('DELETED');
    expect(d?.object.metadata?.resourceVersion).to.equal('3');
    expect(s.delete('c', 'default', 'a')).to.equal(undefined);
    expect(s.size).to.equal(0);
    expect(s.clusters()).to.deep.equal([]);
  });

  it('deep-freezes stored objects (so a reader that mutates one fails), unless told not to', () => {
    const s = new Store({ freeze: true });
    s.upsert('c', cm('a', '1', { data: { k: 'v' } }));
    const o = s.get('c', 'default', 'a') as unknown as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    expect(() => (o.data['k'] = 'changed')).to.throw(TypeError);
    expect(() => (o.metadata.labels['x'] = 'y')).to.throw(TypeError);
    const loose = new Store({ freeze: false });
    loose.upsert('c', cm('a', '1'));
    expect(Object.isFrozen(loose.get('c', 'default', 'a'))).to.equal(false);
  });

  it('maintains custom indexes, scoped by cluster, through add, update and delete', () => {
    const s = new Store<ConfigMap>({ indexers: { byApp: (o) => (o.metadata?.labels?.['app'] ? [o.metadata.labels['app']] : []) } });
    s.upsert('c1', cm('a', '1', { labels: { app: 'web' } }));
    s.upsert('c1', cm('b', '1', { labels: { app: 'web' } }));
    s.upsert('c2', cm('a', '1', { labels: { app: 'web' } }));
    expect(s.byIndex('byApp', 'web', 'c1')).to.have.length(2);
    expect(s.byIndex('byApp', 'web')).to.have.length(3);
    s.upsert('c1', cm('a', '2', { labels: { app: 'db' } }));
    expect(s.byIndex('byApp', 'web', 'c1').map((o) => o.metadata?.name)).to.deep.equal(['b']);
    expect(s.byIndex('byApp', 'db', 'c1').map((o) => o.metadata?.name)).to.deep.equal(['a']);
    s.delete('c1', 'default', 'b');
    expect(s.byIndex('byApp', 'web', 'c1')).to.deep.equal([]);
    expect(() => s.byIndex('nope', 'x')).to.throw(/no index "nope"/);
  });

  it('indexes existing objects when an index is added later; a field index works like any other', () => {
    const s = new Store<ConfigMap>();
    s.upsert('c1', cm('a', '1', { data: { owner: 'alice' } }));
    s.upsert('c1', cm('b', '1', { data: { owner: 'bob' } }));
    s.addIndexers({ 'data.owner': (o) => [o.data?.['owner'] ?? ''] });
    expect(s.byIndex('data.owner', 'bob', 'c1').map((o) => o.metadata?.name)).to.deep.equal(['b']);
    expect(() => s.addIndexers({ 'data.owner': () => [] })).to.throw(/already exists/);
  });

  it('a throwing index function indexes the object nowhere and breaks nothing', () => {
    const s = new Store({ indexers: { bad: () => { throw new Error('boom'); } } });
    s.upsert('c', cm('a', '1'));
    s.upsert('c', cm('a', '2'));
    expect(s.delete('c', 'default', 'a')?.type).to.equal('DELETED');
  });
});

describe('informer: relist deltas', () => {
  it('emits ADDED for new, MODIFIED for changed, nothing for unchanged, DELETED for vanished objects', () => {
    const s = new Store();
    for (const [c, n] of [['c1', 'keep'], ['c1', 'change'], ['c1', 'gone'], ['c2', 'gone']] as const) s.upsert(c, cm(n, '1'));
    const r = new Relist(s);
    const out = [
      r.apply('c1', cm('keep', '1')),
      r.apply('c1', cm('change', '5')),
      r.apply('c2', cm('new', '6')),
      ...r.finish(),
    ].filter(Boolean).map((d) => `${d!.type} ${d!.cluster}/${d!.object.metadata?.name}`);
    expect(out).to.deep.equal(['MODIFIED c1/change', 'ADDED c2/new', 'DELETED c1/gone', 'DELETED c2/gone']);
    expect(s.size).to.equal(3);
  });

  it('an initial list into an empty store is all ADDED and deletes nothing', () => {
    const s = new Store();
    const r = new Relist(s);
    expect(r.apply('c', cm('a', '1'))?.type).to.equal('ADDED');
    expect(r.finish()).to.deep.equal([]);
    expect(s.size).to.equal(1);
  });

  it('an empty relist deletes everything', () => {
    const s = new Store();
    s.upsert('c', cm('a', '1'));
    s.upsert('d', cm('a', '1'));
    expect(new Relist(s).finish().map((d) => d.type)).to.deep.equal(['DELETED', 'DELETED']);
    expect(s.size).to.equal(0);
  });
});

describe('informer: ScopedReader', () => {
  const s = new Store({ indexers: { tier: (o) => [o.metadata?.labels?.['tier'] ?? ''] } });
  s.upsert('c1', cm('a', '1', { labels: { app: 'web', tier: 'front' } }));
  s.upsert('c1', cm('b', '1', { ns: 'kube-system', labels: { app: 'dns', tier: 'infra' } }));
  s.upsert('c1', cm('c', '1', { labels: { app: 'db', tier: 'back' } }));
  s.upsert('c2', cm('a', '1', { labels: { app: 'web', tier: 'front' } }));
  const r = new ScopedReader(s, 'c1');

  it('gets and lists only its cluster', () => {
    expect(r.size).to.equal(3);
    expect(r.get('default', 'a')?.metadata?.labels?.['app']).to.equal('web');
    expect(r.get('default', 'zzz')).to.equal(undefined);
    expect(r.list().map((o) => o.metadata?.name).sort()).to.deep.equal(['a', 'b', 'c']);
    expect(new ScopedReader(s, 'c2').list().map((o) => o.metadata?.name)).to.deep.equal(['a']);
  });

  it('filters by namespace, label selector and index', () => {
    expect(r.list({ namespace: 'kube-system' }).map((o) => o.metadata?.name)).to.deep.equal(['b']);
    expect(r.list({ labelSelector: 'app in (web,db)' }).map((o) => o.metadata?.name).sort()).to.deep.equal(['a', 'c']);
    expect(r.list({ labelSelector: { app: 'dns' } }).map((o) => o.metadata?.name)).to.deep.equal(['b']);
    expect(r.list({ index: { name: 'tier', value: 'front' } }).map((o) => o.metadata?.name)).to.deep.equal(['a']);
    expect(r.list({ index: { name: 'tier', value: 'front' }, namespace: 'kube-system' })).to.deep.equal([]);
    expect(() => r.list({ labelSelector: 'a in (' })).to.throw(/invalid label selector/);
  });
});

describe('informer: entries held as JSON text', () => {
  const text = (name: string, rv: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ metadata: { name, namespace: 'default', resourceVersion: rv }, data: { k: name }, ...extra });
  const key = (name: string, rv: string) => ({ namespace: 'default', name, resourceVersion: rv });

  it('are keyed, counted and diffed without decoding; the object is decoded once, on first read', () => {
    const s = new Store<ConfigMap>({ freeze: true });
    const added = s.upsertEntry('c', s.textEntry(key('a', '1'), text('a', '1'), { apiVersion: 'v1', kind: 'ConfigMap' }));
    expect(added).to.deep.include({ type: 'ADDED', cluster: 'c', namespace: 'default', name: 'a', resourceVersion: '1' });
    expect(s.upsertEntry('c', s.textEntry(key('a', '1'), text('a', '1')))).to.equal(undefined);
    const mod = s.upsertEntry('c', s.textEntry(key('a', '2'), text('a', '2', { apiVersion: 'v1', kind: 'ConfigMap' })));
    expect(mod).to.deep.include({ type: 'MODIFIED', name: 'a', resourceVersion: '2' });
    const entry = s.getEntry('c', 'default', 'a')!;
    expect(entry.decoded).to.equal(false);
    expect(s.size).to.equal(1);
    expect([...s.entryPairs()].map(([c, e]) => `${c}/${e.namespace}/${e.name}@${e.resourceVersion}`)).to.deep.equal(['c/default/a@2']);
    expect(entry.decoded).to.equal(false);

    const obj = s.get('c', 'default', 'a')!;
    expect(entry.decoded).to.equal(true);
    expect(obj).to.deep.equal({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default', resourceVersion: '2' }, data: { k: 'a' } });
    expect(s.get('c', 'default', 'a')).to.equal(obj); // the same object every time
    expect(mod!.object).to.equal(obj);
    expect(Object.isFrozen(obj.data)).to.equal(true);
    // The old object of the MODIFIED decodes on its own, with the list's apiVersion/kind filled in.
    expect(mod!.type === 'MODIFIED' && mod!.old).to.deep.include({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(JSON.parse(JSON.stringify(mod))).to.deep.include({ type: 'MODIFIED', cluster: 'c' });
  });

  it('apply transform when decoded, and index (which needs the object) at once', () => {
    let transformed = 0;
    const s = new Store<ConfigMap>({
      indexers: { byData: (o) => [o.data?.['k'] ?? ''] },
      transform: (o) => {
        transformed++;
        return { ...o, metadata: { ...o.metadata, managedFields: undefined } };
      },
    });
    s.upsertEntry('c', s.textEntry(key('a', '1'), text('a', '1')));
    expect(transformed).to.equal(1);
    expect(s.byIndex('byData', 'a', 'c').map((o) => o.metadata?.name)).to.deep.equal(['a']);
    const plain = new Store<ConfigMap>({ transform: (o) => (transformed++, o) });
    plain.upsertEntry('c', plain.textEntry(key('b', '1'), text('b', '1')));
    expect(transformed).to.equal(1);
    plain.get('c', 'default', 'b');
    expect(transformed).to.equal(2);
  });

  it('a text that does not decode yields its key fields and a report, never a throw', () => {
    const reports: string[] = [];
    const s = new Store<ConfigMap>({ onDecodeError: (err, k) => reports.push(`${k.name}: ${err.name}`) });
    s.upsertEntry('c', s.textEntry(key('a', '7'), '{"metadata":{"name":"a"},"data":{"k":tru}}'));
    expect(s.get('c', 'default', 'a')).to.deep.equal({ metadata: { name: 'a', namespace: 'default', resourceVersion: '7' } });
    expect(reports).to.deep.equal(['a: SyntaxError']);
  });

  it('a relist over text entries reports changes and the DELETED difference without decoding', () => {
    const s = new Store<ConfigMap>();
    for (const n of ['keep', 'change', 'gone']) s.upsertEntry('c', s.textEntry(key(n, '1'), text(n, '1')));
    const r = new Relist(s);
    const deltas = [r.applyEntry('c', s.textEntry(key('keep', '1'), text('keep', '1'))), r.applyEntry('c', s.textEntry(key('change', '2'), text('change', '2'))), ...r.finish()];
    expect(deltas.filter(Boolean).map((d) => `${d!.type} ${d!.name}`)).to.deep.equal(['MODIFIED change', 'DELETED gone']);
    expect([...s.entryPairs()].every(([, e]) => !e.decoded)).to.equal(true);
  });
});
