/**
 * One request over an undici connection pool, answered as a `RawResponse` whose body is a plain
 * Readable. undici's own `request()` adds an AsyncResource, a listener on the caller's signal per
 * request (a shared signal would collect dozens) and a fetch-style body; a dispatch handler does
 * only what the transport needs.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Client, Dispatcher } from 'undici';
import { abortError, onAbort } from './abort.js';
import { readBytes } from './body.js';
import type { Connections, Release, Turn } from './connections.js';
import { NetworkError } from './errors.js';
import type { RawResponse } from './transport.js';

/** What `dispatch` sends. */
export interface Outgoing {
  /** Upper-case HTTP method. */
  method: string;
  /** Absolute URL; its origin picked the connections. */
  url: URL;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Encoded request body, if any. */
  body: Buffer | undefined;
  /** Aborts the request and a body still arriving. */
  signal: AbortSignal | undefined;
  /** ms until response headers. */
  timeoutMs: number;
}

// undici's codes for failures below HTTP, in the Node codes the rest of the library knows.
const CODES: Record<string, string> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_CLOSED: 'ECONNRESET',
  UND_ERR_DESTROYED: 'ECONNRESET',
};

/** A failure below HTTP as a NetworkError naming only the method, origin and path (never headers, never the token). */
export function networkError(method: string, url: URL, e: Error & { code?: string }): NetworkError {
  if (e instanceof NetworkError) return e;
  const code = e.code === undefined ? undefined : (CODES[e.code] ?? e.code);
  const what = e.code === 'UND_ERR_HEADERS_TIMEOUT' ? 'no response headers in time' : e.message;
  return new NetworkError(`${method} ${url.origin}${url.pathname}: ${what}`, { cause: e, code });
}

/** A response body stream fed by the dispatch handler; reading resumes the socket, destroying aborts the request. */
class ResponseBody extends Readable {
  ended = false;

  constructor(private readonly controller: Dispatcher.DispatchController) {
    super();
  }

  override _read(): void {
    if (this.controller.paused) this.controller.resume();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (!this.ended && !this.controller.aborted) this.controller.abort(err ?? new NetworkError('response body destroyed before its end', { code: 'ECONNRESET' }));
    // As node:http's IncomingMessage: the error stays in `errored`, but is emitted only to a
    // listener, so that aborting a body nobody reads any more does not crash the process.
    process.nextTick(() => cb(this.listenerCount('error') > 0 ? err : null));
  }
}

/** Bytes a response may buffer before anyone asks for them; past this the socket waits for a reader. */
const UNREAD_LIMIT = 64 * 1024;

/**
 * One request's life, from its turn on a connection to the end of the answer. Most answers are read
 * whole (`bytes`, `text`, `json`): their chunks are kept in an array and handed over at the end,
 * without a stream. The `body` stream is made only for a caller that asks for it (a watch).
 */
