/**
 * Fault injection in the reference server, watch side: connections cut (mid-frame too) and the
 * library's informer riding them out, compaction expiring watch resume points and continue tokens
 * (410, then relist), and endpoint URLs withdrawn from APIExportEndpointSlices and republished.
 */
import type { IncomingMessage } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { Transport } from '../../src/client/index.js';
import { InformerFactory, type KubeObject, type LogEntry, type SharedInformer } from '../../src/informer/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestEnvironment, type TestEnvironment } from '../../src/testing/index.js';
import { eventually, raw, request, start } from '../support/server.js';
import { exportWithTenants } from '../support/shard-tenants.js';

const CM = '/clusters/root/api/v1/namespaces/default/configmaps';

function transportTo(srv: RunningServer, base: string): Transport {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: base, caData: srv.ca ? Buffer.from(srv.ca).toString('base64') : undefined }],
    users: [{ name: 'u', token: srv.token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return Transport.fromKubeConfig(kc);
}

/** Reads a response to its end, however it ends. */
function readAll(res: IncomingMessage): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', () => undefined);
    res.on('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), complete: res.complete }));
  });
}

/** Creates or replaces a ConfigMap of root's default namespace. */
async function put(srv: RunningServer, name: string, v: string): Promise<{ status: number }> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } };
  const r = await raw(srv, 'PUT', `${CM}/${name}`, body);
  return r.status === 404 ? raw(srv, 'POST', CM, body) : r;
}

/** cluster/namespace/name → resourceVersion of the ConfigMaps the server holds. */
async function serverState(srv: RunningServer): Promise<Map<string, string>> {
  const l = (await raw(srv, 'GET', '/clusters/*/api/v1/configmaps')).json['items'] as KubeObject[];
  return new Map(l.map((o) => [`${o.metadata!.annotations!['kcp.io/cluster']}/${o.metadata!.namespace}/${o.metadata!.name}`, o.metadata!.resourceVersion!]));
}

function cacheState(inf: SharedInformer<KubeObject>): Map<string, string> {
  return new Map([...inf.store.entries()].map(([c, o]) => [`${c}/${o.metadata!.namespace}/${o.metadata!.name}`, o.metadata!.resourceVersion!]));
}

const same = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

