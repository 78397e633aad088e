/**
 * The cross-shard views over fake endpoints (in-memory informers): the lister's parallel read,
 * filters, per-shard errors and held subscriptions; the aggregate informer's replay, deletes for
 * a shard that leaves, handler removal, sync state and clean close.
 */
import { expect } from 'chai';
import { firstValueFrom, type Subscription } from 'rxjs';
import type { KubernetesObject, ObjectType } from '../../src/client/index.js';
import type { EventHandlers } from '../../src/informer/index.js';
import { AggregateInformer, AggregateLister, FieldNotIndexedError, SyncTimeoutError, type AggregateItem } from '../../src/provider/aggregate.js';
import { EndpointSet } from '../../src/provider/endpoint-set.js';
import type { Endpoint } from '../../src/provider/endpoint.js';
import { fieldIndexName } from '../../src/provider/indexes.js';
import { FakeInformer } from '../support/fake-cluster.js';
import { eventually, rejection } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

/** A fake informer that also takes event handlers, as the shared informer does. */
class Informer extends FakeInformer {
  addEventHandler(h: EventHandlers): Subscription {
    return this.events$.subscribe((d) => {
      if (d.type === 'ADDED') h.onAdd?.(d.object, d.cluster);
      else if (d.type === 'MODIFIED') h.onUpdate?.(d.old, d.object, d.cluster);
      else h.onDelete?.(d.object, d.cluster);
    });
  }
}

/** An endpoint with one informer per type; `fail` makes discovery reject. */
class FakeEP {
  readonly inf = new Informer(CM);
  fail: Error | undefined;
  lookups = 0;
  constructor(readonly url: string) {
    this.inf.setSynced(true);
    this.inf.store.addIndexers({ [fieldIndexName('data.owner')]: (o) => [String((o as { data?: { owner?: string } }).data?.owner ?? '')] });
  }
  informer(_type: ObjectType<KubernetesObject>): Promise<Informer> {
    this.lookups++;
    return this.fail ? Promise.reject(this.fail) : Promise.resolve(this.inf);
  }
  get asEndpoint(): Endpoint {
    return this as unknown as Endpoint;
  }
}

function cm(name: string, opts: { ns?: string; labels?: Record<string, string>; owner?: string } = {}): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: opts.ns ?? 'default', labels: opts.labels }, data: { owner: opts.owner ?? 'none' } } as KubernetesObject;
}

const keys = (items: AggregateItem[]): string[] => items.map((i) => `${i.endpoint}|${i.cluster}|${i.object.metadata?.namespace}/${i.object.metadata?.name}`).sort();

function twoShards(): { set: EndpointSet; a: FakeEP; b: FakeEP } {
  const set = new EndpointSet();
  const a = new FakeEP('https://shard-a/vw');
  const b = new FakeEP('https://shard-b/vw');
  a.inf.put('c1', cm('x', { labels: { app: 'web' }, owner: 'alice' }));
  a.inf.put('c1', cm('y', { ns: 'other', owner: 'bob' }));
  b.inf.put('c2', cm('z', { labels: { app: 'web' }, owner: 'alice' }));
  set.add(a.asEndpoint);
  set.add(b.asEndpoint);
  return { set, a, b };
}

