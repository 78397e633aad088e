/**
 * One Kubernetes API root: discovery, OpenAPI and the object verbs over a view (which object
 * service, which resources, which extra filters and checks). Logical clusters and virtual
 * workspaces are views on the same machinery.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterAuthorizer } from '../auth/auth.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from '../api/discovery.js';
import { ApiError, badRequest, cause, invalid, methodNotAllowed, noSuchPath, unsupportedMediaType, type StatusCause } from './errors.js';
import { isObject } from '../json.js';
import { listObjects, serveWatch, type ObjectFilter, type WatchSettings } from '../storage/listwatch.js';
import { PATCH_TYPES, type DeleteOptions, type ObjectService, type PatchType, type RequestContext } from '../api/objects.js';
import { openapiHash, openapiV3Document, openapiV3Index } from '../api/openapi.js';
import { serveOpenAPIV2 } from '../api/openapi-v2.js';
import { PROTOBUF, decodeProtobufDeleteOptions, decodeProtobufObject } from './protobuf.js';
import { answerReview, isReview } from '../auth/reviews.js';
import { toTable, wantsTable } from '../api/table.js';
import type { Json, JsonObject, KubeObject, ResourceDef } from '../types.js';
import { boolParam, intParam, listOptions, mediaType, optionalBoolParam, parseBody, readBody, send } from './wire.js';

/** What a resource request asks for, as authorizers see it. */
export interface RequestAttributes {
  verb: string;
  def: ResourceDef;
  subresource: string | undefined;
  namespace: string;
  name: string | undefined;
}

/** What one API root serves. */
export interface ApiView {
  svc: ObjectService;
  /** Resources served, for discovery and routing. */
  resources(): readonly ResourceDef[];
  /** Preferred version per group in discovery, where the highest is not preferred. */
  preferred?: Record<string, string>;
  /** An extra list/watch filter for a resource (e.g. claim labels in a virtual workspace). */
  filter?(def: ResourceDef): ObjectFilter | undefined;
  /** Refuses a request by throwing an ApiError (authorizers, read-only resources). */
  authorize?(ctx: RequestContext, attrs: RequestAttributes): void;
  /**
   * The logical cluster's authorizer: it decides non-resource requests (discovery, OpenAPI) and
   * answers access reviews. Views without one (virtual workspaces) authorize on their own.
   */
  authorizer?: ClusterAuthorizer;
  watch: WatchSettings;
  /** Orphans dependents before an owner is deleted with propagationPolicy=Orphan. */
  orphan(cluster: string, uid: string): void;
}

