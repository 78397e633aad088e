/**
 * The HTTP front of one shard: path decoding and validation, cluster resolution, authentication,
 * content negotiation, body limits, and dispatch to discovery, OpenAPI and the object verbs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { load as loadYaml } from 'js-yaml';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { ApiError, badRequest, invalid, cause, methodNotAllowed, noSuchPath, unsupportedMediaType } from './errors.js';
import { isObject } from './json.js';
import { listObjects, serveWatch, type ListOptions, type WatchSettings } from './listwatch.js';
import { checkClusterSegment, isClusterName, splitPath } from './names.js';
import { ObjectService, PATCH_TYPES, type DeleteOptions, type PatchType, type RequestContext, type UserInfo } from './objects.js';
import { openapiHash, openapiV3Document, openapiV3Index } from './openapi.js';
import type { Json, JsonObject, ResourceDef } from './types.js';

/** Kubernetes' request body limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** What the front needs besides the object service. */
export interface FrontOptions {
  /** token → user. */
  authenticate(token: string | undefined): UserInfo | undefined;
  /** Resolves a workspace path (`root:org:team`) to a logical cluster name. */
  resolvePath(path: string): string | undefined;
  /** `/version` body. */
  version: JsonObject;
  watch: WatchSettings;
  /** Hooks for test-only endpoints under `/_reference/`. */
  compact(): void;
  /** Orphans dependents before an owner is deleted with propagationPolicy=Orphan. */
  orphan(cluster: string, uid: string): void;
  /** Notified of every request with its outcome (logging without tokens). */
  log?(line: { method: string; path: string; code: number; user?: string; ms: number }): void;
}

const PUBLIC = new Set(['version', 'healthz', 'readyz', 'livez']);

/** Whether the client accepts a JSON answer. */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]!.trim().toLowerCase();
    return type === 'application/json' || type === '*/*' || type === 'application/*' || type === '';
  });
}

function send(res: ServerResponse, code: number, body: Json, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.code, err.toStatus(), err.headers);
}

