/** PriorityQueue: dedup, processing locks, delays, priorities, backoff, shutdown and drain, metrics. */
import { expect } from 'chai';
import { ItemExponentialRateLimiter, LOW_PRIORITY, PriorityQueue, type GetResult, type QueueMetrics } from '../../src/queue/index.js';
import { FakeTime, item, peek, setup } from '../support/queue.js';

/** Hands out everything ready now, marking each done. */
async function drainReady(q: PriorityQueue<string>): Promise<string[]> {
  const out: string[] = [];
  while (q.len() > 0) {
    const k = item(await q.get());
    out.push(k);
    q.done(k);
  }
  return out;
}

describe('PriorityQueue', () => {
  it('stores a key once, however often it is added', async () => {
    const { q } = setup();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).to.equal(2);
    expect(await drainReady(q)).to.deep.equal(['a', 'b']);
  });

  it('never hands a processing key to a second caller, and hands it out again after done', async () => {
    const { q } = setup();
    q.add('a');
    expect(item(await q.get())).to.equal('a');
    q.add('a');
    expect(q.len()).to.equal(0);
    const second = q.get();
    expect(await peek(second)).to.equal('pending');
    q.done('a');
    expect(await second).to.deep.equal({ shutdown: false, item: 'a', priority: 0 });
  });

  it('collapses many adds during processing into exactly one follow-up', async () => {
    const { q } = setup();
    q.add('a');
    await q.get();
    for (let i = 0; i < 50; i++) q.add('a');
    q.done('a');
    expect(q.len()).to.equal(1);
    expect(item(await q.get())).to.equal('a');
    expect(q.len()).to.equal(0);
    q.done('a');
    expect(await peek(q.get())).to.equal('pending');
  });

  it('applies the options of an add made during processing after done (delay, priority)', async () => {
    const { q, time } = setup();
    q.add('a');
    await q.get();
    q.add('a', { after: 100, priority: 3 });
    q.add('a', { after: 300, priority: 1 });
    q.done('a');
    expect(q.len()).to.equal(0);
    time.advance(99);
    expect(q.len()).to.equal(0);
    time.advance(1);
    expect(await q.get()).to.deep.equal({ shutdown: false, item: 'a', priority: 3 });
  });

  it('keeps the earliest ready time across addAfter calls, and an add makes a delayed item ready', async () => {
    const { q, time } = setup();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    time.advance(49);
    expect(q.len()).to.equal(0);
    time.advance(1);
    expect(q.len()).to.equal(1);
    q.addAfter('b', 1000);
    q.add('b');
    expect(q.len()).to.equal(2);
    expect(time.timers.size).to.equal(0);
  });

  it('keeps a ready item ready when it is added again with a delay', () => {
    const { q } = setup();
    q.add('a');
    q.addAfter('a', 1000);
    q.addRateLimited('a');
    expect(q.len()).to.equal(1);
  });

  it('gives an item that turns from waiting to ready a fresh place at the tail', async () => {
    const { q } = setup({ fairness: false });
    q.addAfter('a', 100);
    q.add('b');
    q.add('a');
    q.add('c');
    expect(await drainReady(q)).to.deep.equal(['b', 'a', 'c']);
  });

  it('hands out by priority, highest first, FIFO within a priority; LOW_PRIORITY after 0', async () => {
    const { q } = setup();
    q.add('low1', { priority: LOW_PRIORITY });
    q.add('zero1');
    q.add('high', { priority: 10 });
    q.add('low2', { priority: LOW_PRIORITY });
    q.add('zero2', { priority: 0 });
    q.add('neg', { priority: -1 });
    const got: GetResult<string>[] = [];
    while (q.len() > 0) {
      const r = await q.get();
      got.push(r);
      q.done(item(r));
    }
    expect(got.map((r) => (r.shutdown ? '' : `${r.item}@${r.priority}`))).to.deep.equal([
      'high@10',
      'zero1@0',
      'zero2@0',
      'neg@-1',
      'low1@-100',
      'low2@-100',
    ]);
  });

  it('merges to the highest priority; a raise moves the item to the tail of its new level', async () => {
    const { q } = setup();
    q.add('a', { priority: 5 });
    q.add('a', { priority: 1 });
    expect(await q.get()).to.deep.equal({ shutdown: false, item: 'a', priority: 5 });
    q.done('a');
    q.add('x', { priority: 1 });
    q.add('y', { priority: 1 });
    q.add('m');
    q.add('n');
    q.add('m', { priority: 1 });
    expect(await drainReady(q)).to.deep.equal(['x', 'y', 'm', 'n']);
  });

  it('raises the priority of a delayed item without making it ready', async () => {
    const { q, time } = setup();
    q.addAfter('a', 10);
    q.add('a', { priority: 7, after: 50 });
    q.add('b', { priority: 1 });
    time.advance(10);
    expect(await q.get()).to.deep.equal({ shutdown: false, item: 'a', priority: 7 });
  });

  it('backs off 5, 10, 20, … ms per failure, capped at 1000 s, and forget resets it', async () => {
    const { q, time } = setup();
    const expected: number[] = [];
    for (let i = 0; i < 30; i++) {
      q.addRateLimited('a');
      expected.push(Math.min(5 * 2 ** i, 1_000_000));
      expect(q.numRequeues('a')).to.equal(i + 1);
      time.advance(1_000_000);
      expect(q.len()).to.equal(1);
      q.done(item(await q.get()));
    }
    expect(time.delays).to.deep.equal(expected);
    expect(time.delays.slice(0, 4)).to.deep.equal([5, 10, 20, 40]);
    q.forget('a');
    expect(q.numRequeues('a')).to.equal(0);
    q.addRateLimited('a');
    expect(time.delays.at(-1)).to.equal(5);
  });

  it('takes the smaller of after and the rate limiter backoff', () => {
    const { q, time } = setup();
    q.add('a', { after: 2, rateLimited: true });
    q.add('b', { after: 100, rateLimited: true });
    q.add('b2', { after: 100, rateLimited: true });
    time.advance(2);
    expect(q.len()).to.equal(1);
    time.advance(3);
    expect(q.len()).to.equal(3);
    expect(q.numRequeues('a')).to.equal(1);
  });

  it('keeps one timer for many delayed items, for the earliest one', () => {
    const { q, time } = setup();
    for (let i = 0; i < 10_000; i++) q.addAfter(`k${i}`, 10_000 - i);
    expect(time.timers.size).to.equal(1);
    expect([...time.timers.values()][0]!.at).to.equal(time.t + 1);
    time.advance(5_000);
    expect(q.len()).to.equal(5_000);
    expect(time.timers.size).to.equal(1);
    time.advance(5_000);
    expect(q.len()).to.equal(10_000);
    expect(time.timers.size).to.equal(0);
  });

  it('arms at most setTimeout\'s largest delay for a far-off item, and re-arms when it fires early', () => {
    const { q, time } = setup();
    q.addAfter('far', 2 ** 32);
    expect(time.delays).to.deep.equal([2 ** 31 - 1]);
    time.advance(2 ** 31 - 1);
    expect(q.len()).to.equal(0);
    expect(time.timers.size).to.equal(1);
    time.advance(2 ** 31 + 1);
    expect(q.len()).to.equal(1);
  });

  it('unrefs its default timers, so a delayed item does not keep the process alive', () => {
    const seen: NodeJS.Timeout[] = [];
    const orig = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      const t = orig(fn, ms);
      seen.push(t);
      return t;
    }) as typeof setTimeout;
    try {
      const q = new PriorityQueue<string>({ keyOf: (s) => s });
      q.addAfter('a', 60_000);
      expect(seen).to.have.length(1);
      expect(seen[0]!.hasRef()).to.equal(false);
      q.shutDown();
    } finally {
      globalThis.setTimeout = orig;
    }
  });

  it('counts only ready items in len()', async () => {
    const { q } = setup();
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    expect(q.len()).to.equal(2);
    await q.get();
    expect(q.len()).to.equal(1);
  });

  it('serves concurrent get() callers in call order', async () => {
    const { q } = setup();
    const gets = [q.get(), q.get(), q.get()];
    q.add('a');
    q.add('b');
    q.add('c');
    expect((await Promise.all(gets)).map(item)).to.deep.equal(['a', 'b', 'c']);
  });

  it('resolves pending and later get() calls with shutdown, and hands out nothing afterwards', async () => {
    const { q, time } = setup();
    const pending = [q.get(), q.get()];
    q.addAfter('d', 10);
    q.shutDown();
    expect(q.shuttingDown).to.equal(true);
    expect(await Promise.all(pending)).to.deep.equal([{ shutdown: true }, { shutdown: true }]);
    q.add('a');
    expect(q.len()).to.equal(0);
    expect(await q.get()).to.deep.equal({ shutdown: true });
    time.advance(100);
    expect(time.timers.size).to.equal(0);
    expect(await q.get()).to.deep.equal({ shutdown: true });
  });

  it('does not hand out items already ready once shut down', async () => {
    const { q } = setup();
    q.add('a');
    q.add('b');
    expect(item(await q.get())).to.equal('a');
    q.shutDown();
    expect(await q.get()).to.deep.equal({ shutdown: true });
    q.done('a');
    expect(await q.get()).to.deep.equal({ shutdown: true });
  });

  it('drains: shutDownWithDrain resolves once every handed-out item is done', async () => {
    const { q } = setup();
    q.add('a');
    q.add('b');
    q.add('c');
    const a = item(await q.get());
    const b = item(await q.get());
    const drained = q.shutDownWithDrain();
    expect(await q.get()).to.deep.equal({ shutdown: true });
    expect(await peek(drained)).to.equal('pending');
    q.done(a);
    expect(await peek(drained)).to.equal('pending');
    q.add(b); // ignored: after shutdown
    q.done(b);
    expect(await peek(drained)).to.equal(undefined);
    await q.shutDownWithDrain();
    await new PriorityQueue<string>({ keyOf: (s) => s }).shutDownWithDrain();
  });

  it('ignores done for a key that is not processing', () => {
    const { q } = setup();
    q.done('nope');
    q.add('a');
    q.done('a');
    expect(q.len()).to.equal(1);
  });

  it('reports metrics through the hooks', async () => {
    const calls: string[] = [];
    const metrics: QueueMetrics = {
      added: () => calls.push('added'),
      depth: (p, d) => calls.push(`depth ${p} ${d}`),
      retried: () => calls.push('retried'),
      queued: (s) => calls.push(`queued ${s}`),
      worked: (s) => calls.push(`worked ${s}`),
    };
    const { q, time } = setup({ metrics });
    q.add('a', { priority: 2 });
    q.add('a', { priority: 3 });
    q.addAfter('b', 500);
    time.advance(500);
    expect(calls).to.deep.equal(['added', 'depth 2 1', 'added', 'depth 2 -1', 'depth 3 1', 'added', 'retried', 'depth 0 1']);
    calls.length = 0;
    time.advance(1500);
    const r = await q.get();
    expect(calls).to.deep.equal(['depth 3 -1', 'queued 2']);
    calls.length = 0;
    time.advance(250);
    expect(q.unfinishedSeconds()).to.equal(0.25);
    await q.get();
    time.advance(250);
    expect(q.unfinishedSeconds()).to.equal(0.75);
    expect(q.longestRunningSeconds()).to.equal(0.5);
    q.done(item(r));
    expect(calls).to.deep.equal(['depth 0 -1', 'queued 1.75', 'worked 0.5']);
    expect(q.longestRunningSeconds()).to.equal(0.25);
    calls.length = 0;
    q.add('c', { after: 0, rateLimited: false });
    q.shutDown();
    q.add('d');
    expect(calls).to.deep.equal(['added', 'depth 0 1']);
  });

  it('uses its keyOf for the default rate limiter, so object items back off per key', () => {
    type Req = { cluster: string; name: string };
    const time = new FakeTime();
    const q = new PriorityQueue<Req>({ keyOf: (r) => `${r.cluster}|${r.name}`, now: time.now, setTimer: time.setTimer, clearTimer: time.clearTimer });
    q.addRateLimited({ cluster: 'c', name: 'x' });
    q.addRateLimited({ cluster: 'c', name: 'x' });
    expect(q.numRequeues({ cluster: 'c', name: 'x' })).to.equal(2);
    expect(q.numRequeues({ cluster: 'c', name: 'y' })).to.equal(0);
  });

  it('accepts an injected rate limiter', () => {
    const rl = new ItemExponentialRateLimiter<string>(100, 400);
    const { q, time } = setup({ rateLimiter: rl });
    q.addRateLimited('a');
    expect(time.delays).to.deep.equal([100]);
    expect(rl.numRequeues('a')).to.equal(1);
  });

  it('handles 100,000 keys added and handed out (sanity loop, no timing)', async () => {
    const { q, time } = setup();
    const n = 100_000;
    for (let i = 0; i < n; i++) q.add(`c${i % 97}/k${i}`, { priority: i % 3, after: i % 5 === 0 ? i % 1000 : 0 });
    time.advance(1000);
    expect(q.len()).to.equal(n);
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const k = item(await q.get());
      seen.add(k);
      q.done(k);
    }
    expect(seen.size).to.equal(n);
    expect(q.len()).to.equal(0);
  });
});
