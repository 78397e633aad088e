/** The object shapes the client reads and writes: just enough structure to address an object. */

/** `metadata` of a Kubernetes object, as JSON (timestamps are strings). */
export interface ObjectMeta {
  /** Object name, unique per namespace (or per cluster for cluster-scoped resources). */
  name?: string;
  /** Prefix the server completes with a random suffix when `name` is empty on create. */
  generateName?: string;
  /** Namespace of a namespaced object; absent for cluster-scoped ones (a request's `namespace` fits as is). */
  namespace?: string | undefined;
  /** Server-assigned identity; a re-created object with the same name gets a new one. */
  uid?: string;
  /** Opaque version for optimistic concurrency and watches; compare for equality only. */
  resourceVersion?: string;
  /** Incremented by the server on every change of the desired state (`spec`). */
  generation?: number;
  /** RFC 3339 time the server created the object. */
  creationTimestamp?: string;
  /** RFC 3339 time a delete was requested; set while finalizers hold the object. */
  deletionTimestamp?: string;
  /** Labels, selectable with label selectors. */
  labels?: Record<string, string>;
  /** Annotations; on kcp's virtual workspaces `kcp.io/cluster` names the object's logical cluster. */
  annotations?: Record<string, string>;
  /** Finalizers that must all be removed before a deleted object goes. */
  finalizers?: string[];
  /** Objects this one belongs to, in the same logical cluster (and namespace, for namespaced owners). */
  ownerReferences?: {
    /** `apiVersion` of the owner. */
    apiVersion: string;
    /** `kind` of the owner. */
    kind: string;
    /** Name of the owner. */
    name: string;
    /** `metadata.uid` of the owner; a reference to an older incarnation does not match. */
    uid: string;
    /** True on the one managing owner (at most one per object). */
    controller?: boolean;
    /** When true, foreground deletion of the owner waits for this object to go. */
    blockOwnerDeletion?: boolean;
  }[];
  /** Other metadata fields (`managedFields`, `selfLink`...) are kept as they came. */
  [field: string]: unknown;
}

/** Any Kubernetes object; concrete types extend it with `spec`, `status`, `data`... */
export interface KubernetesObject {
  /** `group/version` (or just `version` for the core group), e.g. `example.dev/v1alpha1`. */
  apiVersion?: string;
  /** Kind, e.g. `ConfigMap`. */
  kind?: string;
  /** Standard object metadata. */
  metadata?: ObjectMeta;
}

/**
 * Names a resource type by `apiVersion` and `kind`. The optional phantom `T` lets
 * `const WIDGET: ObjectType<Widget> = { apiVersion, kind }` type every call made with it.
 */
export interface ObjectType<T extends KubernetesObject = KubernetesObject> {
  /** `group/version` of the type, e.g. `v1` or `example.dev/v1alpha1`. */
  apiVersion: string;
  /** Kind of the type, e.g. `ConfigMap`. */
  kind: string;
  /** Never set; carries the object type for inference only. */
  readonly __object?: T;
}

/** Which object: a name, and a namespace for namespaced resources. */
export interface ObjectKey {
  /** Namespace; leave out for cluster-scoped resources. */
  namespace?: string;
  /** Object name. */
  name: string;
}

/** A list response: `items` plus the list metadata that paging and watching need. */
export interface ObjectList<T extends KubernetesObject = KubernetesObject> {
  /** `apiVersion` of the list, the same as its items'. */
  apiVersion?: string;
  /** Kind of the list, e.g. `ConfigMapList`. */
  kind?: string;
  /** List metadata. */
  metadata: {
    /** The version the list is consistent at; start a watch from it to miss nothing. */
    resourceVersion?: string;
    /** Token for the next page when the list was limited; absent on the last page. */
    continue?: string;
    /** Estimate of the items left after this page, when the server knows it. */
    remainingItemCount?: number;
  };
  /** The objects. */
  items: T[];
}
