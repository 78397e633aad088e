/**
 * /openapi/v2. kubectl looks a kind up in /openapi/v3 and, when it is not there (a kind whose API
 * is not bound in this workspace), falls back to /openapi/v2 fetched as gnostic protobuf; any
 * answer but a decodable document ends `kubectl apply` with that error instead of kubectl's own
 * "no matches for kind ... ensure CRDs are installed first". The schemas are published in v3,
 * which every kubectl this server targets prefers, so the v2 document declares no definitions:
 * kubectl finds no v2 schema for the kind, skips client-side validation of it and goes on to
 * resolve the kind against discovery, as it does against kcp.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../http/errors.js';
import { KUBE_GIT_VERSION, send } from '../http/wire.js';
import type { JsonObject } from '../types.js';

/**
 * The media type of the protobuf answer. client-go asks for the older spelling with `@`, which Go's
 * mime parser refuses in a Content-Type; kube-openapi accepts both and answers with this one.
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const OPENAPI_V2_PROTOBUF_ACCEPTED = new Set([OPENAPI_V2_PROTOBUF, 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf']);

/** What the document says about itself, in JSON and protobuf alike. */
const INFO = { title: 'Kubernetes', version: KUBE_GIT_VERSION } as const;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2): strings and embedded messages. */
function field(num: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((num << 3) | 2), ...varint(payload.length)]), payload]);
}

const str = (num: number, s: string): Buffer => field(num, Buffer.from(s, 'utf8'));

/**
 * The gnostic `openapi.v2.Document` (github.com/google/gnostic openapiv2/OpenAPIv2.proto):
 * swagger = 1, info = 2 (title = 1, version = 2), paths = 8, definitions = 9. Paths and
 * definitions are present and empty, as the JSON form's `{}`.
 */
export function openapiV2Protobuf(): Buffer {
  return Buffer.concat([
    str(1, '2.0'),
    field(2, Buffer.concat([str(1, INFO.title), str(2, INFO.version)])),
    field(8, Buffer.alloc(0)),
    field(9, Buffer.alloc(0)),
  ]);
}

/** The JSON form of the same document. */
export function openapiV2JSON(): JsonObject {
  return { swagger: '2.0', info: { ...INFO }, paths: {}, definitions: {} };
}

/** Media types of an Accept header, in order, without parameters. */
function acceptedTypes(accept: string | undefined): string[] {
  if (!accept) return ['*/*'];
  return accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
}

/** Answers GET /openapi/v2 in the first media type of the Accept header that it serves. */
export function serveOpenAPIV2(req: IncomingMessage, res: ServerResponse): void {
  for (const type of acceptedTypes(req.headers['accept'])) {
    if (OPENAPI_V2_PROTOBUF_ACCEPTED.has(type)) {
      const body = openapiV2Protobuf();
      res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF, 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (type === 'application/json' || type === '*/*' || type === 'application/*' || type === '') {
      return send(res, 200, openapiV2JSON(), { 'Cache-Control': 'no-cache, private' });
    }
  }
  throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json, ${OPENAPI_V2_PROTOBUF}`);
}
