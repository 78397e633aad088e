/**
 * One call to an admission webhook: the AdmissionReview v1 request, the HTTPS POST checked against
 * the webhook's caBundle with its timeout, and the checks kube makes on the answer. Failures carry
 * kube's wording, so `failed calling webhook` messages read the same here and on kcp.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { isObject } from '../json.js';
import type { UserInfo } from '../api/objects.js';
import type { Json, JsonObject, KubeObject, ResourceDef } from '../types.js';
import type { Webhook } from './configs.js';
import type { Operation } from './match.js';

/** The review of one call, before its uid is set. */
export interface ReviewInput {
  operation: Operation;
  /** The version the object is sent in (the matched one). */
  def: ResourceDef;
  /** The version the client addressed. */
  requestDef: ResourceDef;
  subresource: string;
  name: string;
  namespace: string;
  object: KubeObject | undefined;
  oldObject: KubeObject | undefined;
  user: UserInfo;
  dryRun: boolean;
  fieldManager: string | undefined;
}

/** A webhook's answer that passed kube's checks. */
export interface WebhookAnswer {
  allowed: boolean;
  status: JsonObject | undefined;
  /** Decoded JSON patch operations (mutating webhooks only). */
  patch: Json | undefined;
  warnings: string[];
}

/** A failed call (transport, timeout, bad answer): subject to failurePolicy, as kube's ErrCallingWebhook. */
export class WebhookCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookCallError';
  }
}

const OPTIONS_KIND: Record<Operation, string> = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' };

function gvk(def: ResourceDef): JsonObject {
  return { group: def.group, version: def.version, kind: def.kind };
}

function gvr(def: ResourceDef): JsonObject {
  return { group: def.group, version: def.version, resource: def.resource };
}

/** The AdmissionReview v1 request kube sends for `r`. */
export function admissionReview(r: ReviewInput, uid: string): JsonObject {
  const userInfo: JsonObject = { username: r.user.name, groups: [...r.user.groups] };
  if (r.user.uid) userInfo['uid'] = r.user.uid;
  if (r.user.extra && Object.keys(r.user.extra).length) userInfo['extra'] = r.user.extra;
  const options: JsonObject = { kind: OPTIONS_KIND[r.operation], apiVersion: 'meta.k8s.io/v1' };
  if (r.dryRun) options['dryRun'] = ['All'];
  if (r.fieldManager && r.operation !== 'DELETE') options['fieldManager'] = r.fieldManager;
  const request: JsonObject = {
    uid,
    kind: gvk(r.def),
    resource: gvr(r.def),
    requestKind: gvk(r.requestDef),
    requestResource: gvr(r.requestDef),
    name: r.name,
    operation: r.operation,
    userInfo,
    object: (r.object ?? null) as unknown as Json,
    oldObject: (r.oldObject ?? null) as unknown as Json,
    dryRun: r.dryRun,
    options,
  };
  if (r.subresource) {
    request['subResource'] = r.subresource;
    request['requestSubResource'] = r.subresource;
  }
  if (r.namespace) request['namespace'] = r.namespace;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/** Go's net/http wording for the failures Node reports, so messages match kube's prefixes. */
function transportError(e: NodeJS.ErrnoException, host: string): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${host}: connect: connection refused`;
    case 'ECONNRESET':
      return 'read: connection reset by peer';
    case 'ENOTFOUND':
      return `dial tcp: lookup ${host.replace(/:\d+$/, '')}: no such host`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is not valid for ${host.replace(/:\d+$/, '')}`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    default:
      return e.message;
  }
}

const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

function post(hook: Webhook, body: string, timeoutMs: number): Promise<{ code: number; text: string }> {
  const url = new URL(hook.url);
  url.searchParams.set('timeout', `${Math.ceil(timeoutMs / 1000)}s`);
  const shown = `Post ${JSON.stringify(url.toString())}`;
  const host = url.host;
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new WebhookCallError(`failed to call webhook: ${shown}: ${why}`));
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*', 'Content-Length': Buffer.byteLength(body) },
        ca: hook.caBundle,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`response body larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => fail(e.message));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      fail('context deadline exceeded');
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(transportError(e, host));
    });
    req.end(body);
  });
}

/** Calls `hook` with the review of `r` and checks its answer as kube does; throws WebhookCallError. */
export async function callWebhook(hook: Webhook, r: ReviewInput): Promise<WebhookAnswer> {
  // v1beta1 carries the same fields as v1; kube prefers v1 when a webhook accepts both.
  const version = hook.admissionReviewVersions.includes('v1') ? 'v1' : hook.admissionReviewVersions.includes('v1beta1') ? 'v1beta1' : undefined;
  if (!version) throw new WebhookCallError('could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)');
  const uid = randomUUID();
  const sent = { ...admissionReview(r, uid), apiVersion: `admission.k8s.io/${version}` };
  const { code, text } = await post(hook, JSON.stringify(sent), hook.timeoutSeconds * 1000);
  if (code < 200 || code > 299) {
    throw new WebhookCallError(`failed to call webhook: the server responded with the status code ${code} but did not return more information`);
  }
  let review: Json;
  try {
    review = JSON.parse(text) as Json;
  } catch (e) {
    throw new WebhookCallError(`failed to call webhook: ${(e as Error).message}`);
  }
  const invalid = (why: string): WebhookCallError => new WebhookCallError(`received invalid webhook response: ${why}`);
  if (!isObject(review)) throw invalid('webhook response was absent');
  const apiVersion = typeof review['apiVersion'] === 'string' ? review['apiVersion'] : '';
  const kind = typeof review['kind'] === 'string' ? review['kind'] : '';
  if (apiVersion !== `admission.k8s.io/${version}` || kind !== 'AdmissionReview') {
    const [g, v] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    throw invalid(`expected webhook response of admission.k8s.io/${version}, Kind=AdmissionReview, got ${g}/${v}, Kind=${kind}`);
  }
  const res = review['response'];
  if (!isObject(res)) throw invalid('webhook response was absent');
  const gotUID = typeof res['uid'] === 'string' ? res['uid'] : '';
  if (gotUID !== uid) throw invalid(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(gotUID)}`);
  const patchText = typeof res['patch'] === 'string' ? res['patch'] : '';
  const patchType = typeof res['patchType'] === 'string' ? res['patchType'] : '';
  let patch: Json | undefined;
  if (!hook.mutating) {
    if (patchText) throw invalid('validating webhook may not return response.patch');
    if (patchType) throw invalid('validating webhook may not return response.patchType');
  } else {
    if (patchText && !patchType) throw invalid('webhook returned response.patch but not response.patchType');
    if (patchType && !patchText) throw invalid('webhook returned response.patchType but not response.patch');
    if (patchType && patchType !== 'JSONPatch') throw invalid(`webhook returned invalid response.patchType of ${JSON.stringify(patchType)}`);
    if (patchText) {
      try {
        patch = JSON.parse(Buffer.from(patchText, 'base64').toString('utf8')) as Json;
      } catch (e) {
        throw new WebhookCallError(`received undecodable patch in webhook response: ${(e as Error).message}`);
      }
    }
  }
  const warnings = Array.isArray(res['warnings']) ? res['warnings'].filter((w): w is string => typeof w === 'string') : [];
  return { allowed: res['allowed'] === true, status: isObject(res['status']) ? res['status'] : undefined, patch, warnings };
}
