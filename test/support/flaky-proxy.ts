/**
 * A plain-HTTP proxy in front of a plain-HTTP reference server, for provider tests that need an
 * endpoint the server itself would never produce: it rewrites every APIExportEndpointSlice it
 * passes on (lists and watch lines) so that each endpoint URL points back at the proxy
 * (`<proxy>/flaky/<shard port><VW path>`), answers those endpoints with 503 while `failing` is
 * set, hides the endpoints listed in `hidden` (as if the server had dropped them), and lists a
 * second URL (`<proxy>/alias/...`, never failing) for those in `aliased`: one shard behind two URLs.
 * On those endpoints it also shows `kcp.io/path` values as `paths` maps them (a path kcp has not
 * written yet, or one that changed).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const SLICES = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';
const FLAKY = /^\/(flaky|alias)\/(\d+)(\/.*)$/;

/** A running proxy. */
export interface FlakyProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** While true, every `/flaky/...` request is answered 503. */
  failing: boolean;
  /** Original endpoint URLs left out of the slices passed on (their aliases stay). */
  readonly hidden: Set<string>;
  /** Original endpoint URLs listed a second time, under `aliasOf(url)`. */
  readonly aliased: Set<string>;
  /** `kcp.io/path` values shown differently on the endpoints (original → shown). */
  readonly paths: Map<string, string>;
  /** Requests to `/flaky/...` answered 503 so far. */
  readonly refused: number;
  /** The proxy URL an original endpoint URL is rewritten to. */
  rewritten(original: string): string;
  /** The second proxy URL of an aliased endpoint. */
  aliasOf(original: string): string;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

// Slice objects are read loosely: only status.endpoints is touched.
type Slice = { status?: { endpoints?: { url?: string }[] } };

/** Starts a proxy on 127.0.0.1 (a random port) in front of `target` (`http://127.0.0.1:<port>`). */
export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const upstream = new URL(target);
  let refused = 0;
  let self = '';
  const hidden = new Set<string>();
  const aliased = new Set<string>();
  const paths = new Map<string, string>();
  const showPaths = (text: string): string =>
    paths.size === 0 ? text : text.replace(/"kcp\.io\/path":"([^"]*)"/g, (m, p: string) => (paths.has(p) ? `"kcp.io/path":${JSON.stringify(paths.get(p))}` : m));
  const via = (prefix: string, original: string): string => {
    const u = new URL(original);
    return `${self}/${prefix}/${u.port}${u.pathname.replace(/\/+$/, '')}`;
  };
  const rewritten = (original: string): string => via('flaky', original);
  const aliasOf = (original: string): string => via('alias', original);
  const rewriteSlice = (s: Slice | undefined): void => {
    const eps = s?.status?.endpoints;
    if (!s?.status || !Array.isArray(eps)) return;
    const kept: { url?: string }[] = [];
    for (const e of eps) {
      if (typeof e.url !== 'string') kept.push(e);
      else {
        if (!hidden.has(e.url)) kept.push({ ...e, url: rewritten(e.url) });
        if (aliased.has(e.url)) kept.push({ ...e, url: aliasOf(e.url) });
      }
    }
    if (kept.length > 0) s.status.endpoints = kept;
    else delete s.status.endpoints;
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, port: number, path: string, transform?: 'list' | 'watch' | 'paths'): void => {
    const headers = { ...req.headers, host: `${upstream.hostname}:${port}` };
    // Rewriting needs plain text.
    delete headers['accept-encoding'];
    const up = http.request({ host: upstream.hostname, port, method: req.method, path, headers, agent: false }, (ur) => {
      const h = { ...ur.headers };
      if (!transform || (ur.statusCode ?? 0) >= 300) {
        res.writeHead(ur.statusCode ?? 502, h);
        ur.pipe(res);
        return;
      }
      delete h['content-length'];
      res.writeHead(ur.statusCode ?? 200, h);
      ur.setEncoding('utf8');
      let buf = '';
      if (transform === 'paths') {
        ur.on('data', (c: string) => {
          buf += c;
          const i = buf.lastIndexOf('\n');
          if (i < 0) return;
          res.write(showPaths(buf.slice(0, i + 1)));
          buf = buf.slice(i + 1);
        });
        ur.on('end', () => res.end(showPaths(buf)));
        return;
      }
      if (transform === 'list') {
        ur.on('data', (c: string) => (buf += c));
        ur.on('end', () => {
          try {
            const body = JSON.parse(buf) as { items?: Slice[] } & Slice;
            if (Array.isArray(body.items)) body.items.forEach(rewriteSlice);
            else rewriteSlice(body);
            res.end(JSON.stringify(body));
          } catch {
            res.end(buf);
          }
        });
        return;
      }
      ur.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const ev = JSON.parse(line) as { object?: Slice };
            rewriteSlice(ev.object);
            res.write(JSON.stringify(ev) + '\n');
          } catch {
            res.write(line + '\n');
          }
        }
      });
      ur.on('end', () => res.end(buf));
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const flaky = FLAKY.exec(url.pathname);
    if (flaky) {
      if (flaky[1] === 'flaky' && proxy.failing) {
        refused++;
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the endpoint is not serving yet', reason: 'ServiceUnavailable', code: 503 }));
        return;
      }
      return forward(req, res, Number(flaky[2]), flaky[3]! + url.search, req.method === 'GET' ? 'paths' : undefined);
    }
    const slices = req.method === 'GET' && url.pathname.endsWith(SLICES) ? (url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true' ? 'watch' : 'list') : undefined;
    const single = req.method === 'GET' && url.pathname.includes(`${SLICES}/`) ? 'list' : undefined;
    forward(req, res, Number(upstream.port), req.url ?? '/', slices ?? single);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxy: FlakyProxy = {
    url: self,
    failing: false,
    hidden,
    aliased,
    paths,
    get refused() {
      return refused;
    },
    rewritten,
    aliasOf,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return proxy;
}
