/**
 * What a controller watches and how an informer delta becomes requests: the primary type (`for`),
 * owned types (`owns`: the controlling owner in the same cluster) and mapped types (`watches`).
 * Requests always carry the delta's own cluster, so one tenant's events never enqueue work in
 * another tenant's cluster.
 */
import type { KubernetesObject, ObjectKey, ObjectType } from '../client/index.js';
import type { Cached, Delta } from '../informer/index.js';
import { ownersOf } from './owners.js';
import type { ObjectEvent, Predicate } from './predicates.js';
import type { Request } from './types.js';

/** Maps an object of a watched type to the keys (in the same cluster) to reconcile. */
export type MapFunc<T extends KubernetesObject = KubernetesObject> = (obj: Cached<T>, cluster: string) => readonly ObjectKey[] | undefined;

/** Options of every watch. */
export interface WatchOptions<T extends KubernetesObject = KubernetesObject> {
  /** Events pass only when every predicate passes. */
  predicates?: readonly Predicate<T>[];
}

/** Options of `owns`. */
export interface OwnsOptions<T extends KubernetesObject = KubernetesObject> extends WatchOptions<T> {
  /** Enqueue every owner of the primary type, not only the controlling one. */
  matchEveryOwner?: boolean;
}

/** One watched type of a controller. */
export interface WatchSpec {
  readonly role: 'for' | 'owns' | 'watches';
  readonly type: ObjectType<KubernetesObject>;
  readonly predicates: readonly Predicate<KubernetesObject>[];
  readonly map?: MapFunc;
  readonly matchEveryOwner?: boolean;
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** The delta as a predicate event; `initial` marks an initial-list create. */
export function objectEvent(d: Delta, initial: boolean): ObjectEvent<KubernetesObject> {
  if (d.type === 'ADDED') return { type: 'create', object: d.object, initial };
  if (d.type === 'MODIFIED') return { type: 'update', old: d.old, object: d.object };
  return { type: 'delete', object: d.object };
}

/** Whether the watch's predicates pass the delta (decoding it only when there are predicates). */
export function passes(w: WatchSpec, global: readonly Predicate<KubernetesObject>[], d: Delta, initial: boolean): boolean {
  if (w.predicates.length === 0 && global.length === 0) return true;
  const ev = objectEvent(d, initial);
  for (const p of global) if (!p(ev)) return false;
  for (const p of w.predicates) if (!p(ev)) return false;
  return true;
}

/**
 * The requests a delta asks for under a watch; `primary` is the controller's `for` type and
 * `primaryNamespaced` its scope in the delta's cluster (undefined when unknown: then an owner is
 * taken to live where its namespaced dependent does).
 */
export function requestsFor(w: WatchSpec, primary: ObjectType<KubernetesObject> | undefined, d: Delta, out: Request[], primaryNamespaced?: boolean): void {
  const cluster = d.cluster;
  if (w.role === 'for') {
    out.push(d.namespace ? { cluster, namespace: d.namespace, name: d.name } : { cluster, name: d.name });
    return;
  }
  const objs: Cached<KubernetesObject>[] = d.type === 'MODIFIED' ? [d.old, d.object] : [d.object];
  if (w.role === 'owns') {
    if (!primary) return;
    const group = groupOf(primary.apiVersion);
    const seen = new Set<string>();
    for (const obj of objs) {
      for (const ref of ownersOf(obj, { onlyController: !w.matchEveryOwner })) {
        if (ref.kind !== primary.kind || groupOf(ref.apiVersion) !== group || seen.has(ref.name)) continue;
        seen.add(ref.name);
        // Owner references cannot cross namespaces: a namespaced owner lives in the object's
        // namespace, and a cluster-scoped one in none, whatever its dependent's namespace.
        const ns = primaryNamespaced === false ? undefined : obj.metadata?.namespace;
        out.push(ns ? { cluster, namespace: ns, name: ref.name } : { cluster, name: ref.name });
      }
    }
    return;
  }
  const seen = new Set<string>();
  for (const obj of objs) {
    for (const key of w.map?.(obj, cluster) ?? []) {
      const id = `${key.namespace ?? ''}/${key.name}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(key.namespace ? { cluster, namespace: key.namespace, name: key.name } : { cluster, name: key.name });
    }
  }
}
