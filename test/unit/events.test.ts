import { expect } from 'chai';
import { eventToCore, eventToEventsV1, validateEventCreate, validateEventUpdate, CORE_EVENT_FIELDS, EVENTS_V1_EVENT_FIELDS, NAMESPACE_FIELDS, OBJECT_META_FIELDS, SECRET_FIELDS, compileFieldSelector } from '../../src/server/api/index.js';
import type { KubeObject } from '../../src/server/types.js';
import { apiErrorWith } from '../support/api-error.js';

const T = '2026-12-02T17:00:00.000000Z';

/** A stored (core v1) Event with every field set. */
const STORED: KubeObject = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'cm.1', namespace: 'default' },
  involvedObject: { kind: 'ConfigMap', namespace: 'default', name: 'cm', uid: 'u1', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'data' },
  reason: 'Synced',
  message: 'ok',
  source: { component: 'old', host: 'node' },
  firstTimestamp: '2026-12-02T17:00:00Z',
  lastTimestamp: '2026-12-02T17:00:01Z',
  count: 3,
  type: 'Normal',
  eventTime: T,
  series: { count: 2, lastObservedTime: T },
  action: 'Sync',
  related: { kind: 'Secret', name: 's' },
  reportingComponent: 'example.com/c',
  reportingInstance: 'i',
};

/** The same Event as events.k8s.io/v1 serves it. */
const VIEWED: KubeObject = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: STORED.metadata,
  eventTime: T,
  series: { count: 2, lastObservedTime: T },
  reportingController: 'example.com/c',
  reportingInstance: 'i',
  action: 'Sync',
  reason: 'Synced',
  regarding: STORED['involvedObject'],
  related: { kind: 'Secret', name: 's' },
  note: 'ok',
  type: 'Normal',
  deprecatedSource: { component: 'old', host: 'node' },
  deprecatedFirstTimestamp: '2026-12-02T17:00:00Z',
  deprecatedLastTimestamp: '2026-12-02T17:00:01Z',
  deprecatedCount: 3,
};

/** A minimal events.k8s.io/v1-valid Event in stored form. */
function strictEvent(extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'cm.1', namespace: 'default' },
    involvedObject: { kind: 'ConfigMap', namespace: 'default', name: 'cm' },
    reason: 'Synced',
    type: 'Normal',
    eventTime: T,
    action: 'Sync',
    reportingComponent: 'example.com/c',
    reportingInstance: 'i',
    ...extra,
  } as KubeObject;
}

const fields = (causes: { field?: unknown; message?: unknown }[]) => causes.map((c) => `${String(c.field)}: ${String(c.message)}`);

describe('Events: conversion between core v1 and events.k8s.io/v1', () => {
  it('maps every field both ways, in each version\'s Go field order', () => {
    const viewed = eventToEventsV1(STORED);
    expect(viewed).to.deep.equal(VIEWED);
    expect(Object.keys(viewed)).to.deep.equal(Object.keys(VIEWED));
    const stored = eventToCore(VIEWED);
    expect(stored).to.deep.equal(STORED);
    expect(Object.keys(stored)).to.deep.equal(Object.keys(STORED));
  });

  it('leaves absent fields absent', () => {
    const bare: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' } };
    expect(eventToEventsV1(bare)).to.deep.equal({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'x' } });
    expect(eventToCore(eventToEventsV1(bare))).to.deep.equal(bare);
  });
});

