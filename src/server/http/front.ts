/**
 * The HTTP front of one shard's port: path decoding and validation, public endpoints,
 * authentication and impersonation, content negotiation, and dispatch to a logical cluster's API root (on whichever
 * shard owns it), to this shard's wildcard view, or to a virtual workspace under `/services/`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveAPIRoot, type ApiView } from './apiroot.js';
import { ApiError, forbiddenPath, methodNotAllowed, noSuchPath } from './errors.js';
import type { FaultRequest } from '../faults/faults.js';
import { DEBUG_FAULTS_PATH } from '../faults/http.js';
import { impersonate, impersonationOf } from '../auth/impersonation.js';
import { checkClusterSegment, splitPath } from '../api/names.js';
import type { RequestContext, UserInfo } from '../api/objects.js';
import type { JsonObject } from '../types.js';
import { acceptsJson, markPretty, send, sendError, wantsPretty } from './wire.js';

/** Serves a virtual workspace: `segs` are the path segments after `/services/<name>`. */
export type ServiceHandler = (req: IncomingMessage, res: ServerResponse, segs: string[], query: URLSearchParams, who: UserInfo) => Promise<void>;

/** What the front needs from the server around it. */
export interface FrontOptions {
  /** token → user; undefined when the token is missing or unknown. */
  authenticate(token: string | undefined): UserInfo | undefined;
  /**
   * The API root of `/clusters/<seg>`: this shard's wildcard view for `*`, else the view of the
   * named or path-addressed logical cluster on its owning shard. Throws 403/404 as kcp does.
   */
  locate(seg: string, who: UserInfo): { view: ApiView; cluster: string };
  /** Virtual workspaces by name (`apiexport`, `initializingworkspaces`). */
  services: Map<string, ServiceHandler>;
  /** `/version` body. */
  version: JsonObject;
  /** Test hook behind `POST /_reference/compact`. */
  compact(): void;
  /** Fault injection (tests): asked, after authentication, whether to fail a request instead of serving it. */
  faults?: { intercept(req: FaultRequest): ApiError | undefined };
  /** Serves `/debug/faults` to admins; that path is an ordinary unknown path without it. */
  debugFaults?(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Notified of every request with its outcome (logging without tokens). */
  log?(line: { method: string; path: string; code: number; user?: string; ms: number }): void;
}

const PUBLIC = new Set(['version', 'healthz', 'readyz', 'livez']);

/** The request handler of one shard's port. */
export class Front {
  constructor(private readonly opts: FrontOptions) {}

  /** Node request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    let user: string | undefined;
    // No listener per request unless someone reads the log.
    if (this.opts.log) {
      res.on('finish', () => {
        const rawPath = (req.url ?? '').split('?')[0]!;
        this.opts.log?.({ method: req.method ?? '', path: rawPath, code: res.statusCode, user, ms: Date.now() - started });
      });
    }
    this.route(req, res, (u) => (user = u)).catch((e: unknown) => {
      if (e instanceof ApiError) return sendError(res, e);
      console.error('reference server: internal error:', e);
      sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse, setUser: (u: string) => void): Promise<void> {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    // The raw path is split before decoding: URL parsers would resolve `..` and `%2e%2e` first.
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1));
    if (wantsPretty(query, req.headers['user-agent'])) markPretty(res);
    let segs: string[];
    // Under /services/ a path that cannot be split resolves to no virtual workspace: kcp's 403,
    // once the caller is known.
    let unresolvedService = false;
    try {
      segs = splitPath(rawPath);
    } catch (e) {
      if (!rawPath.startsWith('/services/')) throw e;
      segs = ['services'];
      unresolvedService = true;
    }
    let clusterSeg = 'root';
    if (segs[0] === 'clusters') {
      if (segs.length < 2) throw noSuchPath();
      clusterSeg = segs[1]!;
      checkClusterSegment(clusterSeg);
      segs = segs.slice(2);
    }
    if (segs.length === 1 && PUBLIC.has(segs[0]!)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
      if (segs[0] === 'version') return send(res, 200, this.opts.version);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    const auth = req.headers['authorization'];
    const token = auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined;
    const who = this.opts.authenticate(token);
    if (!who) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    setUser(who.name);
    // /openapi/v2 negotiates its own media types: client-go asks for it in gnostic protobuf only.
    const openapiV2 = segs.length === 2 && segs[0] === 'openapi' && segs[1] === 'v2';
    if (!openapiV2 && !acceptsJson(req.headers['accept'])) {
      // Only what this server can answer in: an Accept of application/yaml alone gets this 406 too.
      throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json');
    }
    const imp = impersonationOf(req);
    if (this.opts.debugFaults && rawPath === DEBUG_FAULTS_PATH) {
      // Decided on the caller's own identity: controlling faults is not something to impersonate into.
      if (!who.groups.includes('system:masters')) throw forbiddenPath(who, (req.method ?? 'GET').toLowerCase(), rawPath, '');
      return this.opts.debugFaults(req, res);
    }
    // The fault endpoint and the test hooks stay reachable whatever is injected.
    const injected = segs[0] === '_reference' ? undefined : this.opts.faults?.intercept({ path: rawPath });
    if (injected) throw injected;
    if (segs[0] === '_reference' && clusterSeg === 'root' && !rawPath.startsWith('/clusters/')) {
      return this.testHook(req, res, segs, imp ? impersonate(who, imp, undefined) : who);
    }
    if (segs[0] === 'services' && !rawPath.startsWith('/clusters/')) {
      const handler = segs[1] ? this.opts.services.get(segs[1]) : undefined;
      if (!handler || unresolvedService) {
        throw forbiddenPath(who, (req.method ?? 'GET').toLowerCase(), rawPath, 'Path not resolved to a valid virtual workspace');
      }
      return handler(req, res, segs.slice(2), query, imp ? impersonate(who, imp, undefined) : who);
    }
    const { view, cluster } = this.opts.locate(clusterSeg, who);
    // Impersonation is decided in the addressed logical cluster, by its own authorizer.
    const user = imp ? impersonate(who, imp, view.authorizer) : who;
    const ctx: RequestContext = { cluster, user, warnings: [] };
    return serveAPIRoot(req, res, segs, query, ctx, view);
  }

  private testHook(req: IncomingMessage, res: ServerResponse, segs: string[], who: UserInfo): void {
    if (!who.groups.includes('system:masters')) throw new ApiError(403, 'Forbidden', 'test hooks are for admins only');
    if (segs[1] === 'compact' && req.method === 'POST') {
      this.opts.compact();
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 });
    }
    throw noSuchPath();
  }
}
