/** Transport dispatch: connection hand-out, TLS material from the KubeConfig, bodies read whole or streamed, aborts. */
import { X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { MAX_IDLE } from '../../src/client/connections.js';
import { isNetworkError, NetworkError, Transport } from '../../src/client/index.js';
import { createWebhookCertificates, type PemPair } from '../../src/webhook/index.js';
import { eventually } from '../support/server.js';

const BIG = 1024 * 1024;

/** Answers /ok, /big (1 MiB), /part (half a body, then nothing) and /hang (nothing). */
function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  switch (req.url) {
    case '/ok':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end('{"ok":true}');
    case '/big':
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      return void res.end(Buffer.alloc(BIG, 'x'));
    case '/part':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      return void res.write('{"partial":');
    default:
      return; // /hang never answers
  }
}

async function listen(server: http.Server | https.Server): Promise<{ port: number; sockets: Set<Socket>; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, sockets, connections: () => connections };
}

async function stop(server: http.Server | https.Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
}

function kubeConfig(server: string, cluster: Record<string, unknown>, user: Record<string, unknown> = { token: 't' }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, ...cluster }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('client: Transport dispatch (loopback HTTP)', () => {
  let server: http.Server;
  let url: string;
  let sockets: Set<Socket>;
  let connections: () => number;

  beforeEach(async () => {
    server = http.createServer(handle);
    const l = await listen(server);
    ({ sockets, connections } = l);
    url = `http://127.0.0.1:${l.port}`;
  });
  afterEach(() => stop(server, sockets));

  const transport = (maxSockets?: number): Transport => Transport.fromKubeConfig(kubeConfig(url, { skipTLSVerify: true }), { maxSockets });

  it('sends a request made right after an answer on the connection that gave it', async () => {
    const t = transport();
    try {
      for (let i = 0; i < 50; i++) await t.requestJSON({ url: '/ok' });
      expect(connections()).to.equal(1);
      await Promise.all(Array.from({ length: 8 }, () => t.requestJSON({ url: '/ok' })));
      const afterBurst = connections();
      for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 8 }, () => t.requestJSON({ url: '/ok' })));
      expect(connections()).to.equal(afterBurst);
    } finally {
      t.close();
    }
  });

  it(`after a burst, keeps at most ${MAX_IDLE} idle connections open`, async () => {
    const t = transport();
    try {
      await Promise.all(Array.from({ length: MAX_IDLE + 16 }, () => t.requestJSON({ url: '/ok' })));
      expect(t.socketStats()[0]!.created).to.be.greaterThan(MAX_IDLE);
      // Well before the idle sockets' own keep-alive timeout (4 s) would close them.
      await eventually(() => t.socketStats()[0]!.open <= MAX_IDLE, `idle connections beyond ${MAX_IDLE} closed`, 2_000);
      expect(await t.requestJSON({ url: '/ok' })).to.deep.equal({ ok: true });
    } finally {
      t.close();
    }
  });

  it('sends a write again, once, on a fresh connection when the server resets a reused one', async () => {
    // The server resets every connection on its second request, as one that closed it while idle would.
    const served = new WeakMap<Socket, number>();
    let seen = 0;
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen++;
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1) return void req.socket.destroy();
      handle(req, res);
    });
    const t = transport();
    try {
      await t.requestJSON({ method: 'POST', url: '/ok', body: {} });
      expect(await t.requestJSON({ method: 'POST', url: '/ok', body: {} })).to.deep.equal({ ok: true });
      expect(seen).to.equal(3);
      expect(connections()).to.equal(2);
      // A reset on a fresh connection is the caller's to see.
      server.removeAllListeners('request');
      server.on('request', (req: http.IncomingMessage) => void req.socket.destroy());
      const e = await t.requestJSON({ method: 'POST', url: '/ok', body: {} }).then(
        () => expect.fail('a reset connection answered'),
        (err: unknown) => err as NetworkError,
      );
      expect(e).to.be.instanceOf(NetworkError);
    } finally {
      t.close();
    }
  });

  it('reads a large answer whole even when it is read late, and streams an answer that already arrived', async () => {
    const t = transport();
    try {
      const late = await t.request({ url: '/big' });
      // The answer keeps arriving while nobody reads it; the socket waits once enough is buffered.
      await new Promise((r) => setTimeout(r, 50));
      expect((await late.bytes()).length).to.equal(BIG);
      const arrived = await t.request({ url: '/ok' });
      await new Promise((r) => setTimeout(r, 20));
      const chunks: Buffer[] = [];
      for await (const c of arrived.body) chunks.push(c as Buffer);
      expect(JSON.parse(Buffer.concat(chunks).toString())).to.deep.equal({ ok: true });
      expect((await arrived.bytes()).length, 'a body read to its end reads empty again').to.equal(0);
      const streamed = await t.request({ url: '/big' });
      let n = 0;
      for await (const c of streamed.body) n += (c as Buffer).length;
      expect(n).to.equal(BIG);
      expect(connections()).to.equal(1);
    } finally {
      t.close();
    }
  });

  it('an abort while the body is read rejects the read with the reason and frees the connection', async () => {
    const t = transport(1);
    try {
      const ac = new AbortController();
      const res = await t.request({ url: '/part', signal: ac.signal });
      const reading = res.text();
      ac.abort(new Error('stop reading'));
      await reading.then(
        () => expect.fail('an aborted read resolved'),
        (e: unknown) => expect((e as Error).message).to.equal('stop reading'),
      );
      // The one connection allowed is free again.
      expect(await t.requestJSON({ url: '/ok' })).to.deep.equal({ ok: true });
    } finally {
      t.close();
    }
  });

  it('a request waiting for one of maxSockets connections can be aborted or time out; one waiting at close() fails', async () => {
    const t = transport(1);
    try {
      const hanging = t.request({ url: '/hang' }).catch((e: unknown) => e);
      await eventually(() => sockets.size === 1, 'the hanging request holds the connection');
      const ac = new AbortController();
      const waiting = t.request({ url: '/ok', signal: ac.signal });
      ac.abort();
      await waiting.then(
        () => expect.fail('an aborted request answered'),
        (e: unknown) => expect((e as Error).name).to.equal('AbortError'),
      );
      const late = await t.request({ url: '/ok', timeoutMs: 150 }).then(
        () => expect.fail('a request answered while the one connection hung'),
        (e: unknown) => e as Error,
      );
      expect(late, late.message).to.be.instanceOf(NetworkError);
      expect((late as NetworkError).code).to.equal('ETIMEDOUT');
      const queued = t.request({ url: '/ok' });
      t.close();
      await queued.then(
        () => expect.fail('a request answered after close()'),
        (e: unknown) => expect((e as Error).message).to.contain('closed'),
      );
      expect(isNetworkError(await hanging), 'the request in flight fails too').to.equal(true);
    } finally {
      t.close();
    }
  });
});

