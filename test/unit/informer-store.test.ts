/** The informer cache: keys, indexes, read-only objects, relist deltas, scoped readers. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { Relist } from '../../src/informer/delta.js';
import { ScopedReader } from '../../src/informer/reader.js';
import { SmallMap, Store } from '../../src/informer/store.js';
import type { Delta, KubeObject } from '../../src/informer/types.js';

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

  it('emptying a namespace or a cluster and writing to it again finds the new object (no stale bucket)', () => {
    const s = new Store();
    s.upsert('c', cm('a', '1'));
    s.delete('c', 'default', 'a');
    expect(s.clusters()).to.deep.equal([]);
    s.upsert('c', cm('b', '2'));
    expect(s.get('c', 'default', 'b')?.metadata?.name).to.equal('b');
    expect(s.clusterSize('c')).to.equal(1);
    s.upsert('c', cm('x', '3', { ns: 'other' }));
    s.delete('c', 'other', 'x');
    s.upsert('c', cm('y', '4', { ns: 'other' }));
    expect(s.listCluster('c', 'other').map((o) => o.metadata?.name)).to.deep.equal(['y']);
    s.clear();
    s.upsert('c', cm('z', '5'));
    expect(s.list().map((o) => o.metadata?.name)).to.deep.equal(['z']);
    expect(s.size).to.equal(1);
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

describe('informer: memory of cached texts', () => {
  /** One buffer holding `names.length` objects of about `pad` bytes, and their ranges. */
  function block(names: string[], rv: string, pad: number): { buf: Buffer; ranges: [string, number, number][] } {
    const texts = names.map((n) => JSON.stringify({ metadata: { name: n, namespace: 'default', resourceVersion: rv }, data: { v: `${n}@${rv}`, pad: 'x'.repeat(pad) } }));
    const buf = Buffer.from(texts.join('\n'));
    const ranges: [string, number, number][] = [];
    let at = 0;
    texts.forEach((t, i) => {
      const len = Buffer.byteLength(t);
      ranges.push([names[i]!, at, at + len]);
      at += len + 1;
    });
    return { buf, ranges };
  }
  const key = (name: string, rv: string) => ({ namespace: 'default', name, resourceVersion: rv });

  it('counts live and held bytes, and a compaction moves survivors out of mostly-dead buffers, readable after', () => {
    const s = new Store<ConfigMap>({ freeze: false });
    const names = (b: number) => Array.from({ length: 100 }, (_, i) => `o-${b}-${i}`);
    const blocks = [0, 1, 2, 3].map((b) => block(names(b), '1', 200));
    for (const { buf, ranges } of blocks) for (const [n, a, e] of ranges) s.upsertEntry('c', s.bytesEntry(key(n, '1'), buf, a, e));
    const held0 = blocks.reduce((n, b) => n + b.buf.buffer.byteLength, 0);
    expect(s.textMemory().held).to.be.at.least(held0 - 4 * 8192).and.at.most(held0 + 4 * 8192);
    // Replace 90 of each block's 100 objects with texts in one new buffer.
    const replaced = [0, 1, 2, 3].flatMap((b) => names(b).slice(10));
    const fresh = block(replaced, '2', 200);
    let oldSeen: Delta<ConfigMap> | undefined;
    for (const [n, a, e] of fresh.ranges) oldSeen = s.upsertEntry('c', s.bytesEntry(key(n, '2'), fresh.buf, a, e)) ?? oldSeen;
    const before = s.textMemory();
    const moved = s.compact();
    const after = s.textMemory();
    // The 10 survivors of each original buffer moved; the fresh, full buffer stayed.
    expect(moved).to.equal(blocks.reduce((n, b) => n + b.ranges.slice(0, 10).reduce((m, [, a, e]) => m + e - a, 0), 0));
    expect(after.live).to.equal(before.live);
    expect(after.held).to.be.lessThan(before.held);
    expect(after.held).to.be.at.most(fresh.buf.buffer.byteLength + moved);
    // Every object still decodes to itself; so does an old version a delta still holds.
    for (const b of [0, 1, 2, 3]) for (const [i, n] of names(b).entries()) expect(s.get('c', 'default', n)?.data?.['v']).to.equal(`${n}@${i < 10 ? '1' : '2'}`);
    expect(oldSeen?.type === 'MODIFIED' && oldSeen.old.data?.['v']).to.equal('o-3-99@1');
  });

  it('compacts by itself once the buffers in memory hold over twice the live text, and stays bounded', () => {
    const s = new Store<ConfigMap>({ freeze: false });
    const N = 3000;
    const names = Array.from({ length: N }, (_, i) => `obj-${i}`);
    // 3,000 objects of ~4 KiB, 100 per buffer: ~12 MiB of text.
    for (let b = 0; b < N / 100; b++) {
      const { buf, ranges } = block(names.slice(b * 100, b * 100 + 100), '1', 4000);
      for (const [n, a, e] of ranges) s.upsertEntry('c', s.bytesEntry(key(n, '1'), buf, a, e));
    }
    let peak = 0;
    // Rewrite a scattered 70% of the objects, twice, each update in a buffer of its own.
    for (const round of [2, 3]) {
      for (let i = 0; i < N; i++) {
        if (i % 10 >= 7) continue;
        const { buf, ranges } = block([names[i]!], String(round), 4000);
        s.upsertEntry('c', s.bytesEntry(key(names[i]!, String(round)), buf, ranges[0]![1], ranges[0]![2]));
        const m = s.textMemory();
        peak = Math.max(peak, m.held / m.live);
      }
    }
    const m = s.textMemory();
    expect(m.held).to.be.at.most(2 * m.live + 8 * 1024 * 1024);
    expect(peak).to.be.lessThan(2.2);
    for (let i = 0; i < N; i += 97) expect(s.get('c', 'default', names[i]!)?.data?.['v']).to.equal(`${names[i]}@${i % 10 >= 7 ? '1' : '3'}`);
  });

  it('decoding and removal release the bytes; clear releases everything', () => {
    const s = new Store<ConfigMap>({ freeze: false });
    const { buf, ranges } = block(['a', 'b', 'c'], '1', 10);
    for (const [n, a, e] of ranges) s.upsertEntry('c', s.bytesEntry(key(n, '1'), buf, a, e));
    const live0 = s.textMemory().live;
    s.get('c', 'default', 'a');
    expect(s.textMemory().live).to.be.lessThan(live0);
    s.delete('c', 'default', 'b');
    s.clear();
    expect(s.textMemory()).to.deep.equal({ live: 0, held: 0 });
  });
});