describe('AggregateLister', () => {
  it('lists every shard, each item with its cluster and endpoint, and keeps one subscription per (endpoint, type)', async () => {
    const { set, a, b } = twoShards();
    const lister = new AggregateLister(set);
    const r = await lister.list(CM);
    expect(r.partial).to.equal(false);
    expect(r.errors).to.deep.equal([]);
    expect(keys(r.items)).to.deep.equal(['https://shard-a/vw|c1|default/x', 'https://shard-a/vw|c1|other/y', 'https://shard-b/vw|c2|default/z']);
    await lister.list(CM);
    expect([a.inf.subscribers, b.inf.subscribers, a.lookups]).to.deep.equal([1, 1, 1]);
    expect(keys((await lister.sequentialList(CM)).items)).to.deep.equal(keys(r.items));
    set.remove(a.asEndpoint);
    expect(a.inf.subscribers, 'released when the endpoint left').to.equal(0);
    expect(keys((await lister.list(CM)).items)).to.deep.equal(['https://shard-b/vw|c2|default/z']);
    lister.close();
    expect(b.inf.subscribers).to.equal(0);
    expect(String(await rejection(lister.list(CM)))).to.match(/closed/);
  });

  it('filters by namespace, labels, cluster and indexed fields across shards', async () => {
    const { set } = twoShards();
    const lister = new AggregateLister(set);
    expect(keys((await lister.list(CM, { namespace: 'default' })).items)).to.have.length(2);
    expect(keys((await lister.list(CM, { labelSelector: 'app=web' })).items)).to.deep.equal(['https://shard-a/vw|c1|default/x', 'https://shard-b/vw|c2|default/z']);
    expect(keys((await lister.list(CM, { labelSelector: { app: 'web' }, cluster: 'c2' })).items)).to.deep.equal(['https://shard-b/vw|c2|default/z']);
    expect(keys((await lister.list(CM, { fields: { 'data.owner': 'alice' } })).items)).to.deep.equal(['https://shard-a/vw|c1|default/x', 'https://shard-b/vw|c2|default/z']);
    expect(keys((await lister.list(CM, { fields: { 'data.owner': 'bob' }, namespace: 'default' })).items)).to.deep.equal([]);
    const err = await rejection(lister.list(CM, { fields: { 'spec.nope': 'v' } }));
    expect(err).to.be.instanceOf(FieldNotIndexedError);
    expect(String(err)).to.match(/spec\.nope.*not indexed.*indexField/);
    expect(String(await rejection(lister.list(CM, { labelSelector: 'a in (' })))).to.match(/invalid label selector/);
    lister.close();
  });

  it('returns the other shards when one fails discovery or does not sync in time, and retries the failed one', async () => {
    const { set, a, b } = twoShards();
    a.fail = new Error('discovery: 403 Forbidden');
    const lister = new AggregateLister(set);
    const r = await lister.list(CM);
    expect(r.partial).to.equal(true);
    expect(r.errors.map((e) => [e.endpoint, e.error.message])).to.deep.equal([['https://shard-a/vw', 'discovery: 403 Forbidden']]);
    expect(keys(r.items)).to.deep.equal(['https://shard-b/vw|c2|default/z']);
    a.fail = undefined;
    expect((await lister.list(CM)).partial, 'retried on the next list').to.equal(false);

    b.inf.setSynced(false);
    const slow = await lister.list(CM, { syncTimeoutMs: 30 });
    expect(slow.errors).to.have.length(1);
    expect(slow.errors[0]!.error).to.be.instanceOf(SyncTimeoutError);
    expect(slow.errors[0]!.endpoint).to.equal('https://shard-b/vw');
    expect(keys(slow.items)).to.have.length(2);
    lister.close();
  });

  it('rejects with the abort reason when the signal aborts', async () => {
    const { set, b } = twoShards();
    b.inf.setSynced(false);
    const lister = new AggregateLister(set);
    const ctl = new AbortController();
    const p = lister.list(CM, { signal: ctl.signal });
    ctl.abort(new Error('caller gave up'));
    const e = await rejection(p);
    expect(String(e)).to.match(/caller gave up/);
    lister.close();
  });
});

