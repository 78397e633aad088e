/**
 * kube-rs's finalizer guarantee as a helper: a reconcile that goes through `finalizer()` sees
 * `cleanup` for every object it ever saw `apply` for, because the finalizer is on the object before
 * the first `apply` and comes off only after a `cleanup` that succeeded.
 *
 * Every write is a JSON patch guarded by `test` ops, so a concurrent change to the finalizer list
 * makes the patch fail (422/409) instead of clobbering someone else's finalizer; the error
 * propagates and the reconcile retries with a fresh object.
 */
import type { ClusterClient, JSONPatchOperation, KubernetesObject, ObjectKey, ObjectType } from '../client/index.js';
import { isNotFound, PatchType } from '../client/index.js';
import type { Cached, ObjectOrCached } from '../informer/index.js';

/** What the handler is asked to do: reconcile a live object, or clean up after a deleted one. */
export type FinalizerEvent<T extends KubernetesObject = KubernetesObject> =
  | {
      /** The object is live (the finalizer is on it): bring the world in line with it. */
      kind: 'apply';
      /** The object as cached. */
      object: Cached<T>;
    }
  | {
      /** The object is being deleted: release what it holds; the finalizer comes off when this succeeds. */
      kind: 'cleanup';
      /** The object as cached, with its `deletionTimestamp`. */
      object: Cached<T>;
    };

/** Options of `finalizer()`. */
export interface FinalizerOptions {
  /** Aborts the patch requests (the handler gets its own signal from the reconcile context). */
  signal?: AbortSignal;
}


/** Whether `obj` carries finalizer `name`. */
export function hasFinalizer(obj: ObjectOrCached, name: string): boolean {
  return obj.metadata?.finalizers?.includes(name) ?? false;
}

/**
 * The JSON patch that adds finalizer `name` to `obj` as it is now. With a finalizer list present
 * the whole list is tested (kube does not deduplicate finalizers, so a concurrent add must fail);
 * without one the resourceVersion is tested before the list is created.
 */
export function addFinalizerPatch(obj: ObjectOrCached, name: string): JSONPatchOperation[] {
  const current = obj.metadata?.finalizers;
  if (current !== undefined) {
    return [
      { op: 'test', path: '/metadata/finalizers', value: [...current] },
      { op: 'add', path: '/metadata/finalizers/-', value: name },
    ];
  }
  const rv = obj.metadata?.resourceVersion;
  return [
    // Without a resourceVersion (an object not read from a server) only a missing list can be tested for.
    rv ? { op: 'test', path: '/metadata/resourceVersion', value: rv } : { op: 'test', path: '/metadata/finalizers', value: null },
    { op: 'add', path: '/metadata/finalizers', value: [name] },
  ];
}

/**
 * The JSON patch that removes exactly finalizer `name` from `obj`: the value at its index is
 * tested, then that index removed. Undefined when `obj` does not carry it.
 */
export function removeFinalizerPatch(obj: ObjectOrCached, name: string): JSONPatchOperation[] | undefined {
  const i = obj.metadata?.finalizers?.indexOf(name) ?? -1;
  if (i < 0) return undefined;
  const path = `/metadata/finalizers/${i}`;
  return [
    { op: 'test', path, value: name },
    { op: 'remove', path },
  ];
}

function addressOf(obj: ObjectOrCached): { type: ObjectType; key: ObjectKey } {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  if (!apiVersion || !kind || !name) throw new Error('finalizer: the object needs apiVersion, kind and metadata.name');
  return { type: { apiVersion, kind }, key: { namespace: obj.metadata?.namespace, name } };
}

/**
 * Runs `handler` under finalizer `name` (a qualified name such as `example.com/cleanup`):
 * - live object without the finalizer: adds it and returns undefined without calling the handler
 *   (the update it causes brings the object back, as in kube-rs);
 * - live object with it: `apply`, returning the handler's result;
 * - deleted object with it: `cleanup`; only when that resolves is the finalizer removed (a 404
 *   meanwhile counts as removed), then the result is returned. A throwing cleanup leaves the
 *   finalizer on and propagates;
 * - deleted object without it: nothing to do, undefined.
 * Patch conflicts (409/422 from a failed `test`) propagate so that the reconcile retries.
 */
export async function finalizer<T extends KubernetesObject, R>(
  client: ClusterClient,
  name: string,
  object: Cached<T>,
  handler: (ev: FinalizerEvent<T>) => Promise<R>,
  opts: FinalizerOptions = {},
): Promise<R | undefined> {
  if (!name) throw new Error('finalizer: a finalizer name is required');
  const deleting = !!object.metadata?.deletionTimestamp;
  const has = hasFinalizer(object, name);
  if (!deleting && !has) {
    const { type, key } = addressOf(object);
    await client.patch(type, key, addFinalizerPatch(object, name), { type: PatchType.JSON, signal: opts.signal });
    return undefined;
  }
  if (!deleting) return handler({ kind: 'apply', object });
  if (!has) return undefined;
  const result = await handler({ kind: 'cleanup', object });
  const { type, key } = addressOf(object);
  try {
    await client.patch(type, key, removeFinalizerPatch(object, name)!, { type: PatchType.JSON, signal: opts.signal });
  } catch (e) {
    // Gone already: whoever removed the last finalizer finished the deletion.
    if (!isNotFound(e)) throw e;
  }
  return result;
}
