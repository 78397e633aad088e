/** Watch semantics of the reference server: resume, 410, bookmarks, selectors, timeouts, wildcard. */
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, kubeConfigFor, raw, start, WatchStream } from '../support/server.js';

describe('reference server: watch', () => {
  let srv: RunningServer;
  let core: CoreV1Api;

  before(async () => {
    srv = await start({ bookmarkIntervalMs: 200 });
    core = kubeConfigFor(srv).makeApiClient(CoreV1Api);
  });
  after(() => srv.stop());

  const cm = (name: string, labels: Record<string, string> = {}) => core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, labels } } });

  it('streams ADDED, MODIFIED and DELETED; DELETED carries the deletion resourceVersion', async () => {
    const w = new WatchStream(srv, `/clusters/root/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${srv.resourceVersion()}`);
    const a = await cm('w1');
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'w1', body: [{ op: 'add', path: '/data', value: { k: 'v' } }] });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'w1' });
    await eventually(() => w.of('DELETED', 'w1').length === 1, 'DELETED');
    expect(w.events.map((e) => e.type)).to.deep.equal(['ADDED', 'MODIFIED', 'DELETED']);
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs[0]).to.equal(Number(a.metadata!.resourceVersion));
    expect(rvs[2]).to.be.greaterThan(rvs[1]!);
    expect(srv.resourceVersion()).to.equal(rvs[2]);
    for (const e of w.events) expect(e.object.metadata.annotations['kcp.io/cluster']).to.equal('root');
    await w.close();
  });

  it('never misses or duplicates a write when watching from its resourceVersion', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await cm(`race-${i}`);
      const w = new WatchStream(srv, `/clusters/root/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${c.metadata!.resourceVersion}`);
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: `race-${i}` });
      await eventually(() => w.events.length >= 1, 'delete event');
      expect(w.events.map((e) => `${e.type}/${e.object.metadata.name}`)).to.deep.equal([`DELETED/race-${i}`]);
      await w.close();
    }
  });

  it('resumes from any resourceVersion in the window and answers 410 as an ERROR event beyond it', async () => {
    const start = srv.resourceVersion();
    await cm('r1');
    await cm('r2');
    const w = new WatchStream(srv, `/clusters/root/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${start}`);
    await eventually(() => w.events.length === 2, 'replayed events');
    await w.close();
    srv.compact();
    const old = new WatchStream(srv, `/clusters/root/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${start}`);
    await old.done;
    expect(old.status).to.equal(200);
    expect(old.events).to.have.length(1);
    expect(old.events[0]!.type).to.equal('ERROR');
    expect(old.events[0]!.object.code).to.equal(410);
    expect(old.events[0]!.object.reason).to.equal('Expired');
  });

  it('sends bookmarks only when asked, and honours timeoutSeconds', async () => {
    const rv = srv.resourceVersion();
    const withBm = new WatchStream(srv, `/clusters/root/api/v1/configmaps?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`);
    const without = new WatchStream(srv, `/clusters/root/api/v1/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
    await Promise.all([withBm.done, without.done]);
    expect(withBm.of('BOOKMARK').length).to.be.greaterThan(0);
    expect(withBm.of('BOOKMARK')[0]!.object.kind).to.equal('ConfigMap');
    expect(without.of('BOOKMARK')).to.have.length(0);
  });

  it('supports sendInitialEvents with the initial-events-end bookmark', async () => {
    const bad = await raw(srv, 'GET', '/clusters/root/api/v1/configmaps?watch=1&sendInitialEvents=true');
    expect(bad.status).to.equal(422);
    const w = new WatchStream(srv, '/clusters/root/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=');
    await eventually(() => w.of('BOOKMARK').length > 0, 'initial-events-end');
    const bm = w.of('BOOKMARK')[0]!;
    expect(bm.object.metadata.annotations['k8s.io/initial-events-end']).to.equal('true');
    const idx = w.events.indexOf(bm);
    expect(w.events.slice(0, idx).every((e) => e.type === 'ADDED')).to.equal(true);
    expect(idx).to.be.greaterThan(0);
    await cm('after-initial');
    await eventually(() => w.of('ADDED', 'after-initial').length === 1, 'live event');
    await w.close();
  });

  it('turns selector transitions into ADDED and DELETED', async () => {
    const w = new WatchStream(srv, `/clusters/root/api/v1/namespaces/default/configmaps?watch=1&labelSelector=team%3Dblue&resourceVersion=${srv.resourceVersion()}`);
    await cm('sel', { team: 'red' });
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'sel', body: [{ op: 'replace', path: '/metadata/labels/team', value: 'blue' }] });
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'sel', body: [{ op: 'replace', path: '/metadata/labels/team', value: 'green' }] });
    await eventually(() => w.events.length === 2, 'two transitions');
    expect(w.events.map((e) => e.type)).to.deep.equal(['ADDED', 'DELETED']);
    expect(w.events[1]!.object.metadata.labels.team).to.equal('blue');
    expect(Number(w.events[1]!.object.metadata.resourceVersion)).to.equal(srv.resourceVersion());
    await w.close();
  });

  it('works with the client-node Watch and closes the server side when aborted', async () => {
    const seen: string[] = [];
    const watch = new Watch(kubeConfigFor(srv));
    const before = srv.openWatches();
    const ctrl = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: String(srv.resourceVersion()) }, (type, obj: { metadata: { name: string } }) => {
      seen.push(`${type}/${obj.metadata.name}`);
    }, () => undefined);
    await eventually(() => srv.openWatches() === before + 1, 'watch registered');
    await cm('cn');
    await eventually(() => seen.includes('ADDED/cn'), 'client-node event');
    ctrl.abort();
    await eventually(() => srv.openWatches() === before, 'server closed the watch');
  });

  it('keeps logical clusters isolated, and /clusters/* sees all of them', async () => {
    const other = srv.createLogicalCluster(undefined, { path: 'root:other' });
    const coreOther = kubeConfigFor(srv, 'root:other').makeApiClient(CoreV1Api);
    await coreOther.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'same' }, data: { who: 'other' } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'same' }, data: { who: 'root' } } });
    expect((await coreOther.readNamespacedConfigMap({ namespace: 'default', name: 'same' })).data?.['who']).to.equal('other');
    const byName = kubeConfigFor(srv, other).makeApiClient(CoreV1Api);
    expect((await byName.readNamespacedConfigMap({ namespace: 'default', name: 'same' })).metadata?.annotations?.['kcp.io/cluster']).to.equal(other);
    const all = await raw(srv, 'GET', '/clusters/*/api/v1/configmaps?fieldSelector=metadata.name%3Dsame');
    const items = all.json['items'] as { metadata: { annotations: Record<string, string> }; data: { who: string } }[];
    expect(items.map((i) => `${i.metadata.annotations['kcp.io/cluster']}=${i.data.who}`).sort()).to.deep.equal([`${other}=other`, 'root=root'].sort());
    const encoded = await raw(srv, 'GET', '/clusters/%2A/api/v1/configmaps?fieldSelector=metadata.name%3Dsame');
    expect((encoded.json['items'] as unknown[]).length).to.equal(2);
    expect((await raw(srv, 'POST', '/clusters/*/api/v1/namespaces/default/configmaps', { metadata: { name: 'x' } })).status).to.equal(405);
    expect((await raw(srv, 'GET', '/clusters/*/api/v1/namespaces/default/configmaps')).status).to.equal(400);
  });
});