describe('informer: SmallMap', () => {
  it('behaves as a Map under random sets and deletes (differential, 20,000 operations)', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 200; round++) {
      const small = new SmallMap<number>();
      const model = new Map<string, number>();
      const keys = ['', 'a', 'b', 'c'].slice(0, 1 + rand(4));
      for (let i = 0; i < 100; i++) {
        const k = keys[rand(keys.length)]!;
        if (rand(3) === 0) expect(small.delete(k)).to.equal(model.delete(k));
        else {
          small.set(k, i);
          model.set(k, i);
        }
        expect(small.size).to.equal(model.size);
        for (const key of keys) expect(small.get(key)).to.equal(model.get(key));
        expect([...small.values()]).to.deep.equal([...model.values()]);
      }
    }
  });

  it('a store of 10,000 single-object clusters costs no Map per cluster beyond its own entry (heap measured in a child process)', () => {
    const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
    const script = `
      const { Store } = await import(${JSON.stringify(path.join(repo, 'dist/src/informer/store.js'))});
      const s = new Store({ freeze: false });
      const objs = Array.from({ length: 10000 }, (_, i) => ({ metadata: { name: 'b', resourceVersion: '1' } }));
      const names = objs.map((_, i) => 'cluster-' + i);
      gc(); gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < objs.length; i++) s.upsert(names[i], objs[i]);
      gc(); gc();
      console.log(JSON.stringify({ perCluster: (process.memoryUsage().heapUsed - before) / objs.length, size: s.size }));
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).to.equal('');
    const { perCluster, size } = JSON.parse(r.stdout) as { perCluster: number; size: number };
    expect(size).to.equal(10000);
    // The entry (~120 B), the cluster's slot in the store's map and its namespace and name tables
    // (~110 B): about 0.28 KB; 0.53 KB with a Map for each table.
    expect(perCluster, 'bytes of heap per single-object cluster').to.be.below(400);
  });
});
