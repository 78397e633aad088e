/**
 * createOrUpdate / createOrPatch without a server: a fake client with optimistic concurrency, a
 * cache that can lag, merge patch computation. The reference server case is in
 * test/integration/api-create-or-update.test.ts.
 */
import { expect } from 'chai';
import { apiErrorFromStatus, CONFIG_MAP, createOrPatch, createOrUpdate, isConflict, type ClusterCache, type ClusterClient, type ConfigMap, type KubernetesObject, type ObjectKey, type ObjectType } from '../../src/index.js';
import { deepFreeze } from '../../src/informer/freeze.js';
import { containsList, createMergePatch, jsonEqual } from '../../src/api/merge-patch.js';

type Doc = KubernetesObject & Record<string, unknown>;

const conflict = (name: string): Error => apiErrorFromStatus({ code: 409, reason: 'Conflict', message: `the object ${name} has been modified` });

/** Objects by name, resourceVersions counted, every call recorded; statuses live behind a subresource. */
class FakeClient {
  readonly objects = new Map<string, Doc>();
  readonly calls: string[] = [];
  /** Marks the fake as a client (not a cluster) to the helpers. */
  readonly discovery = {};
  private rv = 10;
  /** Runs before each write, e.g. to make someone else's change first. */
  beforeWrite: (() => void) | undefined;

  async resolve(): Promise<{ subresources: string[] }> {
    return { subresources: ['status'] };
  }
  put(o: Doc): Doc {
    const stored = structuredClone({ ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } });
    this.objects.set(o.metadata!.name!, stored);
    return structuredClone(stored);
  }
  async get(_t: ObjectType, key: ObjectKey): Promise<Doc> {
    this.calls.push(`get ${key.name}`);
    const o = this.objects.get(key.name);
    if (!o) throw apiErrorFromStatus({ code: 404, reason: 'NotFound', message: `${key.name} not found` });
    return structuredClone(o);
  }
  private check(o: Doc, op: string): Doc {
    this.calls.push(`${op} ${o.metadata!.name}`);
    this.beforeWrite?.();
    const old = this.objects.get(o.metadata!.name!);
    if (!old) throw apiErrorFromStatus({ code: 404, reason: 'NotFound', message: 'not found' });
    const rv = o.metadata?.resourceVersion;
    if (rv && rv !== old.metadata!.resourceVersion) throw conflict(o.metadata!.name!);
    return old;
  }
  async create(o: Doc): Promise<Doc> {
    this.calls.push(`create ${o.metadata!.name}`);
    this.beforeWrite?.();
    if (this.objects.has(o.metadata!.name!)) throw apiErrorFromStatus({ code: 409, reason: 'AlreadyExists', message: 'exists' });
    const { status: _s, ...rest } = o;
    return this.put(rest);
  }
  async update(o: Doc): Promise<Doc> {
    const old = this.check(o, 'update');
    return this.put({ ...o, status: old['status'] });
  }
  async updateStatus(o: Doc): Promise<Doc> {
    const old = this.check(o, 'updateStatus');
    return this.put({ ...old, status: o['status'] });
  }
  async patch(_t: ObjectType, key: ObjectKey, p: Doc): Promise<Doc> {
    const old = this.check({ ...p, metadata: { ...p.metadata, name: key.name } }, `patch ${JSON.stringify(p)}`);
    return this.put({ ...old, ...p, metadata: { ...old.metadata, ...p.metadata, resourceVersion: old.metadata!.resourceVersion } });
  }
  async patchStatus(_t: ObjectType, key: ObjectKey, p: Doc): Promise<Doc> {
    const old = this.check({ ...p, metadata: { ...p.metadata, name: key.name } }, `patchStatus ${JSON.stringify(p)}`);
    return this.put({ ...old, status: { ...(old['status'] as object), ...(p['status'] as object) } });
  }
}

/** A cache of ConfigMaps that holds what the test puts in it, frozen like the real one. */
class FakeCache {
  readonly objects = new Map<string, Doc>();
  async set(o: Doc | undefined, name: string): Promise<void> {
    if (o) this.objects.set(name, deepFreeze(structuredClone(o)));
    else this.objects.delete(name);
  }
  has(type: ObjectType): boolean {
    return type.kind === 'ConfigMap';
  }
  get(_t: ObjectType, key: ObjectKey): Doc | undefined {
    return this.objects.get(key.name);
  }
  list(): Doc[] {
    return [...this.objects.values()];
  }
}

