/**
 * Admission webhooks' vocabulary: the `admission.k8s.io/v1` AdmissionReview as the API server sends
 * it, what a defaulting or validating handler receives, and the denial a handler throws.
 */
import type { KubernetesObject, StatusCause } from '../client/index.js';
import type { Logger } from '../log/index.js';
import type { Cluster } from '../provider/types.js';

/** An admission operation (`CONNECT` reaches no handler: it is allowed unseen, as controller-runtime does). */
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The requesting user, as authenticated by the API server (`authentication.k8s.io/v1` UserInfo). */
export interface UserInfo {
  /** User name, e.g. `kcp-admin` or `system:serviceaccount:default:sa`. */
  username?: string;
  /** Unique id of the user, when the authenticator gives one. */
  uid?: string;
  /** Groups the user is in. */
  groups?: string[];
  /** Further attributes from the authenticator. */
  extra?: Record<string, string[]>;
}

/** A group, version and kind (`kind`/`requestKind` of a review). */
export interface GroupVersionKind {
  /** API group, empty for the core group. */
  group: string;
  /** API version. */
  version: string;
  /** Kind. */
  kind: string;
}

/** A group, version and resource (`resource`/`requestResource` of a review). */
export interface GroupVersionResource {
  /** API group, empty for the core group. */
  group: string;
  /** API version. */
  version: string;
  /** Resource, plural. */
  resource: string;
}

/** `AdmissionReview.request`. */
export interface AdmissionRequest {
  /** Unique per call; echoed in the response. */
  uid: string;
  /** The kind as matched by the webhook's rules. */
  kind: GroupVersionKind;
  /** The resource as matched. */
  resource: GroupVersionResource;
  /** The subresource, e.g. `status`. */
  subResource?: string;
  /** The kind the client sent. */
  requestKind?: GroupVersionKind;
  /** The resource the client sent. */
  requestResource?: GroupVersionResource;
  /** The subresource the client sent. */
  requestSubResource?: string;
  /** The object's name (empty on a generateName CREATE seen by a mutating webhook). */
  name?: string;
  /** The object's namespace; absent for cluster-scoped objects. */
  namespace?: string;
  /** What is done to the object. */
  operation: AdmissionOperation;
  /** Who does it. */
  userInfo: UserInfo;
  /** The new object (absent on DELETE). */
  object?: KubernetesObject | null;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubernetesObject | null;
  /** Whether nothing will be persisted. */
  dryRun?: boolean;
  /** The operation's options (`CreateOptions`, `UpdateOptions`, `DeleteOptions`). */
  options?: Record<string, unknown> | null;
}

/** The `Status` of a denial in an admission response. */
export interface AdmissionStatus {
  /** HTTP code the API server answers the client with (403 for a plain denial). */
  code?: number;
  /** Why: the API server shows `admission webhook "<name>" denied the request: <message>`. */
  message?: string;
  /** Machine-readable reason, e.g. `Forbidden` or `Invalid`. */
  reason?: string;
  /** Field causes, kind and name (kubectl prints `field: message` lines for `Invalid`). */
  details?: {
    /** Name of the object. */
    name?: string;
    /** Its API group. */
    group?: string;
    /** Its kind. */
    kind?: string;
    /** One per offending field. */
    causes?: StatusCause[];
  };
  /** `Failure` on a denial. */
  status?: string;
}

/** `AdmissionReview.response`. */
export interface AdmissionResponse {
  /** The request's uid. */
  uid: string;
  /** Whether the request may proceed. */
  allowed: boolean;
  /** Why not (or a 200 code when allowed). */
  status?: AdmissionStatus;
  /** Base64 of an RFC 6902 JSON patch (mutating webhooks only). */
  patch?: string;
  /** `JSONPatch` whenever `patch` is set. */
  patchType?: 'JSONPatch';
  /** Shown by kubectl as `Warning: <text>`. */
  warnings?: string[];
  /** Audit annotations (the API server prefixes each key with the webhook's name). */
  auditAnnotations?: Record<string, string>;
}

