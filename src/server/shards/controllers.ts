/**
 * The server's own background controllers: garbage collection by ownerReferences (within one
 * logical cluster), namespace lifecycle (empty a terminating namespace, then remove it), and the
 * `kube-root-ca.crt` publisher. They react to commits but never write from inside a commit: work is
 * queued and run on the next turn, so every watcher sees each commit before the next one.
 */
import type { ObjectService, RequestContext, UserInfo } from '../api/objects.js';
import { NAMESPACES } from '../api/objects.js';
import type { StoreEvent } from '../storage/store.js';
import type { KubeObject, ResourceDef } from '../types.js';
import { ApiError } from '../http/errors.js';

/** Where an object lives. */
interface Location {
  storage: string;
  cluster: string;
  namespace: string;
  name: string;
}

const SYSTEM: UserInfo = { name: 'system:kcp:reference-server', groups: ['system:masters'] };
const ROOT_CA = 'kube-root-ca.crt';
/** The reference server speaks plain HTTP; the ConfigMap exists for parity, with no CA to publish. */
const ROOT_CA_DATA = { 'ca.crt': '' };

/** GC, namespace lifecycle and root CA publishing for one shard. */
export class ServerControllers {
  private readonly byUID = new Map<string, Location>();
  /** owner uid → dependents' uids */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly pending = new Map<string, () => void>();
  private scheduled = false;
  private stopped = false;

  constructor(private readonly svc: ObjectService) {
    for (const e of svc.store.entries()) this.index(e.storage, e.cluster, e.object);
    svc.store.listeners.add(this.onCommit);
    // Finish what a previous run left half done (terminating namespaces, orphans).
    for (const e of [...svc.store.entries()]) this.react(e.storage, e.cluster, e.object, undefined);
  }

  /** Stops reacting to commits. */
  stop(): void {
    this.stopped = true;
    this.svc.store.listeners.delete(this.onCommit);
  }

  private ctx(cluster: string): RequestContext {
    return { cluster, user: SYSTEM, fieldManager: 'kcp-reference-server' };
  }

