/** The revisioned store: resourceVersions, history window, snapshots and watch fan-out. */
import { expect } from 'chai';
import { Compacted, Store, type WatchDelivery } from '../../src/server/storage/index.js';
import type { KubeObject } from '../../src/server/types.js';

const obj = (name: string, cluster: string, labels: Record<string, string> = {}, ns = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels, annotations: { 'kcp.io/cluster': cluster } },
});

describe('Store', () => {
  it('shares one increasing resourceVersion across clusters and resources', () => {
    const s = new Store();
    const a = s.put('core/configmaps', 'c1', obj('a', 'c1'));
    const b = s.put('core/secrets', 'c2', obj('b', 'c2'));
    expect(Number(b.metadata.resourceVersion)).to.equal(Number(a.metadata.resourceVersion) + 1);
    expect(s.resourceVersion).to.equal(2);
  });

  it('keeps objects of two clusters with the same namespace and name apart, in (cluster, namespace, name) order', () => {
    const s = new Store();
    s.put('core/configmaps', 'zz', obj('x', 'zz'));
    s.put('core/configmaps', 'aa', obj('x', 'aa'));
    s.put('core/configmaps', 'aa', obj('a', 'aa', {}, 'other'));
    expect(s.list('core/configmaps', { cluster: '*', namespace: '' }).map((o) => `${o.metadata.annotations!['kcp.io/cluster']}/${o.metadata.namespace}/${o.metadata.name}`)).to.deep.equal([
      'aa/default/x',
      'aa/other/a',
      'zz/default/x',
    ]);
    expect(s.list('core/configmaps', { cluster: 'aa', namespace: 'other' })).to.have.length(1);
  });

  it('reconstructs the state at an older resourceVersion, and refuses one beyond the window', () => {
    const s = new Store(3);
    s.put('r', 'c', obj('a', 'c'));
    const rv1 = s.resourceVersion;
    s.put('r', 'c', { ...obj('a', 'c'), data: { v: '2' } });
    s.put('r', 'c', obj('b', 'c'));
    s.delete('r', 'c', 'default', 'a');
    const at = s.list('r', { cluster: 'c', namespace: '' }, rv1 + 1);
    expect(at.map((o) => o.metadata.name)).to.deep.equal(['a']);
    expect(at[0]!['data']).to.deep.equal({ v: '2' });
    expect(() => s.list('r', { cluster: 'c', namespace: '' }, rv1 - 1)).to.throw(Compacted);
  });

  it('replays history after a resourceVersion and delivers live events with selector transitions', () => {
    const s = new Store();
    s.put('r', 'c', obj('a', 'c', { t: 'x' }));
    const from = s.resourceVersion;
    s.put('r', 'c', obj('a', 'c', { t: 'y' }));
    const got: WatchDelivery[] = [];
    const stop = s.watch('r', { scope: { cluster: 'c', namespace: '' }, matches: (o) => o.metadata.labels?.['t'] === 'y', deliver: (d) => got.push(d) }, from);
    expect(got.map((d) => d.type)).to.deep.equal(['ADDED']);
    s.put('r', 'c', obj('a', 'c', { t: 'z' }));
    expect(got.map((d) => d.type)).to.deep.equal(['ADDED', 'DELETED']);
    expect(got[1]!.object.metadata.labels).to.deep.equal({ t: 'y' });
    expect(got[1]!.object.metadata.resourceVersion).to.equal(String(s.resourceVersion));
    s.put('r', 'other', obj('a', 'other', { t: 'y' }));
    expect(got).to.have.length(2);
    stop();
    expect(s.watcherCount).to.equal(0);
  });

  it('compacts on demand', () => {
    const s = new Store();
    s.put('r', 'c', obj('a', 'c'));
    s.compact();
    expect(() => s.watch('r', { scope: { cluster: '*', namespace: '' }, matches: () => true, deliver: () => undefined }, 0)).to.throw(Compacted);
    expect(s.historySize).to.equal(0);
  });
});

