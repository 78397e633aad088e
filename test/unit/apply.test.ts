import { expect } from 'chai';
import { recordUpdate, serverSideApply } from '../../src/server/api/index.js';
import { ApiError } from '../../src/server/http/index.js';
import type { Json, JsonObject, KubeObject, ManagedFieldsEntry, Schema } from '../../src/server/types.js';
import { apiErrorWith } from '../support/api-error.js';

const str: Schema = { type: 'string' };
const container: Schema = {
  type: 'object',
  properties: {
    name: str,
    image: str,
    args: { type: 'array', items: str },
    ports: {
      type: 'array',
      items: { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: str } },
      mergeKeys: ['containerPort', 'protocol'],
      listType: 'map',
    },
  },
};
const schema: Schema = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata: {
      type: 'object',
      properties: {
        name: str,
        namespace: str,
        uid: str,
        resourceVersion: str,
        creationTimestamp: str,
        generation: { type: 'integer' },
        labels: { type: 'object', additionalProperties: str },
        annotations: { type: 'object', additionalProperties: str },
        finalizers: { type: 'array', items: str, listType: 'set' },
        managedFields: { type: 'array', items: { type: 'object', anyValue: true }, listType: 'atomic' },
      },
    },
    data: { type: 'object', additionalProperties: str },
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        containers: { type: 'array', items: container, mergeKeys: ['name'], listType: 'map' },
        tags: { type: 'array', items: str, listType: 'set' },
        args: { type: 'array', items: str, listType: 'atomic' },
        config: { type: 'any' },
      },
    },
    status: { type: 'object', properties: { phase: str } },
  },
};

const T0 = '2026-11-24T12:00:00Z';
const T1 = '2026-11-24T12:01:00Z';
const T2 = '2026-11-24T12:02:00Z';
const T3 = '2026-11-24T12:03:00Z';

function frozen<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) frozen(x);
    Object.freeze(v);
  }
  return v;
}

/** A ConfigMap-like applied configuration. */
function cm(body: JsonObject, metadata: JsonObject = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default', ...metadata }, ...body };
}

/** A stored object as the store would hold it after a create. */
function stored(o: KubeObject): KubeObject {
  return frozen({
    ...o,
    metadata: { ...o.metadata, uid: 'u-1', resourceVersion: '1', creationTimestamp: T0 },
  });
}

function apply(live: KubeObject | undefined, applied: KubeObject, manager: string, now: string, force = false): KubeObject {
  return serverSideApply({ live: live && frozen(live), applied: frozen(applied), manager, force, schema, apiVersion: 'v1', now });
}

function update(before: KubeObject | undefined, after: KubeObject, manager: string, now: string, subresource?: string): KubeObject {
  return recordUpdate({ before: before && frozen(before), after: frozen(after), manager, schema, apiVersion: 'v1', now, subresource });
}

const conflictOf = (fn: () => unknown) => apiErrorWith(fn, 409, 'Conflict');

function entry(o: KubeObject, manager: string, operation: 'Apply' | 'Update' = 'Apply'): ManagedFieldsEntry | undefined {
  return o.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);
}

