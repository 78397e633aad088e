/**
 * Events as one storage under core `v1` and `events.k8s.io/v1`, as kube serves them: written
 * through either API, read, listed, watched, patched and deleted through the other with kube's
 * field mapping and one resourceVersion sequence; each API validates as kube does for it; field
 * selectors of both APIs; an `events` claim through the APIExport virtual workspace covers both;
 * the real kubectl lists an Event written as events.k8s.io/v1; and a data dir of an earlier server
 * (events.k8s.io Events in a bucket of their own) is moved into the shared storage.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createExport, sliceURLs, type Obj } from '../support/kcp.js';
import { inCluster, kubectlFor } from '../support/kubectl.js';
import { eventually, raw, start, WatchStream } from '../support/server.js';

const CORE = '/clusters/root/api/v1/namespaces/default/events';
const V1 = '/clusters/root/apis/events.k8s.io/v1/namespaces/default/events';
const T = '2026-12-02T17:00:00.000000Z';

/** An events.k8s.io/v1 Event about ConfigMap `cm` that passes kube's strict validation. */
function eventsV1(name: string, cm: Obj, extra: Obj = {}): Obj {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    eventTime: T,
    reportingController: 'example.com/widgets',
    reportingInstance: 'pod-1',
    action: 'Sync',
    reason: 'Synced',
    regarding: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: cm['metadata'].name, uid: cm['metadata'].uid },
    note: 'synced ok',
    type: 'Normal',
    ...extra,
  };
}

/** An old-style core v1 Event (no eventTime), as client-go's core recorder writes it. */
function coreEvent(name: string, cm: Obj, extra: Obj = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: cm['metadata'].name, uid: cm['metadata'].uid },
    reason: 'Created',
    message: 'made it',
    source: { component: 'old-controller', host: 'node-1' },
    firstTimestamp: '2026-12-02T17:00:00Z',
    lastTimestamp: '2026-12-02T17:00:05Z',
    count: 2,
    type: 'Warning',
    ...extra,
  };
}