describe('Store.page', () => {
  const s = new Store();
  for (const c of ['c1', 'c2']) {
    for (const ns of ['a', 'b']) {
      for (let i = 0; i < 5; i++) s.put('r', c, obj(`n${i}`, c, { even: String(i % 2 === 0) }, ns));
    }
  }
  const all = () => true;
  const names = (items: KubeObject[]) => items.map((o) => `${o.metadata.annotations!['kcp.io/cluster']}/${o.metadata.namespace}/${o.metadata.name}`);

  it('pages a wildcard scope in list order with the same result as a full list', () => {
    const seen: string[] = [];
    let start = '';
    let pages = 0;
    for (;;) {
      const p = s.page('r', { cluster: '*', namespace: '' }, undefined, start, 3, all);
      seen.push(...names(p.items));
      pages++;
      if (!p.more) break;
      expect(p.remaining).to.equal(20 - seen.length);
      start = p.lastKey;
    }
    expect(pages).to.equal(7);
    expect(seen).to.deep.equal(names(s.list('r', { cluster: '*', namespace: '' })));
  });

  it('pages a wildcard scope over many clusters with an exact remaining count while objects come and go, visiting only the clusters of each page', () => {
    const t = new Store();
    const n = 2_000;
    for (let i = 0; i < n; i++) t.put('r', `c${String(i).padStart(5, '0')}`, obj('x', `c${String(i).padStart(5, '0')}`));
    const buckets = (t as unknown as { buckets: Map<string, Map<string, unknown>> }).buckets.get('r')!;
    const get = buckets.get.bind(buckets);
    let gets = 0;
    buckets.get = (k: string) => {
      gets++;
      return get(k);
    };
    const scope = { cluster: '*', namespace: '' };
    let start = '';
    let pages = 0;
    let maxGets = 0;
    for (;;) {
      gets = 0;
      const p = t.page('r', scope, undefined, start, 100, all);
      // Counted on pages after one that changed nothing (a change has the next page count afresh).
      if (pages % 2 === 0 && pages > 0) maxGets = Math.max(maxGets, gets);
      pages++;
      const after = t.list('r', scope).filter((o) => `${o.metadata.annotations!['kcp.io/cluster']}\u0000default\u0000${o.metadata.name}` > p.lastKey).length;
      expect(p.remaining).to.equal(p.more ? after : 0);
      if (!p.more) break;
      start = p.lastKey;
      if (pages % 2 === 0) continue;
      // Between pages: an object more in a later cluster, a cluster gone, a new cluster at the end.
      t.put('r', 'c01999', obj(`y${pages}`, 'c01999'));
      t.delete('r', `c${String(pages * 100 + 150).padStart(5, '0')}`, 'default', 'x');
      t.put('r', `c9${pages}`, obj('x', `c9${pages}`));
    }
    expect(pages).to.be.within(20, 40);
    // The page's own clusters and one more, not every later cluster (2,000 before the suffix counts).
    expect(maxGets).to.be.at.most(110);
  });

  it('counts what remains of a namespace across clusters exactly', () => {
    const p = s.page('r', { cluster: '*', namespace: 'a' }, undefined, '', 3, all);
    expect(names(p.items)).to.deep.equal(['c1/a/n0', 'c1/a/n1', 'c1/a/n2']);
    expect(p.remaining).to.equal(7);
  });

  it('pages one namespace of one cluster with a filter', () => {
    const even = (o: KubeObject) => o.metadata.labels?.['even'] === 'true';
    const p1 = s.page('r', { cluster: 'c2', namespace: 'b' }, undefined, '', 2, even);
    expect(names(p1.items)).to.deep.equal(['c2/b/n0', 'c2/b/n2']);
    expect(p1.more).to.equal(true);
    const p2 = s.page('r', { cluster: 'c2', namespace: 'b' }, undefined, p1.lastKey, 2, even);
    expect(names(p2.items)).to.deep.equal(['c2/b/n4']);
    expect(p2.more).to.equal(false);
  });

  it('pages an older resourceVersion as it was while only other resources and clusters change, and a wildcard page sees clusters come and go', () => {
    const t = new Store();
    const key = (o: KubeObject) => `${o.metadata.annotations!['kcp.io/cluster']}/${o.metadata.name}`;
    for (const c of ['c2', 'c1']) for (const n of ['a', 'b', 'c']) t.put('r', c, obj(n, c));
    const rv = t.resourceVersion;
    const first = t.page('r', { cluster: '*', namespace: '' }, rv, '', 2, () => true);
    expect(first.items.map(key)).to.deep.equal(['c1/a', 'c1/b']);
    // Writes elsewhere (another resource: Lease renewals, say) leave the snapshot as it was.
    for (let i = 0; i < 5; i++) t.put('leases', 'c1', obj(`l${i}`, 'c1'));
    const second = t.page('r', { cluster: '*', namespace: '' }, rv, first.lastKey, 2, () => true);
    expect(second.items.map(key)).to.deep.equal(['c1/c', 'c2/a']);
    expect(second.remaining).to.equal(2);
    // A new cluster in scope: not in the snapshot, in the current list, in order.
    t.put('r', 'c0', obj('z', 'c0'));
    const third = t.page('r', { cluster: '*', namespace: '' }, rv, second.lastKey, 10, () => true);
    expect(third.items.map(key)).to.deep.equal(['c2/b', 'c2/c']);
    expect(t.page('r', { cluster: '*', namespace: '' }, undefined, '', 1, () => true).items.map(key)).to.deep.equal(['c0/z']);
    // The last object of a cluster goes: so does the cluster, from the current list.
    t.delete('r', 'c0', 'default', 'z');
    expect(t.page('r', { cluster: '*', namespace: '' }, undefined, '', 1, () => true).items.map(key)).to.deep.equal(['c1/a']);
    // Paging an older state one object at a time while its scope keeps changing gives exactly that state.
    const all = { cluster: '*', namespace: '' };
    const rv2 = t.resourceVersion;
    const want = t.list('r', all, rv2).map(key);
    const got: string[] = [];
    for (let start = '', i = 0; i < 50; i++) {
      const p = t.page('r', all, rv2, start, 1, () => true);
      got.push(...p.items.map(key));
      t.put('r', 'c1', obj(`new-${i}`, 'c1'));
      if (p.items.length > 0) t.delete('r', p.items[0]!.metadata.annotations!['kcp.io/cluster']!, 'default', p.items[0]!.metadata.name!);
      expect(p.remaining).to.equal(want.length - got.length);
      if (!p.more) break;
      start = p.lastKey;
    }
    expect(got).to.deep.equal(want);
    // Older than the window: refused, even where nothing in scope changed.
    t.put('leases', 'c1', obj('after', 'c1'));
    t.compact();
    expect(() => t.page('r', { cluster: '*', namespace: '' }, rv, first.lastKey, 2, () => true)).to.throw(Compacted);
  });

  it('pages an older resourceVersion from history', () => {
    const rv = s.resourceVersion;
    s.delete('r', 'c1', 'a', 'n0');
    const p = s.page('r', { cluster: 'c1', namespace: 'a' }, rv, '', 10, all);
    expect(names(p.items)[0]).to.equal('c1/a/n0');
    expect(p.items).to.have.length(5);
  });
});
