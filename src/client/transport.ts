/**
 * HTTP(S) transport over client-node's `KubeConfig`: credentials, TLS material, exec plugins and
 * token refresh come from `kc.applyToHTTPSOptions` on every request; connections come from our own
 * keep-alive agents (see agents.ts). Everything else in the library talks to servers through this.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { AgentPool, type SocketStats, type TLSMaterial } from './agents.js';
import { abortError, onAbort, sleep } from './abort.js';
import { apiErrorFromResponse, NetworkError } from './errors.js';
import { isAbsoluteURL, joinURL, withQuery } from './url.js';

export { joinURL } from './url.js';

/** One HTTP request. */
export interface RequestOptions {
  /** HTTP method; default GET. */
  method?: string;
  /** absolute URL, or a path joined to `base` */
  url: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON-serialised unless Buffer/string. */
  body?: unknown;
  /** Content-Type of the body; default `application/json`. */
  contentType?: string;
  /** Extra headers; they override the defaults (Accept, User-Agent). */
  headers?: Record<string, string>;
  /** Aborts the request, and the response body if it is still streaming. */
  signal?: AbortSignal;
  /** ms until response headers; default 30s */
  timeoutMs?: number;
}

/** A response whose body has not been read yet. */
export interface RawResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers. */
  headers: http.IncomingHttpHeaders;
  /** the body stream; consume or destroy it */
  body: Readable;
  /** Reads the whole body as UTF-8. */
  text(): Promise<string>;
  /** Reads the whole body as bytes. */
  bytes(): Promise<Buffer>;
  /** Reads the whole body and parses it as JSON. */
  json<T>(): Promise<T>;
}

