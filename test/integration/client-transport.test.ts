/** Transport: keep-alive socket reuse, credentials from KubeConfig (exec plugin refresh), 429 retries, abort, timeouts. */
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ApiError, isNetworkError, isNotFound, isTooManyRequests, NetworkError, Transport } from '../../src/client/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, kubeConfigFor, start } from '../support/server.js';

const TOKEN = 'sekrit-token-do-not-log';

/** A loopback HTTP server with scripted answers, counting connections and recording Authorization. */
class FakeAPI {
  readonly server: http.Server;
  readonly auth: (string | undefined)[] = [];
  readonly sockets = new Set<Socket>();
  connections = 0;
  hits = new Map<string, number>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const full = (req.url ?? '').split('?')[0]!;
      this.auth.push(req.headers.authorization);
      const n = (this.hits.get(full) ?? 0) + 1;
      this.hits.set(full, n);
      // Answers the same under a cluster prefix, as a workspace root would.
      const p = full.replace(/^\/clusters\/[^/]+/, '');
      const json = (code: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const tooMany = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', message: 'slow down', code: 429 };
      switch (p) {
        case '/ok':
          return json(200, { ok: true, query: req.url });
        case '/echo': {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => json(200, { method: req.method, type: req.headers['content-type'], body: Buffer.concat(chunks).toString() }));
          return;
        }
        case '/429-once':
          return n === 1 ? json(429, tooMany, { 'Retry-After': '1' }) : json(200, { attempts: n });
        case '/429-always':
          return json(429, tooMany, { 'Retry-After': '0' });
        case '/429-long':
          return json(429, tooMany, { 'Retry-After': '3600' });
        case '/html':
          res.writeHead(502, { 'Content-Type': 'text/html' });
          return res.end('<html><body>bad gateway</body></html>');
        case '/hang':
          return; // never answers
        default:
          return json(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'not here', code: 404 });
      }
    });
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function kubeConfig(server: string, user: Record<string, unknown> = { name: 'u', token: TOKEN }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [user],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('client: Transport (loopback HTTP)', () => {
  let api: FakeAPI;
  let url: string;
  let t: Transport;

  beforeEach(async () => {
    api = new FakeAPI();
    url = await api.listen();
    t = Transport.fromKubeConfig(kubeConfig(`${url}/clusters/root/`));
  });
  afterEach(async () => {
    t.close();
    await api.stop();
  });

  it('normalises the server URL and joins paths under it', async () => {
    expect(t.server).to.equal(`${url}/clusters/root`);
    const res = await t.request({ url: '/x', query: { a: 1, b: undefined, c: 'x y' } });
    expect(res.status).to.equal(404);
    await res.text();
    expect([...api.hits.keys()]).to.deep.equal(['/clusters/root/x']);
    const abs = await t.requestJSON<{ query: string }>({ url: `${url}/ok`, query: { watch: true } });
    expect(abs.query).to.equal('/ok?watch=true');
  });

  it('sends the token from the KubeConfig, JSON bodies and content types', async () => {
    const r = await t.requestJSON<{ method: string; type: string; body: string }>({ method: 'patch', url: `${url}/echo`, body: { a: 1 }, contentType: 'application/merge-patch+json' });
    expect(r).to.deep.equal({ method: 'PATCH', type: 'application/merge-patch+json', body: '{"a":1}' });
    const s = await t.requestJSON<{ body: string; type: string }>({ method: 'POST', url: `${url}/echo`, body: 'raw text', contentType: 'text/plain' });
    expect(s).to.include({ body: 'raw text', type: 'text/plain' });
    expect(api.auth).to.deep.equal([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('asks client-node for credentials on every request, so exec-plugin tokens refresh', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-exec-'));
    const counter = path.join(dir, 'n');
    // An exec plugin whose credential is already expired: client-node runs it for every request.
    const script =
      "const fs=require('fs');const f=process.argv[1];const n=(fs.existsSync(f)?+fs.readFileSync(f,'utf8'):0)+1;fs.writeFileSync(f,String(n));" +
      "process.stdout.write(JSON.stringify({apiVersion:'client.authentication.k8s.io/v1beta1',kind:'ExecCredential',status:{token:'exec-'+n,expirationTimestamp:'2000-01-01T00:00:00Z'}}))";
    const tx = Transport.fromKubeConfig(
      kubeConfig(url, { name: 'u', exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: ['-e', script, counter], interactiveMode: 'Never' } }),
    );
    try {
      for (let i = 0; i < 3; i++) await tx.requestJSON({ url: '/ok' });
      expect(api.auth).to.deep.equal(['Bearer exec-1', 'Bearer exec-2', 'Bearer exec-3']);
      expect(api.connections).to.equal(1);
    } finally {
      tx.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reuses one keep-alive socket for sequential requests', async () => {
    for (let i = 0; i < 200; i++) await t.requestJSON({ url: '/ok' });
    expect(api.connections).to.be.at.most(2);
    const [stats] = t.socketStats();
    expect(stats!.origin).to.equal(url);
    expect(stats!.created).to.be.at.most(2);
  });

  it('throws typed errors for non-2xx, with no token in the message', async () => {
    const e = await t.requestJSON({ url: '/nope' }).catch((x: unknown) => x);
    expect(isNotFound(e)).to.equal(true);
    expect((e as ApiError).request).to.deep.equal({ method: 'GET', path: '/clusters/root/nope' });
    const h = (await t.requestJSON({ url: `${url}/html` }).catch((x: unknown) => x)) as ApiError;
    expect(h.code).to.equal(502);
    expect(h.message).to.contain('bad gateway');
    for (const x of [e, h]) expect(JSON.stringify({ m: (x as Error).message, s: String(x), o: x })).not.to.contain(TOKEN);
  });

  it('retries 429 after Retry-After, and gives up after bounded attempts', async () => {
    const t0 = Date.now();
    const r = await t.requestJSON<{ attempts: number }>({ url: `${url}/429-once` });
    expect(r.attempts).to.equal(2);
    expect(Date.now() - t0).to.be.at.least(950);
    const e = await t.requestJSON({ url: `${url}/429-always` }).catch((x: unknown) => x);
    expect(isTooManyRequests(e)).to.equal(true);
    expect(api.hits.get('/429-always')).to.equal(5);
    // A Retry-After longer than we are willing to wait is handed back at once.
    const long = (await t.requestJSON({ url: `${url}/429-long` }).catch((x: unknown) => x)) as ApiError;
    expect(long.retryAfterSeconds).to.equal(3600);
    expect(api.hits.get('/429-long')).to.equal(1);
  });

  it('aborts a Retry-After wait and an in-flight request', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const e = await t.requestJSON({ url: `${url}/429-once`, signal: ac.signal }).catch((x: unknown) => x);
    expect((e as Error).name).to.equal('AbortError');
    expect(Date.now() - t0).to.be.below(900);
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 50);
    const e2 = await t.request({ url: `${url}/hang`, signal: ac2.signal }).catch((x: unknown) => x);
    expect((e2 as Error).name).to.equal('AbortError');
    expect(isNetworkError(e2)).to.equal(false);
  });

  it('times out waiting for response headers with a NetworkError', async () => {
    const e = await t.request({ url: `${url}/hang`, timeoutMs: 100 }).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(NetworkError);
    expect((e as NetworkError).code).to.equal('ETIMEDOUT');
    expect(isNetworkError(e)).to.equal(true);
  });

  it('reports refused connections as NetworkError without the token', async () => {
    const dead = t.withServer('http://127.0.0.1:1');
    const e = await dead.request({ url: '/x' }).catch((x: unknown) => x);
    expect(isNetworkError(e)).to.equal(true);
    expect((e as Error).message).to.contain('ECONNREFUSED').and.not.contain(TOKEN);
    dead.close();
  });

  it('withServer shares credentials and agents; closing a derived transport keeps shared agents', async () => {
    const other = t.withServer(`${url}/services/apiexport/abc/widgets/`);
    expect(other.server).to.equal(`${url}/services/apiexport/abc/widgets`);
    await t.requestJSON({ url: `${url}/ok` });
    await other.requestJSON({ url: `${url}/ok` });
    expect(api.auth).to.deep.equal([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(api.connections).to.equal(1);
    other.close();
    await t.requestJSON({ url: `${url}/ok` });
    expect(api.connections).to.equal(1);
    await other.request({ url: '/ok' }).then(
      () => expect.fail('closed transport answered'),
      (e: unknown) => expect((e as Error).message).to.contain('closed'),
    );
  });

  it('close() destroys the sockets', async () => {
    await t.requestJSON({ url: '/ok' });
    expect(api.sockets.size).to.equal(1);
    t.close();
    await eventually(() => api.sockets.size === 0, 'server-side sockets closed');
    await eventually(() => t.socketStats()[0]!.open === 0, 'client-side sockets closed');
  });
});

describe('client: Transport (reference server, HTTPS)', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await start();
  });
  after(() => srv.stop());

  it('200 sequential requests use at most 2 TLS sockets', async () => {
    const t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    try {
      for (let i = 0; i < 200; i++) await t.requestJSON({ url: '/api/v1/namespaces/default/configmaps' });
      const stats = t.socketStats();
      expect(stats).to.have.length(1);
      expect(stats[0]!.created).to.be.at.most(2);
    } finally {
      t.close();
    }
  });

  it('concurrent requests open several sockets, then reuse them', async () => {
    const t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    try {
      await Promise.all(Array.from({ length: 10 }, () => t.requestJSON({ url: '/api/v1/namespaces' })));
      const after1 = t.socketStats()[0]!.created;
      expect(after1).to.be.at.most(10);
      for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 10 }, () => t.requestJSON({ url: '/api/v1/namespaces' })));
      expect(t.socketStats()[0]!.created).to.equal(after1);
    } finally {
      t.close();
    }
  });

  it('50 concurrent requests on one AbortSignal: no MaxListenersExceededWarning, no listener left once they settle', async () => {
    const t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      const signal = ac.signal;
      // Every way a request settles: a parsed 2xx, a typed error, a raw response read to the end,
      // one whose body the caller destroys, and one still streaming when the signal fires.
      await Promise.all([
        ...Array.from({ length: 50 }, () => t.requestJSON({ url: '/api/v1/namespaces', signal })),
        ...Array.from({ length: 5 }, () => t.requestJSON({ url: '/api/v1/namespaces/nope', signal }).catch((e: unknown) => expect(isNotFound(e)).to.equal(true))),
        ...Array.from({ length: 5 }, async () => (await t.request({ url: '/api/v1/namespaces', signal })).text()),
      ]);
      expect(getEventListeners(signal, 'abort'), 'abort listeners once every request settled').to.have.length(0);
      // A destroyed stream says so on its 'close', a tick later.
      const destroyed = await Promise.all(Array.from({ length: 15 }, () => t.request({ url: '/api/v1/namespaces', signal })));
      for (const r of destroyed) r.body.destroy();
      await eventually(() => getEventListeners(signal, 'abort').length === 0, 'no abort listener left after the bodies were destroyed');
      const watches = await Promise.all(Array.from({ length: 20 }, () => t.request({ url: '/api/v1/namespaces', query: { watch: true }, signal })));
      expect(getEventListeners(signal, 'abort').length).to.be.at.most(1);
      ac.abort();
      await Promise.all(watches.map((w) => w.text().then(() => expect.fail('an aborted watch ended cleanly'), (e: unknown) => expect((e as Error).name).to.equal('AbortError'))));
      expect(getEventListeners(signal, 'abort')).to.have.length(0);
      // Warnings are emitted on the next tick; let them arrive before looking.
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
      t.close();
    }
  });

  it('bursts of 100 concurrent requests reuse the sockets of the first burst', async () => {
    // A replica renewing thousands of Leases goes up and down like this; closing every socket
    // idle beyond a small bound made it open (and handshake) dozens of sockets per burst.
    const t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    try {
      const burst = () => Promise.all(Array.from({ length: 100 }, () => t.requestJSON({ url: '/api/v1/namespaces' })));
      await burst();
      const first = t.socketStats()[0]!.created;
      for (let round = 0; round < 5; round++) await burst();
      expect(t.socketStats()[0]!.created).to.equal(first);
    } finally {
      t.close();
    }
  });

  it('the TLS sockets of a pool share one secure context (the CA is parsed once, not per socket)', async () => {
    const tlsModule = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
    const original = tlsModule.createSecureContext;
    let contexts = 0;
    tlsModule.createSecureContext = (options) => {
      contexts++;
      return original(options);
    };
    const t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    try {
      await Promise.all(Array.from({ length: 20 }, () => t.requestJSON({ url: '/api/v1/namespaces' })));
      expect(t.socketStats()[0]!.created).to.be.greaterThan(1);
      expect(contexts).to.be.at.most(1);
    } finally {
      tlsModule.createSecureContext = original;
      t.close();
    }
  });

  it('maxSockets caps the sockets per origin', async () => {
    const t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'), { maxSockets: 2 });
    try {
      await Promise.all(Array.from({ length: 20 }, () => t.requestJSON({ url: '/api/v1/namespaces' })));
      expect(t.socketStats()[0]!.created).to.be.at.most(2);
    } finally {
      t.close();
    }
  });
});
