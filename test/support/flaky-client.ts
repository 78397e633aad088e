/** A ClusterClient whose calls can be refused on demand: writes only (a replica that can read but not write) or everything (a crash). */
import { ClusterClient, NetworkError } from '../../src/client/index.js';
import type { CallOptions, DeleteOptions, KubernetesObject, ListOptions, ObjectKey, ObjectList, ObjectType, WriteOptions } from '../../src/client/index.js';

/** A ClusterClient with switches that make its calls fail with a NetworkError. */
export class FlakyClient extends ClusterClient {
  /** Refuse create, update and delete. */
  writesFail = false;
  /** Refuse every call. */
  allFail = false;
  /** Calls refused so far. */
  refused = 0;
  /** Lists answered so far. */
  lists = 0;
  /** Each update sent (refused ones included): the object's name and when (performance.now()). */
  readonly updates: Array<{ name: string; at: number }> = [];

  private check(write: boolean): void {
    if (this.allFail || (write && this.writesFail)) {
      this.refused++;
      throw new NetworkError('connection refused (injected)', { code: 'ECONNREFUSED' });
    }
  }

  override async get<T extends KubernetesObject = KubernetesObject>(type: ObjectType<T>, key: ObjectKey, opts?: CallOptions): Promise<T> {
    this.check(false);
    return super.get(type, key, opts);
  }

  override async list<T extends KubernetesObject = KubernetesObject>(type: ObjectType<T>, opts?: ListOptions): Promise<ObjectList<T>> {
    this.check(false);
    const out = await super.list(type, opts);
    this.lists++;
    return out;
  }

  override async create<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T> {
    this.check(true);
    return super.create(obj, opts);
  }

  override async update<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T> {
    this.updates.push({ name: obj.metadata?.name ?? '', at: performance.now() });
    this.check(true);
    return super.update(obj, opts);
  }

  override async delete<T extends KubernetesObject = KubernetesObject>(type: ObjectType<T>, key: ObjectKey, opts?: DeleteOptions): Promise<T | undefined> {
    this.check(true);
    return super.delete(type, key, opts);
  }
}
