/** Bind addresses, the HTTP server's close, `/metrics`, and controller-runtime's healthz semantics over a loopback server. */
import * as http from 'node:http';
import { expect } from 'chai';
import { HealthChecks } from '../../src/manager/health.js';
import { metricsHandler, parseBindAddress, startHttpServer, type HttpHandler, type RunningHttpServer } from '../../src/manager/http.js';
import { RuntimeMetrics } from '../../src/metrics/index.js';

function get(base: string, path: string, opts: { method?: string; agent?: http.Agent } = {}): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method: opts.method ?? 'GET', agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('manager: parseBindAddress', () => {
  it('accepts controller-runtime forms', () => {
    expect(parseBindAddress('0')).to.equal(undefined);
    expect(parseBindAddress(':8080')).to.deep.equal({ host: '0.0.0.0', port: 8080 });
    expect(parseBindAddress('127.0.0.1:8080')).to.deep.equal({ host: '127.0.0.1', port: 8080 });
    expect(parseBindAddress('[::1]:8081')).to.deep.equal({ host: '::1', port: 8081 });
    expect(parseBindAddress('[::]:9000')).to.deep.equal({ host: '::', port: 9000 });
    expect(parseBindAddress('127.0.0.1:0')).to.deep.equal({ host: '127.0.0.1', port: 0 });
    expect(parseBindAddress('localhost:0')).to.deep.equal({ host: 'localhost', port: 0 });
    expect(parseBindAddress('metrics.example.com:65535')).to.deep.equal({ host: 'metrics.example.com', port: 65535 });
  });

  it('refuses anything else with an error naming the value', () => {
    for (const bad of ['', '8080', ':', ':http', ':-1', ':65536', ':8080x', '::1:8080', '[::1]', '[::1:8080', '[1.2.3.4]:80', '1.2.3.456:80', 'a b:80', 'host_name:80', ' :80', 'off']) {
      expect(() => parseBindAddress(bad), bad).to.throw(Error, `invalid bind address ${JSON.stringify(bad)}`);
    }
  });
});

describe('manager: startHttpServer and metricsHandler', () => {
  it('binds a free port, serves /metrics and 404s the rest', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    m.controller('w').reconciled('success', 0.1, '');
    const srv = await startHttpServer({ host: '127.0.0.1', port: 0 }, metricsHandler(m));
    try {
      expect(srv.port).to.be.greaterThan(0);
      expect(srv.url).to.equal(`http://127.0.0.1:${srv.port}`);
      const res = await get(srv.url, '/metrics');
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal(m.contentType);
      expect(res.text).to.include('controller_runtime_reconcile_total{controller="w",result="success"} 1');
      expect((await get(srv.url, '/metrics?x=1')).status).to.equal(200);
      expect((await get(srv.url, '/')).status).to.equal(404);
      expect((await get(srv.url, '/metrics/x')).status).to.equal(404);
      expect((await get(srv.url, '/metrics', { method: 'POST' })).status).to.equal(405);
    } finally {
      await srv.close();
    }
  });

  it('serves IPv6 loopback with a bracketed URL', async function () {
    let srv: RunningHttpServer;
    try {
      srv = await startHttpServer({ host: '::1', port: 0 }, (_req, res) => res.end('ok'));
    } catch {
      this.skip(); // no IPv6 loopback here
    }
    try {
      expect(srv.url).to.equal(`http://[::1]:${srv.port}`);
      expect((await get(srv.url, '/')).text).to.equal('ok');
    } finally {
      await srv.close();
    }
  });

  it('answers a throwing handler with 500, and rejects when the port is taken', async () => {
    const boom: HttpHandler = () => {
      throw new Error('boom');
    };
    const srv = await startHttpServer({ host: '127.0.0.1', port: 0 }, boom);
    try {
      const res = await get(srv.url, '/');
      expect(res.status).to.equal(500);
      expect(res.text).to.include('boom');
      let err: unknown;
      await startHttpServer({ host: '127.0.0.1', port: srv.port }, boom).then((s) => s.close(), (e: unknown) => (err = e));
      expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('EADDRINUSE');
    } finally {
      await srv.close();
    }
  });

  it('close ends idle keep-alive connections instead of waiting for them', async () => {
    const srv = await startHttpServer({ host: '127.0.0.1', port: 0 }, (_req, res) => res.end('ok'));
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect((await get(srv.url, '/', { agent })).text).to.equal('ok');
      const started = Date.now();
      await srv.close();
      expect(Date.now() - started).to.be.lessThan(1000);
      // close() is idempotent.
      await srv.close();
    } finally {
      agent.destroy();
    }
  });
});

