/** The vocabulary of the cross-shard views: list options and results, per-shard errors. */
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { Cached, LabelSelectorInput } from '../informer/index.js';

/** Filters and bounds of `AggregateLister.list`. */
export interface AggregateListOptions {
  /** Only this namespace ('' for cluster-scoped objects). */
  namespace?: string;
  /** Only objects whose labels match. */
  labelSelector?: LabelSelectorInput;
  /** Only objects whose indexed field (see `provider.indexField`) equals the value; several intersect. */
  fields?: Record<string, string>;
  /** Only this logical cluster (whichever shard holds it). */
  cluster?: string;
  /** Aborting rejects the list with the signal's reason. */
  signal?: AbortSignal;
  /** How long one shard may take to resolve its informer and sync; default 30 s. */
  syncTimeoutMs?: number;
}

/** One object of a cross-shard list, with where it lives. */
export interface AggregateItem<T extends KubernetesObject = KubernetesObject> {
  /** The logical cluster (`kcp.io/cluster`). */
  cluster: string;
  /** The URL of the endpoint (shard) whose cache holds it. */
  endpoint: string;
  /** The cached object (frozen; copy before changing). */
  object: Cached<T>;
}

/** A shard that could not be read. */
export interface ShardError {
  /** The endpoint's URL. */
  endpoint: string;
  /** Why the shard could not be read, e.g. a `SyncTimeoutError` when its cache did not sync in time. */
  error: Error;
}

/** The result of a cross-shard list. */
export interface AggregateList<T extends KubernetesObject = KubernetesObject> {
  /** Items of every shard that answered, shard by shard in the order the shards joined. */
  items: AggregateItem<T>[];
  /** One entry per shard that did not answer. */
  errors: ShardError[];
  /** True when `errors` is not empty: `items` lacks those shards' objects. */
  partial: boolean;
}

/** A list asked for a field that has no index: register it with `provider.indexField` first. */
export class FieldNotIndexedError extends Error {
  /** The field asked for. */
  readonly field: string;
  constructor(type: ObjectType<KubernetesObject>, field: string) {
    super(`field ${JSON.stringify(field)} of ${type.kind} (${type.apiVersion}) is not indexed: register it with provider.indexField(type, ${JSON.stringify(field)}, fn) before listing by it`);
    this.name = 'FieldNotIndexedError';
    this.field = field;
  }
}

/** A shard's informer did not sync within the deadline. */
export class SyncTimeoutError extends Error {
  constructor(endpoint: string, type: ObjectType<KubernetesObject>, ms: number) {
    super(`${type.kind} (${type.apiVersion}) informer of endpoint ${endpoint} did not sync within ${ms} ms`);
    this.name = 'SyncTimeoutError';
  }
}

/** An error value as an Error (rejections may carry anything). */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
