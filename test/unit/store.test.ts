/** The revisioned store: resourceVersions, history window, snapshots and watch fan-out. */
import { expect } from 'chai';
import { Compacted, Store, type WatchDelivery } from '../../src/server/store.js';
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
