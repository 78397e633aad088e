/**
 * listWatch against a scripted loopback API server: the failure modes a real server rarely shows on
 * demand (silent dead connections, empty list resourceVersions, malformed lines, HTTP 410 at
 * connect, in-stream ERROR events, 500s, objects without kcp.io/cluster).
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { Transport } from '../../src/client/index.js';
import { listWatch, type ListWatchOptions } from '../../src/informer/listwatch.js';
import type { LogEntry } from '../../src/informer/log.js';
import { Store } from '../../src/informer/store.js';
import type { KubeObject, ListWatchEvent } from '../../src/informer/types.js';
import { eventually } from '../support/server.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams, n: { list: number; watch: number }) => void;

/** A loopback server whose list and watch answers the test scripts. */
class FakeAPI {
  readonly server: http.Server;
  readonly sockets = new Set<Socket>();
  readonly calls = { list: 0, watch: 0 };
  readonly watchQueries: URLSearchParams[] = [];

  constructor(private readonly handler: Handler) {
    this.server = http.createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      if (q.get('watch') === 'true') {
        this.calls.watch++;
        this.watchQueries.push(q);
      } else this.calls.list++;
      this.handler(req, res, q, this.calls);
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const cm = (name: string, rv: string, cluster?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', resourceVersion: rv, ...(cluster ? { annotations: { 'kcp.io/cluster': cluster } } : {}) },
});
const list = (rv: string, items: KubeObject[]) => JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items });
const line = (type: string, object: unknown) => JSON.stringify({ type, object }) + '\n';
const status = (code: number, reason: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `${reason} (${code})` });

function transportFor(base: string): Transport {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return Transport.fromKubeConfig(kc);
}