/** Serves one Kubernetes API root (`/api`, `/apis`, `/openapi/v3` and the resources) for a view. */
export async function serveAPIRoot(
req: IncomingMessage,
res: ServerResponse,
segs: string[],
q: URLSearchParams,
ctx: RequestContext,
view: ApiView,
): Promise<void> {
  const method = req.method ?? 'GET';
  const defs = () => view.resources();
  const host = req.headers.host ?? 'localhost';
  const get = method === 'GET' || method === 'HEAD';
  const resourceRequest = (segs[0] === 'api' && segs.length >= 3) || (segs[0] === 'apis' && segs.length >= 4);
  if (!resourceRequest && view.authorizer) {
    // kube's request info: a non-resource verb is the lowercased method.
    const attrs = { verb: method === 'HEAD' ? 'get' : method.toLowerCase(), path: `/${segs.join('/')}` };
    if (!view.authorizer.authorize(ctx.user, attrs).allowed) throw view.authorizer.denied(ctx.user, attrs);
  }
  if (segs[0] === 'api') {
    if (segs.length === 1) return get ? send(res, 200, apiVersions(host)) : rejectMethod(ctx);
    if (segs[1] !== 'v1') throw noSuchPath();
    if (segs.length === 2) return get ? sendOr404(res, apiResourceList(defs(), '', 'v1')) : rejectMethod(ctx);
    return serveResource(view, req, res, '', 'v1', segs.slice(2), q, ctx);
  }
  if (segs[0] === 'apis') {
    if (segs.length === 1) return get ? send(res, 200, apiGroupList(defs(), view.preferred)) : rejectMethod(ctx);
    if (segs.length === 2) return get ? sendOr404(res, apiGroup(defs(), segs[1]!, view.preferred)) : rejectMethod(ctx);
    if (segs.length === 3) return get ? sendOr404(res, apiResourceList(defs(), segs[1]!, segs[2]!)) : rejectMethod(ctx);
    return serveResource(view, req, res, segs[1]!, segs[2]!, segs.slice(3), q, ctx);
  }
  if (segs[0] === 'openapi' && get) {
    if (segs[1] === 'v2' && segs.length === 2) return serveOpenAPIV2(req, res);
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

function rejectMethod(ctx: RequestContext): never {
  throw methodNotAllowed(ctx.cluster === '*' ? ' in the `*` logical cluster' : '');
}

function sendOr404(res: ServerResponse, doc: JsonObject | undefined): void {
  if (!doc) throw noSuchPath();
  send(res, 200, doc);
}

async function serveResource(
  view: ApiView,
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
  const def = view.resources().find((d) => d.group === group && d.version === version && d.resource === resource);
  if (!def || (namespace && !def.namespaced)) throw noSuchPath();
  if (subresource !== undefined && !(subresource === 'status' && def.statusSubresource)) throw noSuchPath();
  const method = req.method ?? 'GET';
  const verb = verbOf(method, name, q);
  if (!verb) rejectMethod(ctx);
  if (ctx.cluster === '*') {
    if (verb !== 'list' && verb !== 'watch') rejectMethod(ctx);
    if (namespace) {
      throw badRequest(`cross-cluster LIST and WATCH are required to be cross-namespace, not scoped to namespace ${namespace}`);
    }
  }
  if (!def.verbs.includes(verb) && !(subresource === 'status' && ['get', 'update', 'patch'].includes(verb))) rejectMethod(ctx);
  view.authorize?.(ctx, { verb, def, subresource, namespace, name });
  if (isReview(def)) {
    if (!view.authorizer) throw noSuchPath();
    const review = answerReview(def, ctx, namespace, objectBody(req, def, await readBody(req)), view.authorizer);
    return send(res, 201, review);
  }
  const svc = view.svc;
  const filter = view.filter?.(def);

  const fv = q.get('fieldValidation') || undefined;
  const deleting = verb === 'delete' || verb === 'deletecollection';
  // A delete reads its options from the body when it has one, else from the query (deleteOptions).
  if (!deleting) {
    const dryRun = q.getAll('dryRun');
    checkWriteOptions(verb, fv, dryRun, q.get('fieldManager') ?? '');
    ctx.dryRun = dryRun.length > 0;
  }
  ctx.fieldValidation = fv === 'Strict' || fv === 'Ignore' ? fv : 'Warn';
  // Server-side apply needs an explicit manager; other writes default to the client's name, as kube does.
  ctx.fieldManager = q.get('fieldManager') || (mediaType(req) === 'application/apply-patch+yaml' ? '' : (req.headers['user-agent'] ?? '').split('/')[0] ?? '');

  const body = ['create', 'update', 'patch'].includes(verb) || (verb === 'delete' || verb === 'deletecollection') ? await readBody(req) : Buffer.alloc(0);
  const headers = (): Record<string, string> =>
    ctx.warnings?.length ? { Warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {};
  // kubectl asks for Tables first; status reads and writes are always plain objects.
  const table = subresource === undefined && wantsTable(req.headers['accept']);
  const include = q.get('includeObject') ?? 'Metadata';
  switch (verb) {
    case 'get': {
      const obj = svc.get(ctx, def, namespace, name!);
      return send(res, 200, (table ? toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '' }, include) : obj) as unknown as Json);
    }
    case 'list': {
      const list = await listObjects(svc, ctx, def, namespace, listOptions(q), filter);
      // Slowness after the snapshot: the list arrives already behind the writes made meanwhile.
      await view.watch.hooks?.listDelay();
      return send(res, 200, table ? toTable(def, list['items'] as unknown as KubeObject[], list['metadata'] as JsonObject, include) : list);
    }
    case 'watch': {
      const render = table ? (o: KubeObject) => toTable(def, [o], { resourceVersion: o.metadata.resourceVersion ?? '' }, include) : undefined;
      return serveWatch(svc, ctx, def, namespace, listOptions(q), res, view.watch, filter, render);
    }
    case 'create': {
      const input = objectBody(req, def, body);
      const obj = await svc.admitted(ctx, subresource, () => svc.create(ctx, def, namespace, input));
      return send(res, 201, obj as unknown as Json, headers());
    }
    case 'update': {
      const input = objectBody(req, def, body);
      const obj = await svc.admitted(ctx, subresource, () => svc.update(ctx, def, namespace, name!, input, subresource));
      return send(res, 200, obj as unknown as Json, headers());
    }
    case 'patch': {
      const type = mediaType(req) as PatchType;
      if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(type, def.builtin ? [...PATCH_TYPES] : PATCH_TYPES.filter((t) => !t.startsWith('application/strategic')));
      const existed = svc.store.get(def.storage, ctx.cluster, def.namespaced ? namespace : '', name!) !== undefined;
      const force = optionalBoolParam(q, 'force');
      if (force !== undefined && type !== 'application/apply-patch+yaml') {
        throw invalid('PatchOptions', 'meta.k8s.io', '', [cause('FieldValueForbidden', 'force', 'Forbidden: may not be specified for non-apply patch')]);
      }
      const patch = parseBody(body, type);
      const obj = await svc.admitted(ctx, subresource, () => svc.patch(ctx, def, namespace, name!, type, patch, { subresource, force: force ?? false }));
      return send(res, existed || ctx.dryRun ? 200 : 201, obj as unknown as Json, headers());
    }
    case 'delete': {
      const opts = deleteOptions(req, body, q, ctx);
      if (opts.propagationPolicy === 'Orphan' && !ctx.dryRun) {
        const cur = svc.store.get(def.storage, ctx.cluster, def.namespaced ? namespace : '', name!);
        if (cur?.metadata.uid) view.orphan(ctx.cluster, cur.metadata.uid);
      }
      return send(res, 200, (await svc.admitted(ctx, subresource, () => svc.delete(ctx, def, namespace, name!, opts))) as unknown as Json);
    }
    case 'deletecollection':
      return send(res, 200, await deleteCollection(svc, ctx, def, namespace, q, deleteOptions(req, body, q, ctx)));
  }
}


async function deleteCollection(svc: ObjectService, ctx: RequestContext, def: ResourceDef, namespace: string, q: URLSearchParams, opts: DeleteOptions): Promise<JsonObject> {
  const list = await listObjects(svc, ctx, def, namespace, { ...listOptions(q), limit: undefined, continue: undefined });
  const items = list['items'] as unknown as { metadata: { name: string; namespace?: string } }[];
  const deleted: Json[] = [];
  for (const it of items) {
    try {
      const r = await svc.admitted(ctx, undefined, () => svc.delete(ctx, def, it.metadata.namespace ?? '', it.metadata.name, { propagationPolicy: opts.propagationPolicy }));
      deleted.push(r['kind'] === 'Status' ? (it as unknown as Json) : (r as unknown as Json));
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 404) throw e;
    }
  }
  return { ...list, items: deleted };
}

