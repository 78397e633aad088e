/** Predicates (controller-runtime semantics) and owner-reference helpers, without a server. */
import { expect } from 'chai';
import type { KubernetesObject } from '../../src/client/index.js';
import {
  and,
  annotationsChanged,
  changed,
  generationChanged,
  labelsChanged,
  labelSelector,
  not,
  or,
  predicate,
  resourceVersionChanged,
  type ObjectEvent,
} from '../../src/controller/predicates.js';
import { AlreadyOwnedError, controllerOf, isOwnedBy, ownersOf, removeOwnerReference, setControllerReference, setOwnerReference } from '../../src/controller/owners.js';

const obj = (meta: KubernetesObject['metadata'] = {}): KubernetesObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default', ...meta } });
const create = (o: KubernetesObject): ObjectEvent => ({ type: 'create', object: o, initial: false });
const update = (old: KubernetesObject, o: KubernetesObject): ObjectEvent => ({ type: 'update', old, object: o });
const del = (o: KubernetesObject): ObjectEvent => ({ type: 'delete', object: o });

describe('controller: predicates', () => {
  it('generationChanged passes create and delete, and updates only when the generation moves', () => {
    const p = generationChanged();
    expect(p(create(obj({ generation: 1 })))).to.equal(true);
    expect(p(del(obj({ generation: 1 })))).to.equal(true);
    expect(p(update(obj({ generation: 1, resourceVersion: '1' }), obj({ generation: 1, resourceVersion: '2' })))).to.equal(false);
    expect(p(update(obj({ generation: 1 }), obj({ generation: 2 })))).to.equal(true);
    // No generation on either side (e.g. ConfigMaps): updates never pass, as in controller-runtime.
    expect(p(update(obj({ resourceVersion: '1' }), obj({ resourceVersion: '2' })))).to.equal(false);
  });

  it('resourceVersionChanged filters updates that repeat one state', () => {
    const p = resourceVersionChanged();
    expect(p(update(obj({ resourceVersion: '5' }), obj({ resourceVersion: '5' })))).to.equal(false);
    expect(p(update(obj({ resourceVersion: '5' }), obj({ resourceVersion: '6' })))).to.equal(true);
    expect(p(create(obj()))).to.equal(true);
    expect(p(del(obj()))).to.equal(true);
  });

  it('labelsChanged and annotationsChanged compare the maps, missing equal to empty', () => {
    const l = labelsChanged();
    expect(l(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '1' } })))).to.equal(false);
    expect(l(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '2' } })))).to.equal(true);
    expect(l(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '1', b: '1' } })))).to.equal(true);
    expect(l(update(obj({ labels: { a: '1' } }), obj({ labels: { b: '1' } })))).to.equal(true);
    expect(l(update(obj(), obj({ labels: {} })))).to.equal(false);
    expect(l(update(obj({ annotations: { x: 'y' } }), obj()))).to.equal(false);
    const a = annotationsChanged();
    expect(a(update(obj({ annotations: { x: 'y' } }), obj({ annotations: { x: 'y' } })))).to.equal(false);
    expect(a(update(obj({ annotations: { x: 'y' } }), obj()))).to.equal(true);
    expect(a(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '2' } })))).to.equal(false);
    expect(a(create(obj()))).to.equal(true);
    expect(a(del(obj()))).to.equal(true);
  });

  it('labelSelector judges every kind of event by the (new) object; a bad selector throws at once', () => {
    const p = labelSelector('app=web,tier!=db');
    expect(p(create(obj({ labels: { app: 'web' } })))).to.equal(true);
    expect(p(create(obj({ labels: { app: 'web', tier: 'db' } })))).to.equal(false);
    expect(p(del(obj({ labels: { app: 'api' } })))).to.equal(false);
    expect(p(update(obj({ labels: { app: 'api' } }), obj({ labels: { app: 'web' } })))).to.equal(true);
    expect(p(update(obj({ labels: { app: 'web' } }), obj({ labels: { app: 'api' } })))).to.equal(false);
    expect(labelSelector({ app: 'web' })(create(obj({ labels: { app: 'web' } })))).to.equal(true);
    expect(labelSelector('')(create(obj()))).to.equal(true);
    expect(() => labelSelector('a in (b')).to.throw(/invalid label selector/);
  });

  it('predicate() runs the given function per kind and passes the missing ones', () => {
    const seen: string[] = [];
    const p = predicate({
      create: (ev) => (seen.push(`create:${ev.initial}`), ev.initial),
      delete: () => false,
    });
    expect(p({ type: 'create', object: obj(), initial: true })).to.equal(true);
    expect(p(create(obj()))).to.equal(false);
    expect(p(update(obj(), obj()))).to.equal(true);
    expect(p(del(obj()))).to.equal(false);
    expect(seen).to.deep.equal(['create:true', 'create:false']);
    expect(predicate({})(del(obj()))).to.equal(true);
  });

  it('changed(hash) passes an update only when the hash differs', () => {
    type CM = KubernetesObject & { data?: Record<string, string> };
    const p = changed<CM>((o) => JSON.stringify(o.data ?? {}));
    const a: CM = { ...obj(), data: { k: 'v' } };
    const same: CM = { ...obj({ resourceVersion: '9' }), data: { k: 'v' } };
    const other: CM = { ...obj(), data: { k: 'w' } };
    expect(p({ type: 'update', old: a, object: same })).to.equal(false);
    expect(p({ type: 'update', old: a, object: other })).to.equal(true);
    expect(p({ type: 'create', object: a, initial: true })).to.equal(true);
    expect(p({ type: 'delete', object: a })).to.equal(true);
  });

  it('and / or / not combine as in controller-runtime (empty and passes, empty or does not)', () => {
    const yes = (): boolean => true;
    const no = (): boolean => false;
    const ev = create(obj());
    expect(and(yes, yes)(ev)).to.equal(true);
    expect(and(yes, no)(ev)).to.equal(false);
    expect(and()(ev)).to.equal(true);
    expect(or(no, yes)(ev)).to.equal(true);
    expect(or(no, no)(ev)).to.equal(false);
    expect(or()(ev)).to.equal(false);
    expect(not(yes)(ev)).to.equal(false);
    expect(not(no)(ev)).to.equal(true);
    const specOrLabels = or(generationChanged(), labelsChanged());
    expect(specOrLabels(update(obj({ generation: 1 }), obj({ generation: 1, labels: { a: 'b' } })))).to.equal(true);
    expect(specOrLabels(update(obj({ generation: 1 }), obj({ generation: 1, resourceVersion: '3' })))).to.equal(false);
  });
});

