/**
 * `ClusterClient`: CRUD, status, patch and server-side apply for any resource in one logical
 * cluster, addressed by `{ apiVersion, kind }` and resolved through discovery. Every name that
 * enters the URL is validated first (names.ts).
 */
import { Discovery, type ResourceInfo } from './discovery.js';
import { clusterOfURL, clusterURL, InvalidObjectNameError, nameSegment, namespaceSegment, validateCluster, validateObjectName } from './names.js';
import type { Transport } from './transport.js';
import type { KubernetesObject, ObjectKey, ObjectList, ObjectType } from './types.js';
import { joinURL } from './url.js';

/** Patch flavours and their media types. */
export const PatchType = {
  /** RFC 7386 JSON merge patch. */
  Merge: 'application/merge-patch+json',
  /** RFC 6902 JSON patch (a list of operations). */
  JSON: 'application/json-patch+json',
  /** Kubernetes strategic merge patch (built-in types only). */
  StrategicMerge: 'application/strategic-merge-patch+json',
  /** Server-side apply. */
  Apply: 'application/apply-patch+yaml',
} as const;

/** One of the `PatchType` media types. */
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

/** One RFC 6902 operation. */
export interface JSONPatchOperation {
  /** The operation. */
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  /** JSON Pointer of the target, e.g. `/metadata/finalizers/0` (`~1` escapes `/`, `~0` escapes `~`). */
  path: string;
  /** The value for `add`, `replace` and `test`. */
  value?: unknown;
  /** JSON Pointer of the source for `move` and `copy`. */
  from?: string;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request (and retries waiting on Retry-After). */
  signal?: AbortSignal;
}

/** Options of writes. */
export interface WriteOptions extends CallOptions {
  /** Field manager recorded in managedFields; defaults to the client's. */
  fieldManager?: string;
  /** Validate and default, but do not persist. */
  dryRun?: boolean;
}

/** Options of `patch` and `patchStatus`. */
export interface PatchOptions extends WriteOptions {
  /** Default `PatchType.Merge`. */
  type?: Exclude<PatchType, typeof PatchType.Apply>;
}

/** Options of `apply` and `applyStatus`. */
export interface ApplyOptions extends WriteOptions {
  /** Take ownership of fields other managers own instead of failing with a conflict. */
  force?: boolean;
}

/** Options of `list`. */
export interface ListOptions extends CallOptions {
  /** Namespace to list in; all namespaces when absent. */
  namespace?: string;
  /** e.g. `app=web,tier!=db`. */
  labelSelector?: string;
  /** e.g. `metadata.name=x`. */
  fieldSelector?: string;
  /** Page size. */
  limit?: number;
  /** Continue token from the previous page. */
  continue?: string;
  /** `resourceVersion` semantics of the list (e.g. `0` for any cached state). */
  resourceVersion?: string;
}

/** Options of `delete`. */
export interface DeleteOptions extends CallOptions {
  /** Refuse (409 Conflict) unless the object still has this uid / resourceVersion. */
  preconditions?: {
    /** The uid the object must still have. */
    uid?: string;
    /** The resourceVersion the object must still have. */
    resourceVersion?: string;
  };
  /** What happens to dependents. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Seconds before the object is removed; 0 for immediately. */
  gracePeriodSeconds?: number;
  /** Validate, but do not delete. */
  dryRun?: boolean;
}

/** Options of the `ClusterClient` constructor. */
export interface ClusterClientOptions {
  /**
   * Logical cluster name or path. When absent the transport's server must already end in
   * `/clusters/<x>`; when present it replaces such a suffix (so one kubeconfig reaches any workspace).
   */
  cluster?: string;
  /** Discovery to share (one per base URL); by default each client discovers for itself. */
  discovery?: Discovery;
  /** Field manager for writes that do not name one; default `kcp-multicluster-provider`. */
  fieldManager?: string;
}

const DEFAULT_FIELD_MANAGER = 'kcp-multicluster-provider';

function typeOf(obj: KubernetesObject): ObjectType {
  if (!obj.apiVersion || !obj.kind) throw new Error('object needs apiVersion and kind');
  return { apiVersion: obj.apiVersion, kind: obj.kind };
}

function keyOf(obj: KubernetesObject): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new InvalidObjectNameError('name', '', 'metadata.name is required');
  return { namespace: obj.metadata?.namespace, name };
}