describe('reference server: Events under v1 and events.k8s.io/v1', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cm: Obj;
  let cacheDir: string;

  async function ok(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<Obj> {
    const r = await raw(srv, method, p, body, headers);
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    return r.json;
  }

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-events-kubectl-'));
    cm = await ok('POST', '/clusters/root/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject' } });
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('reads an events.k8s.io/v1 Event through core v1 with kube\'s field mapping, and back unchanged', async () => {
    const created = await ok('POST', V1, eventsV1('subject.a', cm, { series: { count: 2, lastObservedTime: T }, related: { kind: 'Secret', name: 's' } }));
    const core = await ok('GET', `${CORE}/subject.a`);
    expect(core['apiVersion']).to.equal('v1');
    expect(core['kind']).to.equal('Event');
    expect(core['metadata'].resourceVersion).to.equal(created['metadata'].resourceVersion);
    expect(core['metadata'].uid).to.equal(created['metadata'].uid);
    const { apiVersion: _a, kind: _k, metadata: _m, ...fields } = core;
    expect(fields).to.deep.equal({
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'subject', uid: cm['metadata'].uid },
      reason: 'Synced',
      message: 'synced ok',
      type: 'Normal',
      eventTime: T,
      series: { count: 2, lastObservedTime: T },
      action: 'Sync',
      related: { kind: 'Secret', name: 's' },
      reportingComponent: 'example.com/widgets',
      reportingInstance: 'pod-1',
    });
    // Keys in Go's field order of the API read.
    expect(Object.keys(fields)).to.deep.equal(['involvedObject', 'reason', 'message', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance']);
    const back = await ok('GET', `${V1}/subject.a`);
    expect(back).to.deep.equal(created);
    expect(Object.keys(back).slice(3)).to.deep.equal(['eventTime', 'series', 'reportingController', 'reportingInstance', 'action', 'reason', 'regarding', 'related', 'note', 'type']);
  });

  it('reads a core v1 Event through events.k8s.io/v1 with the deprecated fields', async () => {
    await ok('POST', CORE, coreEvent('subject.b', cm));
    const v1 = await ok('GET', `${V1}/subject.b`);
    expect(v1['apiVersion']).to.equal('events.k8s.io/v1');
    expect(v1).to.include({ reason: 'Created', note: 'made it', type: 'Warning', deprecatedFirstTimestamp: '2026-12-02T17:00:00Z', deprecatedLastTimestamp: '2026-12-02T17:00:05Z', deprecatedCount: 2 });
    expect(v1['deprecatedSource']).to.deep.equal({ component: 'old-controller', host: 'node-1' });
    expect(v1['regarding']).to.include({ kind: 'ConfigMap', name: 'subject' });
    for (const k of ['message', 'source', 'involvedObject', 'firstTimestamp', 'count']) expect(v1).not.to.have.property(k);
    const listed = await ok('GET', V1);
    expect(listed['apiVersion']).to.equal('events.k8s.io/v1');
    expect((listed['items'] as Obj[]).map((e) => e['metadata'].name)).to.include.members(['subject.a', 'subject.b']);
    for (const e of listed['items'] as Obj[]) expect(e['apiVersion']).to.equal('events.k8s.io/v1');
    const coreList = await ok('GET', CORE);
    expect(coreList['metadata'].resourceVersion).to.equal(listed['metadata'].resourceVersion);
    expect((coreList['items'] as Obj[]).map((e) => e['metadata'].name)).to.deep.equal((listed['items'] as Obj[]).map((e) => e['metadata'].name));
  });

  it('one name space: a name taken through one API is taken in the other; delete through either', async () => {
    const dup = await raw(srv, 'POST', CORE, coreEvent('subject.a', cm));
    expect(dup.status).to.equal(409);
    await ok('POST', V1, eventsV1('subject.gone', cm));
    await ok('DELETE', `${CORE}/subject.gone`);
    expect((await raw(srv, 'GET', `${V1}/subject.gone`)).status).to.equal(404);
  });

  it('watches on either API see writes made through the other, in the watched API\'s form', async () => {
    const rv = (await ok('GET', CORE))['metadata'].resourceVersion as string;
    const coreWatch = new WatchStream(srv, `${CORE}?watch=true&resourceVersion=${rv}`);
    const v1Watch = new WatchStream(srv, `${V1}?watch=true&resourceVersion=${rv}&fieldSelector=regarding.name%3Dsubject`);
    try {
      const created = await ok('POST', V1, eventsV1('subject.w', cm));
      // The recorder's series write: a merge patch through events.k8s.io/v1.
      await ok('PATCH', `${V1}/subject.w`, { series: { count: 3, lastObservedTime: T } }, { 'Content-Type': 'application/merge-patch+json' });
      await ok('POST', CORE, coreEvent('subject.c', cm));
      await ok('DELETE', `${V1}/subject.c`);
      await eventually(() => coreWatch.of('DELETED', 'subject.c').length === 1 && v1Watch.of('DELETED', 'subject.c').length === 1, 'both watches see the delete');
      expect(coreWatch.events.map((e) => `${e.type} ${e.object['metadata'].name}`)).to.deep.equal(['ADDED subject.w', 'MODIFIED subject.w', 'ADDED subject.c', 'DELETED subject.c']);
      expect(v1Watch.events.map((e) => `${e.type} ${e.object['metadata'].name}`)).to.deep.equal(['ADDED subject.w', 'MODIFIED subject.w', 'ADDED subject.c', 'DELETED subject.c']);
      const [added] = coreWatch.of('ADDED', 'subject.w');
      expect(added!.object).to.include({ apiVersion: 'v1', message: 'synced ok', reportingComponent: 'example.com/widgets' });
      expect(added!.object['metadata'].resourceVersion).to.equal(created['metadata'].resourceVersion);
      expect(coreWatch.of('MODIFIED', 'subject.w')[0]!.object['series']).to.deep.equal({ count: 3, lastObservedTime: T });
      const [coreAdded] = v1Watch.of('ADDED', 'subject.c');
      expect(coreAdded!.object).to.include({ apiVersion: 'events.k8s.io/v1', note: 'made it', deprecatedCount: 2 });
      // One sequence: each event's resourceVersion is the same on both streams.
      const rvs = (w: WatchStream) => w.events.map((e) => e.object['metadata'].resourceVersion as string);
      expect(rvs(v1Watch)).to.deep.equal(rvs(coreWatch));
    } finally {
      await coreWatch.close();
      await v1Watch.close();
    }
  });

  it('validates events.k8s.io/v1 writes strictly and core v1 writes the legacy way, with kube\'s messages', async () => {
    const bare = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'bare', namespace: 'default' } };
    const refused = await raw(srv, 'POST', V1, bare);
    expect(refused.status).to.equal(422);
    expect(refused.json['message']).to.equal('Event.events.k8s.io "bare" is invalid: [eventTime: Required value, type: Invalid value: "": has invalid value: ]');
    // The same empty Event is a valid old-style core Event.
    await ok('POST', CORE, { ...bare, apiVersion: 'v1' });

    const deprecated = await raw(srv, 'POST', V1, eventsV1('dep', cm, { deprecatedCount: 3, deprecatedSource: { component: 'x' }, series: { count: 1 } }));
    expect(deprecated.status).to.equal(422);
    expect((deprecated.json['details'] as Obj)['causes'].map((c: Obj) => c['field'])).to.deep.equal(['series.count', 'series.lastObservedTime', 'deprecatedCount', 'deprecatedSource']);

    const missing = await raw(srv, 'POST', V1, eventsV1('Bad_Name', cm, { reportingController: '', reportingInstance: '', action: '', reason: '' }));
    expect(missing.status).to.equal(422);
    const fields = (missing.json['details'] as Obj)['causes'].map((c: Obj) => `${c['field']}: ${c['message']}`);
    expect(fields).to.include.members(['reportingController: Required value', 'reportingInstance: Required value', 'action: Required value', 'reason: Required value']);
    expect(fields.some((f: string) => f.startsWith('metadata.name: Invalid value: "Bad_Name"'))).to.equal(true);

    // A new-style core Event names reportingComponent, and core names are path segments only.
    const coreNew = await raw(srv, 'POST', CORE, coreEvent('Core_Name', cm, { eventTime: T, action: 'A' }));
    expect(coreNew.status).to.equal(422);
    const message = coreNew.json['message'] as string;
    expect(message.startsWith('Event "Core_Name" is invalid: [reportingComponent: Required value, reportingComponent: Invalid value: "": name part must be non-empty, reportingComponent: Invalid value: "": name part must consist of'), message).to.equal(true);
    expect(message.endsWith(', reportingInstance: Required value]'), message).to.equal(true);
    await ok('POST', CORE, coreEvent('Core_Name', cm));

    // An old-style Event's namespace must agree with its object's.
    const elsewhere = await raw(srv, 'POST', CORE, coreEvent('elsewhere', cm, { involvedObject: { kind: 'ConfigMap', namespace: 'other', name: 'x' } }));
    expect(elsewhere.status).to.equal(422);
    expect(elsewhere.json['message']).to.equal('Event "elsewhere" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace');
  });

  it('lets events.k8s.io/v1 updates change only the series; core v1 updates anything', async () => {
    await ok('POST', V1, eventsV1('subject.u', cm));
    const note = await raw(srv, 'PATCH', `${V1}/subject.u`, { note: 'changed' }, { 'Content-Type': 'application/merge-patch+json' });
    expect(note.status).to.equal(422);
    expect(note.json['message']).to.equal('Event.events.k8s.io "subject.u" is invalid: message: Invalid value: "changed": field is immutable');
    const series = await raw(srv, 'PATCH', `${V1}/subject.u`, { series: { count: 1, lastObservedTime: T } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(series.status).to.equal(422);
    expect(series.json['message']).to.contain('series.count: Invalid value: "": should be at least 2');
    const changed = await ok('PATCH', `${CORE}/subject.u`, { message: 'changed' }, { 'Content-Type': 'application/merge-patch+json' });
    expect(changed['message']).to.equal('changed');
    expect((await ok('GET', `${V1}/subject.u`))['note']).to.equal('changed');
  });

  it('selects by the field labels of each API and refuses the other API\'s labels', async () => {
    const names = async (p: string) => ((await ok('GET', p))['items'] as Obj[]).map((e) => e['metadata'].name as string).sort();
    expect(await names(`${CORE}?fieldSelector=involvedObject.name%3Dsubject,involvedObject.kind%3DConfigMap,type%3DWarning`)).to.deep.equal(['Core_Name', 'subject.b']);
    expect(await names(`${V1}?fieldSelector=regarding.name%3Dsubject,reportingController%3Dexample.com%2Fwidgets`)).to.deep.equal(['subject.a', 'subject.u', 'subject.w']);
    expect(await names(`${CORE}?fieldSelector=reportingComponent%3Dexample.com%2Fwidgets,reason!%3DSynced`)).to.deep.equal([]);
    // `source` is the source component, else the reporting controller.
    expect(await names(`${CORE}?fieldSelector=source%3Dold-controller`)).to.deep.equal(['Core_Name', 'subject.b']);
    expect(await names(`${CORE}?fieldSelector=source%3Dexample.com%2Fwidgets`)).to.deep.equal(['subject.a', 'subject.u', 'subject.w']);
    expect(await names(`${CORE}?fieldSelector=involvedObject.uid%3D${cm['metadata'].uid},metadata.name%3Dsubject.a`)).to.deep.equal(['subject.a']);
    for (const [p, label] of [
      [V1, 'involvedObject.name'],
      [V1, 'source'],
      [CORE, 'regarding.name'],
      [CORE, 'note'],
    ] as const) {
      const r = await raw(srv, 'GET', `${p}?fieldSelector=${label}%3Dx`);
      expect(r.status, label).to.equal(400);
      expect(r.json['message']).to.equal(`field label not supported: ${label}`);
    }
  });

  it('through an APIExport virtual workspace, an events claim of either group serves both APIs on one storage', async () => {
    const provider = srv.createLogicalCluster(undefined, { path: 'root:ev-provider' });
    const consumer = srv.createLogicalCluster(undefined, { path: 'root:ev-consumer' });
    await createExport(srv, 'root:ev-provider', 'core-claim', [{ group: '', resource: 'events' }]);
    await createExport(srv, 'root:ev-provider', 'group-claim', [{ group: 'events.k8s.io', resource: 'events' }]);
    await bind(srv, 'root:ev-consumer', 'root:ev-provider', 'core-claim', { claims: [{ group: '', resource: 'events' }] });
    await bind(srv, 'root:ev-consumer', 'root:ev-provider', 'group-claim', { claims: [{ group: 'events.k8s.io', resource: 'events' }] });
    const local = await ok('POST', `/clusters/${consumer}/api/v1/namespaces/default/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vw-subject' } });
    for (const exportName of ['core-claim', 'group-claim']) {
      const vw = new URL((await eventually(async () => (await sliceURLs(srv, provider, exportName))[0], `${exportName} endpoint`))!).pathname;
      const name = `vw-subject.${exportName}`;
      await ok('POST', `${vw}/clusters/${consumer}/apis/events.k8s.io/v1/namespaces/default/events`, eventsV1(name, local));
      const coreViaVW = await ok('GET', `${vw}/clusters/*/api/v1/events`);
      expect((coreViaVW['items'] as Obj[]).find((e) => e['metadata'].name === name), exportName).to.include({ apiVersion: 'v1', message: 'synced ok' });
      const inWorkspace = await ok('GET', `/clusters/${consumer}/api/v1/namespaces/default/events/${name}`);
      expect(inWorkspace['involvedObject'].name).to.equal('vw-subject');
    }
  });

  it('kubectl get events lists an Event written as events.k8s.io/v1, and describe shows it', async () => {
    const k = kubectlFor(() => ({ srv, cacheDir }));
    const kubectl = (args: string[]) => k.kubectl([...inCluster(srv, 'root'), ...args]);
    const listed = await kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=subject.x,metadata.name=subject.a']);
    expect(listed).to.equal('');
    const one = (await kubectl(['get', 'events', '-n', 'default', '--field-selector', 'metadata.name=subject.a'])).trim().split('\n');
    // kube's Event columns, for an Event written as events.k8s.io/v1.
    expect(one[0]!.split(/\s{2,}/)).to.deep.equal(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(one[1]!.split(/\s{2,}/).slice(1)).to.deep.equal(['Normal', 'Synced', 'configmap/subject', 'synced ok']);
    const wide = (await kubectl(['get', 'events', '-n', 'default', '--field-selector', 'metadata.name=subject.a', '-o', 'wide'])).trim().split('\n');
    expect(wide[0]!.split(/\s{2,}/)).to.deep.equal(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
    expect(wide[1]).to.contain('example.com/widgets, pod-1').and.to.match(/\s2\s+subject\.a$/);
    const viaGroup = await kubectl(['get', 'events.v1.events.k8s.io', '-n', 'default', '--field-selector', 'regarding.name=subject,type=Warning']);
    expect(viaGroup).to.contain('configmap/subject').and.to.contain('made it').and.not.to.contain('synced ok');
    const json = await k.kubectlJSON<Obj>([...inCluster(srv, 'root'), 'get', 'events.v1.', 'subject.a', '-n', 'default']);
    expect(json).to.include({ apiVersion: 'v1', message: 'synced ok' });
    const described = await kubectl(['describe', 'configmap', 'subject', '-n', 'default']);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).to.match(/Normal\s+Synced\s+.*example\.com\/widgets\s+synced ok/);
    expect(events).to.match(/Warning\s+Created\s+.*old-controller\s+made it/);
  });
});

describe('reference server: Events in a data dir from before the shared storage', () => {
  it('moves events.k8s.io/v1 Events of the old bucket into the shared storage on start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-events-data-'));
    try {
      const first = await start({ dataDir: dir });
      const rv = first.resourceVersion();
      const port = first.port;
      await first.stop();
      // A write as an earlier server journalled it: events.k8s.io/v1 form, in its own bucket.
      const old = eventsV1('legacy.1', { metadata: { name: 'legacy', uid: 'u-legacy' } });
      old['metadata'] = { ...old['metadata'], uid: 'u-1', resourceVersion: String(rv + 1), creationTimestamp: '2026-12-02T17:00:00Z' };
      const rec = { rv: rv + 1, op: 'put', storage: 'events.k8s.io/events', cluster: 'root', namespace: 'default', name: 'legacy.1', object: old };
      fs.appendFileSync(path.join(dir, 'root', 'journal.jsonl'), JSON.stringify(rec) + '\n');
      const second = await start({ dataDir: dir, port });
      try {
        const get = (p: string) => raw(second, 'GET', p);
        const core = await get(`${CORE}/legacy.1`);
        expect(core.status, core.text).to.equal(200);
        expect(core.json).to.include({ apiVersion: 'v1', message: 'synced ok', reportingComponent: 'example.com/widgets' });
        const v1 = await get(`${V1}/legacy.1`);
        expect(v1.json).to.include({ apiVersion: 'events.k8s.io/v1', note: 'synced ok' });
        expect((v1.json['metadata'] as Obj)['resourceVersion']).to.equal(String(rv + 1));
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