type WithStatus = ConfigMap & { status?: { phase?: string } };
const cm = (name: string): WithStatus => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });

describe('api: createOrUpdate / createOrPatch (fake client)', () => {
  let client: FakeClient;
  let cache: FakeCache;
  let cluster: { client: ClusterClient; cache: ClusterCache };
  beforeEach(() => {
    client = new FakeClient();
    cache = new FakeCache();
    cluster = { client: client as unknown as ClusterClient, cache: cache as unknown as ClusterCache };
  });

  for (const [name, fn] of [['createOrUpdate', createOrUpdate], ['createOrPatch', createOrPatch]] as const) {
    describe(name, () => {
      it('creates, then leaves alone, then writes a change; the object passed ends up as stored', async () => {
        const obj = cm('a');
        expect(await fn(cluster, obj, (o) => void (o.data = { k: 'v' }))).to.equal('created');
        expect(obj.metadata?.resourceVersion).to.equal('11');
        await cache.set(client.objects.get('a'), 'a');
        const again = cm('a');
        expect(await fn(cluster, again, (o) => void (o.data = { k: 'v' }))).to.equal('unchanged');
        expect(again.data).to.deep.equal({ k: 'v' });
        expect(await fn(cluster, cm('a'), (o) => void (o.data = { k: 'w' }))).to.equal('updated');
        expect(client.objects.get('a')?.['data']).to.deep.equal({ k: 'w' });
        // Every read came from the cache: the client only wrote.
        expect(client.calls.filter((c) => c.startsWith('get'))).to.deep.equal([]);
      });

      it('reads through the client when no cache is given or the type is not cached', async () => {
        expect(await fn(client as unknown as ClusterClient, cm('b'), (o) => void (o.data = { k: 'v' }))).to.equal('created');
        expect(await fn({ client: cluster.client }, cm('b'), (o) => void (o.data = { k: 'v' }))).to.equal('unchanged');
        const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b', namespace: 'default' } };
        expect(await fn(cluster, secret, () => undefined)).to.equal('unchanged');
        expect(client.calls.filter((c) => c.startsWith('get'))).to.deep.equal(['get b', 'get b', 'get b']);
      });

      it('retries once after a conflict, with a fresh read from the client, and gives up on a second', async () => {
        await client.create(cm('c'));
        await cache.set(client.objects.get('c'), 'c');
        // The cache lags: someone else wrote since (a new list, so the patch is guarded too).
        client.put({ ...client.objects.get('c')!, metadata: { ...client.objects.get('c')!.metadata, finalizers: ['x/y'] } });
        let runs = 0;
        expect(await fn(cluster, cm('c'), (o) => {
          runs++;
          o.metadata.labels = { a: 'b' };
          o.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u1' }];
        })).to.equal('updated');
        expect(runs).to.equal(2);
        expect(client.calls.filter((c) => c.startsWith('get'))).to.deep.equal(['get c']);
        expect(client.objects.get('c')?.metadata?.finalizers).to.deep.equal(['x/y']);
        expect(client.objects.get('c')?.metadata?.labels).to.deep.equal({ a: 'b' });

        // Someone writes before each of our writes: one retry, then the conflict propagates.
        client.beforeWrite = () => void client.put(client.objects.get('c')!);
        runs = 0;
        const err = await fn(cluster, cm('c'), (o) => {
          runs++;
          o.metadata.ownerReferences = [];
        }).then(() => undefined, (e: unknown) => e);
        expect(isConflict(err), String(err)).to.equal(true);
        expect(runs).to.equal(2);
      });

      it('retries a create that meets an object the cache has not seen yet, as an update', async () => {
        await client.create({ ...cm('d'), data: { k: 'old' } });
        expect(await fn(cluster, cm('d'), (o) => void (o.data = { k: 'new' }))).to.equal('updated');
        expect(client.calls).to.deep.include.members(['create d', 'get d']);
        expect(client.objects.get('d')?.['data']).to.deep.equal({ k: 'new' });
      });

      it('writes a status change through the status subresource, also on create', async () => {
        const obj = cm('e');
        expect(await fn(cluster, obj, (o) => void (o.status = { phase: 'Ready' }))).to.equal('created');
        expect(client.objects.get('e')?.['status']).to.deep.equal({ phase: 'Ready' });
        expect(obj.status).to.deep.equal({ phase: 'Ready' });
        await cache.set(client.objects.get('e'), 'e');
        expect(await fn(cluster, cm('e'), (o) => void (o.status = { phase: 'Ready' }))).to.equal('unchanged');
        client.calls.length = 0;
        expect(await fn(cluster, cm('e'), (o) => void (o.status = { phase: 'Done' }))).to.equal('updated');
        // Only the status changed: one status write, no write of the object itself.
        expect(client.calls.map((c) => c.split(' ')[0])).to.deep.equal([name === 'createOrUpdate' ? 'updateStatus' : 'patchStatus']);
        expect(client.objects.get('e')?.['status']).to.deep.equal({ phase: 'Done' });
      });

      it('refuses a mutate that renames the object, an object without a name, and a frozen (cached) object', async () => {
        const err = await fn(cluster, cm('f'), (o) => void (o.metadata.name = 'g')).then(() => undefined, (e: unknown) => e);
        expect(String(err)).to.contain('must not change the object');
        expect(client.objects.size).to.equal(0);
        const nameless = await fn(cluster, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, () => undefined).then(() => undefined, (e: unknown) => e);
        expect(String(nameless)).to.contain('metadata.name');
        const frozen = await fn(cluster, deepFreeze(cm('f')), () => undefined).then(() => undefined, (e: unknown) => e);
        expect(String(frozen)).to.contain('not a cached one');
      });
    });
  }

  it('createOrPatch sends only what changed; a patch replacing a list carries the resourceVersion read', async () => {
    const lastPatch = (): unknown => JSON.parse(/^patch (.*) p$/.exec(client.calls.at(-1) ?? '')?.[1] ?? 'null');
    await client.create({ ...cm('p'), data: { a: '1', b: '2' }, metadata: { ...cm('p').metadata, labels: { x: '1' } } });
    await cache.set(client.objects.get('p'), 'p');
    expect(await createOrPatch(cluster, cm('p'), (o) => {
      o.data = { a: '1', c: '3' };
    })).to.equal('updated');
    expect(lastPatch()).to.deep.equal({ data: { b: null, c: '3' } });
    await cache.set(client.objects.get('p'), 'p');
    expect(await createOrPatch(cluster, cm('p'), (o) => {
      o.metadata.finalizers = ['example.dev/f'];
    })).to.equal('updated');
    expect(lastPatch()).to.deep.equal({ metadata: { finalizers: ['example.dev/f'], resourceVersion: '12' } });
  });

  it('createOrUpdate types the object of a typed ObjectType', async () => {
    const obj: ConfigMap = { apiVersion: CONFIG_MAP.apiVersion, kind: CONFIG_MAP.kind, metadata: { name: 't', namespace: 'default' } };
    expect(await createOrUpdate(cluster, obj, (o) => void (o.data = { ...o.data, t: 'typed' }))).to.equal('created');
    expect(Object.isFrozen(CONFIG_MAP)).to.equal(true);
  });
});

describe('api: merge patches', () => {
  it('are the RFC 7386 difference: changed and added fields, null for removed ones, lists whole', () => {
    expect(createMergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: 1, b: { c: 2, e: 4 }, l: [1, 2] })).to.deep.equal({ b: { d: null, e: 4 } });
    expect(createMergePatch({ l: [1, 2] }, { l: [1] })).to.deep.equal({ l: [1] });
    expect(createMergePatch({ a: { b: 1 } }, { a: 'x' })).to.deep.equal({ a: 'x' });
    expect(createMergePatch({ a: 1, u: undefined }, { a: 1 })).to.equal(undefined);
    expect(containsList({ a: { b: [] } })).to.equal(true);
    expect(containsList({ a: { b: 1 } })).to.equal(false);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).to.equal(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).to.equal(false);
  });
});
