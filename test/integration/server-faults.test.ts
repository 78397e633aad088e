/**
 * Fault injection in the reference server, request side: 500 and 429 answered before any handler
 * runs (the client waits out Retry-After), virtual workspaces answering 503 in windows, slow lists,
 * `/debug/faults`, and clearing that leaves no timer behind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Transport } from '../../src/client/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, raw, request, start } from '../support/server.js';

const CM = '/clusters/root/api/v1/namespaces/default/configmaps';

function transportTo(srv: RunningServer): Transport {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: srv.url, caData: srv.ca ? Buffer.from(srv.ca).toString('base64') : undefined }],
    users: [{ name: 'u', token: srv.token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return Transport.fromKubeConfig(kc);
}

/** Active timers of this process (Node's own resource list). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('reference server: fault injection (requests)', function () {
  this.timeout(30_000);
  let srv: RunningServer | undefined;
  let transport: Transport | undefined;

  afterEach(async () => {
    transport?.close();
    transport = undefined;
    await srv?.stop();
    srv = undefined;
  });

  it('answers 429 with Retry-After and a TooManyRequests Status; the client waits it out and succeeds', async () => {
    srv = await start();
    srv.faults.set({ errors: { rate: 1, codes: [429], retryAfterSeconds: 7 } });
    const r = await raw(srv, 'GET', CM);
    expect(r.status).to.equal(429);
    expect(r.headers['retry-after']).to.equal('7');
    expect(r.json).to.include({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429 });
    expect(r.json['details']).to.deep.equal({ retryAfterSeconds: 7 });

    // Half the requests refused, reproducibly: every list still succeeds through the retries.
    srv.faults.set({ seed: 3, errors: { rate: 0.4, codes: [429], retryAfterSeconds: 0 } });
    transport = transportTo(srv);
    for (let i = 0; i < 10; i++) {
      const list = await transport.requestJSON<{ kind: string }>({ url: CM });
      expect(list.kind).to.equal('ConfigMapList');
    }
    expect(srv.faults.stats()['error429']).to.be.greaterThan(3);
  });

  it('answers 500 before the handler runs: an injected failure never applies a write', async () => {
    srv = await start();
    srv.faults.set({ errors: { rate: 1, codes: [500] } });
    const w = await raw(srv, 'POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never' } });
    expect(w.status).to.equal(500);
    expect(w.json).to.include({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect(String(w.json['message'])).to.match(/^Internal error occurred: /);
    // Probes are no API requests: health checks stay green under injected errors.
    expect((await raw(srv, 'GET', '/readyz')).status).to.equal(200);
    srv.faults.clear();
    expect((await raw(srv, 'GET', `${CM}/never`)).status).to.equal(404);
    expect((await raw(srv, 'GET', CM)).status).to.equal(200);
    expect(srv.faults.stats()).to.deep.equal({ error500: 1 });
  });

  it('answers 503 on virtual-workspace URLs during each unavailability window, and nowhere else', async () => {
    srv = await start();
    const vw = '/services/apiexport/root/nothing/clusters/*/api/v1/configmaps';
    const before = (await raw(srv, 'GET', vw)).status;
    expect(before).to.not.equal(503);
    srv.faults.set({ unavailable: { everyMs: 100, forMs: 60 } });
    const down = await eventually(async () => {
      const r = await raw(srv!, 'GET', vw);
      return r.status === 503 ? r : undefined;
    }, '503 in a window');
    expect(down!.json).to.include({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect(down!.headers['retry-after']).to.equal('1');
    // Between windows the virtual workspace answers as before; workspaces themselves never 503.
    await eventually(async () => (await raw(srv!, 'GET', vw)).status === before, 'answered between windows');
    for (let i = 0; i < 5; i++) expect((await raw(srv, 'GET', CM)).status).to.equal(200);
    srv.faults.clear();
    for (let i = 0; i < 5; i++) expect((await raw(srv, 'GET', vw)).status).to.equal(before);
    expect(srv.faults.stats()['unavailable503']).to.be.greaterThan(0);
  });

  it('delays list responses by the configured latency, and only lists', async () => {
    srv = await start();
    expect((await raw(srv, 'POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } })).status).to.equal(201);
    srv.faults.set({ listLatency: { minMs: 300, maxMs: 400 } });
    let t0 = Date.now();
    expect((await raw(srv, 'GET', CM)).status).to.equal(200);
    expect(Date.now() - t0).to.be.at.least(290);
    t0 = Date.now();
    expect((await raw(srv, 'GET', `${CM}/a`)).status).to.equal(200);
    expect(Date.now() - t0).to.be.below(250);
    expect(srv.faults.stats()).to.deep.equal({ listDelayed: 1 });
  });

  it('clear() stops every fault at once: delayed lists are released, no timer is left, stop() is clean', async () => {
    srv = await start();
    const s = srv;
    const watch = new AbortController();
    const watching = request(s, 'GET', `${CM}?watch=true`, { headers: { Authorization: `Bearer ${s.token}` }, signal: watch.signal });
    watching.then((res) => res.on('error', () => undefined).resume(), () => undefined);
    await eventually(() => s.openWatches() === 1, 'watch open');
    // Mocha arms this test's timeout timer once the test function has returned its promise.
    await Promise.resolve();
    const baseline = timers();
    s.faults.set({
      watchCuts: { minIntervalMs: 60_000, maxIntervalMs: 60_000 },
      unavailable: { everyMs: 60_000, forMs: 1000 },
      compaction: { everyMs: 60_000 },
      listLatency: { minMs: 60_000, maxMs: 60_000 },
      errors: { rate: 0 },
    });
    const slow = raw(s, 'GET', CM);
    await eventually(() => s.faults.stats()['listDelayed'] === 1, 'list delayed');
    expect(timers()).to.be.greaterThan(baseline);
    const t0 = Date.now();
    s.faults.clear();
    expect((await slow).status).to.equal(200);
    expect(Date.now() - t0).to.be.below(5000);
    expect(timers()).to.equal(baseline);
    expect(s.faults.config()).to.equal(undefined);
    watch.abort();
    await s.stop();
    srv = undefined;
    expect(s.openWatches()).to.equal(0);
  });

  it('rejects an invalid config with a clear error and keeps the faults it had', () =>
    start().then((s) => {
      srv = s;
      s.faults.set({ compaction: { everyMs: 60_000 } });
      expect(() => s.faults.set({ errors: { rate: 2 } })).to.throw('invalid fault config: errors.rate must be a number in [0, 1]');
      expect(() => s.faults.set({ unavailable: { everyMs: 100, forMs: 100 } })).to.throw(/forMs must be shorter/);
      expect(() => s.faults.set({ bogus: 1 } as never)).to.throw(/unknown field "bogus"/);
      expect(() => s.faults.withdrawEndpoint('shard-9')).to.throw('unknown shard "shard-9" (shards: root)');
      expect(s.faults.config()).to.deep.equal({ compaction: { everyMs: 60_000 } });
    }));
});

describe('reference server: /debug/faults', function () {
  this.timeout(30_000);
  let srv: RunningServer | undefined;
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-faults-'));
    fs.writeFileSync(path.join(dir, 'tokens.csv'), 'user-token,alice,1001,"team"\n');
  });
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is an unknown path unless the server was started with faults', async () => {
    srv = await start();
    expect((await raw(srv, 'GET', '/debug/faults')).status).to.equal(404);
    expect((await raw(srv, 'PUT', '/debug/faults', { errors: { rate: 1 } })).status).to.equal(404);
    expect(srv.faults.config()).to.equal(undefined);
  });

  it('GET, PUT and DELETE the faults on every shard port, for admins; never faulted itself', async () => {
    srv = await start({ faults: {}, shards: 2, tokenFile: path.join(dir, 'tokens.csv') });
    const s = srv;
    const got = await raw(s, 'GET', '/debug/faults');
    expect(got.status).to.equal(200);
    expect(got.json).to.deep.equal({ config: {}, stats: {} });

    const put = await raw(s, 'PUT', '/debug/faults', { seed: 1, errors: { rate: 1, codes: [500] } });
    expect(put.status, put.text).to.equal(200);
    expect(put.json['config']).to.deep.equal({ seed: 1, errors: { rate: 1, codes: [500], retryAfterSeconds: 1 } });
    expect((await raw(s, 'GET', CM)).status).to.equal(500);
    // The endpoint stays usable while every other request fails, on the second shard's port too.
    const other = { ...s, url: s.shardURLs[1]! };
    const viaShard = await raw(other, 'GET', '/debug/faults');
    expect(viaShard.status).to.equal(200);
    expect(viaShard.json['stats']).to.deep.equal({ error500: 1 });

    const bad = await raw(s, 'PUT', '/debug/faults', { errors: { codes: [404] } });
    expect(bad.status).to.equal(400);
    expect(bad.json['message']).to.equal('invalid fault config: errors.codes must be a non-empty list of 500 and 429');
    expect((await raw(s, 'PUT', '/debug/faults', '{not json')).status).to.equal(400);
    expect((await raw(s, 'GET', '/debug/faults', undefined, { Authorization: 'Bearer user-token' })).status).to.equal(403);
    expect((await raw(s, 'POST', '/debug/faults', {})).status).to.equal(405);

    const del = await raw(s, 'DELETE', '/debug/faults');
    expect(del.status).to.equal(200);
    expect(del.json).to.deep.equal({ config: null, stats: { error500: 1 } });
    expect((await raw(s, 'GET', CM)).status).to.equal(200);
  });
});