  private schedule(key: string, fn: () => void): void {
    this.pending.set(key, fn);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = [...this.pending.values()];
      this.pending.clear();
      for (const f of batch) {
        try {
          f();
        } catch (e) {
          // Conflicts and races with clients are expected; the next commit re-triggers the work.
          if (!(e instanceof ApiError)) console.error('reference server controller error:', e);
        }
      }
    });
  }

  private index(storage: string, cluster: string, obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    this.byUID.set(uid, { storage, cluster, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' });
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(uid);
    }
  }

  private unindex(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    this.byUID.delete(uid);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(uid);
      if (set && set.size === 0) this.dependents.delete(ref.uid);
    }
  }

  private readonly onCommit = (e: StoreEvent): void => {
    if (e.prev) this.unindex(e.prev);
    if (e.type !== 'DELETED') this.index(e.storage, e.cluster, e.object);
    this.react(e.storage, e.cluster, e.object, e);
  };

  private react(storage: string, cluster: string, obj: KubeObject, e: StoreEvent | undefined): void {
    const deleted = e?.type === 'DELETED';
    if (deleted) {
      for (const dep of this.dependents.get(obj.metadata.uid ?? '') ?? []) this.schedule(`gc/${dep}`, () => this.collect(dep));
    } else if (obj.metadata.ownerReferences?.length) {
      const uid = obj.metadata.uid ?? '';
      this.schedule(`gc/${uid}`, () => this.collect(uid));
    }
    if (storage === NAMESPACES) {
      const name = obj.metadata.name ?? '';
      if (!deleted && obj.metadata.deletionTimestamp) this.schedule(`ns/${cluster}/${name}`, () => this.finalizeNamespace(cluster, name));
      else if (!deleted) this.schedule(`ca/${cluster}/${name}`, () => this.publishRootCA(cluster, name));
    } else if (obj.metadata.namespace) {
      const ns = this.svc.store.get(NAMESPACES, cluster, '', obj.metadata.namespace);
      if (ns?.metadata.deletionTimestamp) {
        this.schedule(`ns/${cluster}/${obj.metadata.namespace}`, () => this.finalizeNamespace(cluster, obj.metadata.namespace!));
      } else if (deleted && storage === 'core/configmaps' && obj.metadata.name === ROOT_CA && ns) {
        this.schedule(`ca/${cluster}/${obj.metadata.namespace}`, () => this.publishRootCA(cluster, obj.metadata.namespace!));
      }
    }
  }

  private defOf(cluster: string, storage: string): ResourceDef | undefined {
    return this.svc.registry.resourcesFor(cluster).find((d) => d.storage === storage);
  }

  /** Deletes a dependent whose owners are all gone; drops dangling references otherwise. */
  private collect(uid: string): void {
    const loc = this.byUID.get(uid);
    if (!loc) return;
    const obj = this.svc.store.get(loc.storage, loc.cluster, loc.namespace, loc.name);
    const refs = obj?.metadata.ownerReferences ?? [];
    if (!obj || refs.length === 0) return;
    const alive = refs.filter((r) => this.byUID.get(r.uid)?.cluster === loc.cluster);
    if (alive.length === refs.length) return;
    const def = this.defOf(loc.cluster, loc.storage);
    if (!def) return;
    const ctx = this.ctx(loc.cluster);
    if (alive.length === 0) {
      if (!obj.metadata.deletionTimestamp) this.svc.delete(ctx, def, loc.namespace, loc.name);
      return;
    }
    const next: KubeObject = { ...obj, metadata: { ...obj.metadata, ownerReferences: alive } };
    this.svc.writeUpdate(ctx, def, obj, next);
  }

  /** Removes the ownerReferences to `ownerUID` from its dependents (propagationPolicy=Orphan). */
  orphan(cluster: string, ownerUID: string): void {
    for (const dep of [...(this.dependents.get(ownerUID) ?? [])]) {
      const loc = this.byUID.get(dep);
      if (!loc || loc.cluster !== cluster) continue;
      const obj = this.svc.store.get(loc.storage, loc.cluster, loc.namespace, loc.name);
      const def = this.defOf(loc.cluster, loc.storage);
      if (!obj || !def) continue;
      const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUID);
      const next: KubeObject = { ...obj, metadata: { ...obj.metadata, ownerReferences: refs } };
      if (refs.length === 0) delete next.metadata.ownerReferences;
      this.svc.writeUpdate(this.ctx(cluster), def, obj, next);
    }
  }

  /** Deletes everything in a terminating namespace, then the namespace once it is empty. */
  private finalizeNamespace(cluster: string, name: string): void {
    const ns = this.svc.store.get(NAMESPACES, cluster, '', name);
    if (!ns?.metadata.deletionTimestamp) return;
    const ctx = this.ctx(cluster);
    let remaining = 0;
    const seen = new Set<string>();
    for (const def of this.svc.registry.resourcesFor(cluster)) {
      if (!def.namespaced || seen.has(def.storage)) continue;
      seen.add(def.storage);
      for (const obj of this.svc.store.list(def.storage, { cluster, namespace: name })) {
        remaining++;
        if (!obj.metadata.deletionTimestamp) this.svc.delete(ctx, def, name, obj.metadata.name ?? '');
      }
    }
    if (remaining > 0) return;
    const spec = (ns['spec'] ?? {}) as { finalizers?: string[] };
    if (spec.finalizers?.length) {
      const nsDef = this.svc.registry.builtin(NAMESPACES);
      const next: KubeObject = { ...ns, spec: { ...spec, finalizers: [] } };
      this.svc.store.put(nsDef.storage, cluster, next);
    }
    if (!ns.metadata.finalizers?.length) this.svc.store.delete(NAMESPACES, cluster, '', name);
  }

  /** Every namespace gets the `kube-root-ca.crt` ConfigMap, as in kcp. */
  private publishRootCA(cluster: string, namespace: string): void {
    const ns = this.svc.store.get(NAMESPACES, cluster, '', namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (this.svc.store.get('core/configmaps', cluster, namespace, ROOT_CA)) return;
    const def = this.svc.registry.builtin('core/configmaps');
    this.svc.create(this.ctx(cluster), def, namespace, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA, namespace },
      data: ROOT_CA_DATA,
    });
  }
}