/** The options kind kube decodes a write's query into, named in its 422 for a bad option. */
const OPTIONS_KIND: Record<string, string> = {
  create: 'CreateOptions',
  update: 'UpdateOptions',
  patch: 'PatchOptions',
  delete: 'DeleteOptions',
  deletecollection: 'DeleteOptions',
};

/**
 * kube's ValidateCreate/Update/Patch/DeleteOptions for dryRun and fieldValidation: 422 Invalid on
 * `<Verb>Options.meta.k8s.io`, values printed as Go does. Reads ignore both parameters, as kube does.
 */
function checkWriteOptions(verb: string, fieldValidation: string | undefined, dryRun: string[], fieldManager = ''): void {
  const kind = OPTIONS_KIND[verb];
  if (!kind) return;
  const causes = fieldManagerCauses(fieldManager);
  if (dryRun.some((d) => d !== 'All')) {
    const shown = `[]string{${dryRun.map((d) => JSON.stringify(d)).join(', ')}}`;
    causes.push(cause('FieldValueNotSupported', 'dryRun', `Unsupported value: ${shown}: supported values: "All"`));
  }
  // DeleteOptions has no fieldValidation.
  if (kind !== 'DeleteOptions' && fieldValidation !== undefined && !['Ignore', 'Strict', 'Warn'].includes(fieldValidation)) {
    causes.push(
      cause('FieldValueNotSupported', 'fieldValidation', `Unsupported value: ${JSON.stringify(fieldValidation)}: supported values: "", "Ignore", "Strict", "Warn"`),
    );
  }
  if (causes.length) throw invalid(kind, 'meta.k8s.io', '', causes);
}