describe('manager: HealthChecks', () => {
  let srv: RunningHttpServer;
  let health: HealthChecks;
  let ready = true;
  let hang: Promise<void>;
  let releaseHang: () => void;

  before(async () => {
    hang = new Promise<void>((r) => (releaseHang = r));
    health = new HealthChecks({ timeoutMs: 200 });
    health.addHealthzCheck('alive', () => undefined);
    health.addReadyzCheck('synced', async () => {
      await Promise.resolve();
      if (!ready) throw new Error('caches not synced');
    });
    health.addReadyzCheck('db', () => undefined);
    srv = await startHttpServer({ host: '127.0.0.1', port: 0 }, health.handler());
  });
  after(async () => {
    releaseHang();
    await srv.close();
  });

  it('aggregates passing checks as a terse 200 ok', async () => {
    ready = true;
    for (const p of ['/healthz', '/readyz', '/healthz/', '/readyz//']) {
      const res = await get(srv.url, p);
      expect(res.status, p).to.equal(200);
      expect(res.text, p).to.equal('ok');
      expect(res.headers['content-type']).to.equal('text/plain; charset=utf-8');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
    }
  });

  it('lists checks sorted by name with ?verbose, ping built into healthz', async () => {
    ready = true;
    const h = await get(srv.url, '/healthz?verbose');
    expect(h.status).to.equal(200);
    expect(h.text).to.equal('[+]alive ok\n[+]ping ok\nhealthz check passed\n');
    const r = await get(srv.url, '/readyz?verbose=1');
    expect(r.text).to.equal('[+]db ok\n[+]synced ok\nreadyz check passed\n');
  });

  it('is verbose on failure, with a 500 and the reason withheld', async () => {
    ready = false;
    const r = await get(srv.url, '/readyz');
    expect(r.status).to.equal(500);
    expect(r.text).to.equal('[+]db ok\n[-]synced failed: reason withheld\nreadyz check failed\n');
    expect(r.text).to.not.include('caches not synced');
    // Liveness does not depend on readiness checks.
    expect((await get(srv.url, '/healthz')).status).to.equal(200);
  });

  it('skips ?exclude= checks (repeatable) and warns about unknown ones', async () => {
    ready = false;
    const r = await get(srv.url, '/readyz?exclude=synced');
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('ok');
    const v = await get(srv.url, '/readyz?verbose&exclude=synced&exclude=db&exclude=nope');
    expect(v.status).to.equal(200);
    expect(v.text).to.equal('[+]db excluded: ok\n[+]synced excluded: ok\nwarn: some health checks cannot be excluded: no matches for "nope"\nreadyz check passed\n');
  });

  it('serves single checks at /<endpoint>/<name>, with the reason, and 404s unknown names and paths', async () => {
    ready = false;
    const bad = await get(srv.url, '/readyz/synced');
    expect(bad.status).to.equal(500);
    expect(bad.text).to.equal('internal server error: caches not synced\n');
    const good = await get(srv.url, '/readyz/db');
    expect(good.status).to.equal(200);
    expect(good.text).to.equal('ok');
    expect((await get(srv.url, '/healthz/ping')).text).to.equal('ok');
    expect((await get(srv.url, '/healthz/synced')).status).to.equal(404);
    expect((await get(srv.url, '/readyz/nope')).status).to.equal(404);
    expect((await get(srv.url, '/readyz/db/x')).status).to.equal(404);
    expect((await get(srv.url, '/livez')).status).to.equal(404);
    expect((await get(srv.url, '/')).status).to.equal(404);
  });

  it('fails a hung check after its timeout instead of hanging the probe', async () => {
    let sawAbort = false;
    health.addHealthzCheck('stuck', async (signal) => {
      signal.addEventListener('abort', () => (sawAbort = true));
      await hang;
    });
    const started = Date.now();
    const r = await get(srv.url, '/healthz?verbose');
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(r.status).to.equal(500);
    expect(r.text).to.equal('[+]alive ok\n[+]ping ok\n[-]stuck failed: reason withheld\nhealthz check failed\n');
    expect(sawAbort).to.equal(true);
    const one = await get(srv.url, '/healthz/stuck');
    expect(one.status).to.equal(500);
    expect(one.text).to.equal('internal server error: timed out after 200 ms\n');
    expect((await get(srv.url, '/healthz?exclude=stuck')).status).to.equal(200);
  });

  it('counts a synchronous throw or a non-Error rejection as a failure', async () => {
    const hc = new HealthChecks();
    hc.addReadyzCheck('sync', () => {
      throw new Error('nope');
    });
    // eslint-disable-next-line prefer-promise-reject-errors
    hc.addReadyzCheck('str', () => Promise.reject('str reason'));
    const { healthy, statuses } = await hc.run('readyz');
    expect(healthy).to.equal(false);
    expect(statuses.map((s) => [s.name, s.healthy, s.reason])).to.deep.equal([
      ['str', false, 'str reason'],
      ['sync', false, 'nope'],
    ]);
  });

  it('answers an endpoint without checks with a default ping, as controller-runtime does', async () => {
    const hc = new HealthChecks();
    const s = await startHttpServer({ host: '127.0.0.1', port: 0 }, hc.handler());
    try {
      expect((await get(s.url, '/readyz?verbose')).text).to.equal('[+]ping ok\nreadyz check passed\n');
      expect((await get(s.url, '/readyz/ping')).text).to.equal('ok');
    } finally {
      await s.close();
    }
  });

  it('refuses duplicate and malformed names, and honours custom endpoint paths', async () => {
    const hc = new HealthChecks({ livenessEndpoint: '/live', readinessEndpoint: 'ready/' });
    expect(() => hc.addHealthzCheck('ping', () => undefined)).to.throw(/already exists/);
    expect(() => hc.addReadyzCheck('', () => undefined)).to.throw(/non-empty path segment/);
    expect(() => hc.addReadyzCheck('a/b', () => undefined)).to.throw(/non-empty path segment/);
    expect(() => new HealthChecks({ livenessEndpoint: '/x', readinessEndpoint: '/x/' })).to.throw(/must differ/);
    const s = await startHttpServer({ host: '127.0.0.1', port: 0 }, hc.handler());
    try {
      expect((await get(s.url, '/live')).text).to.equal('ok');
      expect((await get(s.url, '/ready')).text).to.equal('ok');
      expect((await get(s.url, '/healthz')).status).to.equal(404);
    } finally {
      await s.close();
    }
  });
});
