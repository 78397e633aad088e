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
