/**
 * controller-runtime's `controllerutil.CreateOrUpdate` and `CreateOrPatch`: read the object, let a
 * function bring it to the desired state, and write only what changed.
 *
 * Reads come from the cluster's cache when a controller watches the type there (no request), else
 * from the client. A cache can lag behind the server, so a write that meets a newer object (409
 * Conflict, or AlreadyExists on a create after a cache miss) is retried once after a fresh read from
 * the server; a second conflict propagates and the reconcile retries with backoff.
 *
 * Unlike the Go helpers, a change of `status` is written too: through the status subresource when
 * the resource has one (a plain update or patch would drop it there).
 */
import type { ClusterClient, KubernetesObject, ObjectKey, ObjectMeta, ObjectType, WriteOptions } from '../client/index.js';
import { isAlreadyExists, isConflict, isNotFound, PatchType } from '../client/index.js';
import type { ClusterCache } from '../provider/index.js';
import { containsList, createMergePatch, jsonEqual } from './merge-patch.js';

/** What `createOrUpdate` and `createOrPatch` did. */
export type OperationResult = 'created' | 'updated' | 'unchanged';

/** Where the helpers read and write: a `Cluster` (its cache and client), or a bare `ClusterClient`. */
export type ObjectAccess =
  | ClusterClient
  | {
      /** Reads (on a cache miss of an unwatched type, and fresh reads) and writes. */
      readonly client: ClusterClient;
      /** Reads of the types it caches; absent: every read goes to the client. */
      readonly cache?: ClusterCache | undefined;
    };

/** Brings the object (the current one, or the caller's template when there is none) to the desired state, in place. */
export type MutateFn<T extends KubernetesObject> = (obj: T & { metadata: ObjectMeta }) => void | Promise<void>;

/** Options of `createOrUpdate` and `createOrPatch`. */
export type CreateOrUpdateOptions = WriteOptions;

type Doc = KubernetesObject & { [field: string]: unknown };

interface Step {
  client: ClusterClient;
  type: ObjectType<Doc>;
  key: ObjectKey;
  opts: WriteOptions;
  /** The object as read, after `mutate` saw nothing of it. */
  before: Doc;
  /** The object as `mutate` left it. */
  after: Doc;
  /** Whether `status` goes through its own subresource. */
  statusApart: boolean;
}

/** Writes what changed between `before` and `after`; the stored object, or undefined when nothing changed. */
type Writer = (s: Step) => Promise<Doc | undefined>;

function split(access: ObjectAccess): { client: ClusterClient; cache: ClusterCache | undefined } {
  // A ClusterClient has discovery; a Cluster (or { client, cache }) has a client.
  if ('discovery' in access) return { client: access, cache: undefined };
  return { client: access.client, cache: access.cache };
}

function withoutStatus(o: Doc): Doc {
  const { status: _status, ...rest } = o;
  return rest;
}

// Replaces the contents of `target` (the caller's object, an in/out parameter as in controller-runtime).
function replace(target: Doc, source: Doc): void {
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, source);
}

