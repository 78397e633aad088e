/**
 * ClusterEventRecorder against the reference server: through an APIExport virtual workspace that
 * claims events (one Event per distinct event, series for repeats), one that does not claim them
 * (one clear log line), one whose claim cannot create, and directly in a workspace whose discovery
 * hides events.k8s.io (core v1 fallback).
 */
import { expect } from 'chai';
import { ApiError, ClusterClient, Discovery, Transport, type JSONRequester, type KubernetesObject, type ObjectType, type RequestOptions } from '../../src/client/index.js';
import { microTime } from '../../src/client/index.js';
import { ClusterEventRecorder } from '../../src/provider/recorder.js';
import { Logger } from '../../src/log/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const EVENT: ObjectType<Obj> = { apiVersion: 'events.k8s.io/v1', kind: 'Event' };
const CORE_EVENT: ObjectType<Obj> = { apiVersion: 'v1', kind: 'Event' };
const CONTROLLER = 'example.com/widgets';
const T0 = new Date('2026-12-02T17:00:00.000Z');

function capture(): { log: Logger; lines: Obj[] } {
  const lines: Obj[] = [];
  return { log: new Logger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Obj) }), lines };
}

describe('controller: ClusterEventRecorder (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let t: Transport;
  let provider: string;
  const consumers: Record<string, string> = {};
  const endpoints: Record<string, string> = {};

  async function post(cluster: string, p: string, body: Obj): Promise<Obj> {
    const r = await raw(srv, 'POST', `/clusters/${cluster}${p}`, body);
    expect(r.status, r.text).to.equal(201);
    return r.json;
  }

  before(async function () {
    srv = await start();
    const served = await raw(srv, 'GET', '/clusters/root/apis/apis.kcp.io/v1alpha2');
    if (served.status !== 200) {
      await srv.stop();
      this.skip();
    }
    t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    provider = srv.createLogicalCluster(undefined, { path: 'root:events-provider' });
    const exports: Record<string, Obj[]> = {
      // What a kcp user writes for a controller that records events about ConfigMaps.
      claims: [
        { group: '', resource: 'configmaps', verbs: ['*'] },
        { group: '', resource: 'events', verbs: ['*'] },
      ],
      noevents: [{ group: '', resource: 'configmaps', verbs: ['*'] }],
      readonly: [{ group: '', resource: 'events', verbs: ['get', 'list', 'watch'] }],
    };
    for (const [name, claims] of Object.entries(exports)) {
      await post(provider, '/apis/apis.kcp.io/v1alpha2/apiexports', { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIExport', metadata: { name }, spec: { permissionClaims: claims } });
      const consumer = srv.createLogicalCluster(undefined, { path: `root:events-${name}` });
      consumers[name] = consumer;
      await post(consumer, '/apis/apis.kcp.io/v1alpha2/apibindings', {
        apiVersion: 'apis.kcp.io/v1alpha2',
        kind: 'APIBinding',
        metadata: { name },
        spec: {
          reference: { export: { path: 'root:events-provider', name } },
          permissionClaims: claims.map((c) => ({ ...c, selector: { matchAll: true }, state: 'Accepted' })),
        },
      });
      await eventually(async () => {
        const b = await raw(srv, 'GET', `/clusters/${consumer}/apis/apis.kcp.io/v1alpha2/apibindings/${name}`);
        return (b.json['status'] as Obj | undefined)?.['phase'] === 'Bound';
      }, `binding ${name} Bound`);
      endpoints[name] = (await eventually(async () => {
        const s = await raw(srv, 'GET', `/clusters/${provider}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${name}`);
        return ((s.json['status'] as Obj | undefined)?.['endpoints'] as Obj[] | undefined)?.[0]?.['url'] as string | undefined;
      }, `endpoint of ${name}`))!;
    }
  });
  after(async () => {
    t?.close();
    await srv?.stop();
  });

  const vwClient = (name: string): ClusterClient => new ClusterClient(t.withServer(endpoints[name]!), { cluster: consumers[name]! });
  const direct = (name: string): ClusterClient => new ClusterClient(t, { cluster: consumers[name]! });

  async function configMap(client: ClusterClient, name: string): Promise<KubernetesObject> {
    await direct('claims').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } }).catch(() => undefined);
    return client.get({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: 'default', name });
  }

  async function eventsAbout(client: ClusterClient, name: string, type = EVENT): Promise<Obj[]> {
    const list = await client.list(type, { namespace: 'default' });
    return list.items.filter((e) => (e['regarding'] ?? e['involvedObject'])?.name === name);
  }

  it('through a VW with an events claim: one Event per distinct event, a series for repeats', async () => {
    const client = vwClient('claims');
    const { log, lines } = capture();
    const rec = new ClusterEventRecorder({ client, controller: CONTROLLER, instance: 'pod-1', log, now: () => T0, seriesFlushMs: 100 });
    const cm = await configMap(client, 'subject');
    await rec.publish(cm, { type: 'Normal', reason: 'Synced', note: 'synced ok' });
    await rec.publish(cm, { type: 'Warning', reason: 'Failed', action: 'Sync', note: 'sync failed' });
    for (let i = 0; i < 4; i++) await rec.publish(cm, { type: 'Normal', reason: 'Synced', note: 'synced ok' });

    const events = await eventsAbout(client, 'subject');
    expect(events).to.have.length(2);
    const synced = events.find((e) => e['reason'] === 'Synced')!;
    expect(synced['metadata'].name).to.match(/^subject\.[0-9a-f]{16}$/);
    expect(synced['metadata'].namespace).to.equal('default');
    expect(synced).to.include({ eventTime: microTime(T0), reportingController: CONTROLLER, reportingInstance: 'pod-1', action: 'Synced', type: 'Normal', note: 'synced ok' });
    expect(synced['eventTime']).to.equal('2026-12-02T17:00:00.000000Z');
    expect(synced['regarding']).to.deep.equal({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      name: 'subject',
      uid: cm.metadata!.uid,
      resourceVersion: cm.metadata!.resourceVersion,
    });
    const failed = events.find((e) => e['reason'] === 'Failed')!;
    expect(failed).to.include({ action: 'Sync', type: 'Warning', note: 'sync failed' });
    expect(failed['series']).to.equal(undefined);

    const counted = await eventually(async () => {
      const e = (await eventsAbout(client, 'subject')).find((x) => x['reason'] === 'Synced');
      return e?.['series']?.count === 5 ? e : undefined;
    }, 'series count 5');
    expect(counted!['series']).to.deep.equal({ count: 5, lastObservedTime: microTime(T0) });
    expect(counted!['metadata'].name).to.equal(synced['metadata'].name);

    // As `kubectl get events` reads them: in the workspace itself and through the VW.
    const inWorkspace = await raw(srv, 'GET', `/clusters/${consumers['claims']}/apis/events.k8s.io/v1/namespaces/default/events`);
    expect(inWorkspace.status).to.equal(200);
    expect((inWorkspace.json['items'] as Obj[]).filter((e) => e['regarding'].name === 'subject')).to.have.length(2);
    const vwPath = new URL(endpoints['claims']!).pathname;
    const throughVW = await raw(srv, 'GET', `${vwPath}/clusters/*/apis/events.k8s.io/v1/events`);
    expect(throughVW.status).to.equal(200);
    expect((throughVW.json['items'] as Obj[]).filter((e) => e['regarding'].name === 'subject')).to.have.length(2);
    // One storage under both groups, as in kube: `kubectl get events` (core v1) lists them too.
    const core = await raw(srv, 'GET', `/clusters/${consumers['claims']}/api/v1/namespaces/default/events`);
    expect(core.status).to.equal(200);
    const coreAbout = (core.json['items'] as Obj[]).filter((x) => x['involvedObject']?.name === 'subject');
    expect(coreAbout.map((e) => e['message']).sort()).to.deep.equal(['sync failed', 'synced ok']);
    for (const e of coreAbout) expect(e).to.include({ apiVersion: 'v1', reportingComponent: CONTROLLER, reportingInstance: 'pod-1' });

    const chosen = lines.filter((l) => l['level'] === 'debug' && /recording events with/.test(l['msg'] as string));
    expect(chosen.map((l) => l['apiVersion'])).to.deep.equal(['events.k8s.io/v1']);
    expect(lines.filter((l) => l['level'] === 'warn' || l['level'] === 'error')).to.deep.equal([]);
    rec.stop();
  });

  it('carries related objects and annotations, cuts long notes, and puts cluster-scoped objects in default', async () => {
    const client = vwClient('claims');
    const rec = new ClusterEventRecorder({ client, controller: CONTROLLER, instance: 'pod-1', log: Logger.silent() });
    const cm = await configMap(client, 'related-subject');
    const other = await configMap(client, 'related-other');
    await rec.publish(cm, { type: 'Normal', reason: 'Linked', note: 'é'.repeat(700), related: other, annotations: { 'example.com/trace': 'abc' } });
    const [e] = await eventsAbout(client, 'related-subject');
    expect(e!['related']).to.include({ kind: 'ConfigMap', name: 'related-other', uid: other.metadata!.uid });
    expect(e!['metadata'].annotations).to.include({ 'example.com/trace': 'abc' });
    expect(Buffer.byteLength(e!['note'] as string)).to.equal(1024);

    const ns: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system:odd', uid: 'u-ns' } };
    await rec.publish(ns, { type: 'Normal', reason: 'Seen' });
    const [nsEvent] = await eventsAbout(client, 'kube-system:odd');
    expect(nsEvent!['metadata'].namespace).to.equal('default');
    // Event names are DNS subdomains even when the object's name is not.
    expect(nsEvent!['metadata'].name).to.match(/^kube-system-odd\.[0-9a-f]{16}$/);
    expect(nsEvent!['regarding']).to.deep.equal({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system:odd', uid: 'u-ns' });
    rec.stop();
  });

  it('ends a series after 6 min without an occurrence, and writes nothing after stop()', async () => {
    const client = vwClient('claims');
    let now = T0;
    const rec = new ClusterEventRecorder({ client, controller: CONTROLLER, log: Logger.silent(), now: () => now, seriesFlushMs: 60_000 });
    const cm = await configMap(client, 'expiring');
    await rec.publish(cm, { type: 'Normal', reason: 'Tick' });
    now = new Date(T0.getTime() + 7 * 60_000);
    await rec.publish(cm, { type: 'Normal', reason: 'Tick' });
    const events = await eventsAbout(client, 'expiring');
    expect(events.map((e) => e['eventTime']).sort()).to.deep.equal([microTime(T0), microTime(now)]);
    // A repeat within the (long) flush interval waits for a timer; flush() writes it at once.
    await rec.publish(cm, { type: 'Normal', reason: 'Tick' });
    expect((rec as unknown as { timer?: unknown }).timer).to.not.equal(undefined);
    await rec.flush();
    expect((rec as unknown as { timer?: unknown }).timer).to.equal(undefined);
    const latest = (await eventsAbout(client, 'expiring')).find((e) => e['eventTime'] === microTime(now));
    expect(latest!['series']?.count).to.equal(2);
    rec.stop();
    await rec.publish(cm, { type: 'Normal', reason: 'AfterStop' });
    expect((await eventsAbout(client, 'expiring')).filter((e) => e['reason'] === 'AfterStop')).to.deep.equal([]);
  });

  it('through a VW without an events claim: one clear log line for the recorder, nothing thrown or written', async () => {
    const client = vwClient('noevents');
    const { log, lines } = capture();
    const rec = new ClusterEventRecorder({ client, controller: CONTROLLER, log });
    const cm = await client.get({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: 'default', name: 'kube-root-ca.crt' }).catch(() => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace: 'default' },
    }));
    for (const reason of ['One', 'Two', 'Three']) await rec.publish(cm, { type: 'Normal', reason });
    const loud = lines.filter((l) => l['level'] === 'warn' || l['level'] === 'error');
    expect(loud, JSON.stringify(lines)).to.have.length(1);
    expect(loud[0]!['msg']).to.contain('record events needs a permission claim on events in the APIExport, accepted by the binding');
    expect(loud[0]!['cluster']).to.equal(consumers['noevents']);
    const stored = await raw(srv, 'GET', `/clusters/${consumers['noevents']}/apis/events.k8s.io/v1/namespaces/default/events`);
    expect(stored.json['items']).to.deep.equal([]);
    // A second recorder (another cluster's, say) says it once too.
    const again = capture();
    const rec2 = new ClusterEventRecorder({ client, controller: CONTROLLER, log: again.log });
    await rec2.publish(cm, { type: 'Normal', reason: 'One' });
    expect(again.lines.filter((l) => l['level'] === 'error')).to.have.length(1);
  });

  it('through a VW whose events claim cannot create: the same single line, on the first write', async () => {
    const client = vwClient('readonly');
    const { log, lines } = capture();
    const rec = new ClusterEventRecorder({ client, controller: CONTROLLER, log });
    const subject: KubernetesObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default', uid: 'u-x' } };
    for (const reason of ['One', 'Two', 'Three']) await rec.publish(subject, { type: 'Normal', reason });
    const loud = lines.filter((l) => l['level'] === 'warn' || l['level'] === 'error');
    expect(loud, JSON.stringify(lines)).to.have.length(1);
    expect(loud[0]!['msg']).to.contain('permission claim on events');
    expect(String(loud[0]!['err'])).to.match(/forbidden/i);
  });

  it('falls back to core v1 Events when events.k8s.io/v1 is not served', async () => {
    const base = direct('claims').base;
    const hiding: JSONRequester = {
      server: base,
      requestJSON: <T>(o: RequestOptions): Promise<T> =>
        o.url.endsWith('/apis/events.k8s.io/v1') ? Promise.reject(new ApiError({ code: 404, reason: 'NotFound' })) : t.requestJSON<T>(o),
    };
    const client = new ClusterClient(t, { cluster: consumers['claims']!, discovery: new Discovery(hiding, base) });
    const { log, lines } = capture();
    const rec = new ClusterEventRecorder({ client, controller: CONTROLLER, instance: 'pod-2', log, now: () => T0, seriesFlushMs: 50 });
    const cm = await configMap(client, 'legacy');
    for (let i = 0; i < 3; i++) await rec.publish(cm, { type: 'Warning', reason: 'Old', note: 'core event' });
    const e = await eventually(async () => {
      const [x] = await eventsAbout(client, 'legacy', CORE_EVENT);
      return x?.['count'] === 3 ? x : undefined;
    }, 'core event count 3');
    expect(e).to.include({
      reason: 'Old',
      message: 'core event',
      type: 'Warning',
      action: 'Old',
      reportingComponent: CONTROLLER,
      reportingInstance: 'pod-2',
      eventTime: microTime(T0),
      firstTimestamp: '2026-12-02T17:00:00Z',
      lastTimestamp: '2026-12-02T17:00:00Z',
    });
    expect(e!['source']).to.deep.equal({ component: CONTROLLER });
    expect(e!['involvedObject']).to.include({ kind: 'ConfigMap', name: 'legacy', uid: cm.metadata!.uid });
    const listed = await raw(srv, 'GET', `/clusters/${consumers['claims']}/api/v1/namespaces/default/events`);
    expect((listed.json['items'] as Obj[]).filter((x) => x['involvedObject'].name === 'legacy')).to.have.length(1);
    expect(lines.filter((l) => /recording events with/.test(l['msg'] as string)).map((l) => l['apiVersion'])).to.deep.equal(['v1']);
    rec.stop();
  });

  it('costs nothing until the first publish, and never throws when the server is gone', async () => {
    const requests: string[] = [];
    const counting: JSONRequester = { server: direct('claims').base, requestJSON: <T>(o: RequestOptions): Promise<T> => (requests.push(o.url), t.requestJSON<T>(o)) };
    const recs = Array.from({ length: 1000 }, () => new ClusterEventRecorder({ client: new ClusterClient(t, { cluster: consumers['claims']!, discovery: new Discovery(counting) }), controller: CONTROLLER }));
    expect(requests).to.deep.equal([]);
    for (const r of recs) {
      expect(Object.values(r as unknown as Obj).filter((v) => v instanceof Map || v instanceof Set || v instanceof Promise)).to.deep.equal([]);
      r.stop();
    }

    const dead = Transport.fromKubeConfig(kubeConfigFor({ ...srv, url: 'https://127.0.0.1:1' } as RunningServer, 'root'));
    try {
      const { log, lines } = capture();
      const rec = new ClusterEventRecorder({ client: new ClusterClient(dead, { cluster: 'root' }), controller: CONTROLLER, log });
      await rec.publish({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }, { type: 'Normal', reason: 'R' });
      expect(lines.filter((l) => l['level'] === 'warn')).to.have.length(1);
    } finally {
      dead.close();
    }
  });
});
