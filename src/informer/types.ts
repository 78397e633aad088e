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

/** An object as the caller built it or as a cache hands it out: what read-only helpers accept. */
export type ObjectOrCached<T extends KubeObject = KubeObject> = T | Cached<T>;

/** The identity of an object in a multi-cluster cache. */
export interface ClusterObjectKey {
  /** Logical cluster name, from the `kcp.io/cluster` annotation or the request URL. */
  cluster: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  /** Object name. */
  name: string;
}

/** What every delta says about the object it concerns, without decoding the object. */
export interface DeltaKey {
  /** Logical cluster name of the object. */
  readonly cluster: string;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  /** Object name. */
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
  | (DeltaKey & {
      /** The object was not in the store before. */
      readonly type: 'ADDED';
      /** The object as stored now. */
      readonly object: Cached<T>;
    })
  | (DeltaKey & {
      /** The object replaced an earlier version in the store. */
      readonly type: 'MODIFIED';
      /** The object as stored now. */
      readonly object: Cached<T>;
      /** The version it replaced. */
      readonly old: Cached<T>;
      /** resourceVersion of `old`, readable without decoding it. */
      readonly oldResourceVersion: string;
    })
  | (DeltaKey & {
      /** The object left the store (deleted, or missing from a relist). */
      readonly type: 'DELETED';
      /** The last state known: the server's final object, or the cached one after a relist. */
      readonly object: Cached<T>;
    });

/**
 * What `listWatch` emits: deltas; SYNCED after every complete (re)list; BOOKMARK when the server
 * moved the resume point forward without a change to report.
 */
export type ListWatchEvent<T extends KubeObject = KubeObject> =
  | Delta<T>
  | {
      /** A complete (re)list has been applied: the store matches the server. */
      type: 'SYNCED';
      /** resourceVersion of that list. */
      resourceVersion: string;
    }
  | {
      /** The server moved the resume point forward. */
      type: 'BOOKMARK';
      /** The new resume point. */
      resourceVersion: string;
    };

/** A resource addressed by group, version and plural name (group '' is the core group). */
export interface ResourceRef {
  /** API group; `''` for the core group. */
  group: string;
  /** Version, e.g. `v1`. */
  version: string;
  /** Plural resource name, e.g. `configmaps`. */
  resource: string;
}

/** The API path of a resource across all namespaces: `/api/v1/configmaps`, `/apis/g/v/r`. */
export function resourcePath(r: ResourceRef): string {
  return r.group === '' ? `/api/${r.version}/${r.resource}` : `/apis/${r.group}/${r.version}/${r.resource}`;
}