/** kube's ValidateFieldManager: at most 128 bytes, every character printable. */
function fieldManagerCauses(fieldManager: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (Buffer.byteLength(fieldManager) > 128) causes.push(cause('FieldValueTooLong', 'fieldManager', 'Too long: may not be more than 128 bytes'));
  let at = 0;
  for (const ch of fieldManager) {
    if (!isPrint(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      causes.push(cause('FieldValueInvalid', 'fieldManager', `Invalid value: ${goQuote(fieldManager)}: invalid character U+${code} (at position ${at})`));
    }
    at += Buffer.byteLength(ch);
  }
  return causes;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** A string as Go's %q prints it (strconv.Quote), as kube's field errors show values. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (isPrint(ch)) out += ch;
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

/**
 * The object of a create or update: JSON, YAML, or protobuf for built-in kinds (what typed Go
 * clients and kubectl's imperative `create` commands send). Like kube, no protobuf for the rest.
 */
function objectBody(req: IncomingMessage, def: ResourceDef, body: Buffer): Json {
  if (mediaType(req) === PROTOBUF) {
    if (!def.builtin) throw unsupportedMediaType(PROTOBUF, ['application/json', 'application/yaml']);
    return decodeProtobufObject(body);
  }
  return parseBody(body, bodyType(req));
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

/**
 * DeleteOptions as kube's delete handlers decode them: from the body when there is one (the query
 * is then ignored), else from the query; then ValidateDeleteOptions (422 on DeleteOptions).
 */
function deleteOptions(req: IncomingMessage, body: Buffer, q: URLSearchParams, ctx: RequestContext): DeleteOptions {
  let opts: JsonObject = {};
  if (body.length && (mediaType(req) === PROTOBUF || body.toString('utf8').trim())) {
    // Typed Go clients send DeleteOptions in protobuf.
    if (mediaType(req) === PROTOBUF) opts = decodeProtobufDeleteOptions(body);
    else {
      const parsed = parseBody(body, 'application/json');
      if (!isObject(parsed)) throw badRequest('DeleteOptions must be a JSON object');
      opts = parsed;
    }
  } else {
    const policy = q.get('propagationPolicy');
    if (policy !== null) opts['propagationPolicy'] = policy;
    const orphan = optionalBoolParam(q, 'orphanDependents');
    if (orphan !== undefined) opts['orphanDependents'] = orphan;
    const grace = intParam(q, 'gracePeriodSeconds');
    if (grace !== undefined) opts['gracePeriodSeconds'] = grace;
    if (q.has('dryRun')) opts['dryRun'] = q.getAll('dryRun');
  }
  const policy = opts['propagationPolicy'] as string | null | undefined;
  const orphan = opts['orphanDependents'];
  const causes: StatusCause[] = [];
  if (policy != null && orphan != null) {
    causes.push(cause('FieldValueInvalid', 'propagationPolicy', `Invalid value: ${JSON.stringify(policy)}: orphanDependents and deletionPropagation cannot be both set`));
  }
  if (policy != null && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
    causes.push(
      cause('FieldValueNotSupported', 'propagationPolicy', `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan", "nil"`),
    );
  }
  if (causes.length) throw invalid('DeleteOptions', 'meta.k8s.io', '', causes);
  // client-go (so `kubectl delete --dry-run=server`) sends dryRun in the body, not in the query.
  const dryRun = Array.isArray(opts['dryRun']) ? opts['dryRun'].map(String) : [];
  checkWriteOptions('delete', undefined, dryRun);
  ctx.dryRun = dryRun.length > 0;
  const pre = isObject(opts['preconditions']) ? opts['preconditions'] : {};
  return {
    propagationPolicy: (policy ?? (orphan === true ? 'Orphan' : undefined)) as DeleteOptions['propagationPolicy'],
    preconditions: {
      uid: typeof pre['uid'] === 'string' ? pre['uid'] : undefined,
      resourceVersion: typeof pre['resourceVersion'] === 'string' ? pre['resourceVersion'] : undefined,
    },
  };
}
