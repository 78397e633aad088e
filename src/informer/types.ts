/** The object shapes and event vocabulary of the informer engine. */
import type { KubernetesObject } from '../client/index.js';

/**
 * Any Kubernetes object as it comes off the wire: the client's type, so that a user's
 * `interface Widget extends KubernetesObject` fits every informer type parameter.
 */
export type KubeObject = KubernetesObject;

/** Deeply read-only view of a value: what readers of a cache get. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<DeepReadonly<E>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** A cached object: shared by every reader, never to be mutated. */
export type Cached<T extends KubeObject = KubeObject> = DeepReadonly<T>;

/** The identity of an object in a multi-cluster cache. */
export interface ClusterObjectKey {
  cluster: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  name: string;
}

/** What every delta says about the object it concerns, without decoding the object. */
export interface DeltaKey {
  readonly cluster: string;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  /** The resourceVersion of `object` ('' when the server sent none). */
  readonly resourceVersion: string;
}

/**
 * A change applied to a store: what a watch or a relist did to one object. The key fields are
 * always at hand; `object` (and `old`) are decoded from the wire text on first read and then kept,
 * so a consumer that only needs keys (a controller enqueueing requests) never pays for decoding.
 */
export type Delta<T extends KubeObject = KubeObject> =
  | (DeltaKey & { readonly type: 'ADDED'; readonly object: Cached<T> })
  | (DeltaKey & { readonly type: 'MODIFIED'; readonly object: Cached<T>; readonly old: Cached<T>; readonly oldResourceVersion: string })
  | (DeltaKey & { readonly type: 'DELETED'; readonly object: Cached<T> });

/**
 * What `listWatch` emits: deltas; SYNCED after every complete (re)list; BOOKMARK when the server
 * moved the resume point forward without a change to report.
 */
export type ListWatchEvent<T extends KubeObject = KubeObject> =
  | Delta<T>
  | { type: 'SYNCED'; resourceVersion: string }
  | { type: 'BOOKMARK'; resourceVersion: string };

/** A resource addressed by group, version and plural name (group '' is the core group). */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

/** The API path of a resource across all namespaces: `/api/v1/configmaps`, `/apis/g/v/r`. */
export function resourcePath(r: ResourceRef): string {
  return r.group === '' ? `/api/${r.version}/${r.resource}` : `/apis/${r.group}/${r.version}/${r.resource}`;
}