/** Options of `Transport.fromKubeConfig`. */
export interface TransportOptions {
  /** User-Agent header; default `kcp-multicluster-provider`. */
  userAgent?: string;
  /** Cap on concurrent sockets per origin and TLS material; default unlimited (watches hold sockets). */
  maxSockets?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'kcp-multicluster-provider';
/** Attempts `requestJSON` makes when the server answers 429 TooManyRequests. */
const MAX_ATTEMPTS_ON_429 = 5;
/** Longest Retry-After `requestJSON` waits out; a longer one is returned to the caller as the error. */
const MAX_RETRY_AFTER_SECONDS = 60;

// Listeners rather than `for await`: the async iterator costs a promise and a queue per chunk,
// and most answers are one chunk.
function readBytes(body: Readable): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer | string): void => void chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    // A body destroyed before its end (an abort) ends without 'end'.
    const onClose = (): void => {
      cleanup();
      reject(body.errored ?? new NetworkError('response body closed before its end', { code: 'ECONNRESET' }));
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    if (body.readableEnded) return resolve(Buffer.alloc(0));
    if (body.destroyed) return onClose();
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

async function readAll(body: Readable): Promise<string> {
  return (await readBytes(body)).toString('utf8');
}

function encodeBody(o: RequestOptions): Buffer | undefined {
  if (o.body === undefined) return undefined;
  if (Buffer.isBuffer(o.body)) return o.body;
  if (typeof o.body === 'string') return Buffer.from(o.body, 'utf8');
  return Buffer.from(JSON.stringify(o.body), 'utf8');
}

/** REST transport for one base URL, with the credentials and TLS material of a KubeConfig. */
export class Transport {
  private closed = false;

  private constructor(
    private readonly kc: KubeConfig,
    /** the current context's server URL (may carry a path like /clusters/root:org or /services/apiexport/<c>/<e>) */
    readonly server: string,
    private readonly pool: AgentPool,
    private readonly userAgent: string,
    // The transport made by fromKubeConfig owns the pool; those from withServer only borrow it.
    private readonly ownsPool: boolean,
  ) {}

  /** A transport for the current context of `kc`. */
  static fromKubeConfig(kc: KubeConfig, opts: TransportOptions = {}): Transport {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    // client-node refuses every request to a plain-HTTP server unless the cluster skips TLS
    // verification; say so once here instead of failing (and being retried) on each request.
    if (/^http:/i.test(cluster.server) && !cluster.skipTLSVerify) {
      throw new Error(`kubeconfig cluster ${JSON.stringify(cluster.name)} serves plain HTTP (${cluster.server}): set insecure-skip-tls-verify: true to use it, or use https`);
    }
    return new Transport(kc, cluster.server.replace(/\/+$/, ''), new AgentPool(opts.maxSockets), opts.userAgent ?? DEFAULT_USER_AGENT, true);
  }

  /** a Transport for another base URL with the same credentials and TLS material (e.g. a VW endpoint URL from an endpoint slice) */
  withServer(url: string): Transport {
    if (!isAbsoluteURL(url)) throw new Error(`withServer needs an absolute http(s) URL, got ${JSON.stringify(url)}`);
    return new Transport(this.kc, url.replace(/\/+$/, ''), this.pool, this.userAgent, false);
  }

  /** Sends one request; resolves on response headers whatever the status; rejects on network errors and abort. */
  async request(o: RequestOptions): Promise<RawResponse> {
    const body = encodeBody(o);
    try {
      return await this.send(o, body);
    } catch (e) {
      // A keep-alive socket the server closed while idle fails at once with ECONNRESET; Node's
      // documented remedy is one retry on a fresh socket. The server never saw the request.
      if (e instanceof NetworkError && e.reusedSocket && e.code === 'ECONNRESET' && !o.signal?.aborted) {
        return this.send(o, body);
      }
      throw e;
    }
  }

  /**
   * Sends one request and parses a 2xx JSON body; a non-2xx answer throws the typed `ApiError`.
   * 429 TooManyRequests is retried after its Retry-After (default 1 s), a bounded number of times.
   */
  async requestJSON<T>(o: RequestOptions): Promise<T> {
    const body = await this.requestBytes(o);
    // 204 and empty bodies have no JSON; callers asking for void get undefined.
    return (body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined) as T;
  }

  /** As `requestJSON`, returning the 2xx body's bytes undecoded. */
  async requestBytes(o: RequestOptions): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.request(o);
      if (res.status >= 200 && res.status < 300) return res.bytes();
      const err = apiErrorFromResponse(res.status, await res.text(), res.headers, {
        method: (o.method ?? 'GET').toUpperCase(),
        path: new URL(this.urlOf(o)).pathname,
      });
      const wait = err.retryAfterSeconds ?? 1;
      if (res.status !== 429 || attempt >= MAX_ATTEMPTS_ON_429 || wait > MAX_RETRY_AFTER_SECONDS) throw err;
      await sleep(wait * 1000, o.signal);
    }
  }

  /** open sockets per origin, for tests */
  socketStats(): SocketStats[] {
    return this.pool.socketStats();
  }

  /**
   * Destroys the agents. On a transport from `fromKubeConfig` that is every agent, including those
   * of transports derived with `withServer`; on a derived one, only the agents nobody else uses.
   */
  close(): void {
    this.closed = true;
    if (this.ownsPool) this.pool.destroyAll();
    else this.pool.release(this);
  }

  private urlOf(o: RequestOptions): string {
    return withQuery(isAbsoluteURL(o.url) ? o.url : joinURL(this.server, o.url), o.query);
  }

  private async send(o: RequestOptions, body: Buffer | undefined): Promise<RawResponse> {
    if (this.closed) throw new Error('transport is closed');
    if (o.signal?.aborted) throw abortError(o.signal);
    const url = new URL(this.urlOf(o));
    const method = (o.method ?? 'GET').toUpperCase();

    // client-node fills in Authorization (token, exec plugin, token file, OIDC), basic auth and
    // the TLS material. It also builds a throwaway agent, which we replace with a pooled one.
    const opts: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const tls: TLSMaterial = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
    };
    // A proxy agent from client-node knows how to tunnel; keep it (correct, if not pooled).
    const proxied = !!this.kc.getCurrentCluster()?.proxyUrl;
    const agent = proxied && opts.agent ? opts.agent : this.pool.agentFor(url.origin, tls, this);

    const headers: http.OutgoingHttpHeaders = {
      Accept: 'application/json',
      'User-Agent': this.userAgent,
      ...(opts.headers as http.OutgoingHttpHeaders),
      ...(o.headers ?? {}),
    };
    if (body !== undefined) {
      headers['Content-Type'] = o.contentType ?? 'application/json';
      headers['Content-Length'] = body.length;
    }

    const mod = url.protocol === 'https:' ? https : http;
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let res: http.IncomingMessage | undefined;
      const req = mod.request(url, { method, headers, agent, auth: opts.auth }, (r) => {
        res = r;
        settled = true;
        clearTimeout(timer);
        // The abort still has to reach a streaming body, until the body is over: read to its end,
        // destroyed or failed, whichever comes first.
        r.once('end', unsubscribe);
        r.once('close', unsubscribe);
        r.once('error', unsubscribe);
        resolve({
          status: r.statusCode ?? 0,
          headers: r.headers,
          body: r,
          text: () => readAll(r),
          bytes: () => readBytes(r),
          json: async <T>() => JSON.parse(await readAll(r)) as T,
        });
      });
      const signal = o.signal;
      const unsubscribe = signal
        ? onAbort(signal, () => {
            const err = abortError(signal);
            // After the headers the abort ends the body stream; the caller sees it as a stream error.
            if (res) res.destroy(err);
            req.destroy(err);
          })
        : () => undefined;
      req.once('close', unsubscribe);
      const timer = setTimeout(() => {
        req.destroy(new NetworkError(`${method} ${url.origin}${url.pathname}: no response headers within ${timeoutMs} ms`, { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      req.on('socket', (s) => this.pool.track(url.origin, s));
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        unsubscribe();
        if (o.signal?.aborted) return reject(abortError(o.signal));
        if (e instanceof NetworkError) return reject(e);
        // Only the method, origin and path go into the message: never headers, never the token.
        const ne = new NetworkError(`${method} ${url.origin}${url.pathname}: ${e.message}`, { cause: e, code: e.code });
        ne.reusedSocket = req.reusedSocket;
        reject(ne);
      });
      req.end(body);
    });
  }
}