/** A client for one logical cluster: `<server>/clusters/<cluster>`. */
export class ClusterClient {
  /** The logical cluster (name or path) this client talks to. */
  readonly cluster: string;
  /** `<server>/clusters/<cluster>`. */
  readonly base: string;
  /** Kind → resource mapping for `base`. */
  readonly discovery: Discovery;
  private readonly fieldManager: string;

  constructor(
    private readonly transport: Transport,
    opts: ClusterClientOptions = {},
  ) {
    const server = transport.server;
    const existing = clusterOfURL(server);
    if (opts.cluster !== undefined) {
      const root = existing !== undefined ? server.replace(/\/clusters\/[^/?#]+\/*$/, '') : server;
      this.base = clusterURL(root, opts.cluster);
      this.cluster = opts.cluster;
    } else {
      if (existing === undefined) throw new Error(`the server URL does not end in /clusters/<cluster> and no cluster was given`);
      validateCluster(existing);
      this.base = server.replace(/\/+$/, '');
      this.cluster = existing;
    }
    this.discovery = opts.discovery ?? new Discovery(transport, this.base);
    this.fieldManager = opts.fieldManager ?? DEFAULT_FIELD_MANAGER;
  }

  /** Reads one object; a missing one throws an `ApiError` that `isNotFound` recognises. */
  async get<T extends KubernetesObject = KubernetesObject>(type: ObjectType<T>, key: ObjectKey, opts: CallOptions = {}): Promise<T> {
    const info = await this.resolve(type, opts);
    return this.transport.requestJSON<T>({ url: this.objectURL(info, key), signal: opts.signal });
  }

  /** Lists one page (or everything, when no `limit` is given and the server does not page). */
  async list<T extends KubernetesObject = KubernetesObject>(type: ObjectType<T>, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const info = await this.resolve(type, opts);
    const list = await this.transport.requestJSON<ObjectList<T>>({
      url: this.collectionURL(info, opts.namespace),
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
      },
      signal: opts.signal,
    });
    // Servers leave apiVersion/kind off list items; reconcilers and apply round trips need them.
    for (const item of list.items ?? []) {
      item.apiVersion ??= type.apiVersion;
      item.kind ??= type.kind;
    }
    list.items ??= [];
    return list;
  }

  /** Iterates the pages of a list, following `continue` tokens until the last page. */
  async *listPages<T extends KubernetesObject = KubernetesObject>(type: ObjectType<T>, opts: ListOptions = {}): AsyncGenerator<ObjectList<T>> {
    let token = opts.continue;
    do {
      const page = await this.list(type, { ...opts, continue: token });
      yield page;
      token = page.metadata?.continue || undefined;
    } while (token);
  }

  /** All items across all pages (pages of `limit`, default 500), with the resourceVersion of the first page. */
  async listAll<T extends KubernetesObject = KubernetesObject>(
    type: ObjectType<T>,
    opts: ListOptions = {},
  ): Promise<{
    /** Every item of every page. */
    items: T[];
    /** `metadata.resourceVersion` of the first page; a watch from it misses nothing. */
    resourceVersion: string | undefined;
  }> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    for await (const page of this.listPages(type, { limit: 500, ...opts })) {
      resourceVersion ??= page.metadata?.resourceVersion;
      items.push(...page.items);
    }
    return { items, resourceVersion };
  }

