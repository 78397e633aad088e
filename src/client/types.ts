/** The object shapes the client reads and writes: just enough structure to address an object. */

/** `metadata` of a Kubernetes object, as JSON (timestamps are strings). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
  [field: string]: unknown;
}

/** Any Kubernetes object; concrete types extend it with `spec`, `status`, `data`... */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/**
 * Names a resource type by `apiVersion` and `kind`. The optional phantom `T` lets
 * `const WIDGET: ObjectType<Widget> = { apiVersion, kind }` type every call made with it.
 */
export interface ObjectType<T extends KubernetesObject = KubernetesObject> {
  apiVersion: string;
  kind: string;
  /** Never set; carries the object type for inference only. */
  readonly __object?: T;
}

/** Which object: a name, and a namespace for namespaced resources. */
export interface ObjectKey {
  namespace?: string;
  name: string;
}

/** A list response: `items` plus the list metadata that paging and watching need. */
export interface ObjectList<T extends KubernetesObject = KubernetesObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}
