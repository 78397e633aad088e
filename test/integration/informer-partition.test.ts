/**
 * A wildcard informer that keeps only admitted clusters, against a scripted loopback server whose
 * wildcard watch and per-cluster lists the test drives: objects of other clusters are dropped at
 * ingestion; admitting a cluster fills its part consistently while watch events race the list (an
 * update, a delete and a create between the list's start and its end; resourceVersions numeric or
 * opaque); evicting drops it with no DELETED delta; a relist (410) keeps the filter, and a relist
 * during a fill makes the fill run again.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { Transport } from '../../src/client/index.js';
import { SharedInformer, silentLog, type Delta, type KubeObject } from '../../src/informer/index.js';
import { eventually } from '../support/server.js';

const PATH = '/api/v1/configmaps';

const cm = (cluster: string, name: string, rv: string, data: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: rv, annotations: { 'kcp.io/cluster': cluster } }, data }) as KubeObject;
const listBody = (rv: string, items: KubeObject[]) => JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items });
const line = (type: string, object: unknown) => JSON.stringify({ type, object }) + '\n';

/** A held per-cluster list: the test answers it when the race it wants has happened. */
interface PendingList {
  cluster: string;
  answer(rv: string, items: KubeObject[]): void;
}

/** Wildcard list/watch and per-cluster lists, scripted. */
class ScriptedVW {
  readonly sockets = new Set<Socket>();
  /** What the wildcard list returns. */
  wildcard: { rv: string; items: KubeObject[] } = { rv: '1', items: [] };
  wildcardLists = 0;
  /** The `limit` of each wildcard list (null: none). */
  readonly wildcardLimits: (string | null)[] = [];
  readonly pending: PendingList[] = [];
  readonly clusterLists: string[] = [];
  private watches: http.ServerResponse[] = [];
  private readonly server: http.Server;

