/** RuntimeMetrics: controller-runtime's names, types, label sets and buckets, the cluster label and its cap, the priority cap. */
import { expect } from 'chai';
import { Counter, Gauge, Registry } from 'prom-client';
import { EXCEEDED_CARDINALITY_LIMIT, RECONCILE_TIME_BUCKETS, RuntimeMetrics, WORKQUEUE_DURATION_BUCKETS } from '../../src/metrics/index.js';

/** One sample line of the exposition text. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(m: RuntimeMetrics): Promise<{ samples: Sample[]; types: Map<string, string> }> {
  return parse(await m.metrics());
}

const of = (samples: Sample[], name: string): Sample[] => samples.filter((s) => s.name === name);
const labelSets = (samples: Sample[], name: string): string[] => [...new Set(of(samples, name).map((s) => Object.keys(s.labels).sort().join(',')))];
const find = (samples: Sample[], name: string, labels: Record<string, string>): Sample | undefined =>
  of(samples, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('metrics: controller-runtime families', () => {
  it('registers every family with CR type and label set, and initialises the reconcile results to 0', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    m.controller('widgets');
    const { samples, types } = await scrape(m);
    const expected: Record<string, [string, string]> = {
      controller_runtime_reconcile_total: ['counter', 'controller,result'],
      controller_runtime_reconcile_errors_total: ['counter', 'controller'],
      controller_runtime_terminal_reconcile_errors_total: ['counter', 'controller'],
      controller_runtime_reconcile_panics_total: ['counter', 'controller'],
      controller_runtime_max_concurrent_reconciles: ['gauge', 'controller'],
      controller_runtime_active_workers: ['gauge', 'controller'],
      controller_runtime_reconcile_timeouts_total: ['counter', 'controller'],
      workqueue_adds_total: ['counter', 'controller,name'],
      workqueue_retries_total: ['counter', 'controller,name'],
      workqueue_unfinished_work_seconds: ['gauge', 'controller,name'],
      workqueue_longest_running_processor_seconds: ['gauge', 'controller,name'],
    };
    for (const [name, [type, labels]] of Object.entries(expected)) {
      expect(types.get(name), name).to.equal(type);
      expect(labelSets(samples, name), name).to.deep.equal([labels]);
    }
    for (const h of ['controller_runtime_reconcile_time_seconds', 'workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds', 'workqueue_depth']) {
      expect(types.has(h), h).to.equal(true);
    }
    expect(types.get('controller_runtime_reconcile_time_seconds')).to.equal('histogram');
    expect(types.get('workqueue_depth')).to.equal('gauge');
    const results = of(samples, 'controller_runtime_reconcile_total').map((s) => [s.labels['controller'], s.labels['result'], s.value]);
    expect(results).to.have.deep.members([
      ['widgets', 'success', 0],
      ['widgets', 'error', 0],
      ['widgets', 'requeue', 0],
      ['widgets', 'requeue_after', 0],
    ]);
    for (const n of ['workqueue_adds_total', 'workqueue_retries_total']) {
      expect(find(samples, n, { name: 'widgets', controller: 'widgets' })?.value, n).to.equal(0);
    }
  });

  it('reports every hook under its CR name and labels', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    const c = m.controller('widgets', { unfinishedSeconds: () => 2.5, longestRunningSeconds: () => 1.25 });
    c.maxConcurrent(4);
    c.active(1);
    c.active(1);
    c.active(-1);
    c.reconciled('success', 0.2, 'c1');
    c.reconciled('requeue_after', 0.7, 'c1');
    c.failed(false, 'c1');
    c.failed(true, 'c1');
    c.panicked();
    c.timedOut();
    c.queue.added();
    c.queue.added();
    c.queue.retried();
    c.queue.depth(0, 2);
    c.queue.depth(-100, 1);
    c.queue.depth(0, -1);
    c.queue.queued(0.5);
    c.queue.worked(0.002);
    const { samples } = await scrape(m);
    const ctl = { controller: 'widgets' };
    const wq = { name: 'widgets', controller: 'widgets' };
    const v = (name: string, labels: Record<string, string>): number | undefined => find(samples, name, labels)?.value;
    expect(v('controller_runtime_max_concurrent_reconciles', ctl)).to.equal(4);
    expect(v('controller_runtime_active_workers', ctl)).to.equal(1);
    expect(v('controller_runtime_reconcile_total', { ...ctl, result: 'success' })).to.equal(1);
    expect(v('controller_runtime_reconcile_total', { ...ctl, result: 'requeue_after' })).to.equal(1);
    expect(v('controller_runtime_reconcile_total', { ...ctl, result: 'error' })).to.equal(0);
    expect(v('controller_runtime_reconcile_errors_total', ctl)).to.equal(2);
    expect(v('controller_runtime_terminal_reconcile_errors_total', ctl)).to.equal(1);
    expect(v('controller_runtime_reconcile_panics_total', ctl)).to.equal(1);
    expect(v('controller_runtime_reconcile_timeouts_total', ctl)).to.equal(1);
    expect(v('controller_runtime_reconcile_time_seconds_count', ctl)).to.equal(2);
    expect(v('controller_runtime_reconcile_time_seconds_sum', ctl)).to.be.closeTo(0.9, 1e-9);
    expect(v('workqueue_adds_total', wq)).to.equal(2);
    expect(v('workqueue_retries_total', wq)).to.equal(1);
    expect(v('workqueue_depth', { ...wq, priority: '0' })).to.equal(1);
    expect(v('workqueue_depth', { ...wq, priority: '-100' })).to.equal(1);
    expect(labelSets(samples, 'workqueue_depth')).to.deep.equal(['controller,name,priority']);
    expect(v('workqueue_queue_duration_seconds_count', wq)).to.equal(1);
    expect(v('workqueue_work_duration_seconds_sum', wq)).to.equal(0.002);
    expect(v('workqueue_unfinished_work_seconds', wq)).to.equal(2.5);
    expect(v('workqueue_longest_running_processor_seconds', wq)).to.equal(1.25);
  });

  it('keeps the per-reconcile counts (results, active workers, queue adds and depth) as numbers until a scrape, and hands them over at every scrape', async () => {
    // The series' methods are bound when a child is made: count calls on the prototypes from before.
    let calls = 0;
    const saved = { cinc: Counter.prototype.inc, ginc: Gauge.prototype.inc, gset: Gauge.prototype.set };
    const counted = <F extends (...a: never[]) => unknown>(f: F): F => function (this: unknown, ...a: Parameters<F>) {
      calls++;
      return f.apply(this, a);
    } as F;
    Counter.prototype.inc = counted(saved.cinc);
    Gauge.prototype.inc = counted(saved.ginc);
    Gauge.prototype.set = counted(saved.gset);
    let m: RuntimeMetrics;
    let c: ReturnType<RuntimeMetrics['controller']>;
    try {
      m = new RuntimeMetrics({ defaultMetrics: false });
      c = m.controller('hot');
      c.queue.depth(0, 0);
      calls = 0;
      for (let i = 0; i < 1000; i++) {
        c.queue.added();
        c.queue.depth(0, 1);
        c.queue.depth(0, -1);
        c.active(1);
        c.reconciled('success', 0.001, 'c1');
        c.active(-1);
      }
      expect(calls).to.equal(0);
    } finally {
      Counter.prototype.inc = saved.cinc;
      Gauge.prototype.inc = saved.ginc;
      Gauge.prototype.set = saved.gset;
    }
    c.queue.added();
    c.queue.depth(0, 3);
    c.active(2);
    const wq = { name: 'hot', controller: 'hot' };
    const v = async (name: string, labels: Record<string, string>) => find((await scrape(m)).samples, name, labels)?.value;
    expect(await v('workqueue_adds_total', wq)).to.equal(1001);
    expect(await v('workqueue_depth', { ...wq, priority: '0' })).to.equal(3);
    expect(await v('controller_runtime_active_workers', { controller: 'hot' })).to.equal(2);
    expect(await v('controller_runtime_reconcile_total', { controller: 'hot', result: 'success' })).to.equal(1000);
    c.reconciled('success', 0.001, 'c1');
    c.queue.depth(0, -3);
    c.active(-2);
    expect(await v('controller_runtime_reconcile_total', { controller: 'hot', result: 'success' })).to.equal(1001);
    expect(await v('workqueue_depth', { ...wq, priority: '0' })).to.equal(0);
    expect(await v('controller_runtime_active_workers', { controller: 'hot' })).to.equal(0);
    // Read through prom-client's own API too (what a custom exporter does).
    const adds = await m.registry.getSingleMetric('workqueue_adds_total')!.get();
    expect(adds.values.find((x) => x.labels['name'] === 'hot')?.value).to.equal(1001);
  });

  it('uses CR buckets for reconcile_time_seconds and ExponentialBuckets(1e-8, 10, 12) for the workqueue histograms', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    const c = m.controller('w');
    c.reconciled('success', 0.3, '');
    c.queue.queued(1);
    const { samples } = await scrape(m);
    const les = (name: string): number[] => of(samples, name).map((s) => (s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le'])));
    const cr = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];
    expect(RECONCILE_TIME_BUCKETS).to.deep.equal(cr);
    expect(les('controller_runtime_reconcile_time_seconds_bucket')).to.deep.equal([...cr, Infinity]);
    const wq = les('workqueue_queue_duration_seconds_bucket');
    expect(wq).to.have.length(13);
    expect(wq[0]).to.equal(1e-8);
    expect(wq[11]).to.be.closeTo(1000, 1e-9);
    expect(wq[12]).to.equal(Infinity);
    for (let i = 1; i < 12; i++) expect(wq[i]! / wq[i - 1]!).to.be.closeTo(10, 1e-9);
    expect(les('workqueue_work_duration_seconds_bucket')).to.deep.equal(wq);
    expect(WORKQUEUE_DURATION_BUCKETS).to.deep.equal(wq.slice(0, 12));
    // 0.3 lands in le=0.3 and above, not le=0.25.
    expect(find(samples, 'controller_runtime_reconcile_time_seconds_bucket', { le: '0.25' })?.value).to.equal(0);
    expect(find(samples, 'controller_runtime_reconcile_time_seconds_bucket', { le: '0.3' })?.value).to.equal(1);
  });

  it('returns one object per controller name, and keeps controllers apart', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    const a = m.controller('a');
    expect(m.controller('a')).to.equal(a);
    const b = m.controller('b');
    a.reconciled('error', 0.1, '');
    b.reconciled('success', 0.1, '');
    const { samples } = await scrape(m);
    expect(find(samples, 'controller_runtime_reconcile_total', { controller: 'a', result: 'error' })?.value).to.equal(1);
    expect(find(samples, 'controller_runtime_reconcile_total', { controller: 'b', result: 'error' })?.value).to.equal(0);
    // A probe given on a later call is the one read at scrape time.
    m.controller('a', { unfinishedSeconds: () => 7, longestRunningSeconds: () => 3 });
    const again = (await scrape(m)).samples;
    expect(find(again, 'workqueue_unfinished_work_seconds', { name: 'a' })?.value).to.equal(7);
    expect(find(again, 'workqueue_unfinished_work_seconds', { name: 'b' })?.value).to.equal(0);
  });

  it('caps workqueue_depth priority values at 25 per queue', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    const c = m.controller('w');
    for (let p = 0; p < 30; p++) c.queue.depth(p, 1);
    c.queue.depth(29, -1);
    c.queue.depth(3, 1);
    const { samples } = await scrape(m);
    const values = of(samples, 'workqueue_depth').map((s) => s.labels['priority']);
    expect(values).to.have.length(26);
    expect(values).to.include(EXCEEDED_CARDINALITY_LIMIT);
    expect(values).to.include('24').and.not.include('25');
    expect(find(samples, 'workqueue_depth', { priority: EXCEEDED_CARDINALITY_LIMIT })?.value).to.equal(4);
    expect(find(samples, 'workqueue_depth', { priority: '3' })?.value).to.equal(2);
    // Another queue has a cap of its own.
    m.controller('v').queue.depth(99, 1);
    expect(find((await scrape(m)).samples, 'workqueue_depth', { name: 'v', priority: '99' })?.value).to.equal(1);
  });
});

describe('metrics: the cluster label', () => {
  it('is off by default: the reconcile families have exactly CR label sets', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    const c = m.controller('w');
    c.reconciled('success', 0.1, 'c1');
    c.reconciled('success', 0.1, 'c2');
    c.failed(false, 'c1');
    const { samples } = await scrape(m);
    expect(labelSets(samples, 'controller_runtime_reconcile_total')).to.deep.equal(['controller,result']);
    expect(labelSets(samples, 'controller_runtime_reconcile_errors_total')).to.deep.equal(['controller']);
    expect(labelSets(samples, 'controller_runtime_reconcile_time_seconds_count')).to.deep.equal(['controller']);
    expect(labelSets(samples, 'controller_runtime_reconcile_time_seconds_bucket')).to.deep.equal(['controller,le']);
    expect(find(samples, 'controller_runtime_reconcile_total', { result: 'success' })?.value).to.equal(2);
  });

  it('when on, labels reconcile_total, reconcile_errors_total and reconcile_time_seconds by cluster, capped', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false, clusterLabel: true });
    const c = m.controller('w');
    for (let i = 0; i < 30; i++) c.reconciled('success', 0.1, `c${i}`);
    c.reconciled('error', 0.1, 'c0');
    c.failed(true, 'c0');
    c.failed(false, 'c29');
    const { samples } = await scrape(m);
    expect(labelSets(samples, 'controller_runtime_reconcile_total')).to.deep.equal(['cluster,controller,result']);
    expect(labelSets(samples, 'controller_runtime_reconcile_errors_total')).to.deep.equal(['cluster,controller']);
    expect(labelSets(samples, 'controller_runtime_reconcile_time_seconds_count')).to.deep.equal(['cluster,controller']);
    // The others stay CR's.
    expect(labelSets(samples, 'controller_runtime_terminal_reconcile_errors_total')).to.deep.equal(['controller']);
    expect(labelSets(samples, 'workqueue_adds_total')).to.deep.equal(['controller,name']);
    const clusters = new Set(of(samples, 'controller_runtime_reconcile_total').map((s) => s.labels['cluster']));
    expect(clusters.size).to.equal(26);
    expect(clusters).to.include('c24').and.include(EXCEEDED_CARDINALITY_LIMIT).and.not.include('c25');
    expect(find(samples, 'controller_runtime_reconcile_total', { cluster: EXCEEDED_CARDINALITY_LIMIT, result: 'success' })?.value).to.equal(5);
    // Each admitted cluster starts with all four results at 0.
    expect(find(samples, 'controller_runtime_reconcile_total', { cluster: 'c7', result: 'requeue' })?.value).to.equal(0);
    expect(find(samples, 'controller_runtime_reconcile_total', { cluster: 'c0', result: 'error' })?.value).to.equal(1);
    expect(find(samples, 'controller_runtime_reconcile_errors_total', { cluster: 'c0' })?.value).to.equal(1);
    expect(find(samples, 'controller_runtime_reconcile_errors_total', { cluster: EXCEEDED_CARDINALITY_LIMIT })?.value).to.equal(1);
    expect(find(samples, 'controller_runtime_reconcile_time_seconds_count', { cluster: EXCEEDED_CARDINALITY_LIMIT })?.value).to.equal(5);
  });

  it('honours maxClusterValues', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false, clusterLabel: true, maxClusterValues: 2 });
    const c = m.controller('w');
    for (const k of ['a', 'b', 'c', 'a', 'd']) c.reconciled('success', 0.01, k);
    const { samples } = await scrape(m);
    const got = Object.fromEntries(of(samples, 'controller_runtime_reconcile_total').filter((s) => s.labels['result'] === 'success').map((s) => [s.labels['cluster'], s.value]));
    expect(got).to.deep.equal({ a: 2, b: 1, [EXCEEDED_CARDINALITY_LIMIT]: 2 });
  });
});

describe('metrics: manager families and registries', () => {
  it('reports engaged clusters, engagements and leader status', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    m.clusters.engaged('kcp', 1);
    m.clusters.engaged('kcp', 1);
    m.clusters.engaged('kcp', -1);
    m.clusters.engagement('engaged');
    m.clusters.engagement('failed');
    m.leader('my-lease', true);
    let { samples, types } = await scrape(m);
    expect(types.get('kcp_mc_engaged_clusters')).to.equal('gauge');
    expect(types.get('kcp_mc_cluster_engagements_total')).to.equal('counter');
    expect(types.get('leader_election_master_status')).to.equal('gauge');
    expect(find(samples, 'kcp_mc_engaged_clusters', { provider: 'kcp' })?.value).to.equal(1);
    expect(find(samples, 'kcp_mc_cluster_engagements_total', { outcome: 'engaged' })?.value).to.equal(1);
    expect(find(samples, 'kcp_mc_cluster_engagements_total', { outcome: 'failed' })?.value).to.equal(1);
    expect(find(samples, 'kcp_mc_cluster_engagements_total', { outcome: 'disengaged' })?.value).to.equal(0);
    expect(find(samples, 'leader_election_master_status', { name: 'my-lease' })?.value).to.equal(1);
    m.leader('my-lease', false);
    ({ samples } = await scrape(m));
    expect(find(samples, 'leader_election_master_status', { name: 'my-lease' })?.value).to.equal(0);
  });

  it('uses a fresh registry each, so two instances in one process do not collide', async () => {
    const a = new RuntimeMetrics();
    const b = new RuntimeMetrics();
    expect(a.registry).to.not.equal(b.registry);
    a.controller('x').reconciled('success', 0.1, '');
    const { samples, types } = await scrape(b);
    expect(find(samples, 'controller_runtime_reconcile_total', { controller: 'x' })).to.equal(undefined);
    // Default collectors are on unless turned off.
    expect([...types.keys()].some((n) => n.startsWith('process_'))).to.equal(true);
    expect([...types.keys()].some((n) => n.startsWith('nodejs_'))).to.equal(true);
    expect(b.contentType).to.match(/^text\/plain/);
  });

  it('registers on a registry given to it, and leaves the default collectors out when asked', async () => {
    const registry = new Registry();
    const m = new RuntimeMetrics({ registry, defaultMetrics: false });
    expect(m.registry).to.equal(registry);
    expect(registry.getSingleMetric('controller_runtime_reconcile_total')).to.not.equal(undefined);
    const { types } = await scrape(m);
    expect([...types.keys()].some((n) => n.startsWith('process_') || n.startsWith('nodejs_'))).to.equal(false);
  });
});
