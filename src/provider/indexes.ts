/**
 * Keys and field indexes shared by endpoints, cluster handles and the aggregate cache (a module of
 * its own so that endpoint.ts and cluster.ts need not import each other).
 */
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { IndexFunc } from '../informer/index.js';
import type { FieldIndexer } from './types.js';

/** The key of a type in the endpoint's tables. */
export function typeKey(type: ObjectType<KubernetesObject>): string {
  return `${type.apiVersion}/${type.kind}`;
}

/**
 * Drops `metadata.managedFields` (controller-runtime's `TransformStripManagedFields`): most of a
 * cached APIBinding's bytes, read by nobody.
 */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  const md = obj.metadata;
  if (!md || !('managedFields' in md)) return obj;
  // A new object rather than `delete`: deleting a property turns an object into a slow dictionary
  // of its own (~0.7 KB more per object, with its own hidden class).
  const { managedFields: _dropped, ...rest } = md;
  obj.metadata = rest;
  return obj;
}

/** The name of the store index behind a field index. */
export function fieldIndexName(field: string): string {
  return `field:${field}`;
}

/** Field indexes registered on a provider, replayed onto every informer of their type. */
export class FieldIndexes {
  private readonly byType = new Map<string, Map<string, IndexFunc>>();
  private readonly listeners = new Set<(type: string, name: string, fn: IndexFunc) => void>();

  /** Registers an index; idempotent per (type, field). */
  add<T extends KubernetesObject>(type: ObjectType<T>, field: string, fn: FieldIndexer<T>): void {
    const key = typeKey(type);
    let m = this.byType.get(key);
    if (!m) this.byType.set(key, (m = new Map()));
    const name = fieldIndexName(field);
    if (m.has(name)) return;
    m.set(name, fn as IndexFunc);
    for (const l of this.listeners) l(key, name, fn as IndexFunc);
  }

  /** Indexes of one type, as store indexers. */
  of(key: string): Record<string, IndexFunc> {
    return Object.fromEntries(this.byType.get(key) ?? []);
  }

  /** Told of indexes added later; returns the unsubscribe function. */
  onAdd(fn: (type: string, name: string, index: IndexFunc) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
