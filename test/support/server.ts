/** Shared test support: an in-process reference server, client-node configs, waiting on conditions. */
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import { waitFor } from '../../src/testing/index.js';

/** Starts a reference server on a random loopback port. */
export function start(opts: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, ...opts });
}

/** A client-node KubeConfig for one logical cluster (name or path) of the server. */
export function kubeConfigFor(srv: RunningServer, cluster = 'root', token = srv.token): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `${srv.url}/clusters/${cluster}`, caData: srv.ca ? Buffer.from(srv.ca).toString('base64') : undefined }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

/** An HTTP(S) request to the server that trusts its CA; resolves with the response head. */
export function request(
  srv: Pick<RunningServer, 'url' | 'ca'>,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const url = new URL(srv.url);
    const reqOpts: https.RequestOptions = {
      method,
      host: url.hostname,
      port: url.port,
      path,
      headers: opts.headers,
      signal: opts.signal,
      ca: srv.ca,
      agent: false,
    };
    const req = (url.protocol === 'https:' ? https : http).request(reqOpts, resolve);
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Raw HTTP against the server with the admin token (or the headers given). */
export async function raw(
  srv: RunningServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: http.IncomingHttpHeaders }> {
  const res = await request(srv, method, path, {
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    headers: {
      Authorization: `Bearer ${srv.token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
  });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (e.g. /healthz)
  }
  return { status: res.statusCode ?? 0, json, text, headers: res.headers };
}

/**
 * Whether root's discovery of `groupVersion` (e.g. `apis.kcp.io/v1alpha2`) lists every one of
 * `resources`: suites for a layer of the server that may not be installed skip themselves on it.
 */
export async function serves(srv: RunningServer, groupVersion: string, ...resources: string[]): Promise<boolean> {
  const served = await raw(srv, 'GET', `/clusters/root/apis/${groupVersion}`);
  const names = ((served.json['resources'] as { name: string }[] | undefined) ?? []).map((r) => r.name);
  return resources.every((r) => names.includes(r));
}

/** What `p` rejects with; fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Polls `check` until it returns a truthy value or the deadline passes (the testing kit's `waitFor`). */
export function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  return waitFor(check, { what, timeoutMs, intervalMs: 20 });
}

/** A watch event as the tests read it. */
export interface TestEvent {
  type: string;
  // Tests inspect arbitrary object shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: Record<string, any>;
}

/** Collects the events of a raw watch stream (newline-delimited JSON). */
export class WatchStream {
  readonly events: TestEvent[] = [];
  private readonly ctrl = new AbortController();
  done: Promise<void>;
  status = 0;

  constructor(srv: RunningServer, path: string, token = srv.token) {
    this.done = (async () => {
      const res = await request(srv, 'GET', path, { headers: { Authorization: `Bearer ${token}` }, signal: this.ctrl.signal });
      this.status = res.statusCode ?? 0;
      let buf = '';
      res.setEncoding('utf8');
      try {
        for await (const chunk of res) {
          buf += chunk as string;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim()) this.events.push(JSON.parse(line) as TestEvent);
          }
        }
      } catch (e) {
        if ((e as Error).name !== 'AbortError') throw e;
      }
    })();
    this.done.catch(() => undefined);
  }

  /** Events of a type, optionally for one object name. */
  of(type: string, name?: string): TestEvent[] {
    return this.events.filter((e) => e.type === type && (name === undefined || e.object?.['metadata']?.name === name));
  }

  /** Stops the stream. */
  close(): Promise<void> {
    this.ctrl.abort();
    return this.done.catch(() => undefined);
  }
}