/** Reads the request body, refusing more than MAX_BODY_BYTES with 413. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) {
      reject(new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => failed || resolve(Buffer.concat(chunks)));
    req.on('error', (e) => failed || reject(e));
  });
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Parses a JSON or YAML body. */
export function parseBody(buf: Buffer, type: string): Json {
  const text = buf.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml') return loadYaml(text) as Json;
    return JSON.parse(text) as Json;
  } catch (e) {
    throw badRequest(`the request body could not be decoded: ${(e as Error).message.split('\n')[0]}`);
  }
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid ${name}: "${v}"`);
  return Number(v);
}

function listOptions(q: URLSearchParams): ListOptions {
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: intParam(q, 'limit'),
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
    sendInitialEvents: boolParam(q, 'sendInitialEvents'),
    timeoutSeconds: intParam(q, 'timeoutSeconds'),
  };
}

/** The request handler of one shard. */
export class Front {
  constructor(
    readonly svc: ObjectService,
    private readonly opts: FrontOptions,
  ) {}

  /** Node request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    let user: string | undefined;
    res.on('finish', () => {
      const rawPath = (req.url ?? '').split('?')[0]!;
      this.opts.log?.({ method: req.method ?? '', path: rawPath, code: res.statusCode, user, ms: Date.now() - started });
    });
    this.route(req, res, (u) => (user = u)).catch((e: unknown) => {
      if (e instanceof ApiError) return sendError(res, e);
      console.error('reference server: internal error:', e);
      sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse, setUser: (u: string) => void): Promise<void> {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1));
    let segs = splitPath(rawPath);
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
    if (!acceptsJson(req.headers['accept'])) {
      throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml');
    }
    if (segs[0] === '_reference') return this.testHook(req, res, segs, who);
    const cluster = this.resolveCluster(clusterSeg, who);
    const ctx: RequestContext = { cluster, user: who, warnings: [] };
    return this.serveAPI(req, res, segs, query, ctx);
  }

  private testHook(req: IncomingMessage, res: ServerResponse, segs: string[], who: UserInfo): void {
    if (!who.groups.includes('system:masters')) throw new ApiError(403, 'Forbidden', 'test hooks are for admins only');
    if (segs[1] === 'compact' && req.method === 'POST') {
      this.opts.compact();
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 });
    }
    throw noSuchPath();
  }

  private resolveCluster(seg: string, who: UserInfo): string {
    if (seg === '*') {
      if (!who.groups.includes('system:masters')) {
        throw new ApiError(403, 'Forbidden', 'forbidden: wildcard requests across logical clusters are reserved for system:masters');
      }
      return '*';
    }
    if (!seg.includes(':') || seg.startsWith('system:')) {
      if (isClusterName(seg) && this.svc.clusterExists(seg)) return seg;
      throw new ApiError(403, 'Forbidden', `access to logical cluster "${seg}" is forbidden: logical cluster not found`);
    }
    const name = this.opts.resolvePath(seg);
    if (!name) throw new ApiError(404, 'NotFound', `workspaces.tenancy.kcp.io "${seg}" not found`, { name: seg, group: 'tenancy.kcp.io', kind: 'workspaces' });
    return name;
  }

  private async serveAPI(req: IncomingMessage, res: ServerResponse, segs: string[], q: URLSearchParams, ctx: RequestContext): Promise<void> {
    const method = req.method ?? 'GET';
    const defs = () => this.svc.registry.resourcesFor(ctx.cluster === '*' ? 'root' : ctx.cluster);
    const host = req.headers.host ?? 'localhost';
    const get = method === 'GET' || method === 'HEAD';
    if (segs[0] === 'api') {
      if (segs.length === 1) return get ? send(res, 200, apiVersions(host)) : this.rejectMethod(ctx);
      if (segs[1] !== 'v1') throw noSuchPath();
      if (segs.length === 2) return get ? this.sendOr404(res, apiResourceList(defs(), '', 'v1')) : this.rejectMethod(ctx);
      return this.serveResource(req, res, '', 'v1', segs.slice(2), q, ctx);
    }
    if (segs[0] === 'apis') {
      if (segs.length === 1) return get ? send(res, 200, apiGroupList(defs())) : this.rejectMethod(ctx);
      if (segs.length === 2) return get ? this.sendOr404(res, apiGroup(defs(), segs[1]!)) : this.rejectMethod(ctx);
      if (segs.length === 3) return get ? this.sendOr404(res, apiResourceList(defs(), segs[1]!, segs[2]!)) : this.rejectMethod(ctx);
      return this.serveResource(req, res, segs[1]!, segs[2]!, segs.slice(3), q, ctx);
    }
    if (segs[0] === 'openapi' && get) {
      if (segs[1] === 'v3') {
        if (segs.length === 2) return send(res, 200, openapiV3Index(defs()));
        const gv = segs.slice(2);
        const doc =
          gv[0] === 'api' && gv[1] === 'v1' && gv.length === 2
            ? openapiV3Document(defs(), '', 'v1')
            : gv[0] === 'apis' && gv.length === 3
              ? openapiV3Document(defs(), gv[1]!, gv[2]!)
              : undefined;
        if (!doc) throw noSuchPath();
        return send(res, 200, doc, { ETag: `"${openapiHash(doc)}"`, 'Cache-Control': 'no-cache, private' });
      }
    }
    throw noSuchPath();
  }

  private rejectMethod(ctx: RequestContext): never {
    throw methodNotAllowed(ctx.cluster === '*' ? ' in the `*` logical cluster' : '');
  }

  private sendOr404(res: ServerResponse, doc: JsonObject | undefined): void {
    if (!doc) throw noSuchPath();
    send(res, 200, doc);
  }

  private async serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    group: string,
    version: string,
    parts: string[],
    q: URLSearchParams,
    ctx: RequestContext,
  ): Promise<void> {
    let namespace = '';
    if (parts[0] === 'namespaces' && parts.length >= 3 && parts[2] !== 'status' && parts[2] !== 'finalize') {
      namespace = parts[1]!;
      parts = parts.slice(2);
    }
    if (parts.length > 3) throw noSuchPath();
    const [resource, name, subresource] = parts as [string, string | undefined, string | undefined];
    const def = this.svc.registry.find(ctx.cluster === '*' ? 'root' : ctx.cluster, group, version, resource);
    if (!def || (namespace && !def.namespaced)) throw noSuchPath();
    if (subresource !== undefined && !(subresource === 'status' && def.statusSubresource)) throw noSuchPath();
    const method = req.method ?? 'GET';
    const verb = verbOf(method, name, q);
    if (!verb) this.rejectMethod(ctx);
    if (ctx.cluster === '*') {
      if (verb !== 'list' && verb !== 'watch') this.rejectMethod(ctx);
      if (namespace) {
        throw badRequest(`cross-cluster LIST and WATCH are required to be cross-namespace, not scoped to namespace ${namespace}`);
      }
    }
    if (!def.verbs.includes(verb) && !(subresource === 'status' && ['get', 'update', 'patch'].includes(verb))) this.rejectMethod(ctx);

    const fv = q.get('fieldValidation');
    if (fv !== null && !['Strict', 'Warn', 'Ignore'].includes(fv)) {
      throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", not "${fv}"`);
    }
    ctx.fieldValidation = (fv ?? 'Warn') as 'Strict' | 'Warn' | 'Ignore';
    const dryRun = q.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) {
      throw invalid('CreateOptions', 'meta.k8s.io', '', [cause('FieldValueNotSupported', 'dryRun', `Unsupported value: "${dryRun.join(',')}": supported values: "All"`)]);
    }
    ctx.dryRun = dryRun.length > 0;
    // Server-side apply needs an explicit manager; other writes default to the client's name, as kube does.
    ctx.fieldManager = q.get('fieldManager') ?? (mediaType(req) === 'application/apply-patch+yaml' ? '' : (req.headers['user-agent'] ?? '').split('/')[0] ?? '');

    const body = ['create', 'update', 'patch'].includes(verb) || (verb === 'delete' || verb === 'deletecollection') ? await readBody(req) : Buffer.alloc(0);
    const headers = (): Record<string, string> =>
      ctx.warnings?.length ? { Warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {};
    switch (verb) {
      case 'get':
        return send(res, 200, this.svc.get(ctx, def, namespace, name!) as unknown as Json);
      case 'list':
        return send(res, 200, await listObjects(this.svc, ctx, def, namespace, listOptions(q)));
      case 'watch':
        return serveWatch(this.svc, ctx, def, namespace, listOptions(q), res, this.opts.watch);
      case 'create': {
        const obj = this.svc.create(ctx, def, namespace, parseBody(body, bodyType(req)));
        return send(res, 201, obj as unknown as Json, headers());
      }
      case 'update': {
        const obj = this.svc.update(ctx, def, namespace, name!, parseBody(body, bodyType(req)), subresource);
        return send(res, 200, obj as unknown as Json, headers());
      }
      case 'patch': {
        const type = mediaType(req) as PatchType;
        if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(type, def.builtin ? [...PATCH_TYPES] : PATCH_TYPES.filter((t) => !t.startsWith('application/strategic')));
        const existed = this.svc.store.get(def.storage, ctx.cluster, def.namespaced ? namespace : '', name!) !== undefined;
        const obj = this.svc.patch(ctx, def, namespace, name!, type, parseBody(body, type), { subresource, force: boolParam(q, 'force') });
        return send(res, existed || ctx.dryRun ? 200 : 201, obj as unknown as Json, headers());
      }
      case 'delete': {
        const opts = deleteOptions(body, q);
        if (opts.propagationPolicy === 'Orphan' && !ctx.dryRun) {
          const cur = this.svc.store.get(def.storage, ctx.cluster, def.namespaced ? namespace : '', name!);
          if (cur?.metadata.uid) this.opts.orphan(ctx.cluster, cur.metadata.uid);
        }
        return send(res, 200, this.svc.delete(ctx, def, namespace, name!, opts) as unknown as Json);
      }
      case 'deletecollection':
        return send(res, 200, await this.deleteCollection(ctx, def, namespace, q, deleteOptions(body, q)));
    }
  }

  private async deleteCollection(ctx: RequestContext, def: ResourceDef, namespace: string, q: URLSearchParams, opts: DeleteOptions): Promise<JsonObject> {
    const list = await listObjects(this.svc, ctx, def, namespace, { ...listOptions(q), limit: undefined, continue: undefined });
    const items = list['items'] as unknown as { metadata: { name: string; namespace?: string } }[];
    const deleted: Json[] = [];
    for (const it of items) {
      try {
        const r = this.svc.delete(ctx, def, it.metadata.namespace ?? '', it.metadata.name, { propagationPolicy: opts.propagationPolicy });
        deleted.push(r['kind'] === 'Status' ? (it as unknown as Json) : (r as unknown as Json));
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 404) throw e;
      }
    }
    return { ...list, items: deleted };
  }
}