  /** Creates `obj` (its apiVersion and kind pick the resource); returns the stored object. */
  async create<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const info = await this.resolve(typeOf(obj), opts);
    return this.transport.requestJSON<T>({
      method: 'POST',
      url: this.collectionURL(info, this.namespaceFor(info, obj.metadata?.namespace)),
      query: this.writeQuery(opts),
      body: obj,
      signal: opts.signal,
    });
  }

  /** Replaces `obj` (optimistic concurrency on metadata.resourceVersion); returns the stored object. */
  async update<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.put(obj, undefined, opts);
  }

  /** Replaces the status of `obj` through the status subresource; spec changes are ignored by the server. */
  async updateStatus<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.put(obj, 'status', opts);
  }

  /** Patches one object; `patch` is a merge / strategic merge document or a JSON patch operation list. */
  async patch<T extends KubernetesObject = KubernetesObject>(
    type: ObjectType<T>,
    key: ObjectKey,
    patch: object | JSONPatchOperation[],
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.sendPatch(type, key, patch, opts.type ?? PatchType.Merge, undefined, opts);
  }

  /** Patches the status subresource of one object. */
  async patchStatus<T extends KubernetesObject = KubernetesObject>(
    type: ObjectType<T>,
    key: ObjectKey,
    patch: object | JSONPatchOperation[],
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.sendPatch(type, key, patch, opts.type ?? PatchType.Merge, 'status', opts);
  }

  /** Server-side apply of `obj` (the fields this manager wants to own); `force` takes over conflicting fields. */
  async apply<T extends KubernetesObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    return this.sendPatch(typeOf(obj) as ObjectType<T>, keyOf(obj), obj, PatchType.Apply, undefined, opts);
  }

  /** Server-side apply to the status subresource. */
  async applyStatus<T extends KubernetesObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    return this.sendPatch(typeOf(obj) as ObjectType<T>, keyOf(obj), obj, PatchType.Apply, 'status', opts);
  }

  /**
   * Deletes one object. Returns the object when the server answers with it (marked for deletion
   * because of finalizers, or the last state of a custom resource); undefined when it answers
   * with a success `Status`.
   */
  async delete<T extends KubernetesObject = KubernetesObject>(
    type: ObjectType<T>,
    key: ObjectKey,
    opts: DeleteOptions = {},
  ): Promise<T | undefined> {
    const info = await this.resolve(type, opts);
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.preconditions) body['preconditions'] = opts.preconditions;
    if (opts.propagationPolicy) body['propagationPolicy'] = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = opts.gracePeriodSeconds;
    if (opts.dryRun) body['dryRun'] = ['All'];
    const res = await this.transport.requestJSON<T | { kind: 'Status' } | undefined>({
      method: 'DELETE',
      url: this.objectURL(info, key),
      body,
      signal: opts.signal,
    });
    if (!res || (res as { kind?: string }).kind === 'Status') return undefined;
    return res as T;
  }

  /** The discovery entry for `type` (resource name, scope, verbs, subresources). */
  resolve(type: ObjectType<KubernetesObject> | { apiVersion: string; kind: string }, opts: CallOptions = {}): Promise<ResourceInfo> {
    return this.discovery.resourceFor(type, opts);
  }

  private async put<T extends KubernetesObject>(obj: T, subresource: 'status' | undefined, opts: WriteOptions): Promise<T> {
    const info = await this.resolve(typeOf(obj), opts);
    return this.transport.requestJSON<T>({
      method: 'PUT',
      url: this.objectURL(info, keyOf(obj), subresource),
      query: this.writeQuery(opts),
      body: obj,
      signal: opts.signal,
    });
  }

  private async sendPatch<T extends KubernetesObject>(
    type: ObjectType<T>,
    key: ObjectKey,
    patch: unknown,
    contentType: PatchType,
    subresource: 'status' | undefined,
    opts: ApplyOptions,
  ): Promise<T> {
    const info = await this.resolve(type, opts);
    return this.transport.requestJSON<T>({
      method: 'PATCH',
      url: this.objectURL(info, key, subresource),
      query: { ...this.writeQuery(opts), force: contentType === PatchType.Apply && opts.force ? true : undefined },
      body: patch,
      contentType,
      signal: opts.signal,
    });
  }

  private writeQuery(opts: WriteOptions): Record<string, string | undefined> {
    return { fieldManager: opts.fieldManager ?? this.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
  }

  // A namespaced resource needs a namespace: silently writing to `default` in someone's workspace is worse than an error.
  private namespaceFor(info: ResourceInfo, ns: string | undefined): string | undefined {
    if (!info.namespaced) return undefined;
    if (!ns) throw new InvalidObjectNameError('namespace', '', `${info.resource} are namespaced; a namespace is required`);
    return ns;
  }

  private collectionURL(info: ResourceInfo, namespace: string | undefined): string {
    const gv = info.group === '' ? `api/${info.version}` : `apis/${info.group}/${info.version}`;
    // Discovery is server data too; a resource name from it is checked like any other segment.
    validateObjectName(info.resource, 'resource');
    const resource = encodeURIComponent(info.resource);
    const ns = info.namespaced && namespace ? `namespaces/${namespaceSegment(namespace)}/` : '';
    return joinURL(this.base, `${gv}/${ns}${resource}`);
  }

  private objectURL(info: ResourceInfo, key: ObjectKey, subresource?: string): string {
    const ns = this.namespaceFor(info, key.namespace);
    const url = `${this.collectionURL(info, ns)}/${nameSegment(key.name)}`;
    return subresource ? `${url}/${subresource}` : url;
  }
}