function managers(o: KubeObject): string[] {
  return (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}`);
}

const spec = (o: KubeObject): JsonObject => o['spec'] as JsonObject;

describe('serverSideApply', () => {
  it('creates the object and records an Apply entry in FieldsV1 form', () => {
    const out = apply(undefined, cm({ data: { a: '1', b: '2' } }, { labels: { app: 'x' } }), 'alice', '2026-11-24T12:00:00.789Z');
    expect(out.apiVersion).to.equal('v1');
    expect(out.kind).to.equal('ConfigMap');
    expect(out.metadata.name).to.equal('cm');
    expect(out.metadata.namespace).to.equal('default');
    expect(out.metadata.labels).to.deep.equal({ app: 'x' });
    expect(out['data']).to.deep.equal({ a: '1', b: '2' });
    expect(out.metadata.managedFields).to.deep.equal([
      {
        manager: 'alice',
        operation: 'Apply',
        apiVersion: 'v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } },
      },
    ]);
  });

  it('never tracks server-owned fields, and never lets the configuration change them', () => {
    const live = stored(apply(undefined, cm({ data: { a: '1' } }), 'alice', T0));
    const out = apply(
      live,
      cm(
        { data: { a: '1' } },
        { uid: 'evil', resourceVersion: '99', generation: 7, creationTimestamp: '1999-01-01T00:00:00Z', deletionTimestamp: T3 },
      ),
      'alice',
      T1,
    );
    expect(out.metadata.uid).to.equal('u-1');
    expect(out.metadata.resourceVersion).to.equal('1');
    expect(out.metadata.creationTimestamp).to.equal(T0);
    expect(out.metadata.generation).to.equal(undefined);
    expect(out.metadata.deletionTimestamp).to.equal(undefined);
    expect(entry(out, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:a': {} } });
  });

  it('keeps the entry time when a re-apply changes nothing', () => {
    const live = stored(apply(undefined, cm({ data: { a: '1' } }), 'alice', T0));
    const again = apply(live, cm({ data: { a: '1' } }), 'alice', T1);
    expect(again).to.deep.equal(live);
    const changed = apply(live, cm({ data: { a: '2' } }), 'alice', T1);
    expect(entry(changed, 'alice')!.time).to.equal(T1);
  });

  it('removes fields the manager applied before and omits now', () => {
    const live = stored(apply(undefined, cm({ data: { a: '1', b: '2' } }, { labels: { app: 'x', tier: 'y' } }), 'alice', T0));
    const out = apply(live, cm({ data: { a: '1' } }, { labels: { app: 'x' } }), 'alice', T1);
    expect(out['data']).to.deep.equal({ a: '1' });
    expect(out.metadata.labels).to.deep.equal({ app: 'x' });
    expect(entry(out, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });
    expect(entry(out, 'alice')!.time).to.equal(T1);
    // Dropping everything removes the emptied maps too, but never metadata itself.
    const empty = apply(stored(out), cm({}), 'alice', T2);
    expect(empty).to.not.have.property('data');
    expect(empty.metadata).to.not.have.property('labels');
    expect(empty.metadata.name).to.equal('cm');
    expect(empty.metadata.managedFields).to.equal(undefined);
  });

  it('does not remove fields it never owned or that others own too', () => {
    // bob creates with an ordinary write; alice applies the same value: shared ownership.
    const created = stored(update(undefined, cm({ data: { a: '1', b: '2' } }), 'bob', T0));
    const shared = apply(created, cm({ data: { a: '1', c: '3' } }), 'alice', T1);
    expect(entry(shared, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:a': {}, 'f:c': {} } });
    expect(entry(shared, 'bob', 'Update')!.fieldsV1).to.deep.equal({ 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } });
    const out = apply(stored(shared), cm({ data: {} }), 'alice', T2);
    expect(out['data']).to.deep.equal({ a: '1', b: '2' });
  });

  it('keeps a field two appliers share until the last one stops applying it', () => {
    let live = stored(apply(undefined, cm({ data: { a: '1', b: '2' } }), 'alice', T0));
    live = stored(apply(live, cm({ data: { b: '2' } }), 'bob', T1));
    expect(managers(live)).to.deep.equal(['alice/Apply', 'bob/Apply']);
    live = stored(apply(live, cm({ data: { a: '1' } }), 'alice', T2));
    expect(live['data']).to.deep.equal({ a: '1', b: '2' });
    live = stored(apply(live, cm({}), 'bob', T3));
    expect(live['data']).to.deep.equal({ a: '1' });
    expect(managers(live)).to.deep.equal(['alice/Apply']);
  });

  it('reports a conflict with an Update manager the way kube words it', () => {
    const live = stored(update(undefined, cm({ data: { key: '1' } }), 'kubectl-create', T0));
    const err = conflictOf(() => apply(live, cm({ data: { key: '2' } }), 'alice', T1));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.key');
    expect(err.details.causes).to.deep.equal([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-create" using v1', field: '.data.key' },
    ]);
    expect(err.toStatus()).to.deep.include({ code: 409, reason: 'Conflict', status: 'Failure' });
  });

  it('names conflicting appliers without an apiVersion, as kube does', () => {
    const live = stored(apply(undefined, cm({ data: { key: '1' } }), 'alice', T0));
    const err = conflictOf(() => apply(live, cm({ data: { key: '2' } }), 'bob', T1));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "alice": .data.key');
  });

  it('lists several conflicts grouped by manager', () => {
    let live = stored(apply(undefined, cm({ data: { a: '1', b: '1' } }), 'alice', T0));
    live = stored(update(live, cm({ data: { a: '1', b: '1', c: '1' } }), 'editor', T1));
    const err = conflictOf(() => apply(live, cm({ data: { a: '2', b: '2', c: '2' } }), 'bob', T2));
    expect(err.message).to.equal(
      'Apply failed with 3 conflicts: conflicts with "alice":\n- .data.a\n- .data.b\nconflicts with "editor" using v1:\n- .data.c',
    );
    expect(err.details.causes!.map((c) => c.field)).to.deep.equal(['.data.a', '.data.b', '.data.c']);
  });

  it('does not conflict when the value does not change', () => {
    const live = stored(apply(undefined, cm({ data: { key: '1' } }), 'alice', T0));
    const out = apply(live, cm({ data: { key: '1', other: 'x' } }), 'bob', T1);
    expect(entry(out, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:key': {} } });
    expect(entry(out, 'bob')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:key': {}, 'f:other': {} } });
  });

  it('with force, takes the conflicting fields over', () => {
    let live = stored(apply(undefined, cm({ data: { key: '1', mine: 'a' } }), 'alice', T0));
    live = stored(apply(live, cm({ data: { key: '2' } }), 'bob', T1, true));
    expect(live['data']).to.deep.equal({ key: '2', mine: 'a' });
    expect(entry(live, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:mine': {} } });
    expect(entry(live, 'bob')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:key': {} } });
    // alice no longer owns key, so omitting it does not remove it...
    const kept = apply(live, cm({ data: { mine: 'a' } }), 'alice', T2);
    expect((kept['data'] as JsonObject)['key']).to.equal('2');
    // ...and applying her old value again now conflicts with bob.
    const err = conflictOf(() => apply(live, cm({ data: { key: '1', mine: 'a' } }), 'alice', T2));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "bob": .data.key');
  });

  it('drops a manager whose every field was forced away', () => {
    let live = stored(apply(undefined, cm({ data: { key: '1' } }), 'alice', T0));
    live = apply(live, cm({ data: { key: '2' } }), 'bob', T1, true);
    expect(managers(live)).to.deep.equal(['bob/Apply']);
  });

  it('merges map lists by key, records k: items with ".", and conflicts inside items', () => {
    const deploy = (containers: Json[]): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { containers } });
    let live = stored(apply(undefined, deploy([{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }]), 'alice', T0));
    expect(entry(live, 'alice')!.fieldsV1).to.deep.equal({
      'f:spec': {
        'f:containers': {
          'k:{"name":"a"}': { '.': {}, 'f:image': {}, 'f:name': {} },
          'k:{"name":"b"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        },
      },
    });
    live = stored(apply(live, deploy([{ name: 'c', image: 'c:1' }, { name: 'a', args: ['-v'] }]), 'bob', T1));
    expect(spec(live)['containers']).to.deep.equal([
      { name: 'a', image: 'a:1', args: ['-v'] },
      { name: 'b', image: 'b:1' },
      { name: 'c', image: 'c:1' },
    ]);
    const err = conflictOf(() => apply(live, deploy([{ name: 'a', image: 'a:2' }]), 'bob', T2));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "alice": .spec.containers[name="a"].image');
    // alice stops applying a and b: b goes, a stays because bob still owns part of it, and loses alice's image.
    const out = apply(live, deploy([]), 'alice', T2);
    expect(spec(out)['containers']).to.deep.equal([
      { name: 'a', args: ['-v'] },
      { name: 'c', image: 'c:1' },
    ]);
    // Applying an empty list is owning it, as in kube.
    expect(managers(out)).to.deep.equal(['bob/Apply', 'alice/Apply']);
    expect(entry(out, 'alice')!.fieldsV1).to.deep.equal({ 'f:spec': { 'f:containers': {} } });
  });

  it('keys items by several merge keys', () => {
    const deploy = (ports: Json[]): KubeObject => ({ metadata: { name: 'd' }, spec: { containers: [{ name: 'a', ports }] } });
    let live = stored(apply(undefined, deploy([{ containerPort: 80, protocol: 'TCP' }]), 'alice', T0));
    live = stored(apply(live, deploy([{ containerPort: 80, protocol: 'UDP' }]), 'bob', T1));
    expect((spec(live)['containers'] as JsonObject[])[0]!['ports']).to.deep.equal([
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 80, protocol: 'UDP' },
    ]);
    const ports = ((entry(live, 'bob')!.fieldsV1['f:spec'] as JsonObject)['f:containers'] as JsonObject)['k:{"name":"a"}'] as JsonObject;
    expect(Object.keys(ports['f:ports'] as JsonObject)).to.deep.equal(['k:{"containerPort":80,"protocol":"UDP"}']);
  });

  it('merges set lists by value and records v: items', () => {
    let live = stored(apply(undefined, cm({}, { finalizers: ['x/a'] }), 'alice', T0));
    live = stored(apply(live, cm({}, { finalizers: ['x/b', 'x/a'] }), 'bob', T1));
    expect(live.metadata.finalizers).to.deep.equal(['x/a', 'x/b']);
    expect(entry(live, 'bob')!.fieldsV1).to.deep.equal({ 'f:metadata': { 'f:finalizers': { 'v:"x/a"': {}, 'v:"x/b"': {} } } });
    live = stored(apply(live, cm({}, { finalizers: ['x/b'] }), 'bob', T2));
    expect(live.metadata.finalizers).to.deep.equal(['x/a', 'x/b']);
    live = stored(apply(live, cm({}), 'alice', T3));
    expect(live.metadata.finalizers).to.deep.equal(['x/b']);
  });

  it('replaces atomic lists whole and conflicts on them as one field', () => {
    const obj = (args: string[]): KubeObject => ({ metadata: { name: 'd' }, spec: { args } });
    const live = stored(apply(undefined, obj(['a', 'b']), 'alice', T0));
    expect(entry(live, 'alice')!.fieldsV1).to.deep.equal({ 'f:spec': { 'f:args': {} } });
    const err = conflictOf(() => apply(live, obj(['c']), 'bob', T1));
    expect(err.message).to.contain(': .spec.args');
    expect(spec(apply(live, obj(['c']), 'bob', T1, true))['args']).to.deep.equal(['c']);
  });

  it('treats free-form maps granularly and their lists atomically', () => {
    const obj = (config: Json): KubeObject => ({ metadata: { name: 'd' }, spec: { config } });
    let live = stored(apply(undefined, obj({ a: { b: 1 }, l: [1, 2] }), 'alice', T0));
    live = stored(apply(live, obj({ a: { c: 2 } }), 'bob', T1));
    expect(spec(live)['config']).to.deep.equal({ a: { b: 1, c: 2 }, l: [1, 2] });
    expect(entry(live, 'alice')!.fieldsV1).to.deep.equal({ 'f:spec': { 'f:config': { 'f:a': { 'f:b': {} }, 'f:l': {} } } });
  });

  it('ignores explicit nulls in the configuration', () => {
    const live = stored(apply(undefined, cm({ data: { a: '1', b: null } }), 'alice', T0));
    expect(live['data']).to.deep.equal({ a: '1' });
  });

  it('strips ignored fields from the configuration and records the subresource', () => {
    const withStatus = cm({ data: { a: '1' }, status: { phase: 'Ready' } });
    const main = serverSideApply({ live: undefined, applied: withStatus, manager: 'm', force: false, schema, apiVersion: 'v1', now: T0, ignoreFields: ['status'] });
    expect(main).to.not.have.property('status');
    const status = serverSideApply({
      live: stored(main),
      applied: withStatus,
      manager: 'm',
      force: false,
      schema,
      apiVersion: 'v1',
      now: T1,
      subresource: 'status',
      ignoreFields: ['data', 'metadata'],
    });
    expect(status['status']).to.deep.equal({ phase: 'Ready' });
    expect(status.metadata.managedFields).to.deep.equal([
      { manager: 'm', operation: 'Apply', apiVersion: 'v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
      {
        manager: 'm',
        operation: 'Apply',
        apiVersion: 'v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:phase': {} } },
        subresource: 'status',
      },
    ]);
  });

  it('requires a field manager and rejects managedFields in the configuration', () => {
    try {
      apply(undefined, cm({}), '', T0);
      expect.fail('expected an error');
    } catch (e) {
      expect((e as ApiError).code).to.equal(422);
      expect((e as ApiError).message).to.contain('fieldManager: Required value');
    }
    const bad = cm({}, { managedFields: [{ manager: 'x', operation: 'Apply', apiVersion: 'v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: {} }] });
    try {
      apply(undefined, bad, 'alice', T0);
      expect.fail('expected an error');
    } catch (e) {
      expect((e as ApiError).code).to.equal(400);
      expect((e as ApiError).message).to.equal('metadata.managedFields must be nil');
    }
  });

  it('reads managedFields written by kube (non-canonical keys, duplicates, junk)', () => {
    const live = stored({
      ...cm({ spec: { containers: [{ name: 'a', image: 'a:1' }] } }),
      metadata: {
        name: 'cm',
        managedFields: [
          {
            manager: 'kube',
            operation: 'Update',
            apiVersion: 'v1',
            time: T0,
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:spec': { 'f:containers': { 'k:{ "name" : "a" }': { '.': {}, 'f:image': {} } } } },
          },
          { nonsense: true } as unknown as ManagedFieldsEntry,
        ],
      },
    });
    const err = conflictOf(() => apply(live, { metadata: { name: 'cm' }, spec: { containers: [{ name: 'a', image: 'a:2' }] } }, 'alice', T1));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "kube" using v1: .spec.containers[name="a"].image');
  });
});

describe('recordUpdate', () => {
  it('gives a creating manager everything, with "." on maps and list items', () => {
    const out = update(
      undefined,
      { ...cm({ data: { key: 'v' }, spec: { containers: [{ name: 'a', image: 'i' }], tags: ['t'] } }), metadata: { name: 'cm', labels: { app: 'x' }, uid: 'u' } },
      'kubectl-create',
      T0,
    );
    expect(out.metadata.managedFields).to.deep.equal([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:data': { '.': {}, 'f:key': {} },
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            '.': {},
            'f:containers': { '.': {}, 'k:{"name":"a"}': { '.': {}, 'f:image': {}, 'f:name': {} } },
            'f:tags': { '.': {}, 'v:"t"': {} },
          },
        },
      },
    ]);
  });

  it('moves changed fields to the writer and drops emptied entries', () => {
    const created = stored(update(undefined, cm({ data: { a: '1', b: '2' } }), 'creator', T0));
    const edited = update(created, { ...created, data: { a: '1', b: '3' } }, 'editor', T1);
    expect(entry(edited, 'creator', 'Update')!.fieldsV1).to.deep.equal({ 'f:data': { '.': {}, 'f:a': {} } });
    expect(entry(edited, 'editor', 'Update')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:b': {} } });
    // Taking the rest over leaves the creator with only the map itself; removing it leaves nothing.
    const { data: _dropped, ...withoutData } = created;
    const gone = update(stored(edited), withoutData, 'editor', T2);
    expect(gone).to.not.have.property('data');
    expect(managers(gone)).to.deep.equal([]);
    expect(gone.metadata).to.not.have.property('managedFields');
  });

  it('removes deleted fields from every manager', () => {
    let live = stored(apply(undefined, cm({ data: { a: '1', b: '2' } }), 'alice', T0));
    live = update(live, { ...live, data: { a: '1' } }, 'editor', T1);
    expect(entry(live, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:a': {} } });
    expect(entry(live, 'editor', 'Update')).to.equal(undefined);
  });

  it('lets an ordinary write steal an applied field, which the applier then cannot remove', () => {
    let live = stored(apply(undefined, cm({ data: { a: '1', b: '2' } }), 'alice', T0));
    live = stored(update(live, { ...live, data: { a: '1', b: 'edited' } }, 'kubectl-edit', T1));
    expect(entry(live, 'alice')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:a': {} } });
    const out = apply(live, cm({ data: { a: '1' } }), 'alice', T2);
    expect(out['data']).to.deep.equal({ a: '1', b: 'edited' });
    const err = conflictOf(() => apply(live, cm({ data: { a: '1', b: '2' } }), 'alice', T2));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.b');
  });

  it('calls a nameless manager "unknown" and keeps times of no-op writes', () => {
    const created = stored(update(undefined, cm({ data: { a: '1' } }), '', T0));
    expect(managers(created)).to.deep.equal(['unknown/Update']);
    const noop = update(created, created, '', T1);
    expect(noop.metadata.managedFields).to.deep.equal(created.metadata.managedFields);
    const other = update(created, created, 'someone', T1);
    expect(managers(other)).to.deep.equal(['unknown/Update']);
  });

  it('keeps separate entries per apiVersion and subresource, sorted like kube', () => {
    let live = stored(update(undefined, cm({ data: { a: '1' } }), 'ctl', T1));
    live = stored(recordUpdate({ before: live, after: { ...live, data: { a: '1', b: '1' } }, manager: 'ctl', schema, apiVersion: 'v2', now: T0 }));
    live = stored(update(live, { ...live, status: { phase: 'Ready' } }, 'ctl', T2, 'status'));
    live = stored(apply(live, cm({ data: { c: '1' } }), 'zed', T3));
    expect((live.metadata.managedFields ?? []).map((e) => [e.manager, e.operation, e.apiVersion, e.time, e['subresource'] ?? ''])).to.deep.equal([
      ['zed', 'Apply', 'v1', T3, ''],
      ['ctl', 'Update', 'v2', T0, ''],
      ['ctl', 'Update', 'v1', T1, ''],
      ['ctl', 'Update', 'v1', T2, 'status'],
    ]);
  });

  it('names subresource managers in conflicts', () => {
    let live = stored(update(undefined, cm({ data: { a: '1' } }), 'ctl', T0));
    live = stored(update(live, { ...live, status: { phase: 'Ready' } }, 'kubelet', T1, 'status'));
    const err = conflictOf(() => apply(live, cm({ status: { phase: 'Failed' } }), 'alice', T2));
    expect(err.message).to.equal('Apply failed with 1 conflict: conflict with "kubelet" with subresource "status" using v1: .status.phase');
  });

  it('does not track ignored fields', () => {
    const live = stored(update(undefined, cm({ data: { a: '1' } }), 'ctl', T0));
    const out = recordUpdate({
      before: live,
      after: { ...live, data: { a: '2' }, status: { phase: 'x' } },
      manager: 'ctl2',
      schema,
      apiVersion: 'v1',
      now: T1,
      ignoreFields: ['status'],
    });
    expect(entry(out, 'ctl2', 'Update')!.fieldsV1).to.deep.equal({ 'f:data': { 'f:a': {} } });
  });

  it('honours managedFields sent by the client, and [{}] resets them', () => {
    const live = stored(update(undefined, cm({ data: { a: '1', b: '2' } }), 'ctl', T0));
    const sent: ManagedFieldsEntry[] = [
      { manager: 'other', operation: 'Apply', apiVersion: 'v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
    ];
    const replaced = update(live, { ...live, metadata: { ...live.metadata, managedFields: sent } }, 'ctl', T1);
    expect(replaced.metadata.managedFields).to.deep.equal(sent);
    const reset = update(live, { ...live, metadata: { ...live.metadata, managedFields: [{}] as unknown as ManagedFieldsEntry[] } }, 'ctl', T1);
    expect(reset.metadata).to.not.have.property('managedFields');
    // An empty list is what unaware clients send: the stored entries stay.
    const kept = update(live, { ...live, metadata: { ...live.metadata, managedFields: [] } }, 'ctl', T1);
    expect(kept.metadata.managedFields).to.deep.equal(live.metadata.managedFields);
  });

  it('tracks map-list items and set values precisely on update', () => {
    const live = stored(update(undefined, { metadata: { name: 'd' }, spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }], tags: ['x'] } }, 'c', T0));
    const out = update(live, { ...live, spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }, { name: 'n', image: '1' }], tags: ['x', 'y'] } }, 'e', T1);
    expect(entry(out, 'e', 'Update')!.fieldsV1).to.deep.equal({
      'f:spec': {
        'f:containers': {
          'k:{"name":"b"}': { 'f:image': {} },
          'k:{"name":"n"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        },
        'f:tags': { 'v:"y"': {} },
      },
    });
  });

  it('never mutates its inputs', () => {
    const before = frozen(stored(update(undefined, cm({ data: { a: '1' } }), 'c', T0)));
    const after = frozen({ ...before, data: { a: '2' } });
    const snapshot = JSON.stringify([before, after]);
    recordUpdate({ before, after, manager: 'e', schema, apiVersion: 'v1', now: T1 });
    serverSideApply({ live: before, applied: frozen(cm({ data: { b: '1' } })), manager: 'x', force: true, schema, apiVersion: 'v1', now: T1 });
    expect(JSON.stringify([before, after])).to.equal(snapshot);
  });
});
