/**
 * The manager's plain-HTTP servers (metrics, probes): controller-runtime's bind-address forms, a
 * server whose close also ends keep-alive sockets, and the `/metrics` handler.
 */
import * as http from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import type { RuntimeMetrics } from '../metrics/registry.js';

/** Where a server listens. */
export interface BindAddress {
  /** An IPv4 or IPv6 address (IPv6 without brackets) or a host name. */
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** A request handler; an exception or rejection is answered with 500 (a returned value is otherwise ignored). */
export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

/** A listening server. */
export interface RunningHttpServer {
  /** `http://<host>:<port>` as bound (IPv6 hosts in brackets). */
  url: string;
  /** The bound port (the chosen one when 0 was asked for). */
  port: number;
  /** Stops listening and ends every open connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function badAddress(s: string, why: string): Error {
  return new Error(`invalid bind address ${JSON.stringify(s)}: ${why} (expected "0" to disable, ":<port>", "<host>:<port>" or "[<ipv6>]:<port>")`);
}

/**
 * Parses a controller-runtime bind address: `0` disables (undefined); `:8080` is every interface
 * (`0.0.0.0`), as in CR; `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`; port 0 picks a free one.
 */
export function parseBindAddress(s: string): BindAddress | undefined {
  if (s === '0') return undefined;
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw badAddress(s, 'no port');
  const hostPart = s.slice(0, colon);
  const portPart = s.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portPart)) throw badAddress(s, `port ${JSON.stringify(portPart)} is not a number`);
  const port = Number(portPart);
  if (port > 65535) throw badAddress(s, `port ${port} is out of range`);
  if (hostPart === '') return { host: '0.0.0.0', port };
  if (hostPart.startsWith('[')) {
    const inner = hostPart.endsWith(']') ? hostPart.slice(1, -1) : '';
    if (!isIPv6(inner)) throw badAddress(s, `${JSON.stringify(hostPart)} is not a bracketed IPv6 address`);
    return { host: inner, port };
  }
  if (hostPart.includes(':')) throw badAddress(s, 'an IPv6 address needs brackets');
  if (isIPv4(hostPart)) return { host: hostPart, port };
  // A dotted all-numeric host that is not IPv4 (e.g. 1.2.3.456) is a typo, not a name.
  if (/^[\d.]+$/.test(hostPart) || !HOSTNAME.test(hostPart)) throw badAddress(s, `${JSON.stringify(hostPart)} is not an IP address or host name`);
  return { host: hostPart, port };
}

/** Starts an HTTP server on `addr` serving `handler`; rejects when it cannot listen (e.g. EADDRINUSE). */
export function startHttpServer(addr: BindAddress, handler: HttpHandler): Promise<RunningHttpServer> {
  const server = http.createServer((req, res) => {
    const fail = (e: unknown): void => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end(`internal server error: ${e instanceof Error ? e.message : String(e)}\n`);
      } else {
        res.destroy();
      }
    };
    try {
      const p = handler(req, res);
      if (p instanceof Promise) p.catch(fail);
    } catch (e) {
      fail(e);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${host}:${bound.port}`,
        port: bound.port,
        close: () => {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            // close() alone waits for keep-alive sockets to time out; a shutdown must not.
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

/** Serves `GET /metrics` (and HEAD) from `metrics`; other paths are 404, other methods 405. */
export function metricsHandler(metrics: RuntimeMetrics): HttpHandler {
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    const body = await metrics.metrics();
    res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
