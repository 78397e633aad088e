/**
 * The webhook builder: `manager.webhook(type).default(fn).validate({ create, update, delete })`,
 * controller-runtime's `ctrl.NewWebhookManagedBy(mgr).For(obj).WithDefaulter(d).WithValidator(v)`.
 * Each call registers one path (`/mutate-<group>-<version>-<kind>`, `/validate-…`) and records
 * what `--install` needs to write the webhook configurations.
 */
import { parseAPIVersion, type KubernetesObject, type ObjectType } from '../client/index.js';
import type { Logger } from '../log/index.js';
import type { Cluster } from '../provider/types.js';
import { reviewDefault, reviewValidate, type ReviewEnv } from './admission.js';
import type { AdmissionHandler } from './server.js';
import type { AdmissionOperation, Defaulter, Validator } from './types.js';

/** `failurePolicy` of a webhook configuration. */
export type FailurePolicy = 'Fail' | 'Ignore';

/** Options of a webhook, used in its configuration. */
export interface WebhookOptions {
  /** The resource, plural (e.g. `widgets`); default looked up at install (APIResourceSchemas, then discovery). */
  resource?: string;
  /** What the API server does when the webhook cannot be called; default `Fail`. */
  failurePolicy?: FailurePolicy;
  /** Seconds the API server waits for an answer, 1–30; default 10. */
  timeoutSeconds?: number;
  /** Name prefix of the configuration entries; default `<kind>.<group>` (the entries are `m<prefix>` and `v<prefix>`). */
  name?: string;
}

/** A registered webhook, as the configuration installer reads it. */
export interface WebhookRegistration {
  /** Mutating (defaulting) or validating. */
  readonly kind: 'mutating' | 'validating';
  /** The reviewed type. */
  readonly type: ObjectType;
  /** The served path. */
  readonly path: string;
  /** Operations the configuration's rule lists. */
  readonly operations: readonly AdmissionOperation[];
  /** The options given to the builder. */
  readonly options: WebhookOptions;
}

/** What a builder needs from its manager. */
export interface WebhookHost {
  /** Serves a handler at a path, and records the registration. */
  register(reg: WebhookRegistration, handler: AdmissionHandler): void;
  /** The engaged cluster of that name, if any. */
  engaged(cluster: string): Cluster | undefined;
  /** The manager's logger. */
  log: Logger;
}

/** controller-runtime's path of a type: dots of the group become dashes; the core group is empty (`/mutate--v1-pod`). */
export function webhookPath(kind: 'mutating' | 'validating', type: ObjectType): string {
  const { group, version } = parseAPIVersion(type.apiVersion);
  return `/${kind === 'mutating' ? 'mutate' : 'validate'}-${group.replace(/\./g, '-')}-${version}-${type.kind.toLowerCase()}`;
}

/** Builds the webhooks of one type. */
export class WebhookBuilder<T extends KubernetesObject = KubernetesObject> {
  private defaulted = false;
  private validated = false;

  constructor(
    /** The reviewed type. */
    readonly type: ObjectType<T>,
    private readonly host: WebhookHost,
    private readonly options: WebhookOptions = {},
  ) {
    const t = options.timeoutSeconds;
    if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 30)) throw new Error(`webhook for ${type.kind}: timeoutSeconds must be between 1 and 30 seconds, got ${t}`);
  }

  /** Registers a defaulting (mutating) webhook on CREATE and UPDATE: `fn` changes a copy of the object; the JSON patch is the difference. */
  default(fn: Defaulter<T>): this {
    if (this.defaulted) throw new Error(`webhook for ${this.type.kind}: default() was already called`);
    this.defaulted = true;
    const path = webhookPath('mutating', this.type);
    const env = this.env(path);
    this.host.register({ kind: 'mutating', type: this.type, path, operations: ['CREATE', 'UPDATE'], options: this.options }, (req) => reviewDefault(req, fn, env));
    return this;
  }

  /** Registers a validating webhook on the operations `v` has handlers for. */
  validate(v: Validator<T>): this {
    if (this.validated) throw new Error(`webhook for ${this.type.kind}: validate() was already called`);
    const operations = (['CREATE', 'UPDATE', 'DELETE'] as const).filter((op) => typeof v[op.toLowerCase() as 'create' | 'update' | 'delete'] === 'function');
    if (operations.length === 0) throw new Error(`webhook for ${this.type.kind}: validate() needs at least one of create, update, delete`);
    this.validated = true;
    const path = webhookPath('validating', this.type);
    const env = this.env(path);
    this.host.register({ kind: 'validating', type: this.type, path, operations, options: this.options }, (req) => reviewValidate(req, v, env));
    return this;
  }

  private env(path: string): ReviewEnv {
    return { webhook: path, log: this.host.log, engaged: (c) => this.host.engaged(c) };
  }
}