function bodyType(req: IncomingMessage): string {
  const t = mediaType(req);
  if (t === '' || t === 'application/json' || t === 'application/yaml' || t === '*/*') return t === 'application/yaml' ? t : 'application/json';
  throw unsupportedMediaType(t, ['application/json', 'application/yaml']);
}

function verbOf(method: string, name: string | undefined, q: URLSearchParams): string | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (name) return 'get';
      return boolParam(q, 'watch') ? 'watch' : 'list';
    case 'POST':
      return name ? undefined : 'create';
    case 'PUT':
      return name ? 'update' : undefined;
    case 'PATCH':
      return name ? 'patch' : undefined;
    case 'DELETE':
      return name ? 'delete' : 'deletecollection';
  }
  return undefined;
}

function deleteOptions(body: Buffer, q: URLSearchParams): DeleteOptions {
  let opts: JsonObject = {};
  if (body.length && body.toString('utf8').trim()) {
    const parsed = parseBody(body, 'application/json');
    if (!isObject(parsed)) throw badRequest('DeleteOptions must be a JSON object');
    opts = parsed;
  }
  const policy = (opts['propagationPolicy'] as string | undefined) ?? q.get('propagationPolicy') ?? undefined;
  if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
    throw invalid('DeleteOptions', 'meta.k8s.io', '', [
      cause('FieldValueNotSupported', 'propagationPolicy', `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`),
    ]);
  }
  const pre = isObject(opts['preconditions']) ? opts['preconditions'] : {};
  const orphan = opts['orphanDependents'];
  return {
    propagationPolicy: (policy ?? (orphan === true ? 'Orphan' : undefined)) as DeleteOptions['propagationPolicy'],
    preconditions: {
      uid: typeof pre['uid'] === 'string' ? pre['uid'] : undefined,
      resourceVersion: typeof pre['resourceVersion'] === 'string' ? pre['resourceVersion'] : undefined,
    },
  };
}