describe('controller: owner references', () => {
  const owner: KubernetesObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'u-web' } };
  const other: KubernetesObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'default', uid: 'u-api' } };
  const plainRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', uid: 'u-cfg' };

  it('controllerOf and ownersOf read the references (copies)', () => {
    const o = obj({ ownerReferences: [plainRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web', controller: true }] });
    expect(controllerOf(o)).to.deep.equal({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web', controller: true });
    expect(controllerOf(obj({ ownerReferences: [plainRef] }))).to.equal(undefined);
    expect(controllerOf(obj())).to.equal(undefined);
    expect(ownersOf(o)).to.have.length(2);
    expect(ownersOf(o, { onlyController: true }).map((r) => r.name)).to.deep.equal(['web']);
    ownersOf(o)[0]!.name = 'changed';
    expect(o.metadata!.ownerReferences![0]!.name).to.equal('cfg');
    expect(ownersOf(obj())).to.deep.equal([]);
  });

  it('setControllerReference appends a controller reference and keeps the others', () => {
    const o = obj({ ownerReferences: [plainRef] });
    const refs = setControllerReference(owner, o);
    expect(refs).to.deep.equal([plainRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web', controller: true, blockOwnerDeletion: true }]);
    expect(o.metadata!.ownerReferences).to.have.length(1);
  });

  it('setControllerReference replaces a reference to the same owner (other version, new uid) instead of adding one', () => {
    const o = obj({ ownerReferences: [{ apiVersion: 'apps/v1beta1', kind: 'Deployment', name: 'web', uid: 'old', controller: true }] });
    expect(setControllerReference(owner, o)).to.deep.equal([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web', controller: true, blockOwnerDeletion: true }]);
    const plain = obj({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web' }] });
    expect(setControllerReference(owner, plain)).to.have.length(1);
  });

  it('setOwnerReference adds a plain owner next to the controller, replaces one to the same owner, and never demotes the controller', () => {
    const controlled = obj({ ownerReferences: setControllerReference(owner, obj()) });
    const refs = setOwnerReference(other, controlled);
    expect(refs).to.deep.equal([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web', controller: true, blockOwnerDeletion: true },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', uid: 'u-api' },
    ]);
    // Again, with a new uid of the same owner: replaced, not added.
    const recreated = { ...other, metadata: { ...other.metadata, uid: 'u-api-2' } };
    expect(setOwnerReference(recreated, obj({ ownerReferences: refs })).map((r) => r.uid)).to.deep.equal(['u-web', 'u-api-2']);
    // The controller stays the controller.
    expect(setOwnerReference(owner, controlled)).to.deep.equal(controlled.metadata!.ownerReferences);
    expect(() => setOwnerReference(owner, obj({ namespace: 'other' }))).to.throw(/cross-namespace/);
  });

  it('removeOwnerReference drops the references to one owner (any version or uid) and keeps the rest', () => {
    const o = obj({ ownerReferences: [plainRef, ...setControllerReference(owner, obj())] });
    expect(removeOwnerReference({ apiVersion: 'apps/v2', kind: 'Deployment', metadata: { name: 'web' } }, o)).to.deep.equal([plainRef]);
    expect(removeOwnerReference(other, o)).to.have.length(2);
    expect(removeOwnerReference(owner, obj())).to.deep.equal([]);
  });

  it('setControllerReference throws AlreadyOwnedError when another controller owns the object', () => {
    const o = obj({ ownerReferences: setControllerReference(other, obj()) });
    let err: unknown;
    try {
      setControllerReference(owner, o);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(AlreadyOwnedError);
    expect((err as AlreadyOwnedError).owner.name).to.equal('api');
    expect((err as Error).message).to.match(/already owned by another Deployment controller api/);
  });

  it('setControllerReference refuses owners that cannot own the object', () => {
    expect(() => setControllerReference({ ...owner, metadata: { name: 'web', namespace: 'default' } }, obj())).to.throw(/uid/);
    expect(() => setControllerReference(owner, obj({ namespace: 'other' }))).to.throw(/cross-namespace/);
    expect(() => setControllerReference(owner, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } })).to.throw(/cluster-scoped/);
    const clusterOwner: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', uid: 'u-ns' } };
    expect(setControllerReference(clusterOwner, obj())).to.have.length(1);
    const there = { ...owner, metadata: { ...owner.metadata, annotations: { 'kcp.io/cluster': 'a' } } };
    expect(() => setControllerReference(there, obj({ annotations: { 'kcp.io/cluster': 'b' } }))).to.throw(/logical clusters/);
  });

  it('isOwnedBy matches by uid, or by group/kind/name for an owner without one', () => {
    const o = obj({ ownerReferences: setControllerReference(owner, obj()) });
    expect(isOwnedBy(o, owner)).to.equal(true);
    expect(isOwnedBy(o, other)).to.equal(false);
    expect(isOwnedBy(o, { ...owner, metadata: { name: 'web', namespace: 'default', uid: 'recreated' } })).to.equal(false);
    expect(isOwnedBy(o, { apiVersion: 'apps/v2', kind: 'Deployment', metadata: { name: 'web' } })).to.equal(true);
    expect(isOwnedBy(o, { apiVersion: 'extensions/v1', kind: 'Deployment', metadata: { name: 'web' } })).to.equal(false);
    expect(isOwnedBy(obj(), owner)).to.equal(false);
  });
});
