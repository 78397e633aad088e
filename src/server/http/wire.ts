/** HTTP helpers shared by the front, the API roots and the virtual workspaces. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { load as loadYaml } from 'js-yaml';
import { ApiError, badRequest } from './errors.js';
import { MAX_JSON_DEPTH, jsonShapeExcess } from '../json.js';
import type { ListOptions } from '../storage/listwatch.js';
import type { Json } from '../types.js';

/** The Kubernetes version this server reports (/version, /openapi/v2). */
export const KUBE_GIT_VERSION = 'v1.33.3+kcp-reference';

/** Kubernetes' request body limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Whether the client accepts a JSON answer. */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]!.trim().toLowerCase();
    return type === 'application/json' || type === '*/*' || type === 'application/*' || type === '';
  });
}

/** Responses whose JSON is indented (`?pretty`, or a human's client), marked by the front. */
const prettyResponses = new WeakSet<ServerResponse>();

/** Indents every JSON answer `send` writes on `res`. */
export function markPretty(res: ServerResponse): void {
  prettyResponses.add(res);
}

export function send(res: ServerResponse, code: number, body: Json, headers: Record<string, string> = {}): void {
  // kube's pretty serializer is json.MarshalIndent with two spaces (and no trailing newline).
  const text = prettyResponses.has(res) ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.code, err.toStatus(), err.headers);
}

/** Reads the request body, refusing more than MAX_BODY_BYTES with 413. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
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

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Parses a JSON or YAML body. JSON.parse and js-yaml do not recurse deeply, but everything after
 * them does, so the decoded value is refused (400) when it nests deeper than MAX_JSON_DEPTH or
 * when YAML aliases expand it far beyond its text (go-yaml refuses the same "billion laughs").
 */
export function parseBody(buf: Buffer, type: string): Json {
  const text = buf.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  let value: Json;
  try {
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml') value = loadYaml(text) as Json;
    else value = JSON.parse(text) as Json;
  } catch (e) {
    throw badRequest(`the request body could not be decoded: ${(e as Error).message.split('\n')[0]}`);
  }
  // Without aliases a document holds at most about one value per character.
  const excess = jsonShapeExcess(value, 2 * text.length + 1000);
  if (excess === 'depth') throw badRequest(`the request body could not be decoded: exceeded max depth of ${MAX_JSON_DEPTH}`);
  if (excess === 'values') throw badRequest('the request body could not be decoded: yaml: document contains excessive aliasing');
  return value;
}

/*
 * Query parameters are read as kube-apiserver's parameter codec decodes them into its options
 * structs (apimachinery's Convert_Slice_string_To_*): the first value counts, and every site of
 * the server (API roots, virtual workspace request info) reads them through these functions.
 */

/**
 * A boolean query parameter: false when absent or when its value is `0` or `false` in any case;
 * any other value, the empty one (`?watch=`) included, is true. `True` (the Python client) and
 * `t` are true; unlike strconv.ParseBool, `f` and `no` are true too.
 */
export function boolParam(q: URLSearchParams, name: string): boolean {
  return optionalBoolParam(q, name) ?? false;
}

/** A `*bool` option (sendInitialEvents, orphanDependents, force): undefined when absent. */
export function optionalBoolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * An int64 query parameter (limit, timeoutSeconds, gracePeriodSeconds): decimal with an optional
 * sign, as strconv.ParseInt(s, 10, 64) reads it. A present but empty or malformed value is a 400,
 * as kube answers a failed decode; values beyond 2^53 lose precision, which no caller notices.
 */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`invalid ${name}: "${v}"`);
  const n = BigInt(v);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw badRequest(`invalid ${name}: "${v}": value out of range`);
  return Number(n);
}

/**
 * Whether JSON answers are indented, as kube's negotiation decides: a non-empty `pretty` is read
 * with strconv.ParseBool (`1`, `t`, `T`, `true`, `TRUE`, `True`; anything else, unparsable values
 * included, is false); without one, curl, Wget and browsers get indented output.
 */
export function wantsPretty(q: URLSearchParams, userAgent: string | undefined): boolean {
  const v = q.get('pretty');
  if (v) return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
  const ua = userAgent ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}

export function listOptions(q: URLSearchParams): ListOptions {
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: intParam(q, 'limit'),
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
    sendInitialEvents: optionalBoolParam(q, 'sendInitialEvents'),
    timeoutSeconds: intParam(q, 'timeoutSeconds'),
  };
}

