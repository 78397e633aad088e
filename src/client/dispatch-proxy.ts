/**
 * One request through node:http with client-node's proxy agent (HTTP, HTTPS or SOCKS proxies, from
 * the cluster's `proxy-url`): correct, if not pooled. Clusters without a proxy use dispatch.ts.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { abortError, onAbort } from './abort.js';
import { readBytes, readText } from './body.js';
import { type Outgoing, networkError } from './dispatch.js';
import { NetworkError } from './errors.js';
import type { RawResponse } from './transport.js';

/** Sends `out` with `agent`; resolves on response headers whatever the status, rejects on network errors and abort. */
export function dispatchViaAgent(agent: http.Agent, out: Outgoing, onSocket: (s: Socket) => void): Promise<RawResponse> {
  const { method, url, signal } = out;
  const mod = url.protocol === 'https:' ? https : http;
  const headers: http.OutgoingHttpHeaders = { ...out.headers };
  if (out.body !== undefined) headers['Content-Length'] = out.body.length;
  return new Promise<RawResponse>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    let settled = false;
    let res: http.IncomingMessage | undefined;
    const req = mod.request(url, { method, headers, agent }, (r) => {
      res = r;
      settled = true;
      clearTimeout(timer);
      r.once('end', unsubscribe);
      r.once('close', unsubscribe);
      r.once('error', unsubscribe);
      resolve({ status: r.statusCode ?? 0, headers: r.headers, body: r, text: () => readText(r), bytes: () => readBytes(r), json: async <T>() => JSON.parse(await readText(r)) as T });
    });
    const unsubscribe = signal
      ? onAbort(signal, () => {
          const err = abortError(signal);
          if (res) res.destroy(err);
          req.destroy(err);
        })
      : () => undefined;
    req.once('close', unsubscribe);
    const timer = setTimeout(() => {
      req.destroy(new NetworkError(`${method} ${url.origin}${url.pathname}: no response headers within ${out.timeoutMs} ms`, { code: 'ETIMEDOUT' }));
    }, out.timeoutMs);
    req.on('socket', onSocket);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      unsubscribe();
      if (signal?.aborted) return reject(abortError(signal));
      const ne = networkError(method, url, e);
      ne.reusedSocket = req.reusedSocket;
      reject(ne);
    });
    req.end(out.body);
  });
}