  constructor() {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/clusters\/([^/]+)(\/.*)$/.exec(url.pathname);
      if (!m || m[2] !== PATH) {
        res.writeHead(404).end();
        return;
      }
      const cluster = decodeURIComponent(m[1]!);
      if (cluster === '*' && url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        this.watches.push(res);
        return;
      }
      if (cluster === '*') {
        this.wildcardLists++;
        this.wildcardLimits.push(url.searchParams.get('limit'));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(listBody(this.wildcard.rv, this.wildcard.items));
        return;
      }
      this.clusterLists.push(cluster);
      this.pending.push({ cluster, answer: (rv, items) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(listBody(rv, items)) });
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

  get watching(): number {
    return this.watches.filter((w) => !w.writableEnded && !w.destroyed).length;
  }

  /** Sends a watch event to every open wildcard watch. */
  send(type: string, obj: unknown): void {
    for (const w of this.watches) if (!w.writableEnded) w.write(line(type, obj));
  }

  /** Ends the open watches with a 410 ERROR event: the informer relists. */
  expire(): void {
    this.send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' });
    for (const w of this.watches) w.end();
    this.watches = [];
  }

  /** The oldest unanswered per-cluster list of `cluster`, once it arrives. */
  async nextList(cluster: string): Promise<PendingList> {
    await eventually(() => this.pending.some((p) => p.cluster === cluster), `a LIST of cluster ${cluster}`);
    const i = this.pending.findIndex((p) => p.cluster === cluster);
    return this.pending.splice(i, 1)[0]!;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

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

const names = (inf: SharedInformer, cluster: string) =>
  inf.store
    .listCluster(cluster)
    .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
    .sort();

describe('informer: a wildcard informer that keeps only admitted clusters', function () {
  this.timeout(20_000);
  let vw: ScriptedVW;
  let transport: Transport;
  let inf: SharedInformer;
  let sub: Subscription | undefined;
  let deltas: Delta[];

  beforeEach(async () => {
    vw = new ScriptedVW();
    transport = transportFor(`${await vw.listen()}/clusters/*`);
    inf = new SharedInformer(transport, { path: PATH, log: silentLog, backoff: { initialMs: 20, maxMs: 100 }, timeoutSeconds: 60 });
    deltas = [];
  });

  afterEach(async () => {
    sub?.unsubscribe();
    sub = undefined;
    transport.close();
    await vw.close();
  });

  async function start(): Promise<void> {
    sub = inf.events$.subscribe((d) => deltas.push(d));
    await inf.whenSynced();
    await eventually(() => vw.watching > 0, 'the wildcard watch open');
  }

  /**
   * c1 synced from the first list at `rv1`; c2 admitted, and while its LIST is out the watch
   * expires and the relist at `rv2` (showing `relisted`) completes. Resolves with c2's held LIST.
   */
  async function fillOverlappingRelist(rv1: string, c1: KubeObject[], rv2: string, relisted: KubeObject[]): Promise<PendingList> {
    vw.wildcard = { rv: rv1, items: c1 };
    inf.restrictClusters();
    inf.admitCluster('c1');
    await start();
    inf.admitCluster('c2');
    const first = await vw.nextList('c2');
    vw.wildcard = { rv: rv2, items: relisted };
    vw.expire();
    await eventually(() => vw.wildcardLists === 2 && vw.watching > 0, 'the relist done and the watch open again');
    return first;
  }

  it('drops objects of clusters not admitted, from the list and from the watch', async () => {
    vw.wildcard = { rv: '10', items: [cm('c1', 'a', '3'), cm('c2', 'a', '4'), cm('c3', 'b', '5')] };
    inf.restrictClusters();
    inf.admitCluster('c1');
    await start();
    expect(inf.store.clusters()).to.deep.equal(['c1']);
    expect(inf.clusterSynced('c1')).to.equal(true);
    expect(inf.clusterSynced('c2')).to.equal(false);
    vw.send('ADDED', cm('c2', 'x', '11'));
    vw.send('MODIFIED', cm('c3', 'b', '12'));
    vw.send('ADDED', cm('c1', 'y', '13'));
    await eventually(() => inf.store.get('c1', 'default', 'y') !== undefined, 'the admitted cluster event applied');
    expect(inf.store.clusters()).to.deep.equal(['c1']);
    expect(inf.store.size).to.equal(2);
    expect(deltas.every((d) => d.cluster === 'c1'), 'a delta of a cluster not admitted').to.equal(true);
  });

  it('keeping no cluster yet, a list asks for one item (its resourceVersion only); once one is kept, relists list everything', async () => {
    vw.wildcard = { rv: '10', items: [cm('c1', 'a', '3'), cm('c2', 'a', '4')] };
    inf.restrictClusters();
    await start();
    expect(vw.wildcardLimits).to.deep.equal(['1']);
    expect(inf.store.size).to.equal(0);
    inf.admitCluster('c1');
    (await vw.nextList('c1')).answer('11', [cm('c1', 'a', '3')]);
    await eventually(() => inf.clusterSynced('c1'), 'c1 filled');
    expect(names(inf, 'c1')).to.deep.equal(['a@3']);
    vw.expire();
    await eventually(() => vw.wildcardLists === 2 && vw.watching > 0, 'the relist done and the watch open again');
    expect(vw.wildcardLimits[1]).to.equal('500');
    expect(inf.store.clusters()).to.deep.equal(['c1']);
  });

  it('keeps every cluster when not restricted (the default)', async () => {
    vw.wildcard = { rv: '10', items: [cm('c1', 'a', '3'), cm('c2', 'a', '4')] };
    await start();
    expect(inf.store.clusters().sort()).to.deep.equal(['c1', 'c2']);
    expect(inf.clusterSynced('c2')).to.equal(true);
  });

  for (const rvs of ['numeric', 'opaque'] as const) {
    // Opaque versions carry a prefix: their order is unknown, so what an event wrote since the fill began wins.
    const v = (n: number) => (rvs === 'numeric' ? String(n) : `r${n}`);

    it(`admitting fills the cluster consistently with events racing its LIST (${rvs} resourceVersions)`, async () => {
      vw.wildcard = { rv: v(10), items: [cm('c1', 'a', v(3)), cm('c2', 'a', v(5)), cm('c2', 'b', v(6)), cm('c2', 'c', v(7))] };
      inf.restrictClusters();
      inf.admitCluster('c1');
      await start();
      expect(inf.store.clusterSize('c2')).to.equal(0);

      const synced: boolean[] = [];
      const whenSynced = inf.whenClusterSynced('c2').then(() => synced.push(true));
      inf.admitCluster('c2');
      const pending = await vw.nextList('c2');
      expect(inf.clusterSynced('c2'), 'synced before its LIST answered').to.equal(false);
      // Between the LIST's start and its end the watch says: a updated, b deleted, d created.
      vw.send('MODIFIED', cm('c2', 'a', v(20), { new: 'yes' }));
      vw.send('DELETED', cm('c2', 'b', v(21)));
      vw.send('ADDED', cm('c2', 'd', v(22)));
      await eventually(() => inf.store.get('c2', 'default', 'd') !== undefined, 'the racing events applied');
      // The LIST's snapshot predates them: a old, b still there, no d; e exists only in the list.
      pending.answer(v(18), [cm('c2', 'a', v(15)), cm('c2', 'b', v(12)), cm('c2', 'c', v(16)), cm('c2', 'e', v(17))]);
      await whenSynced;
      expect(synced).to.deep.equal([true]);
      expect(names(inf, 'c2')).to.deep.equal([`a@${v(20)}`, `c@${v(16)}`, `d@${v(22)}`, `e@${v(17)}`].sort());
      expect((inf.store.get('c2', 'default', 'a') as { data?: Record<string, string> }).data).to.deep.equal({ new: 'yes' });
      expect(inf.clusterSynced('c2')).to.equal(true);
      // Every object of the cluster reached subscribers; the one deleted before the LIST answered never did.
      const c2 = deltas.filter((d) => d.cluster === 'c2');
      expect(c2.filter((d) => d.type === 'DELETED')).to.deep.equal([]);
      expect(new Set(c2.map((d) => d.name))).to.deep.equal(new Set(['a', 'c', 'd', 'e']));
    });
  }

  it('a LIST newer than an event wins (numeric resourceVersions), and objects the LIST no longer shows go', async () => {
    vw.wildcard = { rv: '10', items: [] };
    inf.restrictClusters();
    await start();
    inf.admitCluster('c2');
    const pending = await vw.nextList('c2');
    // A lagging watch delivers old states; the LIST already shows later ones (and no x: deleted since).
    vw.send('ADDED', cm('c2', 'a', '5'));
    vw.send('ADDED', cm('c2', 'x', '6'));
    await eventually(() => inf.store.clusterSize('c2') === 2, 'the lagging events applied');
    pending.answer('30', [cm('c2', 'a', '25')]);
    await inf.whenClusterSynced('c2');
    expect(names(inf, 'c2')).to.deep.equal(['a@25']);
  });

  it('evicting drops the cluster with no DELETED delta, and its later events are dropped', async () => {
    vw.wildcard = { rv: '10', items: [cm('c1', 'a', '3'), cm('c2', 'a', '4'), cm('c2', 'b', '5')] };
    inf.restrictClusters();
    inf.admitCluster('c1');
    inf.admitCluster('c2');
    const deleted: string[] = [];
    const handlers = inf.addEventHandler({ onDelete: (o, c) => deleted.push(`${c}/${o.metadata?.name}`) });
    try {
      await start();
      expect(inf.store.clusterSize('c2')).to.equal(2);
      inf.evictCluster('c2');
      expect(inf.store.clusterSize('c2')).to.equal(0);
      expect(inf.store.size).to.equal(1);
      expect(inf.clusterSynced('c2')).to.equal(false);
      vw.send('MODIFIED', cm('c2', 'a', '11'));
      vw.send('ADDED', cm('c1', 'z', '12'));
      await eventually(() => inf.store.get('c1', 'default', 'z') !== undefined, 'a later event of c1');
      expect(inf.store.clusterSize('c2')).to.equal(0);
      expect(deleted).to.deep.equal([]);
      expect(deltas.filter((d) => d.type === 'DELETED')).to.deep.equal([]);
    } finally {
      handlers.unsubscribe();
    }
  });

  it('a relist after 410 Gone keeps the filter', async () => {
    vw.wildcard = { rv: '10', items: [cm('c1', 'a', '3'), cm('c2', 'a', '4')] };
    inf.restrictClusters();
    inf.admitCluster('c1');
    await start();
    vw.wildcard = { rv: '40', items: [cm('c1', 'a', '3'), cm('c1', 'n', '35'), cm('c2', 'a', '4'), cm('c2', 'n', '36'), cm('c3', 'q', '37')] };
    vw.expire();
    await eventually(() => vw.wildcardLists === 2 && inf.store.get('c1', 'default', 'n') !== undefined, 'the relist applied');
    expect(inf.store.clusters()).to.deep.equal(['c1']);
    expect(names(inf, 'c1')).to.deep.equal(['a@3', 'n@35']);
  });

  it('a relist while a cluster fills leaves that cluster to the fill, which runs again after it', async () => {
    // The watch expires while the cluster's LIST is out: events (here the deletion of b) may be lost.
    const first = await fillOverlappingRelist('10', [cm('c1', 'a', '3')], '50', [cm('c1', 'a', '3'), cm('c2', 'a', '45')]);
    first.answer('20', [cm('c2', 'a', '15'), cm('c2', 'b', '16')]);
    const second = await vw.nextList('c2');
    expect(inf.clusterSynced('c2'), 'synced from a fill that overlapped a relist').to.equal(false);
    second.answer('55', [cm('c2', 'a', '45')]);
    await inf.whenClusterSynced('c2');
    expect(names(inf, 'c2')).to.deep.equal(['a@45']);
    expect(vw.clusterLists).to.deep.equal(['c2', 'c2']);
  });

  it('a fill that overlapped a relist but listed at or after its resourceVersion completes with no second LIST', async () => {
    const first = await fillOverlappingRelist('10', [cm('c1', 'a', '3')], '50', [cm('c1', 'a', '3'), cm('c2', 'a', '45')]);
    // This LIST saw the state after the relist's resourceVersion: nothing the 410 gap hid is missing.
    first.answer('55', [cm('c2', 'a', '45')]);
    await inf.whenClusterSynced('c2');
    expect(names(inf, 'c2')).to.deep.equal(['a@45']);
    expect(vw.clusterLists).to.deep.equal(['c2']);
  });

  it('a fill that overlapped a relist with opaque resourceVersions runs again (their order is unknown)', async () => {
    const first = await fillOverlappingRelist('k', [cm('c1', 'a', 'x3')], 'm', [cm('c1', 'a', 'x3')]);
    first.answer('n', [cm('c2', 'a', 'x15')]);
    const second = await vw.nextList('c2');
    expect(inf.clusterSynced('c2')).to.equal(false);
    second.answer('o', [cm('c2', 'a', 'x16')]);
    await inf.whenClusterSynced('c2');
    expect(names(inf, 'c2')).to.deep.equal(['a@x16']);
  });

  it('at most maxConcurrentFills clusters LIST at once; the others wait their turn, and an evicted waiter gives its turn up', async () => {
    inf = new SharedInformer(transport, { path: PATH, log: silentLog, backoff: { initialMs: 20, maxMs: 100 }, timeoutSeconds: 60, maxConcurrentFills: 2 });
    vw.wildcard = { rv: '10', items: [] };
    inf.restrictClusters();
    await start();
    const clusters = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    for (const c of clusters) inf.admitCluster(c);
    inf.evictCluster('c4');
    const answered: string[] = [];
    while (answered.length < 5) {
      await eventually(() => vw.pending.length === Math.min(2, 5 - answered.length), `${Math.min(2, 5 - answered.length)} LISTs out`);
      // Never more than the limit, even for a moment after a turn passes on.
      expect(vw.pending.length).to.be.at.most(2);
      const p = vw.pending.shift()!;
      p.answer('20', [cm(p.cluster, 'o', '15')]);
      answered.push(p.cluster);
      await inf.whenClusterSynced(p.cluster);
    }
    expect(answered).to.deep.equal(['c1', 'c2', 'c3', 'c5', 'c6']);
    expect(vw.clusterLists).to.not.include('c4');
    for (const c of answered) expect(names(inf, c)).to.deep.equal(['o@15']);
  });

  it('a cluster admitted while the informer is stopped comes with its first list, with no LIST of its own', async () => {
    vw.wildcard = { rv: '10', items: [cm('c1', 'a', '3'), cm('c2', 'a', '4')] };
    inf.restrictClusters();
    inf.admitCluster('c2');
    await start();
    expect(inf.store.clusters()).to.deep.equal(['c2']);
    expect(inf.clusterSynced('c2')).to.equal(true);
    expect(vw.clusterLists).to.deep.equal([]);
  });
});