describe('reference server: fault injection (watches)', function () {
  this.timeout(30_000);
  let srv: RunningServer | undefined;
  let factory: InformerFactory | undefined;
  let transport: Transport | undefined;
  const subs: Subscription[] = [];

  afterEach(async () => {
    for (const sub of subs.splice(0)) sub.unsubscribe();
    factory?.close();
    transport?.close();
    factory = transport = undefined;
    await srv?.stop();
    srv = undefined;
  });

  async function cutOnce(midFrame: boolean): Promise<{ text: string; complete: boolean }> {
    srv = await start();
    expect((await put(srv, 'seen', '1')).status).to.equal(201);
    const res = await request(srv, 'GET', `${CM}?watch=true`, { headers: { Authorization: `Bearer ${srv.token}` } });
    const body = readAll(res);
    srv.faults.set({ watchCuts: { minIntervalMs: 100, maxIntervalMs: 200, midFrame } });
    const out = await body;
    expect(srv.faults.stats()).to.deep.equal(midFrame ? { watchCut: 1, watchCutMidFrame: 1 } : { watchCut: 1 });
    await eventually(() => srv!.openWatches() === 0, 'the cut watch unregistered');
    return out;
  }

  it('cuts a watch connection without the final chunk, at a line boundary', async () => {
    const { text, complete } = await cutOnce(false);
    expect(complete).to.equal(false);
    expect(text.endsWith('\n')).to.equal(true);
    const types = text.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).to.include('ADDED');
    expect(new Set(types)).to.deep.equal(new Set(['ADDED']));
  });

  it('cuts a watch connection mid-frame: the last line stops inside its JSON', async () => {
    const { text, complete } = await cutOnce(true);
    expect(complete).to.equal(false);
    const lines = text.split('\n');
    expect(JSON.parse(lines[0]!)).to.have.property('type', 'ADDED');
    const last = lines[lines.length - 1]!;
    expect(last.length).to.be.greaterThan(0);
    expect(() => JSON.parse(last)).to.throw();
  });

  it("the library's informer rides out repeated mid-frame cuts: no change lost, cache equal to the server", async () => {
    srv = await start();
    const s = srv;
    transport = transportTo(s, `${s.url}/clusters/*`);
    factory = new InformerFactory(transport, { log: () => undefined, backoff: { initialMs: 20, maxMs: 200 } });
    const inf = factory.informer<KubeObject>({ path: '/api/v1/configmaps' });
    subs.push(inf.events$.subscribe(() => undefined));
    await inf.whenSynced(AbortSignal.timeout(10_000));
    s.faults.set({ seed: 11, watchCuts: { minIntervalMs: 50, maxIntervalMs: 150, midFrame: true } });
    for (let i = 0; i < 150; i++) {
      expect((await put(s, `cm-${i % 15}`, String(i))).status).to.be.oneOf([200, 201]);
      if (i % 10 === 0) await eventually(() => inf.store.size > 0, 'informer alive');
    }
    await eventually(async () => same(cacheState(inf), await serverState(s)), 'cache equals server', 15_000);
    expect(s.faults.stats()['watchCutMidFrame']).to.be.at.least(3);
  });

  it('compaction expires older resourceVersions: continue tokens and watches answer 410, the informer relists', async () => {
    srv = await start();
    const s = srv;
    for (let i = 0; i < 5; i++) expect((await put(s, `page-${i}`, '0')).status).to.equal(201);
    const first = await raw(s, 'GET', `${CM}?limit=2`);
    const token = (first.json['metadata'] as { continue: string }).continue;
    const rv = Number((first.json['metadata'] as { resourceVersion: string }).resourceVersion);
    transport = transportTo(s, `${s.url}/clusters/*`);
    const logs: LogEntry[] = [];
    factory = new InformerFactory(transport, { log: (e) => logs.push(e), backoff: { initialMs: 20, maxMs: 200 } });
    const inf = factory.informer<KubeObject>({ path: '/api/v1/configmaps' });
    subs.push(inf.events$.subscribe(() => undefined));
    await inf.whenSynced(AbortSignal.timeout(10_000));

    s.faults.set({ compaction: { everyMs: 20 }, watchCuts: { minIntervalMs: 100, maxIntervalMs: 200, midFrame: true } });
    expect((await put(s, 'page-0', '1')).status).to.equal(200);
    const compactions = s.faults.stats()['compaction'] ?? 0;
    await eventually(() => (s.faults.stats()['compaction'] ?? 0) > compactions, 'compacted after the write');
    const cont = await raw(s, 'GET', `${CM}?limit=2&continue=${encodeURIComponent(token)}`);
    expect(cont.status).to.equal(410);
    expect(cont.json).to.include({ reason: 'Expired', code: 410 });
    expect(String(cont.json['message'])).to.match(/^The provided continue parameter is too old to display a consistent list result/);
    const res = await request(s, 'GET', `${CM}?watch=true&resourceVersion=${rv}`, { headers: { Authorization: `Bearer ${s.token}` } });
    const line = JSON.parse((await readAll(res)).text.split('\n')[0]!) as { type: string; object: { code: number; reason: string } };
    expect(line).to.deep.include({ type: 'ERROR' });
    expect(line.object).to.include({ code: 410, reason: 'Expired' });

    // Writes flow while the informer's watch is cut and the history compacted: once it resumes
    // from a point compacted meanwhile, it has to relist.
    // A resume fails only if a write lands between the last event it saw and its reconnect, with a
    // compaction in between: several writes at a time make that likely on every cut.
    let i = 0;
    await eventually(async () => {
      const writes = await Promise.all(Array.from({ length: 5 }, () => put(s, `later-${i % 5}`, String(i++))));
      for (const w of writes) expect(w.status).to.be.oneOf([200, 201]);
      return logs.some((l) => l['event'] === 'expired');
    }, 'informer saw 410 and relisted', 30_000);
    s.faults.clear();
    await eventually(async () => same(cacheState(inf), await serverState(s)), 'cache equals server', 15_000);
    expect(s.faults.stats()['expired410']).to.be.at.least(3);
  });
});

describe('reference server: endpoints withdrawn from APIExportEndpointSlices', function () {
  this.timeout(60_000);
  let env: TestEnvironment;

  before(async () => (env = await startTestEnvironment({ server: { shards: 2 } })));
  after(() => env?.stop());

  it("withdrawEndpoint removes a shard's URL from every slice, republishEndpoint puts it back", async () => {
    const srv = env.server;
    await exportWithTenants(env, [['near', 'root'], ['far', 'shard-1']]);
    const vw = await env.virtualWorkspace('root:provider', 'things', { endpoints: 2 });
    const onShard = (i: number) => vw.urls.find((u) => u.startsWith(srv.shardURLs[i]!))!;
    expect(onShard(1)).to.be.a('string');
    const endpoints = async () => {
      const slice = (await raw(srv, 'GET', '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/things')).json;
      return ((slice['status'] as { endpoints?: { url: string }[] }).endpoints ?? []).map((e) => e.url).sort();
    };
    srv.faults.withdrawEndpoint('shard-1');
    await eventually(async () => (await endpoints()).join() === onShard(0), 'shard-1 withdrawn');
    srv.faults.withdrawEndpoint('root');
    await eventually(async () => (await endpoints()).length === 0, 'both withdrawn');
    srv.faults.republishEndpoint('shard-1');
    srv.faults.republishEndpoint('root');
    await eventually(async () => (await endpoints()).join() === [...vw.urls].sort().join(), 'both republished');
    expect(srv.faults.stats()).to.deep.equal({ endpointRepublished: 2, endpointWithdrawn: 2 });
  });
});
