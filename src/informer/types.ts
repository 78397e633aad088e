/** The object shapes and event vocabulary of the informer engine. */

/** The metadata fields the informer reads; everything else passes through untouched. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Any Kubernetes object as it comes off the wire. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

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
export interface ObjectKey {
  cluster: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  name: string;
}

/** A change applied to a store: what a watch or a relist did to one object. */
export type Delta<T extends KubeObject = KubeObject> =
  | { type: 'ADDED'; cluster: string; object: Cached<T> }
  | { type: 'MODIFIED'; cluster: string; object: Cached<T>; old: Cached<T> }
  | { type: 'DELETED'; cluster: string; object: Cached<T> };

/** What `listWatch` emits: deltas, and a marker after every complete (re)list. */
export type ListWatchEvent<T extends KubeObject = KubeObject> = Delta<T> | { type: 'SYNCED'; resourceVersion: string };

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
