/**
 * The informer engine against the in-process reference server, through a TCP proxy that can drop,
 * refuse and black-hole connections: initial sync at scale over /clusters/*, resume without loss
 * or duplicates, 410 and relist, bookmarks, restarts, connection sharing and teardown.
 */
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { Transport } from '../../src/client/index.js';
import { InformerFactory, SharedInformer, type Delta, type KubeObject, type LogEntry } from '../../src/informer/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, start } from '../support/server.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** A TCP forwarder in front of the server, so that tests can break connections as networks do. */
class Proxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private refusing = false;
  port = 0;

  constructor(private readonly target: () => number) {
    this.server = net.createServer((client) => {
      if (this.refusing) return void client.destroy();
      const upstream = net.connect(this.target(), '127.0.0.1');
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Connections currently open through the proxy. */
  get open(): number {
    return this.pairs.size;
  }

  /** Resets every connection, as a crashed middlebox would. */
  dropAll(): void {
    for (const p of [...this.pairs]) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
  }

  /** Stops forwarding on the open connections but keeps them open: a silent dead path. */
  blackholeAll(): void {
    for (const p of this.pairs) {
      p.upstream.unpipe(p.client);
      p.client.unpipe(p.upstream);
      p.upstream.pause();
    }
  }

  /** New connections are closed at once while set. */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function transportTo(srv: RunningServer, base: string): Transport {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: base, caData: srv.ca ? Buffer.from(srv.ca).toString('base64') : undefined, skipTLSVerify: false }],
    users: [{ name: 'u', token: srv.token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return Transport.fromKubeConfig(kc);
}

/** Writes through keep-alive connections, with bounded concurrency. */
class Writer {
  readonly t: Transport;
  constructor(srv: RunningServer) {
    this.t = transportTo(srv, srv.url);
  }
  create(cluster: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = { app: 'test' }, ns = 'default'): Promise<ConfigMap> {
    return this.t.requestJSON<ConfigMap>({
      method: 'POST',
      url: `/clusters/${cluster}/api/v1/namespaces/${ns}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data },
    });
  }
  update(cluster: string, name: string, data: Record<string, string>, ns = 'default'): Promise<ConfigMap> {
    return this.t.requestJSON<ConfigMap>({
      method: 'PATCH',
      url: `/clusters/${cluster}/api/v1/namespaces/${ns}/configmaps/${name}`,
      body: { data },
      contentType: 'application/merge-patch+json',
    });
  }
  delete(cluster: string, name: string, ns = 'default'): Promise<unknown> {
    return this.t.requestJSON({ method: 'DELETE', url: `/clusters/${cluster}/api/v1/namespaces/${ns}/configmaps/${name}` });
  }
  async all(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }));
  }
  /** What the server holds (label app=test), as cluster/namespace/name → resourceVersion. */
  async serverState(): Promise<Map<string, string>> {
    const l = await this.t.requestJSON<{ items: ConfigMap[] }>({ url: '/clusters/*/api/v1/configmaps', query: { labelSelector: 'app=test' } });
    return new Map(l.items.map((o) => [`${o.metadata!.annotations!['kcp.io/cluster']}/${o.metadata!.namespace}/${o.metadata!.name}`, o.metadata!.resourceVersion!]));
  }
  close(): void {
    this.t.close();
  }
}

function cacheState(inf: SharedInformer<ConfigMap>): Map<string, string> {
  return new Map([...inf.store.entries()].map(([c, o]) => [`${c}/${o.metadata!.namespace}/${o.metadata!.name}`, o.metadata!.resourceVersion!]));
}

const sameState = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

describe('informer: against the reference server', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let writer: Writer;
  let proxy: Proxy;
  let factory: InformerFactory;
  let transport: Transport;
  const subs: Subscription[] = [];
  const logs: LogEntry[] = [];

  async function setUp(opts: Parameters<typeof start>[0] = {}): Promise<void> {
    srv = await start(opts);
    writer = new Writer(srv);
    proxy = new Proxy(() => srv.port);
    await proxy.listen();
    transport = transportTo(srv, `https://127.0.0.1:${proxy.port}/clusters/*`);
    logs.length = 0;
    factory = new InformerFactory(transport, { log: (e) => logs.push(e), backoff: { initialMs: 50, maxMs: 500 } });
  }

  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    factory?.close();
    transport?.close();
    writer?.close();
    await proxy?.close();
    await srv?.stop();
  });

  function configMaps(extra: { labelSelector?: string } = {}): SharedInformer<ConfigMap> {
    return factory.informer<ConfigMap>({ path: '/api/v1/configmaps', labelSelector: 'app=test', ...extra });
  }

  function record(inf: SharedInformer<ConfigMap>): Delta<ConfigMap>[] {
    const seen: Delta<ConfigMap>[] = [];
    subs.push(inf.events$.subscribe((d) => seen.push(d)));
    return seen;
  }

  it('syncs 10,000 objects across 100 clusters from one /clusters/* watch, each cluster its own view', async () => {
    await setUp();
    const clusters = Array.from({ length: 100 }, (_, i) => srv.createLogicalCluster(`c${String(i).padStart(3, '0')}`));
    await writer.all(10_000, 32, (i) => writer.create(clusters[i % 100]!, `cm-${Math.floor(i / 100)}`, { i: String(i) }));
    const inf = configMaps();
    const seen = record(inf);
    const t0 = Date.now();
    await inf.whenSynced(AbortSignal.timeout(30_000));
    const ms = Date.now() - t0;
    expect(inf.store.size).to.equal(10_000);
    expect(seen.filter((d) => d.type === 'ADDED')).to.have.length(10_000);
    expect(inf.store.clusters()).to.have.length(100);
    for (const c of clusters) expect(inf.reader(c).size).to.equal(100);
    const r = inf.reader('c042');
    expect(r.get('default', 'cm-7')?.data?.['i']).to.equal(String(7 * 100 + 42));
    expect(r.list({ labelSelector: 'app=test' })).to.have.length(100);
    // Every cached text decodes to its own object (the buffers they point into were never reused).
    for (const [cluster, o] of inf.store.entries()) {
      const i = Number(/cm-(\d+)/.exec(o.metadata!.name!)![1]) * 100 + Number(cluster.slice(1));
      expect(o.data?.['i'], `${cluster}/${o.metadata!.name}`).to.equal(String(i));
    }
    await eventually(() => srv.openWatches() === 1, 'one watch open');
    console.log(`      (initial sync of 10,000 objects in ${ms} ms)`);
  });

  it('keeps objects as text for key-only subscribers, and decodes on arrival while an event handler is subscribed', async () => {
    await setUp();
    const c = srv.createLogicalCluster('lazy');
    await writer.create(c, 'before');
    const inf = configMaps();
    subs.push(inf.events$.subscribe(() => undefined));
    await inf.whenSynced(AbortSignal.timeout(10_000));
    const entry = (name: string) => inf.store.getEntry(c, 'default', name);
    expect(entry('before')!.decoded).to.equal(false);
    // A handler that never looks at added objects: whatever is decoded was decoded on arrival.
    const handler = inf.addEventHandler({ onDelete: () => undefined });
    await writer.create(c, 'with-handler');
    await eventually(() => entry('with-handler') !== undefined, 'object with a handler cached');
    expect(entry('with-handler')!.decoded).to.equal(true);
    handler.unsubscribe();
    await writer.create(c, 'after');
    await eventually(() => entry('after') !== undefined, 'object after the handler left cached');
    expect(entry('after')!.decoded).to.equal(false);
    expect(inf.reader(c).get('default', 'after')?.data).to.deep.equal({});
  });

  it('keeps the same namespace/name in two clusters as two entries, and routes events by cluster', async () => {
    await setUp();
    const [a, b] = [srv.createLogicalCluster('alpha'), srv.createLogicalCluster('beta')];
    await writer.create(a, 'same', { v: 'a' });
    await writer.create(b, 'same', { v: 'b' });
    const inf = configMaps();
    const seen = record(inf);
    await inf.whenSynced(AbortSignal.timeout(10_000));
    await writer.update(b, 'same', { v: 'b2' });
    await eventually(() => seen.some((d) => d.type === 'MODIFIED'), 'update seen');
    expect(inf.reader(a).get('default', 'same')?.data).to.deep.equal({ v: 'a' });
    expect(inf.reader(b).get('default', 'same')?.data).to.deep.equal({ v: 'b2' });
    const mod = seen.find((d) => d.type === 'MODIFIED')!;
    expect(mod.cluster).to.equal(b);
    expect(mod.type === 'MODIFIED' && mod.old.data).to.deep.equal({ v: 'b' });
  });

  it('a watch dropped mid-stream resumes from its last resourceVersion without losing or duplicating a change', async () => {
    await setUp();
    const c = srv.createLogicalCluster('drops');
    await writer.create(c, 'counter', { n: '0' });
    const inf = configMaps();
    const seen = record(inf);
    await inf.whenSynced(AbortSignal.timeout(10_000));
    const N = 300;
    const writing = (async () => {
      for (let i = 1; i <= N; i++) {
        await writer.update(c, 'counter', { n: String(i) });
        if (i % 10 === 0) await writer.create(c, `made-${i}`);
      }
    })();
    // Break the watch connection repeatedly while the writes flow.
    let drops = 0;
    while (!(await Promise.race([writing.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 25))]))) {
      proxy.dropAll();
      drops++;
    }
    await writing;
    await eventually(() => inf.reader(c).get('default', 'counter')?.data?.['n'] === String(N), 'last update applied', 20_000);
    await eventually(async () => sameState(cacheState(inf), await writer.serverState()), 'cache equals server');
    const counts = seen.filter((d) => d.type === 'MODIFIED' && d.object.metadata?.name === 'counter').map((d) => Number(d.object.data!['n']));
    expect(counts).to.deep.equal(Array.from({ length: N }, (_, i) => i + 1));
    const made = seen.filter((d) => d.type === 'ADDED' && d.object.metadata!.name!.startsWith('made-'));
    expect(made).to.have.length(N / 10);
    expect(drops).to.be.greaterThan(3);
    expect(logs.filter((l) => l['event'] === 'listed')).to.have.length(1);
  });

  it('history compacted while disconnected: 410, relist, and DELETED for objects removed meanwhile', async () => {
    await setUp();
    const c = srv.createLogicalCluster('compacted');
    for (const n of ['keep', 'change', 'remove1', 'remove2']) await writer.create(c, n);
    const inf = configMaps();
    const seen = record(inf);
    await inf.whenSynced(AbortSignal.timeout(10_000));
    proxy.refuse(true);
    proxy.dropAll();
    await writer.delete(c, 'remove1');
    await writer.delete(c, 'remove2');
    await writer.update(c, 'change', { x: '1' });
    await writer.create(c, 'added');
    srv.compact();
    seen.length = 0;
    proxy.refuse(false);
    await eventually(async () => sameState(cacheState(inf), await writer.serverState()), 'cache equals server after relist', 20_000);
    expect(logs.some((l) => l['event'] === 'expired')).to.equal(true);
    expect(seen.map((d) => `${d.type} ${d.object.metadata?.name}`).sort()).to.deep.equal(['ADDED added', 'DELETED remove1', 'DELETED remove2', 'MODIFIED change']);
  });

  it('bookmarks advance the resume point, so a resume after compaction needs no relist', async () => {
    await setUp({ bookmarkIntervalMs: 100 });
    const c = srv.createLogicalCluster('quiet');
    await writer.create(c, 'watched');
    const inf = configMaps();
    const seen = record(inf);
    await inf.whenSynced(AbortSignal.timeout(10_000));
    const listed = Number(inf.lastSyncResourceVersion);
    // Changes the watch does not match: only bookmarks tell the informer that time moved on.
    for (let i = 0; i < 20; i++) await writer.create(c, `other-${i}`, {}, { app: 'other' });
    const now = srv.resourceVersion();
    await eventually(() => Number(inf.lastSyncResourceVersion) >= now, 'bookmark with the current resourceVersion');
    expect(now).to.be.greaterThan(listed);
    srv.compact();
    proxy.dropAll();
    await writer.create(c, 'after');
    await eventually(() => seen.some((d) => d.object.metadata?.name === 'after'), 'event after resume');
    expect(logs.filter((l) => l['event'] === 'expired')).to.have.length(0);
    expect(logs.filter((l) => l['event'] === 'listed')).to.have.length(1);
  });

  it('a silent dead connection (black hole) is given up by the watchdog and the informer carries on', async () => {
    await setUp();
    factory.close();
    factory = new InformerFactory(transport, { log: (e) => logs.push(e), inactivityTimeoutMs: 500, backoff: { initialMs: 50, maxMs: 500 } });
    const c = srv.createLogicalCluster('blackhole');
    const inf = configMaps();
    const seen = record(inf);
    await inf.whenSynced(AbortSignal.timeout(10_000));
    await eventually(() => srv.openWatches() === 1, 'watch open');
    proxy.blackholeAll();
    await writer.create(c, 'after-blackhole');
    await eventually(() => seen.some((d) => d.object.metadata?.name === 'after-blackhole'), 'event after the watchdog fired', 10_000);
    expect(logs.some((l) => l['event'] === 'stalled')).to.equal(true);
  });

  it('survives a server restart with --data-dir', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-informer-'));
    try {
      await setUp({ dataDir: dir });
      const c = srv.createLogicalCluster('durable');
      await writer.create(c, 'before');
      const inf = configMaps();
      const seen = record(inf);
      await inf.whenSynced(AbortSignal.timeout(10_000));
      await eventually(() => srv.openWatches() === 1, 'watch open');
      const port = srv.port;
      await srv.stop();
      // Stay down until the informer has tried and failed to reconnect.
      await eventually(() => logs.some((l) => l['event'] === 'retry'), 'a failed reconnect');
      srv = await start({ dataDir: dir, port });
      writer.close();
      writer = new Writer(srv);
      await writer.create(c, 'after-restart');
      await writer.update(c, 'before', { touched: 'yes' });
      await eventually(() => seen.some((d) => d.object.metadata?.name === 'after-restart'), 'event after restart', 20_000);
      await eventually(async () => sameState(cacheState(inf), await writer.serverState()), 'cache equals server', 20_000);
      expect(inf.reader(c).get('default', 'before')?.data).to.deep.equal({ touched: 'yes' });
      expect(logs.filter((l) => l['event'] === 'listed')).to.have.length(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('whenSynced: 30 waits on one signal hold one abort listener, and none once synced or already synced', async () => {
    await setUp();
    const c = srv.createLogicalCluster('waits');
    await writer.create(c, 'one');
    const inf = configMaps();
    const signal = new AbortController().signal;
    const waits = Array.from({ length: 30 }, () => inf.whenSynced(signal));
    expect(getEventListeners(signal, 'abort')).to.have.length(1);
    subs.push(inf.events$.subscribe(() => undefined));
    await Promise.all(waits);
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
    await inf.whenSynced(signal);
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
  });

  it('many subscribers share one connection; the last unsubscribe closes the server-side watch', async () => {
    await setUp();
    const c = srv.createLogicalCluster('shared');
    await writer.create(c, 'one');
    const infs = Array.from({ length: 20 }, () => configMaps());
    expect(new Set(infs).size).to.equal(1);
    const inf = infs[0]!;
    const counts = Array.from({ length: 20 }, () => 0);
    const local = infs.map((i, k) => i.addEventHandler({ onAdd: () => counts[k]!++, onUpdate: () => counts[k]!++ }));
    await inf.whenSynced(AbortSignal.timeout(10_000));
    await writer.create(c, 'two');
    await eventually(() => counts.every((n) => n === 2), 'every subscriber saw both objects');
    expect(srv.openWatches()).to.equal(1);
    expect(inf.subscribers).to.equal(20);
    // A late subscriber gets the cache replayed as ADDED.
    const late: string[] = [];
    local.push(inf.addEventHandler({ onAdd: (o) => late.push(o.metadata!.name!) }));
    expect(late.sort()).to.deep.equal(['one', 'two']);
    for (const s of local.slice(1)) s.unsubscribe();
    expect(srv.openWatches()).to.equal(1);
    local[0]!.unsubscribe();
    await eventually(() => srv.openWatches() === 0, 'server-side watch closed');
    expect(inf.synced).to.equal(false);
    expect(inf.store.size).to.equal(0);
    expect(factory.list()).to.have.length(0);
  });

  it('handlers get (old, new) on update; a throwing handler is logged and isolated; resync re-delivers', async () => {
    await setUp();
    factory.close();
    factory = new InformerFactory(transport, { log: (e) => logs.push(e), resyncPeriodMs: 200 });
    const c = srv.createLogicalCluster('handlers');
    await writer.create(c, 'h', { v: '1' });
    const inf = configMaps();
    const updates: [string | undefined, string | undefined][] = [];
    subs.push(inf.addEventHandler({ onAdd: () => { throw new Error('handler bug'); } }));
    subs.push(inf.addEventHandler({ onUpdate: (old, obj) => updates.push([old.data?.['v'], obj.data?.['v']]) }));
    await inf.whenSynced(AbortSignal.timeout(10_000));
    await writer.update(c, 'h', { v: '2' });
    await eventually(() => updates.some(([o, n]) => o === '1' && n === '2'), 'update with old and new');
    await eventually(() => updates.some(([o, n]) => o === '2' && n === '2'), 'a resync');
    expect(logs.some((l) => l['event'] === 'handler-error')).to.equal(true);
  });
});