describe('informer: listWatch against a scripted server', function () {
  this.timeout(20_000);
  let api: FakeAPI | undefined;
  let transport: Transport | undefined;
  let sub: Subscription | undefined;

  afterEach(async () => {
    sub?.unsubscribe();
    transport?.close();
    await api?.close();
    api = transport = sub = undefined;
  });

  async function run(handler: Handler, opts: Partial<ListWatchOptions> = {}, urlSuffix = '/clusters/*') {
    api = new FakeAPI(handler);
    transport = transportFor((await api.listen()) + urlSuffix);
    const events: ListWatchEvent[] = [];
    const logs: LogEntry[] = [];
    const store = opts.store ?? new Store();
    sub = listWatch(transport, {
      path: '/api/v1/configmaps',
      store,
      log: (e) => logs.push(e),
      backoff: { initialMs: 20, maxMs: 100 },
      timeoutSeconds: 60,
      ...opts,
    }).subscribe((e) => events.push(e));
    return { events, logs, store, api };
  }

  const json = (res: http.ServerResponse, code: number, body: string) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(body);
  };

  it('asks for bookmarks and a randomised timeout, resuming from the list resourceVersion', async () => {
    const { events, api } = await run(
      (_req, res, q) => {
        if (q.get('watch') !== 'true') return json(res, 200, list('10', [cm('a', '5', 'c1')]));
        res.writeHead(200);
        res.write(line('ADDED', cm('b', '11', 'c1')));
      },
      { timeoutSeconds: 100, random: () => 0.5 },
    );
    await eventually(() => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'b'), 'watch event');
    const q = api.watchQueries[0]!;
    expect(q.get('resourceVersion')).to.equal('10');
    expect(q.get('allowWatchBookmarks')).to.equal('true');
    expect(q.get('timeoutSeconds')).to.equal('150');
    expect(events.map((e) => e.type)).to.deep.equal(['ADDED', 'SYNCED', 'ADDED']);
  });

  it('a silent dead connection is noticed by the watchdog, aborted, and resumed from the last resourceVersion', async () => {
    const { events, logs, api } = await run(
      (_req, res, q, n) => {
        if (q.get('watch') !== 'true') return json(res, 200, list('10', []));
        res.writeHead(200);
        if (n.watch === 1) res.write(line('ADDED', cm('a', '12', 'c1'))); // then silence, connection open
        else res.write(line('ADDED', cm('b', '13', 'c1')));
      },
      { inactivityTimeoutMs: 300 },
    );
    await eventually(() => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'b'), 'event after reconnect');
    expect(logs.some((l) => l['event'] === 'stalled')).to.equal(true);
    expect(api.watchQueries[1]!.get('resourceVersion')).to.equal('12');
    expect(api.calls.list).to.equal(1);
  });

  it('a list with an empty resourceVersion watches without one and relists when that watch ends', async () => {
    const { events, api } = await run((_req, res, q, n) => {
      if (q.get('watch') !== 'true') return json(res, 200, n.list === 1 ? list('', []) : list('20', [cm('late', '19', 'c1')]));
      res.writeHead(200);
      if (n.watch === 1) setTimeout(() => res.end(), 50); // the VW's silent stream, ended by its timeout
    });
    await eventually(() => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'late'), 'object seen on relist');
    expect(api.watchQueries[0]!.has('resourceVersion')).to.equal(false);
    expect(api.calls.list).to.equal(2);
  });

  it('skips malformed lines, reports them, and keeps the stream', async () => {
    const { events, logs } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', []));
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{"metadata"\n');
      res.write('not json at all\n');
      res.write(line('ADDED', cm('good', '11', 'c1')));
    });
    await eventually(() => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'good'), 'event after garbage');
    expect(logs.filter((l) => l['event'] === 'malformed')).to.have.length(2);
  });

  it('HTTP 410 at connect and an ERROR 410 event both lead to a relist that emits DELETED for vanished objects', async () => {
    const { events, logs, store } = await run((_req, res, q, n) => {
      if (q.get('watch') !== 'true') {
        if (n.list === 1) return json(res, 200, list('10', [cm('a', '1', 'c1'), cm('b', '2', 'c1'), cm('c', '3', 'c2')]));
        if (n.list === 2) return json(res, 200, list('30', [cm('a', '1', 'c1'), cm('c', '25', 'c2')]));
        return json(res, 200, list('40', [cm('c', '25', 'c2')]));
      }
      if (n.watch === 1) return json(res, 410, JSON.stringify(status(410, 'Gone')));
      res.writeHead(200);
      if (n.watch === 2) res.end(line('ERROR', status(410, 'Expired')));
    });
    await eventually(() => store.size === 1 && events.filter((e) => e.type === 'SYNCED').length === 3, 'third list applied');
    const deltas = events.filter((e) => e.type !== 'SYNCED').map((e) => `${e.type} ${'cluster' in e ? e.cluster : ''}/${'object' in e ? e.object.metadata?.name : ''}`);
    expect(deltas).to.deep.equal(['ADDED c1/a', 'ADDED c1/b', 'ADDED c2/c', 'MODIFIED c2/c', 'DELETED c1/b', 'DELETED c1/a']);
    expect(logs.filter((l) => l['event'] === 'expired')).to.have.length(2);
  });

  it('retries a failing list with backoff, and a non-410 ERROR event resumes the watch without relisting', async () => {
    const { events, api, logs } = await run((_req, res, q, n) => {
      if (q.get('watch') !== 'true') {
        if (n.list < 3) return json(res, 500, JSON.stringify(status(500, 'InternalError')));
        return json(res, 200, list('10', []));
      }
      res.writeHead(200);
      if (n.watch === 1) return res.end(line('ADDED', cm('x', '11', 'c1')) + line('ERROR', status(500, 'InternalError')));
      res.write(line('ADDED', cm('y', '12', 'c1')));
    });
    await eventually(() => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'y'), 'event after the ERROR');
    expect(api.calls.list).to.equal(3);
    expect(api.watchQueries[1]!.get('resourceVersion')).to.equal('11');
    expect(logs.filter((l) => l['event'] === 'retry')).to.have.length(2);
  });

  it('on a wildcard endpoint, an object without kcp.io/cluster is logged once and skipped; the rest flows', async () => {
    const { events, logs, store } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', [cm('bare', '5'), cm('ok', '6', 'c1')]));
      res.writeHead(200);
      res.write(line('MODIFIED', cm('bare', '11')) + line('ADDED', cm('ok2', '12', 'c1')));
    });
    await eventually(() => store.size === 2, 'annotated objects cached');
    expect(events.filter((e) => e.type === 'ADDED').length).to.equal(2);
    const warned = logs.filter((l) => /without kcp\.io\/cluster/.test(l.msg));
    expect(warned).to.have.length(1);
    expect(warned[0]).to.include({ name: 'bare', namespace: 'default' });
  });

  it('on a /clusters/<name> URL, objects without the annotation belong to that cluster', async () => {
    const { store } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', [cm('bare', '5')]));
      res.writeHead(200);
    }, {}, '/clusters/root:org');
    await eventually(() => store.size === 1, 'cached');
    expect(store.get('root:org', 'default', 'bare')).to.not.equal(undefined);
  });

  it('lists in pages with continue tokens and the page size as limit', async () => {
    const limits: (string | null)[] = [];
    const { events } = await run((_req, res, q) => {
      if (q.get('watch') === 'true') return void res.writeHead(200);
      limits.push(q.get('limit'));
      const page = Number(q.get('continue') ?? '0');
      const items = [0, 1].map((i) => cm(`o${page * 2 + i}`, String(page * 2 + i + 1), 'c1'));
      json(res, 200, JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '50', ...(page < 2 ? { continue: String(page + 1) } : {}) }, items }));
    }, { pageSize: 2 });
    await eventually(() => events.some((e) => e.type === 'SYNCED'), 'synced');
    expect(limits).to.deep.equal(['2', '2', '2']);
    expect(events.filter((e) => e.type === 'ADDED')).to.have.length(6);
    // list items get the list's apiVersion and kind when they lack them
    const added = events.find((e) => e.type === 'ADDED');
    expect(added && 'object' in added && added.object.kind).to.equal('ConfigMap');
  });

  it('keeps listed and watched objects as text until read: consumers of keys never decode, readers decode once', async () => {
    const { events, store } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', [{ metadata: { name: 'listed', namespace: 'default', resourceVersion: '5', annotations: { 'kcp.io/cluster': 'c1' } } }]));
      res.writeHead(200);
      res.write(line('ADDED', cm('watched', '11', 'c2')) + line('MODIFIED', { ...cm('listed', '12', 'c1'), data: { k: 'v' } }));
    });
    await eventually(() => events.filter((e) => e.type === 'ADDED' || e.type === 'MODIFIED').length === 3, 'list and both events applied');
    const keys = events.flatMap((e) => (e.type === 'SYNCED' || e.type === 'BOOKMARK' ? [] : [`${e.type} ${e.cluster}/${e.namespace}/${e.name}@${e.resourceVersion}`]));
    expect(keys).to.deep.equal(['ADDED c1/default/listed@5', 'ADDED c2/default/watched@11', 'MODIFIED c1/default/listed@12']);
    const entries = [...store.entryPairs()];
    expect(entries.map(([, e]) => e.decoded)).to.deep.equal([false, false]);
    expect(store.get('c1', 'default', 'listed')).to.deep.include({ apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } });
    expect(store.getEntry('c1', 'default', 'listed')!.decoded).to.equal(true);
    expect(store.getEntry('c2', 'default', 'watched')!.decoded).to.equal(false);
  });

  it('a listed item without apiVersion/kind gets the list\'s; a line that scans but does not parse is cached by key and reported when read', async () => {
    const logs: LogEntry[] = [];
    const { events, store } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', []));
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{"metadata":{"name":"odd","namespace":"default","resourceVersion":"11","annotations":{"kcp.io/cluster":"c1"}},"data":{"k":tru}}}\n');
    }, { store: new Store({ onDecodeError: (err, k) => logs.push({ level: 'error', msg: err.message, name: k.name }) }) });
    await eventually(() => events.some((e) => e.type === 'ADDED'), 'odd line applied');
    expect(store.get('c1', 'default', 'odd')).to.deep.equal({ metadata: { name: 'odd', namespace: 'default', resourceVersion: '11' } });
    expect(logs.map((l) => l['name'])).to.deep.equal(['odd']);
  });

  it('JSON with whitespace between tokens (not what Kubernetes writes) is parsed whole and cached the same', async () => {
    const { events, store } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, JSON.stringify(JSON.parse(list('10', [cm('spaced', '5', 'c1')])), null, 2) + '\n');
      res.writeHead(200);
      res.write(JSON.stringify({ type: 'ADDED', object: cm('pretty', '11', 'c1') }, null, 1).replace(/\n/g, ' ') + '\n');
    });
    await eventually(() => events.filter((e) => e.type === 'ADDED').length === 2, 'both applied');
    expect(store.get('c1', 'default', 'spaced')).to.deep.include({ kind: 'ConfigMap' });
    expect(store.get('c1', 'default', 'pretty')?.metadata?.resourceVersion).to.equal('11');
  });

  it('memory stays bounded through a long stream of updates: old texts are compacted away, the latest decodes', async () => {
    const names = 1000;
    const rounds = 20;
    const pad = 'p'.repeat(900);
    const { store } = await run((_req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', []));
      res.writeHead(200);
      // ~20 MB of ~1 KB events, written in uneven pieces so that lines straddle socket reads.
      let rv = 10;
      let out = '';
      for (let r = 0; r < rounds; r++) for (let i = 0; i < names; i++) out += line(r === 0 ? 'ADDED' : 'MODIFIED', { ...cm(`o-${i}`, String(++rv), 'c1'), data: { r: String(r), pad } });
      const bytes = Buffer.from(out);
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7919) % 65_536 || 1) res.write(bytes.subarray(at, at + n));
    });
    await eventually(() => store.getEntry('c1', 'default', `o-${names - 1}`)?.resourceVersion === String(10 + names * rounds), 'last update applied', 20_000);
    const m = store.textMemory();
    expect(m.live).to.be.greaterThan(names * 900);
    expect(m.held, `held ${m.held} for ${m.live} live`).to.be.at.most(2 * m.live + 8 * 1024 * 1024);
    for (let i = 0; i < names; i += 37) expect((store.get('c1', 'default', `o-${i}`) as { data?: unknown } | undefined)?.data).to.deep.equal({ r: String(rounds - 1), pad });
  });

  it('unsubscribing aborts the open watch request', async () => {
    let closed = false;
    await run((req, res, q) => {
      if (q.get('watch') !== 'true') return json(res, 200, list('10', []));
      res.writeHead(200);
      res.write(line('BOOKMARK', { metadata: { resourceVersion: '10' } }));
      req.socket.on('close', () => (closed = true));
    });
    await eventually(() => api!.calls.watch === 1 && api!.sockets.size > 0, 'watch open');
    sub!.unsubscribe();
    await eventually(() => closed, 'server saw the connection close');
  });
});