describe('AggregateInformer', () => {
  type Ev = string;
  function recorder(): { events: Ev[]; handlers: Parameters<AggregateInformer['addEventHandler']>[0] } {
    const events: Ev[] = [];
    return {
      events,
      handlers: {
        onAdd: (o, c, e) => events.push(`add ${e} ${c} ${o.metadata?.name}`),
        onUpdate: (_old, o, c, e) => events.push(`update ${e} ${c} ${o.metadata?.name}`),
        onDelete: (o, c, e) => events.push(`delete ${e} ${c} ${o.metadata?.name}`),
      },
    };
  }

  it('delivers every shard, existing objects first, then joins and leaves of shards, until removed', async () => {
    const { set, a, b } = twoShards();
    const agg = new AggregateInformer(set, CM);
    await eventually(() => agg.synced, 'synced');
    const r = recorder();
    const reg = agg.addEventHandler(r.handlers);
    expect(reg.synced).to.equal(true);
    expect([...r.events].sort()).to.deep.equal(['add https://shard-a/vw c1 x', 'add https://shard-a/vw c1 y', 'add https://shard-b/vw c2 z']);
    r.events.length = 0;
    b.inf.put('c2', cm('z', { owner: 'carol' }));
    a.inf.put('c3', cm('new'));
    expect(r.events).to.deep.equal(['update https://shard-b/vw c2 z', 'add https://shard-a/vw c3 new']);

    r.events.length = 0;
    const c = new FakeEP('https://shard-c/vw');
    c.inf.put('c9', cm('late'));
    set.add(c.asEndpoint);
    await eventually(() => r.events.length === 1, 'the joining shard replayed');
    expect(r.events).to.deep.equal(['add https://shard-c/vw c9 late']);
    expect(agg.list()).to.have.length(5);

    r.events.length = 0;
    set.remove(a.asEndpoint);
    expect([...r.events].sort()).to.deep.equal(['delete https://shard-a/vw c1 x', 'delete https://shard-a/vw c1 y', 'delete https://shard-a/vw c3 new']);
    expect(a.inf.subscribers).to.equal(0);
    expect(agg.endpoints()).to.deep.equal(['https://shard-b/vw', 'https://shard-c/vw']);

    r.events.length = 0;
    reg.remove();
    expect(reg.synced).to.equal(false);
    b.inf.put('c2', cm('after'));
    expect(r.events).to.deep.equal([]);
    expect(b.inf.subscribers, 'the view still holds the informer').to.equal(1);
    agg.close();
    expect([b.inf.subscribers, c.inf.subscribers]).to.deep.equal([0, 0]);
    expect(() => agg.addEventHandler({})).to.throw(/closed/);
  });

  it('is synced with no shards, unsynced while a shard is, and reports and retries a failed discovery', async () => {
    const set = new EndpointSet();
    const agg = new AggregateInformer(set, CM, { retryInitialMs: 10, syncTimeoutMs: 20 });
    expect(agg.synced).to.equal(true);
    const a = new FakeEP('https://shard-a/vw');
    a.fail = new Error('the server could not find the requested resource');
    const first = firstValueFrom(agg.errors$);
    set.add(a.asEndpoint);
    expect(agg.synced).to.equal(false);
    const e = await first;
    expect(e.endpoint).to.equal('https://shard-a/vw');
    expect(e.error.message).to.match(/could not find/);
    a.inf.setSynced(false);
    a.fail = undefined;
    const timeout = firstValueFrom(agg.errors$);
    const r = recorder();
    const reg = agg.addEventHandler(r.handlers);
    expect((await timeout).error).to.be.instanceOf(SyncTimeoutError);
    expect(a.lookups).to.be.at.least(2);
    expect(reg.synced).to.equal(false);
    a.inf.setSynced(true);
    expect(reg.synced).to.equal(true);
    agg.removeEventHandler(reg);
    agg.close();
    expect(a.inf.subscribers).to.equal(0);
  });

  it('isolates a throwing delete handler from the others when a shard leaves', () => {
    const { set, a } = twoShards();
    const agg = new AggregateInformer(set, CM);
    return eventually(() => agg.synced, 'synced').then(() => {
      const got: string[] = [];
      agg.addEventHandler({ onDelete: () => { throw new Error('boom'); } });
      agg.addEventHandler({ onDelete: (o) => got.push(o.metadata!.name!) });
      set.remove(a.asEndpoint);
      expect(got.sort()).to.deep.equal(['x', 'y']);
      agg.close();
    });
  });
});