class Handler implements Dispatcher.DispatchHandler, Turn {
  private controller: Dispatcher.DispatchController | undefined;
  private release: Release = noop;
  private settled = false;
  private readonly unsubscribe: () => void;
  // The answer's body, until a stream or a reader takes it over.
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private error: Error | undefined;
  private stream: ResponseBody | undefined;
  private reader: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private started = false;
  private reused = false;
  private waitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Outgoing,
    private readonly resolve: (r: RawResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {
    const signal = out.signal;
    this.unsubscribe = signal ? onAbort(signal, () => this.abort(abortError(signal))) : noop;
  }

  private abort(err: Error): void {
    this.unsubscribe();
    // After the headers the abort ends the body; the caller sees it as a stream or read error.
    // The body and the promise settle first, so that undici's answer to the abort (a call to
    // onResponseError) finds them settled with the abort reason and leaves them be.
    if (this.stream) this.stream.destroy(err);
    else if (this.settled) this.bodyFailed(err);
    this.fail(err);
    this.controller?.abort(err);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.unsubscribe();
    this.reject(err);
  }

  /** Fails the request if no connection is free within its timeout (node:http's timer ran from the start too). */
  waitAtMost(ms: number): void {
    if (this.started || this.settled) return;
    this.waitTimer = setTimeout(() => {
      const { method, url } = this.out;
      this.fail(new NetworkError(`${method} ${url.origin}${url.pathname}: no connection free within ${ms} ms`, { code: 'ETIMEDOUT' }));
    }, ms);
  }

  start(client: Client, release: Release, reused: boolean): void {
    this.started = true;
    this.reused = reused;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.release = release;
    // Aborted or timed out while waiting for a connection.
    if (this.settled) return release();
    const out = this.out;
    client.dispatch(
      {
        method: out.method as Dispatcher.HttpMethod,
        path: out.url.pathname + out.url.search,
        headers: out.headers,
        body: out.body ?? null,
        headersTimeout: out.timeoutMs,
        bodyTimeout: 0,
      },
      this,
    );
  }

  closed(): void {
    this.fail(new Error('transport is closed'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Aborted while the connection was being made.
    if (this.settled) controller.abort(abortError(this.out.signal!));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.settled) return;
    this.settled = true;
    const bytes = (): Promise<Buffer> => this.bytes();
    const text = async (): Promise<string> => (await this.bytes()).toString('utf8');
    const handler = this;
    this.resolve({
      status: statusCode,
      headers,
      get body(): Readable {
        return handler.body();
      },
      text,
      bytes,
      json: async <T>() => JSON.parse(await text()) as T,
    });
  }

  /** The body as a stream, made on first use from what arrived so far. */
  private body(): Readable {
    if (this.stream) return this.stream;
    const stream = (this.stream = new ResponseBody(this.controller!));
    for (const c of this.chunks) stream.push(c);
    this.chunks = [];
    if (this.error) stream.destroy(this.error);
    else if (this.ended) {
      stream.ended = true;
      stream.push(null);
    } else if (this.out.signal) {
      // The abort still has to reach a streaming body until it is over: ended, destroyed or failed.
      stream.once('close', this.unsubscribe);
    }
    return stream;
  }

  private bytes(): Promise<Buffer> {
    if (this.stream) return readBytes(this.stream);
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(this.take());
    return new Promise<Buffer>((resolve, reject) => {
      this.reader = { resolve, reject };
      if (this.controller?.paused) this.controller.resume();
    });
  }

  // Read once: a second read finds the body used up, as a stream read to its end would.
  private take(): Buffer {
    const c = this.chunks;
    this.chunks = [];
    return c.length === 1 ? c[0]! : Buffer.concat(c);
  }

  private bodyFailed(err: Error): void {
    if (this.ended || this.error) return;
    this.error = err;
    this.chunks = [];
    const r = this.reader;
    this.reader = undefined;
    r?.reject(err);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.stream) {
      if (!this.stream.push(chunk)) controller.pause();
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > UNREAD_LIMIT && !this.reader) controller.pause();
  }

  onResponseEnd(): void {
    this.release();
    this.unsubscribe();
    if (this.stream) {
      this.stream.ended = true;
      this.stream.push(null);
      return;
    }
    if (!this.settled) return;
    this.ended = true;
    const r = this.reader;
    this.reader = undefined;
    r?.resolve(this.take());
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.release();
    if (!this.settled || this.ended || this.error) {
      if (this.out.signal?.aborted) return this.fail(abortError(this.out.signal));
      const ne = networkError(this.out.method, this.out.url, err);
      ne.reusedSocket = this.reused;
      this.fail(ne);
      return;
    }
    const e = networkError(this.out.method, this.out.url, err);
    if (this.stream) {
      if (!this.stream.destroyed) this.stream.destroy(e);
      return;
    }
    this.unsubscribe();
    this.bodyFailed(e);
  }
}

function noop(): void {}

/** Sends `out` on one of `conns`; resolves on response headers whatever the status, rejects on network errors and abort. */
export function dispatch(conns: Connections, out: Outgoing): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    if (out.signal?.aborted) return reject(abortError(out.signal));
    const handler = new Handler(out, resolve, reject);
    conns.run(handler);
    // Only a request left waiting for a connection (maxSockets) needs a timer of its own;
    // once sent, undici's headersTimeout counts.
    handler.waitAtMost(out.timeoutMs);
  });
}
