/**
 * One cached object: the key fields a cache and its consumers need, and the object itself, held as
 * the JSON text it arrived as until someone reads it. Decoding happens once, on first read; the
 * text is then dropped. A cache of objects nobody reads costs a string each, not a tree of them, and
 * an event stream nobody inspects is never parsed.
 */
import { deepFreeze } from './freeze.js';
import type { Cached, Delta, DeltaKey, KubeObject } from './types.js';

/** How a store turns objects and wire text into cached objects; shared by all its entries. */
export interface Codec<T extends KubeObject = KubeObject> {
  freeze: boolean;
  transform: ((obj: T) => T) | undefined;
  /** Told when an entry's text does not parse; the entry then holds an object with its key fields only. */
  onDecodeError: ((err: Error, entry: Entry<T>) => void) | undefined;
}

/** apiVersion and kind for objects that arrive without them (list items). */
export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

/** The key fields of an object, as a scan of its text found them. */
export interface EntryKey {
  namespace: string;
  name: string;
  resourceVersion: string;
}

/** A cached object, decoded on first read. */
export class Entry<T extends KubeObject = KubeObject> implements EntryKey {
  private text: string | undefined;
  private value: Cached<T> | undefined;

  private constructor(
    readonly namespace: string,
    readonly name: string,
    readonly resourceVersion: string,
    private readonly codec: Codec<T>,
    private readonly typeMeta: TypeMeta | undefined,
  ) {}

  /** An entry for an object already decoded (transformed and frozen now, as the codec says). */
  static ofObject<T extends KubeObject>(codec: Codec<T>, obj: T): Entry<T> {
    const m = obj.metadata;
    const e = new Entry<T>(m?.namespace ?? '', m?.name ?? '', m?.resourceVersion ?? '', codec, undefined);
    e.value = prepare(codec, obj);
    return e;
  }

  /** An entry for an object's JSON text, decoded on first read. */
  static ofText<T extends KubeObject>(codec: Codec<T>, key: EntryKey, text: string, typeMeta?: TypeMeta): Entry<T> {
    const e = new Entry<T>(key.namespace, key.name, key.resourceVersion, codec, typeMeta);
    e.text = text;
    return e;
  }

  /** Whether the object has been decoded (or was given decoded). */
  get decoded(): boolean {
    return this.value !== undefined;
  }

  /** The object; decodes it on the first call. */
  get object(): Cached<T> {
    if (this.value === undefined) {
      this.value = prepare(this.codec, this.decode());
      this.text = undefined;
    }
    return this.value;
  }

  private decode(): T {
    let obj: T;
    try {
      obj = JSON.parse(this.text!) as T;
    } catch (e) {
      // The text was scanned as a balanced JSON object, so this takes a broken server; keep the key.
      obj = { metadata: { name: this.name, namespace: this.namespace || undefined, resourceVersion: this.resourceVersion } } as T;
      this.codec.onDecodeError?.(e as Error, this);
    }
    if (this.typeMeta) {
      if (obj.apiVersion === undefined) obj.apiVersion = this.typeMeta.apiVersion;
      if (obj.kind === undefined) obj.kind = this.typeMeta.kind;
    }
    return obj;
  }
}

function prepare<T extends KubeObject>(codec: Codec<T>, obj: T): Cached<T> {
  const o = codec.transform ? codec.transform(obj) : obj;
  return (codec.freeze ? deepFreeze(o) : o) as Cached<T>;
}

/** A delta over entries: key fields at hand, objects decoded when read. */
class EntryDelta<T extends KubeObject> implements DeltaKey {
  constructor(
    readonly type: 'ADDED' | 'MODIFIED' | 'DELETED',
    readonly cluster: string,
    private readonly entry: Entry<T>,
    private readonly prev: Entry<T> | undefined,
  ) {}

  get namespace(): string {
    return this.entry.namespace;
  }

  get name(): string {
    return this.entry.name;
  }

  get resourceVersion(): string {
    return this.entry.resourceVersion;
  }

  get object(): Cached<T> {
    return this.entry.object;
  }

  get old(): Cached<T> | undefined {
    return this.prev?.object;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { type: this.type, cluster: this.cluster, object: this.object };
    if (this.prev) out['old'] = this.prev.object;
    return out;
  }
}

/** ADDED for `entry`. */
export function addedDelta<T extends KubeObject>(cluster: string, entry: Entry<T>): Delta<T> {
  return new EntryDelta('ADDED', cluster, entry, undefined) as Delta<T>;
}

/** MODIFIED from `prev` to `entry` (the same entry twice for a resync). */
export function modifiedDelta<T extends KubeObject>(cluster: string, entry: Entry<T>, prev: Entry<T>): Delta<T> {
  return new EntryDelta('MODIFIED', cluster, entry, prev) as Delta<T>;
}

/** DELETED of `entry`. */
export function deletedDelta<T extends KubeObject>(cluster: string, entry: Entry<T>): Delta<T> {
  return new EntryDelta('DELETED', cluster, entry, undefined) as Delta<T>;
}
