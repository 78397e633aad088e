/** PriorityQueue per cluster: round-robin fairness within a priority, locked keys, dropCluster. */
import { expect } from 'chai';
import { PriorityQueue, type QueueMetrics } from '../../src/queue/index.js';
import { item, peek, setup as setupAt, take } from '../support/queue.js';

// This file's expected timer times count from a clock at 0.
const setup = (extra: Parameters<typeof setupAt>[0] = {}) => setupAt(extra, 0);

describe('PriorityQueue fairness', () => {
  it('hands out a late single key of cluster B within one round of a cluster A with 10,000 keys', async () => {
    const { q } = setup();
    for (let i = 0; i < 10_000; i++) q.add(`a/${i}`);
    q.add('b/x');
    // Two clusters have ready items: B's key comes within the next two gets.
    expect(await take(q, 2)).to.include('b/x');
  });

  it('bounds the wait by the number of clusters with ready items, also in the middle of a round', async () => {
    const { q } = setup();
    for (let i = 0; i < 1_000; i++) {
      q.add(`a/${i}`);
      q.add(`c/${i}`);
      q.add(`d/${i}`);
    }
    await take(q, 7);
    q.add('b/x');
    const next = await take(q, 4);
    expect(next).to.include('b/x');
  });

  it('interleaves three clusters round-robin, FIFO within each', async () => {
    const { q } = setup();
    for (const c of ['a', 'b', 'c']) for (let i = 1; i <= 3; i++) q.add(`${c}/${i}`);
    q.add('a/4');
    expect(await take(q, 10)).to.deep.equal(['a/1', 'b/1', 'c/1', 'a/2', 'b/2', 'c/2', 'a/3', 'b/3', 'c/3', 'a/4']);
  });

  it('is plain FIFO per priority when fairness is off', async () => {
    const { q } = setup({ fairness: false });
    for (const c of ['a', 'b', 'c']) for (let i = 1; i <= 2; i++) q.add(`${c}/${i}`);
    q.add('z/hi', { priority: 1 });
    expect(await take(q, 7)).to.deep.equal(['z/hi', 'a/1', 'a/2', 'b/1', 'b/2', 'c/1', 'c/2']);
  });

  it('lets a higher priority go first, with fairness applied within each level', async () => {
    const { q } = setup();
    for (let i = 0; i < 5; i++) q.add(`a/${i}`);
    q.add('b/hi1', { priority: 1 });
    q.add('b/hi2', { priority: 1 });
    q.add('c/hi', { priority: 1 });
    q.add('c/low', { priority: -100 });
    expect(await take(q, 4)).to.deep.equal(['b/hi1', 'c/hi', 'b/hi2', 'a/0']);
    expect((await take(q, 5)).at(-1)).to.equal('c/low');
  });

  it('skips a cluster whose keys are all processing instead of stalling the round', async () => {
    const { q } = setup();
    q.add('a/1');
    expect(await take(q, 1, true)).to.deep.equal(['a/1']);
    q.add('a/1'); // recorded for after done
    for (let i = 1; i <= 4; i++) q.add(`b/${i}`);
    expect(await take(q, 4)).to.deep.equal(['b/1', 'b/2', 'b/3', 'b/4']);
    const waiting = q.get();
    expect(await peek(waiting)).to.equal('pending');
    q.done('a/1');
    expect(item(await waiting)).to.equal('a/1');
  });

  it('keeps the rotation when a locked key comes back: it waits at most one turn of the others', async () => {
    const { q } = setup();
    for (let i = 1; i <= 4; i++) q.add(`a/${i}`);
    q.add('b/1');
    const [a1, b1] = await take(q, 2, true);
    expect([a1, b1]).to.deep.equal(['a/1', 'b/1']);
    q.add('b/1');
    q.done('b/1');
    // B rejoins at the end of the round: A has its turn, then B.
    expect(await take(q, 3)).to.deep.equal(['a/2', 'b/1', 'a/3']);
  });
});

