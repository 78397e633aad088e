/**
 * From an AdmissionRequest to an AdmissionResponse for a defaulter or a validator, with
 * controller-runtime's rules (admission/defaulter_custom.go, validator_custom.go): DELETE and
 * CONNECT skip defaulting; a missing object is a 400; a `WebhookDenied` keeps its status and
 * warnings. Anything else a handler throws propagates: the server answers it as a 500 and counts it.
 */
import type { KubernetesObject } from '../client/index.js';
import { CLUSTER_ANNOTATION } from '../informer/index.js';
import type { Logger } from '../log/index.js';
import type { Cluster } from '../provider/types.js';
import { createJsonPatch } from './patch.js';
import { WebhookDenied, type AdmissionRequest, type AdmissionResponse, type Defaulter, type Validator, type WebhookContext } from './types.js';

/** What a handler run needs besides the request. */
export interface ReviewEnv {
  /** The webhook's path, for the log. */
  webhook: string;
  /** The server's logger. */
  log: Logger;
  /** The engaged cluster of that name, if any. */
  engaged(cluster: string): Cluster | undefined;
}

/** An allowing response (code 200), with warnings if any. */
export function allowed(uid: string, warnings?: readonly string[]): AdmissionResponse {
  return { uid, allowed: true, status: { code: 200 }, ...(warnings && warnings.length > 0 ? { warnings: [...warnings] } : {}) };
}

/** A refusal with `code` and `message` (controller-runtime's `Errored`). */
export function errored(uid: string, code: number, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, message } };
}

/** The response for a `WebhookDenied`: its code, reason, message, causes and warnings. */
export function denied(uid: string, e: WebhookDenied, req: AdmissionRequest): AdmissionResponse {
  const obj = req.object ?? req.oldObject ?? undefined;
  const details =
    e.causes.length > 0
      ? { name: req.name || obj?.metadata?.name || '', group: req.kind.group, kind: req.kind.kind, causes: e.causes.map((c) => ({ ...c })) }
      : undefined;
  return {
    uid,
    allowed: false,
    status: { code: e.code, reason: e.reason, message: e.message, status: 'Failure', ...(details ? { details } : {}) },
    ...(e.warnings.length > 0 ? { warnings: [...e.warnings] } : {}),
  };
}

function isObject(v: unknown): v is KubernetesObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clusterOf(req: AdmissionRequest): string {
  // kcp stamps CREATE only; stored objects (UPDATE's and DELETE's oldObject) carry it from storage.
  for (const o of [req.object, req.oldObject]) {
    const c = isObject(o) ? o.metadata?.annotations?.[CLUSTER_ANNOTATION] : undefined;
    if (c) return c;
  }
  return '';
}

/** The handler's context for `req`. */
export function webhookContext<T extends KubernetesObject>(req: AdmissionRequest, env: ReviewEnv): WebhookContext<T> {
  const cluster = clusterOf(req);
  const obj = isObject(req.object) ? req.object : isObject(req.oldObject) ? req.oldObject : undefined;
  const namespace = req.namespace ?? obj?.metadata?.namespace;
  const name = req.name || obj?.metadata?.name;
  return {
    cluster,
    engaged: cluster ? env.engaged(cluster) : undefined,
    operation: req.operation,
    oldObject: isObject(req.oldObject) ? (req.oldObject as T) : undefined,
    dryRun: req.dryRun === true,
    userInfo: req.userInfo ?? {},
    request: req,
    log: env.log.with({ webhook: env.webhook, cluster, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), uid: req.uid }),
  };
}

const NO_CONTENT = 'there is no content to decode';

/** Runs a defaulter: the patch is the diff between the request's object and the changed copy. */
export async function reviewDefault<T extends KubernetesObject>(req: AdmissionRequest, fn: Defaulter<T>, env: ReviewEnv): Promise<AdmissionResponse> {
  if (req.operation === 'DELETE' || req.operation === 'CONNECT') return allowed(req.uid);
  if (!isObject(req.object)) return errored(req.uid, 400, NO_CONTENT);
  const copy = structuredClone(req.object) as T;
  try {
    await fn(copy, webhookContext<T>(req, env));
  } catch (e) {
    if (e instanceof WebhookDenied) return denied(req.uid, e, req);
    throw e;
  }
  const ops = createJsonPatch(req.object, copy);
  if (ops.length === 0) return allowed(req.uid);
  return { ...allowed(req.uid), patch: Buffer.from(JSON.stringify(ops)).toString('base64'), patchType: 'JSONPatch' };
}

/** Runs the validator's handler for the request's operation; an operation without one is allowed. */
export async function reviewValidate<T extends KubernetesObject>(req: AdmissionRequest, v: Validator<T>, env: ReviewEnv): Promise<AdmissionResponse> {
  const ctx = (): WebhookContext<T> => webhookContext<T>(req, env);
  try {
    switch (req.operation) {
      case 'CREATE':
        if (!isObject(req.object)) return errored(req.uid, 400, NO_CONTENT);
        return allowed(req.uid, (await v.create?.(req.object as T, ctx())) ?? undefined);
      case 'UPDATE':
        if (!isObject(req.object) || !isObject(req.oldObject)) return errored(req.uid, 400, NO_CONTENT);
        return allowed(req.uid, (await v.update?.(req.oldObject as T, req.object as T, ctx())) ?? undefined);
      case 'DELETE':
        if (!isObject(req.oldObject)) return errored(req.uid, 400, NO_CONTENT);
        return allowed(req.uid, (await v.delete?.(req.oldObject as T, ctx())) ?? undefined);
      case 'CONNECT':
        return allowed(req.uid);
      default:
        return errored(req.uid, 400, `unknown operation ${JSON.stringify(String(req.operation))}`);
    }
  } catch (e) {
    if (e instanceof WebhookDenied) return denied(req.uid, e, req);
    throw e;
  }
}