async function read(client: ClusterClient, cache: ClusterCache | undefined, type: ObjectType<Doc>, key: ObjectKey, opts: WriteOptions): Promise<Doc | undefined> {
  let found: Doc | undefined;
  if (cache?.has(type)) {
    const cached = cache.get(type, key);
    // Cached objects are shared and frozen: mutate works on a copy.
    found = cached ? (structuredClone(cached) as Doc) : undefined;
  } else {
    try {
      found = await client.get(type, key, { signal: opts.signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  if (found) {
    found.apiVersion ??= type.apiVersion;
    found.kind ??= type.kind;
  }
  return found;
}

function addressOf(obj: KubernetesObject, fn: string): { type: ObjectType<Doc>; key: ObjectKey } {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  if (!apiVersion || !kind || !name) throw new Error(`${fn}: the object needs apiVersion, kind and metadata.name`);
  const namespace = obj.metadata?.namespace;
  return { type: { apiVersion, kind }, key: namespace ? { namespace, name } : { name } };
}

async function createWithStatus(client: ClusterClient, obj: Doc, statusApart: boolean, opts: WriteOptions): Promise<Doc> {
  const created = await client.create(obj, opts);
  if (!statusApart || obj['status'] === undefined || jsonEqual(created['status'], obj['status'])) return created;
  return client.updateStatus({ ...created, status: obj['status'] }, opts);
}

async function run<T extends KubernetesObject>(fn: string, access: ObjectAccess, obj: T, mutate: MutateFn<T>, opts: WriteOptions, write: Writer): Promise<OperationResult> {
  const { client, cache } = split(access);
  // `obj` is the caller's object, filled and written in place; its fields are handled untyped here.
  const target = obj as unknown as Doc;
  if (Object.isFrozen(target)) {
    throw new Error(`${fn}: the object is filled in place; pass a new object (or a copy of a cached one), not a cached one`);
  }
  const { type, key } = addressOf(target, fn);
  const template = structuredClone(target);
  const statusApart = (await client.resolve(type, opts)).subresources.includes('status');
  for (let attempt = 0; ; attempt++) {
    // The retry reads from the server: the cache may still hold what conflicted.
    const current = await read(client, attempt === 0 ? cache : undefined, type, key, opts);
    replace(target, current ?? structuredClone(template));
    const before = structuredClone(target);
    await mutate(obj as T & { metadata: ObjectMeta });
    if (target.metadata?.name !== key.name || (target.metadata?.namespace || undefined) !== key.namespace) {
      throw new Error(`${fn}: mutate must not change the object's name or namespace (${key.namespace ? `${key.namespace}/` : ''}${key.name})`);
    }
    try {
      if (!current) {
        replace(target, await createWithStatus(client, target, statusApart, opts));
        return 'created';
      }
      const stored = await write({ client, type, key, opts, before, after: target, statusApart });
      if (!stored) return 'unchanged';
      replace(target, stored);
      return 'updated';
    } catch (e) {
      if (attempt === 0 && (isConflict(e) || (!current && isAlreadyExists(e)))) continue;
      throw e;
    }
  }
}

const update: Writer = async ({ client, before, after, statusApart, opts }) => {
  const mainChanged = statusApart ? !jsonEqual(withoutStatus(before), withoutStatus(after)) : !jsonEqual(before, after);
  const statusChanged = statusApart && !jsonEqual(before['status'], after['status']);
  if (!mainChanged && !statusChanged) return undefined;
  let stored = after;
  if (mainChanged) stored = await client.update(after, opts);
  // The status write carries the resourceVersion of the update just made: nothing came in between.
  if (statusChanged) stored = await client.updateStatus({ ...stored, status: after['status'] }, opts);
  return stored;
};

const patch: Writer = async ({ client, type, key, before, after, statusApart, opts }) => {
  const main = statusApart ? createMergePatch(withoutStatus(before), withoutStatus(after)) : createMergePatch(before, after);
  const status = statusApart ? createMergePatch({ status: before['status'] }, { status: after['status'] }) : undefined;
  if (!main && !status) return undefined;
  // A merge patch replaces lists whole (finalizers, ownerReferences, conditions): made from a stale
  // read it would drop entries written since, so such a patch is sent only against the version read.
  const lock = containsList(main) || containsList(status);
  const guard = (p: Record<string, unknown>, rv: string | undefined): Record<string, unknown> =>
    lock && rv ? { ...p, metadata: { ...(p['metadata'] as object | undefined), resourceVersion: rv } } : p;
  let stored: Doc | undefined;
  if (main) stored = await client.patch(type, key, guard(main, before.metadata?.resourceVersion), { ...opts, type: PatchType.Merge });
  if (status) {
    stored = await client.patchStatus(type, key, guard(status, (stored ?? before).metadata?.resourceVersion), { ...opts, type: PatchType.Merge });
  }
  return stored;
};

/**
 * Reads `obj` (by its apiVersion, kind, namespace and name) into `obj`, or keeps `obj` as the
 * template of a new one; calls `mutate(obj)`; then creates the object, updates it when `mutate`
 * changed something, or leaves it alone. `obj` ends up as the server stored it. `mutate` must be
 * idempotent (it runs again after a conflict) and must not change the name or namespace; owner
 * references compose with it: `obj.metadata.ownerReferences = setControllerReference(owner, obj)`.
 */
export function createOrUpdate<T extends KubernetesObject>(access: ObjectAccess, obj: T, mutate: MutateFn<T>, opts: CreateOrUpdateOptions = {}): Promise<OperationResult> {
  return run('createOrUpdate', access, obj, mutate, opts, update);
}

/**
 * As `createOrUpdate`, but changes are sent as JSON merge patches of what `mutate` changed (status
 * through its subresource), so fields others changed meanwhile are kept. A patch that replaces a
 * list is sent with the resourceVersion read, and retried once after a conflict like an update.
 */
export function createOrPatch<T extends KubernetesObject>(access: ObjectAccess, obj: T, mutate: MutateFn<T>, opts: CreateOrUpdateOptions = {}): Promise<OperationResult> {
  return run('createOrPatch', access, obj, mutate, opts, patch);
}
