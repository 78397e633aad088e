/**
 * Typed `ObjectType`s for the built-in kinds a service provider touches, typed from client-node's
 * models. client-node's classes hold `Date`s where the wire has RFC 3339 strings, and the library
 * reads and writes plain JSON, so each kind is the model with timestamps as strings.
 */
import type {
  CoreV1Event,
  EventsV1Event,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import type { ObjectMeta, ObjectType } from '../client/index.js';

/** A value of a client-node model as it is on the wire: `Date` (and `V1MicroTime`) fields are strings. */
export type WireOf<T> = T extends Date
  ? string
  : T extends readonly (infer E)[]
    ? WireOf<E>[]
    : T extends object
      ? { [K in keyof T]: WireOf<T[K]> }
      : T;

/** A client-node model as a library object: wire values, and the library's `ObjectMeta` as `metadata`. */
export type FromModel<M> = Omit<WireOf<M>, 'metadata'> & {
  /** Standard object metadata. */
  metadata?: ObjectMeta;
};

/** A core `v1` ConfigMap. */
export type ConfigMap = FromModel<V1ConfigMap>;
/** A core `v1` Secret (`data` base64-encoded; `stringData` write-only). */
export type Secret = FromModel<V1Secret>;
/** A core `v1` Namespace. */
export type Namespace = FromModel<V1Namespace>;
/** An `events.k8s.io/v1` Event, the API the library's event recorder writes. */
export type Event = FromModel<EventsV1Event>;
/** A core `v1` Event, the older API (`kubectl get events` reads both). */
export type CoreEvent = FromModel<CoreV1Event>;
/** A core `v1` ServiceAccount. */
export type ServiceAccount = FromModel<V1ServiceAccount>;
/** An `rbac.authorization.k8s.io/v1` Role. */
export type Role = FromModel<V1Role>;
/** An `rbac.authorization.k8s.io/v1` RoleBinding. */
export type RoleBinding = FromModel<V1RoleBinding>;
/** An `rbac.authorization.k8s.io/v1` ClusterRole. */
export type ClusterRole = FromModel<V1ClusterRole>;
/** An `rbac.authorization.k8s.io/v1` ClusterRoleBinding. */
export type ClusterRoleBinding = FromModel<V1ClusterRoleBinding>;

// Frozen: the constants are shared by every module that imports them.
const typeOf = <T extends FromModel<object>>(apiVersion: string, kind: string): ObjectType<T> => Object.freeze({ apiVersion, kind });

/** ConfigMaps (`v1`). */
export const CONFIG_MAP: ObjectType<ConfigMap> = typeOf('v1', 'ConfigMap');
/** Secrets (`v1`). */
export const SECRET: ObjectType<Secret> = typeOf('v1', 'Secret');
/** Namespaces (`v1`, cluster-scoped). */
export const NAMESPACE: ObjectType<Namespace> = typeOf('v1', 'Namespace');
/** Events (`events.k8s.io/v1`). */
export const EVENT: ObjectType<Event> = typeOf('events.k8s.io/v1', 'Event');
/** Core Events (`v1`). */
export const CORE_EVENT: ObjectType<CoreEvent> = typeOf('v1', 'Event');
/** ServiceAccounts (`v1`). */
export const SERVICE_ACCOUNT: ObjectType<ServiceAccount> = typeOf('v1', 'ServiceAccount');
/** Roles (`rbac.authorization.k8s.io/v1`). */
export const ROLE: ObjectType<Role> = typeOf('rbac.authorization.k8s.io/v1', 'Role');
/** RoleBindings (`rbac.authorization.k8s.io/v1`). */
export const ROLE_BINDING: ObjectType<RoleBinding> = typeOf('rbac.authorization.k8s.io/v1', 'RoleBinding');
/** ClusterRoles (`rbac.authorization.k8s.io/v1`, cluster-scoped). */
export const CLUSTER_ROLE: ObjectType<ClusterRole> = typeOf('rbac.authorization.k8s.io/v1', 'ClusterRole');
/** ClusterRoleBindings (`rbac.authorization.k8s.io/v1`, cluster-scoped). */
export const CLUSTER_ROLE_BINDING: ObjectType<ClusterRoleBinding> = typeOf('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding');
