/** Shared test support: an in-process reference server, client-node configs, waiting on conditions. */
import { KubeConfig } from '@kubernetes/client-node';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';

/** Starts a reference server on a random loopback port. */
export function start(opts: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, ...opts });
}

/** A client-node KubeConfig for one logical cluster (name or path) of the server. */
export function kubeConfigFor(srv: RunningServer, cluster = 'root'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `${srv.url}/clusters/${cluster}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: srv.token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

/** Raw HTTP against the server with the admin token. */
export async function raw(
  srv: RunningServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
  const init: RequestInit = {
    method,
    headers: {
      Authorization: `Bearer ${srv.token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(srv.url + path, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (e.g. /healthz)
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Collects the events of a raw watch stream (newline-delimited JSON). */
export class WatchStream {
  readonly events: { type: string; object: Record<string, any> }[] = [];
  private readonly ctrl = new AbortController();
  done: Promise<void>;
  status = 0;

  constructor(srv: RunningServer, path: string) {
    this.done = (async () => {
      const res = await fetch(srv.url + path, { headers: { Authorization: `Bearer ${srv.token}` }, signal: this.ctrl.signal });
      this.status = res.status;
      if (!res.body) return;
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk as Uint8Array, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim()) this.events.push(JSON.parse(line));
          }
        }
      } catch (e) {
        if ((e as Error).name !== 'AbortError') throw e;
      }
    })();
    this.done.catch(() => undefined);
  }

  /** Events of a type, optionally for one object name. */
  of(type: string, name?: string): { type: string; object: Record<string, any> }[] {
    return this.events.filter((e) => e.type === type && (name === undefined || e.object?.metadata?.name === name));
  }

  /** Stops the stream. */
  close(): Promise<void> {
    this.ctrl.abort();
    return this.done.catch(() => undefined);
  }
}
