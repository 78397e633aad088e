/**
 * HTTP(S) transport over client-node's `KubeConfig`: credentials, TLS material, exec plugins and
 * token refresh come from `kc.applyToHTTPSOptions` on every request; connections come from our own
 * keep-alive pools (agents.ts, connections.ts) and requests go out through undici (dispatch.ts).
 * Everything else in the library talks to servers through this.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Readable } from 'node:stream';
import type { KubeConfigLike } from './kubeconfig.js';
import { AgentPool, type SocketStats, type TLSMaterial } from './agents.js';
import { abortError, sleep } from './abort.js';
import { dispatch, type Outgoing } from './dispatch.js';
import { dispatchViaAgent } from './dispatch-proxy.js';
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
    private readonly kc: KubeConfigLike,
    /** the current context's server URL (may carry a path like /clusters/root:org or /services/apiexport/<c>/<e>) */
    readonly server: string,
    private readonly pool: AgentPool,
    private readonly userAgent: string,
    // The transport made by fromKubeConfig owns the pool; those from withServer only borrow it.
    private readonly ownsPool: boolean,
  ) {}

  /** A transport for the current context of `kc`. */
  static fromKubeConfig(kc: KubeConfigLike, opts: TransportOptions = {}): Transport {
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
    // the TLS material. It also builds a throwaway agent, which only a proxied cluster uses.
    const opts: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    // Lower-case names, so that a caller's header replaces a default whatever its spelling.
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    if (opts.auth) headers['authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    addHeaders(headers, opts.headers as Record<string, unknown> | undefined);
    addHeaders(headers, o.headers);
    if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    const out: Outgoing = { method, url, headers, body, signal: o.signal, timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS };

    // A proxy agent from client-node knows how to tunnel (HTTP CONNECT or SOCKS); keep it.
    if (typeof opts.agent === 'object' && this.kc.getCurrentCluster()?.proxyUrl) return dispatchViaAgent(opts.agent, out, (s) => this.pool.track(url.origin, s));
    const tls: TLSMaterial = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
    };
    return dispatch(this.pool.poolFor(url.origin, tls, this), out);
  }
}

function addHeaders(into: Record<string, string>, from: Record<string, unknown> | undefined): void {
  if (!from) return;
  for (const k in from) {
    const v = from[k];
    if (v !== undefined) into[k.toLowerCase()] = String(v);
  }
}
