/** PriorityQueue hold/release: a held cluster's items are stored and merged but never handed out until released. */
import { expect } from 'chai';
import type { QueueMetrics } from '../../src/queue/index.js';
import { item, peek, setup, take } from '../support/queue.js';

describe('PriorityQueue hold and release', () => {
  it('keeps a held cluster back while other clusters flow, then hands its items out in arrival order', async () => {
    const { q } = setup();
    q.hold('a');
    q.add('a/1');
    q.add('b/1');
    q.add('a/2');
    q.add('a/1');
    expect(q.len()).to.equal(1);
    expect(await take(q, 1)).to.deep.equal(['b/1']);
    const waiting = q.get();
    expect(await peek(waiting)).to.equal('pending');
    q.release('a');
    expect(item(await waiting)).to.equal('a/1');
    expect(await take(q, 1)).to.deep.equal(['a/2']);
    expect(q.len()).to.equal(0);
  });

  it('holds items that were already ready, and delayed items that fall due while held', async () => {
    const { q, time } = setup();
    q.add('a/ready');
    q.add('a/later', { after: 50 });
    q.hold('a');
    expect(q.len()).to.equal(0);
    time.advance(60);
    expect(q.len()).to.equal(0);
    expect(await peek(q.get())).to.equal('pending');
    q.release('a');
    // The pending get above takes the first; the second is still ready.
    expect(q.len()).to.equal(1);
  });

  it('raises the priority of a held item, and a follow-up add of a processing key stays held after done', async () => {
    const { q } = setup();
    q.add('a/busy');
    expect(item(await q.get())).to.equal('a/busy');
    q.hold('a');
    q.add('a/low', { priority: -100 });
    q.add('a/low', { priority: 10 });
    q.add('a/busy');
    q.done('a/busy');
    expect(q.len()).to.equal(0);
    q.release('a');
    expect(await take(q, 2)).to.deep.equal(['a/low', 'a/busy']);
  });

  it('drops held items with dropCluster, and keeps depth metrics balanced', async () => {
    const depth = new Map<number, number>();
    const metrics: QueueMetrics = {
      added: () => undefined,
      depth: (p, d) => depth.set(p, (depth.get(p) ?? 0) + d),
      retried: () => undefined,
      queued: () => undefined,
      worked: () => undefined,
    };
    const { q } = setup({ metrics });
    q.hold('a');
    q.add('a/1');
    q.add('a/2', { priority: 5 });
    q.add('a/2', { priority: 7 });
    expect([...depth.values()].reduce((s, v) => s + v, 0)).to.equal(2);
    expect(q.dropCluster('a')).to.equal(2);
    q.release('a');
    expect(q.len()).to.equal(0);
    expect([...depth.values()].every((v) => v === 0)).to.equal(true);
    q.add('a/3');
    expect(await take(q, 1)).to.deep.equal(['a/3']);
  });

  it('makes hold and release idempotent', async () => {
    const { q } = setup();
    q.hold('a');
    q.hold('a');
    q.add('a/1');
    q.release('a');
    q.release('a');
    expect(q.isHeld('a')).to.equal(false);
    expect(await take(q, 1)).to.deep.equal(['a/1']);
  });
});
