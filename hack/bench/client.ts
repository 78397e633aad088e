/**
 * Raw HTTP clients for the benchmark: request/response over a keep-alive `http.Agent`, and watch
 * streams parsed as newline-delimited JSON. Deliberately thin, so that the figures are mostly the
 * server's cost; but every response is read in full and every watch line is JSON-parsed, as a real
 * client would.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { nowMs, waitFor } from './stats.js';

/** A response read in full. */
export interface Reply {
  status: number;
  text: string;
}

/** The request function and a keep-alive agent for the server's scheme (HTTPS trusts its CA). */
export function transport(srv: RunningServer, maxSockets: number): { agent: http.Agent; request: typeof http.request } {
  const opts = { keepAlive: true, maxSockets, maxFreeSockets: Number.isFinite(maxSockets) ? maxSockets : 256 };
  if (new URL(srv.url).protocol === 'https:') return { agent: new https.Agent({ ...opts, ca: srv.ca }), request: https.request };
  return { agent: new http.Agent(opts), request: http.request };
}

/** Requests with the admin token over one keep-alive agent. */
export class HttpClient {
  readonly agent: http.Agent;
  private readonly send: typeof http.request;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly srv: RunningServer,
    maxSockets: number,
    private readonly timeoutMs = 10_000,
  ) {
    const u = new URL(srv.url);
    this.host = u.hostname;
    this.port = Number(u.port);
    ({ agent: this.agent, request: this.send } = transport(srv, maxSockets));
  }

  /** One request; resolves with the whole body, rejects on network errors and the time bound. */
  request(method: string, path: string, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {
        Authorization: `Bearer ${this.srv.token}`,
        Accept: 'application/json',
        'User-Agent': 'kcp-bench/0.1',
      };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(body);
      }
      const req = this.send({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.end(body);
    });
  }

  /** A request that must answer `want`; returns the body text. */
  async expect(want: number, method: string, path: string, body?: string): Promise<string> {
    const r = await this.request(method, path, body);
    if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} (want ${want}): ${r.text.slice(0, 200)}`);
    return r.text;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Counts the events of one raw watch stream until it has seen `want` matching ones. */
export class WatchCounter {
  /** Events that matched `accept`. */
  count = 0;
  /** Lines received in total (including bookmarks and events that did not match). */
  lines = 0;
  /** Characters received (bytes, for the ASCII JSON the benchmark writes). */
  bytes = 0;
  /** Events whose resourceVersion was not greater than the previous one's. */
  outOfOrder = 0;
  /** When the `want`-th matching event arrived (monotonic ms), or undefined. */
  doneAt: number | undefined;
  /** Why the stream stopped before `want` events (server closed it, network error), if it did. */
  endedEarly: string | undefined;
  status = 0;
  readonly opened: Promise<void>;
  readonly done: Promise<void>;
  private req: http.ClientRequest | undefined;
  private lastRV = 0;
  private closing = false;
  private finish!: () => void;
  private fail!: (e: Error) => void;

  constructor(
    srv: RunningServer,
    path: string,
    client: { agent: http.Agent; request: typeof http.request },
    private readonly want: number,
    private readonly accept: (ev: { type: string; object: { metadata?: { name?: string; resourceVersion?: string } } }) => boolean,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = (e) => {
        if (this.doneAt === undefined && !this.closing) this.endedEarly ??= e.message;
        reject(e);
      };
    });
    this.done.catch(() => undefined);
    const u = new URL(srv.url);
    this.opened = new Promise<void>((resolve, reject) => {
      const req = client.request(
        { host: u.hostname, port: Number(u.port), path, agent: client.agent, headers: { Authorization: `Bearer ${srv.token}`, 'User-Agent': 'kcp-bench/0.1' } },
        (res) => {
          this.status = res.statusCode ?? 0;
          if (this.status !== 200) {
            reject(new Error(`watch ${path}: ${this.status}`));
            res.resume();
            return;
          }
          resolve();
          res.setEncoding('utf8');
          let buf = '';
          res.on('data', (chunk: string) => {
            this.bytes += chunk.length;
            buf += chunk;
            let start = 0;
            let nl: number;
            while ((nl = buf.indexOf('\n', start)) >= 0) {
              this.line(buf.slice(start, nl));
              start = nl + 1;
            }
            buf = start === 0 ? buf : buf.slice(start);
          });
          res.on('end', () => this.fail(new Error(`watch ended by the server after ${this.count}/${this.want} events`)));
          res.on('error', (e) => this.fail(e));
        },
      );
      req.on('error', (e) => {
        reject(e);
        this.fail(e);
      });
      req.end();
      this.req = req;
    });
    this.opened.catch(() => undefined);
  }

  private line(text: string): void {
    if (text.length === 0) return;
    this.lines++;
    const ev = JSON.parse(text) as { type: string; object: { metadata?: { name?: string; resourceVersion?: string } } };
    const rv = Number(ev.object?.metadata?.resourceVersion ?? 0);
    if (rv <= this.lastRV) this.outOfOrder++;
    this.lastRV = rv;
    if (!this.accept(ev)) return;
    this.count++;
    if (this.count === this.want) {
      this.doneAt = nowMs();
      this.finish();
    }
  }

  close(): void {
    this.closing = true;
    this.req?.destroy();
  }
}

/** A fresh in-process server with a logical cluster and a namespace ready for writes. */
export interface BenchServer {
  srv: RunningServer;
  /** `/clusters/<name>/api/v1/namespaces/<ns>/configmaps` */
  configMaps: string;
  stop(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1:0, creates a logical cluster and a namespace in it, and waits (bounded)
 * until the server's own controllers have published the namespace's `kube-root-ca.crt`, so that no
 * background write falls into a measurement.
 */
export async function benchServer(opts: { tls: boolean }, namespace = 'bench'): Promise<BenchServer> {
  const srv = await startServer({ port: 0, bind: '127.0.0.1', tls: opts.tls });
  const cluster = srv.createLogicalCluster();
  const c = new HttpClient(srv, 1);
  try {
    await c.expect(201, 'POST', `/clusters/${cluster}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }));
    const caPath = `/clusters/${cluster}/api/v1/namespaces/${namespace}/configmaps/kube-root-ca.crt`;
    let published = false;
    const deadline = nowMs() + 5_000;
    while (!published && nowMs() < deadline) {
      published = (await c.request('GET', caPath)).status === 200;
      if (!published) await waitFor(() => false, 5);
    }
    if (!published) throw new Error('kube-root-ca.crt was not published within 5 s');
  } finally {
    c.close();
  }
  return { srv, configMaps: `/clusters/${cluster}/api/v1/namespaces/${namespace}/configmaps`, stop: () => srv.stop() };
}

/** The JSON body of a benchmark ConfigMap. */
export function configMapBody(name: string, value: string, resourceVersion?: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { app: 'kcp-bench' }, ...(resourceVersion ? { resourceVersion } : {}) },
    data: { value, other: 'x'.repeat(64) },
  });
}