describe('client: Transport dispatch through a proxy-url', () => {
  it('sends requests through the cluster proxy, with the credentials and body', async () => {
    const target = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ auth: req.headers.authorization, body: Buffer.concat(chunks).toString() }));
      });
    });
    // A tunnelling proxy (HTTP CONNECT), as client-node's proxy agent expects.
    const seen: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    const tunnels = new Set<Socket>();
    proxy.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
      seen.push(`${req.method} ${req.url}`);
      const [host, port] = req.url!.split(':');
      const up = net.connect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client).pipe(up);
      });
      for (const s of [up, client]) {
        tunnels.add(s);
        s.on('error', () => undefined).on('close', () => tunnels.delete(s));
      }
    });
    const t1 = await listen(target);
    const p1 = await listen(proxy);
    const server = `http://127.0.0.1:${t1.port}`;
    const t = Transport.fromKubeConfig(kubeConfig(server, { skipTLSVerify: true, proxyUrl: `http://127.0.0.1:${p1.port}` }, { token: 'via-proxy' }));
    try {
      const r = await t.requestJSON<{ auth: string; body: string }>({ method: 'POST', url: '/x', body: { a: 1 } });
      expect(r).to.deep.equal({ auth: 'Bearer via-proxy', body: '{"a":1}' });
      expect(seen).to.deep.equal([`CONNECT 127.0.0.1:${t1.port}`]);
    } finally {
      t.close();
      for (const s of tunnels) s.destroy();
      await stop(proxy, p1.sockets);
      await stop(target, t1.sockets);
    }
  });
});

describe('client: Transport dispatch (loopback HTTPS, TLS material from the KubeConfig)', () => {
  let ca: PemPair;
  let serving: PemPair;
  let client: PemPair;
  let server: https.Server;
  let url: string;
  let sockets: Set<Socket>;
  const peers: (string | undefined)[] = [];

  before(async () => {
    ({ ca, serving } = await createWebhookCertificates({ hosts: ['127.0.0.1'] }));
    ({ serving: client } = await createWebhookCertificates({ hosts: ['client.test'], ca }));
    // Asks for a client certificate without judging it: the test compares what arrives.
    server = https.createServer({ cert: serving.cert, key: serving.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      peers.push((req.socket as TLSSocket).getPeerCertificate().fingerprint256 || undefined);
      handle(req, res);
    });
    const l = await listen(server);
    sockets = l.sockets;
    url = `https://127.0.0.1:${l.port}`;
  });
  after(() => stop(server, sockets));

  it('trusts the CA, presents the client certificate, and refuses an unknown CA unless told to skip verification', async () => {
    const withCert = Transport.fromKubeConfig(kubeConfig(url, { caData: b64(ca.cert) }, { certData: b64(client.cert), keyData: b64(client.key) }));
    const unknownCA = Transport.fromKubeConfig(kubeConfig(url, {}));
    const skip = Transport.fromKubeConfig(kubeConfig(url, { skipTLSVerify: true }));
    try {
      peers.length = 0;
      expect(await withCert.requestJSON({ url: '/ok' })).to.deep.equal({ ok: true });
      expect(peers).to.deep.equal([new X509Certificate(client.cert).fingerprint256]);
      const e = await unknownCA.requestJSON({ url: '/ok' }).then(
        () => expect.fail('a server signed by an unknown CA was trusted'),
        (err: unknown) => err,
      );
      expect(isNetworkError(e), String(e)).to.equal(true);
      expect(await skip.requestJSON({ url: '/ok' })).to.deep.equal({ ok: true });
      expect(peers[1], 'no client certificate without one in the kubeconfig').to.equal(undefined);
    } finally {
      withCert.close();
      unknownCA.close();
      skip.close();
    }
  });
});
