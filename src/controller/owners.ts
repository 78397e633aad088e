/**
 * Owner references, as controller-runtime's `controllerutil`: who controls an object, and setting
 * the controller reference so that garbage collection and `owns()` watches find the owner.
 */
import type { KubernetesObject, ObjectMeta } from '../client/index.js';
import { parseAPIVersion } from '../client/index.js';
import type { Cached, ObjectOrCached } from '../informer/index.js';

/** One `metadata.ownerReferences` entry. */
export type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];


const CLUSTER_ANNOTATION = 'kcp.io/cluster';

/** The object already has a controller other than the owner given (CR's `AlreadyOwnedError`). */
export class AlreadyOwnedError extends Error {
  /** The controller reference the object has now. */
  readonly owner: OwnerReference;
  constructor(obj: ObjectOrCached, owner: ObjectOrCached<OwnerReference>) {
    const m = obj.metadata;
    super(
      `${obj.kind ?? 'object'} ${m?.namespace ? `${m.namespace}/` : ''}${m?.name ?? ''} is already owned by another ` +
        `${owner.kind} controller ${owner.name}`,
    );
    this.name = 'AlreadyOwnedError';
    this.owner = { ...owner };
  }
}

function groupOf(apiVersion: string): string {
  return parseAPIVersion(apiVersion).group;
}

// CR's referSameObject: the version may differ between references to one object; the group may not.
function sameObject(a: ObjectOrCached<OwnerReference>, b: ObjectOrCached<OwnerReference>): boolean {
  return groupOf(a.apiVersion) === groupOf(b.apiVersion) && a.kind === b.kind && a.name === b.name;
}

/** The owner reference with `controller: true`, if any. */
export function controllerOf(obj: ObjectOrCached): OwnerReference | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { ...ref } : undefined;
}

/** The owner references of `obj` (copies); only the controller's with `onlyController`. */
export function ownersOf(obj: ObjectOrCached, opts: { onlyController?: boolean } = {}): OwnerReference[] {
  const refs = obj.metadata?.ownerReferences ?? [];
  return refs.filter((r) => !opts.onlyController || r.controller === true).map((r) => ({ ...r }));
}

/** Whether one of `obj`'s owner references points at `owner` (by uid when the owner has one, else group/kind/name). */
export function isOwnedBy(obj: ObjectOrCached, owner: ObjectOrCached): boolean {
  const m = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !m?.name) return false;
  const refs = obj.metadata?.ownerReferences ?? [];
  if (m.uid) return refs.some((r) => r.uid === m.uid);
  const probe = { apiVersion: owner.apiVersion, kind: owner.kind, name: m.name, uid: '' };
  return refs.some((r) => sameObject(r, probe));
}

// The reference to `owner` that `obj` may carry; throws when `owner` cannot own `obj`.
function referenceTo(owner: ObjectOrCached, obj: ObjectOrCached): OwnerReference {
  const om = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !om?.name || !om.uid) {
    throw new Error('the owner needs apiVersion, kind, metadata.name and metadata.uid (read it from the server first)');
  }
  const ns = obj.metadata?.namespace;
  if (om.namespace) {
    // Garbage collection resolves owners in the dependent's namespace; elsewhere it would delete the dependent.
    if (!ns) throw new Error(`cluster-scoped ${obj.kind ?? 'object'} ${obj.metadata?.name ?? ''} cannot be owned by namespaced ${owner.kind} ${om.namespace}/${om.name}`);
    if (ns !== om.namespace) throw new Error(`cross-namespace owner references are not allowed: owner ${om.namespace}/${om.name}, object in ${ns}`);
  }
  const oc = om.annotations?.[CLUSTER_ANNOTATION];
  const dc = obj.metadata?.annotations?.[CLUSTER_ANNOTATION];
  if (oc && dc && oc !== dc) throw new Error(`owner references cannot cross logical clusters: owner in ${oc}, object in ${dc}`);
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: om.name, uid: om.uid };
}

// `obj`'s references with `ref` in place of one to the same object, or appended.
function upsert(obj: ObjectOrCached, ref: OwnerReference): OwnerReference[] {
  const refs = ownersOf(obj);
  const i = refs.findIndex((r) => sameObject(r, ref));
  if (i >= 0) refs[i] = ref;
  else refs.push(ref);
  return refs;
}

/**
 * The owner references `obj` should have with `owner` as its controller: an existing reference to
 * the owner is replaced, others are kept. Throws `AlreadyOwnedError` when another controller owns
 * it, and an Error for an owner that cannot own it (no uid, other namespace, other logical cluster).
 * The caller writes the result (in `createOrUpdate`'s mutate, an update, or a patch of
 * `/metadata/ownerReferences`).
 */
export function setControllerReference(owner: ObjectOrCached, obj: ObjectOrCached): OwnerReference[] {
  const ref: OwnerReference = { ...referenceTo(owner, obj), controller: true, blockOwnerDeletion: true };
  const existing = controllerOf(obj);
  if (existing && !sameObject(existing, ref)) throw new AlreadyOwnedError(obj, existing);
  return upsert(obj, ref);
}

/**
 * The owner references `obj` should have with `owner` as one more owner, as controller-runtime's
 * `SetOwnerReference`: an existing reference to the owner is replaced (keeping its `controller`
 * and `blockOwnerDeletion`, so the controller is never demoted), others are kept. Throws for an
 * owner that cannot own `obj`, as `setControllerReference` does.
 */
export function setOwnerReference(owner: ObjectOrCached, obj: ObjectOrCached): OwnerReference[] {
  const ref = referenceTo(owner, obj);
  const existing = ownersOf(obj).find((r) => sameObject(r, ref));
  if (existing?.controller !== undefined) ref.controller = existing.controller;
  if (existing?.blockOwnerDeletion !== undefined) ref.blockOwnerDeletion = existing.blockOwnerDeletion;
  return upsert(obj, ref);
}

/** The owner references of `obj` without those to `owner` (group, kind and name; any version or uid). */
export function removeOwnerReference(owner: ObjectOrCached, obj: ObjectOrCached): OwnerReference[] {
  const m = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !m?.name) throw new Error('the owner needs apiVersion, kind and metadata.name');
  const probe = { apiVersion: owner.apiVersion, kind: owner.kind, name: m.name, uid: '' };
  return ownersOf(obj).filter((r) => !sameObject(r, probe));
}