describe('Events: validation per API', () => {
  it('accepts an old-style Event through core v1 and checks only its namespace', () => {
    expect(validateEventCreate({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'Any_Name', namespace: 'default' } }, false)).to.deep.equal([]);
    const elsewhere = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x', namespace: 'ns' }, involvedObject: { namespace: 'other' } } as KubeObject;
    expect(fields(validateEventCreate(elsewhere, false))).to.deep.equal(['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  });

  it('requires the reporting fields of a new-style Event, named by the API of the request', () => {
    const e = strictEvent({ reportingComponent: 'example.com/c', reportingInstance: '', action: 'x'.repeat(129), reason: '' });
    expect(fields(validateEventCreate(e, false))).to.deep.equal([
      'reportingInstance: Required value',
      'action: Invalid value: "": can have at most 128 characters',
      'reason: Required value',
    ]);
    const noController = strictEvent({ reportingComponent: 'a/b/c' });
    expect(fields(validateEventCreate(noController, false))[0]).to.match(/^reportingComponent: Invalid value: "a\/b\/c": a qualified name/);
    expect(fields(validateEventCreate(noController, true))[0]).to.match(/^reportingController: Invalid value: "a\/b\/c": a qualified name/);
    // A cluster-scoped object's Events live in default (or kube-system).
    expect(validateEventCreate(strictEvent({ involvedObject: { kind: 'Namespace', name: 'n' } }), true)).to.deep.equal([]);
    const misplaced = strictEvent({ involvedObject: { kind: 'Namespace', name: 'n' } });
    misplaced.metadata.namespace = 'team';
    expect(fields(validateEventCreate(misplaced, true))).to.deep.equal(['involvedObject.namespace: Invalid value: "": does not match event.namespace']);
  });

  it('refuses deprecated fields, bad types and short series through events.k8s.io/v1 only', () => {
    const e = strictEvent({ type: 'Odd', count: 1, firstTimestamp: '2026-12-02T17:00:00Z', source: { host: 'h' }, series: { count: 1 } });
    expect(validateEventCreate(e, false)).to.deep.equal([]);
    expect(fields(validateEventCreate(e, true))).to.deep.equal([
      'series.count: Invalid value: "": should be at least 2',
      'series.lastObservedTime: Required value',
      'type: Invalid value: "": has invalid value: Odd',
      'deprecatedFirstTimestamp: Invalid value: "": needs to be unset',
      'deprecatedCount: Invalid value: "": needs to be unset',
      'deprecatedSource: Invalid value: "": needs to be unset',
    ]);
  });

  it('lets events.k8s.io/v1 updates change the series only; Go zero values count as unset', () => {
    const old = strictEvent();
    expect(validateEventUpdate(strictEvent({ series: { count: 2, lastObservedTime: T }, source: {}, count: 0 }), old, true)).to.deep.equal([]);
    expect(fields(validateEventUpdate(strictEvent({ reason: 'Other', related: { name: 'r' } }), old, true))).to.deep.equal([
      'reason: Invalid value: "Other": field is immutable',
      'reason: Invalid value: "Other": field is immutable',
      'related: Invalid value: {"name":"r"}: field is immutable',
    ]);
    expect(validateEventUpdate(strictEvent({ reason: 'Other' }), old, false)).to.deep.equal([]);
  });
});

describe('field labels of built-in kinds', () => {
  const run = (sel: string, labels: Parameters<typeof compileFieldSelector>[1], o: KubeObject) => {
    const p = compileFieldSelector(sel, labels);
    return p ? p(o) : true;
  };

  it('reads core Event labels from the stored Event, with source falling back to the reporting controller', () => {
    expect(run('involvedObject.kind=ConfigMap,involvedObject.uid=u1,involvedObject.fieldPath=data,reason=Synced,type!=Warning', CORE_EVENT_FIELDS, STORED)).to.equal(true);
    expect(run('source=old', CORE_EVENT_FIELDS, STORED)).to.equal(true);
    const { source: _s, ...noSource } = STORED;
    expect(run('source=example.com/c', CORE_EVENT_FIELDS, noSource as KubeObject)).to.equal(true);
    expect(run('reportingComponent=example.com/c,metadata.namespace=default,metadata.name=cm.1', CORE_EVENT_FIELDS, STORED)).to.equal(true);
    expect(run('involvedObject.name=other', CORE_EVENT_FIELDS, STORED)).to.equal(false);
  });

  it('maps events.k8s.io/v1 labels onto the stored fields', () => {
    expect(run('regarding.name=cm,regarding.resourceVersion=7,reportingController=example.com/c,reason=Synced,type=Normal', EVENTS_V1_EVENT_FIELDS, STORED)).to.equal(true);
    expect(run('regarding.namespace=other', EVENTS_V1_EVENT_FIELDS, STORED)).to.equal(false);
  });

  it('refuses labels a kind does not support with kube\'s message', () => {
    for (const [labels, label] of [
      [EVENTS_V1_EVENT_FIELDS, 'source'],
      [EVENTS_V1_EVENT_FIELDS, 'involvedObject.name'],
      [CORE_EVENT_FIELDS, 'regarding.name'],
      [NAMESPACE_FIELDS, 'metadata.namespace'],
      [OBJECT_META_FIELDS, 'type'],
    ] as const) {
      const err = apiErrorWith(() => compileFieldSelector(`${label}=x`, labels), 400, 'BadRequest');
      expect(err.message).to.equal(`field label not supported: ${label}`);
    }
  });

  it('selects Namespaces by status.phase and Secrets by type; an empty selector compiles to nothing', () => {
    const ns: KubeObject = { metadata: { name: 'n' }, status: { phase: 'Active' } };
    expect(run('status.phase=Active,metadata.name=n', NAMESPACE_FIELDS, ns)).to.equal(true);
    expect(run('status.phase=Terminating', NAMESPACE_FIELDS, { metadata: { name: 'n' } })).to.equal(false);
    expect(run('type=Opaque', SECRET_FIELDS, { metadata: { name: 's' }, type: 'Opaque' })).to.equal(true);
    expect(compileFieldSelector('', SECRET_FIELDS)).to.equal(undefined);
    expect(compileFieldSelector(' , ', SECRET_FIELDS)).to.equal(undefined);
  });
});