describe('PriorityQueue.dropCluster', () => {
  it('removes the ready and delayed items of one cluster, returns the count, leaves the others', async () => {
    const { q, time } = setup();
    q.add('a/1');
    q.add('b/1');
    q.add('a/2', { priority: 5 });
    q.addAfter('a/3', 10);
    q.addAfter('b/2', 50);
    expect(q.dropCluster('a')).to.equal(3);
    expect(q.dropCluster('a')).to.equal(0);
    expect(q.dropCluster('nope')).to.equal(0);
    expect(q.len()).to.equal(1);
    // The timer now serves b/2, the earliest item left.
    expect([...time.timers.values()].map((t) => t.at)).to.deep.equal([50]);
    time.advance(100);
    expect(await take(q, 2)).to.deep.equal(['b/1', 'b/2']);
    expect(await peek(q.get())).to.equal('pending');
  });

  it('clears the timer when only the dropped cluster had delayed items; they never come back', async () => {
    const { q, time } = setup();
    for (let i = 0; i < 1000; i++) q.addAfter(`a/${i}`, 10 + i);
    q.add('b/1');
    expect(time.timers.size).to.equal(1);
    expect(q.dropCluster('a')).to.equal(1000);
    expect(time.timers.size).to.equal(0);
    time.advance(10_000);
    expect(q.len()).to.equal(1);
    expect(await take(q, 1)).to.deep.equal(['b/1']);
    expect(await peek(q.get())).to.equal('pending');
  });

  it('discards the follow-up add of a processing item; its done still works and re-adds nothing', async () => {
    const { q } = setup();
    q.add('a/1');
    q.add('a/2');
    const got = await take(q, 1, true);
    expect(got).to.deep.equal(['a/1']);
    q.add('a/1', { priority: 3 });
    expect(q.dropCluster('a')).to.equal(2);
    q.done('a/1');
    expect(q.len()).to.equal(0);
    // The cluster can be used again afterwards.
    q.add('a/1');
    expect(await take(q, 1)).to.deep.equal(['a/1']);
  });

  it('forgets the rate-limiter state of the dropped items, processing ones included', async () => {
    const { q } = setup();
    q.addRateLimited('a/1');
    q.addRateLimited('a/1');
    q.addRateLimited('a/2');
    q.addRateLimited('b/1');
    q.add('a/3');
    await take(q, 1, true);
    q.addRateLimited('a/3');
    q.dropCluster('a');
    expect([q.numRequeues('a/1'), q.numRequeues('a/2'), q.numRequeues('a/3'), q.numRequeues('b/1')]).to.deep.equal([0, 0, 0, 1]);
  });

  it('reports the dropped ready items through the depth hook', () => {
    const depth = new Map<number, number>();
    const metrics: QueueMetrics = {
      added: () => {},
      depth: (p, d) => depth.set(p, (depth.get(p) ?? 0) + d),
      retried: () => {},
      queued: () => {},
      worked: () => {},
    };
    const { q } = setup({ metrics });
    q.add('a/1');
    q.add('a/2', { priority: 2 });
    q.add('b/1', { priority: 2 });
    q.addAfter('a/3', 10);
    q.dropCluster('a');
    expect(Object.fromEntries(depth)).to.deep.equal({ 0: 0, 2: 1 });
  });

  it('keeps the rotation of the remaining clusters intact', async () => {
    const { q } = setup();
    for (const c of ['a', 'b', 'c']) for (let i = 1; i <= 3; i++) q.add(`${c}/${i}`);
    expect(await take(q, 2)).to.deep.equal(['a/1', 'b/1']);
    q.dropCluster('c');
    q.dropCluster('b');
    q.add('b/9');
    expect(await take(q, 3)).to.deep.equal(['a/2', 'b/9', 'a/3']);
    expect(q.len()).to.equal(0);
  });
});

describe('PriorityQueue fairness: where a cluster joins the round', () => {
  it('serves a cluster that was idle for a round next, ahead of a backlogged one', async () => {
    const { q } = setup();
    for (let i = 0; i < 100; i++) q.add(`noisy/${i}`);
    expect(await take(q, 3)).to.deep.equal(['noisy/0', 'noisy/1', 'noisy/2']);
    q.add('quiet/1');
    // The quiet key waits for no noisy key.
    expect(await take(q, 1)).to.deep.equal(['quiet/1']);
    expect(await take(q, 1)).to.deep.equal(['noisy/3']);
    // Idle through a whole round (noisy/3 was the round), the quiet cluster is next again at once.
    q.add('quiet/2');
    expect(await take(q, 2)).to.deep.equal(['quiet/2', 'noisy/4']);
  });

  it('makes a cluster that was just served and refills wait its turn: no jumping the round by emptying', async () => {
    const { q } = setup();
    for (let i = 0; i < 10; i++) q.add(`a/${i}`);
    for (let i = 0; i < 10; i++) q.add(`b/${i}`);
    q.add('c/1');
    expect(await take(q, 3)).to.deep.equal(['a/0', 'b/0', 'c/1']);
    // c refills right after its turn: a and b go first.
    q.add('c/2');
    expect(await take(q, 3)).to.deep.equal(['a/1', 'b/1', 'c/2']);
    q.add('c/3');
    expect(await take(q, 3)).to.deep.equal(['a/2', 'b/2', 'c/3']);
  });

  it('keeps several clusters that join within one turn in the order they came', async () => {
    const { q } = setup();
    for (let i = 0; i < 10; i++) q.add(`a/${i}`);
    expect(await take(q, 1)).to.deep.equal(['a/0']);
    q.add('x/1');
    q.add('y/1');
    q.add('z/1');
    expect(await take(q, 5)).to.deep.equal(['x/1', 'y/1', 'z/1', 'a/1', 'a/2']);
  });
});

