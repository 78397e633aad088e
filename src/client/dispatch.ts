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
import { readBytes, readText } from './body.js';
import type { Connections, Release, Turn } from './connections.js';
import { NetworkError } from './errors.js';
import type { RawResponse } from './transport.js';

/** What `dispatch` sends. */
export interface Outgoing {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Buffer | undefined;
  signal: AbortSignal | undefined;
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

/** A response body fed by the dispatch handler; reading resumes the socket, destroying aborts the request. */
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

class Handler implements Dispatcher.DispatchHandler, Turn {
  private controller: Dispatcher.DispatchController | undefined;
  private release: Release = noop;
  private body: ResponseBody | undefined;
  private settled = false;
  private readonly unsubscribe: () => void;

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
    // After the headers the abort ends the body stream; the caller sees it as a stream error.
    if (this.body) this.body.destroy(err);
    else this.controller?.abort(err);
    this.fail(err);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.unsubscribe();
    this.reject(err);
  }

  start(client: Client, release: Release): void {
    this.release = release;
    // Aborted while waiting for a connection.
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

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.settled) return;
    this.settled = true;
    const body = (this.body = new ResponseBody(controller));
    // The abort still has to reach a streaming body until it is over: ended, destroyed or failed.
    if (this.out.signal) body.once('close', this.unsubscribe);
    this.resolve({
      status: statusCode,
      headers,
      body,
      text: () => readText(body),
      bytes: () => readBytes(body),
      json: async <T>() => JSON.parse(await readText(body)) as T,
    });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.body && !this.body.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.release();
    if (!this.body) return;
    this.body.ended = true;
    this.body.push(null);
    this.unsubscribe();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.release();
    if (this.body) {
      if (!this.body.destroyed) this.body.destroy(networkError(this.out.method, this.out.url, err));
      return;
    }
    this.fail(this.out.signal?.aborted ? abortError(this.out.signal) : networkError(this.out.method, this.out.url, err));
  }
}

function noop(): void {}

/** Sends `out` on one of `conns`; resolves on response headers whatever the status, rejects on network errors and abort. */
export function dispatch(conns: Connections, out: Outgoing): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    if (out.signal?.aborted) return reject(abortError(out.signal));
    conns.run(new Handler(out, resolve, reject));
  });
}