/** The `admission.k8s.io/v1` AdmissionReview envelope. */
export interface AdmissionReview {
  /** `admission.k8s.io/v1`. */
  apiVersion: string;
  /** `AdmissionReview`. */
  kind: string;
  /** Set on the way in. */
  request?: AdmissionRequest;
  /** Set on the way out. */
  response?: AdmissionResponse;
}

/** What a webhook handler has at hand. */
export interface WebhookContext<T extends KubernetesObject = KubernetesObject> {
  /**
   * The tenant's logical cluster: the reviewed object's `kcp.io/cluster` annotation (kcp sets it
   * on CREATE), else the old object's (stored objects carry it); empty when neither has it.
   */
  readonly cluster: string;
  /** The engaged `Cluster` (client, cache, events) of `cluster`, when this process engaged it. */
  readonly engaged: Cluster | undefined;
  /** What is done to the object. */
  readonly operation: AdmissionOperation;
  /** The stored object on UPDATE and DELETE. */
  readonly oldObject: Readonly<T> | undefined;
  /** True when nothing will be persisted: a handler with side effects must skip them. */
  readonly dryRun: boolean;
  /** Who asks. */
  readonly userInfo: UserInfo;
  /** The whole request (uid, kind, resource, subresource, options...). */
  readonly request: AdmissionRequest;
  /** Logger with `webhook`, `cluster`, `namespace`, `name` and `uid` bound. */
  readonly log: Logger;
}

/** Warnings a validator returns; kubectl prints each as `Warning: <text>`. */
export type Warnings = readonly string[] | void | undefined;

/** A defaulting handler: changes `obj` in place (a copy of the request's object); the JSON patch is computed from the changes. */
export type Defaulter<T extends KubernetesObject = KubernetesObject> = (obj: T, ctx: WebhookContext<T>) => void | Promise<void>;

/** Validating handlers per operation; an operation without one is allowed. Each returns warnings or throws a `WebhookDenied`. */
export interface Validator<T extends KubernetesObject = KubernetesObject> {
  /** On CREATE, with the new object. */
  create?(obj: Readonly<T>, ctx: WebhookContext<T>): Warnings | Promise<Warnings>;
  /** On UPDATE, with the stored object and the new one. */
  update?(oldObj: Readonly<T>, obj: Readonly<T>, ctx: WebhookContext<T>): Warnings | Promise<Warnings>;
  /** On DELETE, with the stored object. */
  delete?(obj: Readonly<T>, ctx: WebhookContext<T>): Warnings | Promise<Warnings>;
}

/** Options of a `WebhookDenied`. */
export interface WebhookDeniedOptions {
  /** Machine-readable reason; default `Forbidden`, or `Invalid` when there are causes. */
  reason?: string;
  /** HTTP code the client gets; default 403, or 422 when there are causes. */
  code?: number;
  /** Offending fields: kubectl prints `* <field>: <message>` for each when the reason is `Invalid`. */
  causes?: readonly StatusCause[];
  /** Warnings sent along with the denial. */
  warnings?: readonly string[];
}

/**
 * A handler's refusal. The client sees `admission webhook "<name>" denied the request: <message>`;
 * with field causes (reason `Invalid`, code 422) kubectl shows `The <Kind> "<name>" is invalid:`
 * followed by the causes, as for a schema error.
 */
export class WebhookDenied extends Error {
  /** The status reason. */
  readonly reason: string;
  /** The HTTP code. */
  readonly code: number;
  /** Field causes. */
  readonly causes: readonly StatusCause[];
  /** Warnings to send with the denial. */
  readonly warnings: readonly string[];

  constructor(message: string, opts: WebhookDeniedOptions = {}) {
    super(message);
    this.name = 'WebhookDenied';
    const invalid = (opts.causes?.length ?? 0) > 0;
    this.reason = opts.reason ?? (invalid ? 'Invalid' : 'Forbidden');
    this.code = opts.code ?? (invalid ? 422 : 403);
    this.causes = opts.causes ?? [];
    this.warnings = opts.warnings ?? [];
  }
}
