/** Capped exponential backoff with jitter. */
import { expect } from 'chai';
import { Backoff, backoffDelay } from '../../src/informer/backoff.js';

describe('informer: backoff', () => {
  it('doubles from the initial delay up to the cap (no jitter)', () => {
    const d = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { initialMs: 100, maxMs: 1000, jitter: 0 }));
    expect(d).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('jitter lowers a delay by at most the jitter fraction, never raises it above the cap', () => {
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0)).to.equal(800);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1)).to.equal(400);
    expect(backoffDelay(10, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0.5)).to.equal(750);
    for (let i = 0; i < 1000; i++) {
      const v = backoffDelay(i % 40, { initialMs: 800, maxMs: 30_000 });
      expect(v).to.be.within(0, 30_000);
    }
  });

  it('never overflows, whatever the attempt count', () => {
    expect(backoffDelay(1e9, { initialMs: 800, maxMs: 30_000, jitter: 0 })).to.equal(30_000);
    expect(backoffDelay(-5, { initialMs: 800, maxMs: 30_000, jitter: 0 })).to.equal(800);
  });

  it('Backoff counts failures until reset', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).to.deep.equal([10, 20, 40]);
    expect(b.failures).to.equal(3);
    b.reset();
    expect(b.next()).to.equal(10);
  });
});
