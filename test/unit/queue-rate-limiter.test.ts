/** Rate limiters: per-item exponential backoff, token bucket, max-of, the default. */
import { expect } from 'chai';
import { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, defaultRateLimiter, type RateLimiter } from '../../src/queue/index.js';

describe('ItemExponentialRateLimiter', () => {
  it('doubles from the base per failure, caps at the max, and counts per item', () => {
    const rl = new ItemExponentialRateLimiter<string>(5, 1000);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => rl.when('a'))).to.deep.equal([5, 10, 20, 40, 80, 160, 320, 640].map((d) => Math.min(d, 1000)));
    expect(rl.when('a')).to.equal(1000);
    expect(rl.when('b')).to.equal(5);
    expect(rl.numRequeues('a')).to.equal(9);
    expect(rl.numRequeues('b')).to.equal(1);
    expect(rl.numRequeues('c')).to.equal(0);
  });

  it('stays at the cap after very many failures (no Infinity or NaN)', () => {
    const rl = new ItemExponentialRateLimiter<string>(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = rl.when('a');
    expect(last).to.equal(1_000_000);
  });

  it('starts over after forget', () => {
    const rl = new ItemExponentialRateLimiter<string>();
    rl.when('a');
    rl.when('a');
    rl.forget('a');
    expect(rl.numRequeues('a')).to.equal(0);
    expect(rl.when('a')).to.equal(5);
  });

  it('keys object items by keyOf', () => {
    const rl = new ItemExponentialRateLimiter<{ c: string; n: string }>(1, 100, (r) => `${r.c}|${r.n}`);
    rl.when({ c: 'x', n: 'a' });
    expect(rl.when({ c: 'x', n: 'a' })).to.equal(2);
    expect(rl.when({ c: 'y', n: 'a' })).to.equal(1);
  });
});

describe('defaultRateLimiter', () => {
  it('is the per-item exponential limiter, 5 ms doubling up to 1000 s', () => {
    const rl = defaultRateLimiter<string>();
    const delays = Array.from({ length: 20 }, () => rl.when('k'));
    expect(delays.slice(0, 5)).to.deep.equal([5, 10, 20, 40, 80]);
    expect(delays[17]).to.equal(655_360);
    expect(delays[18]).to.equal(1_000_000);
    expect(delays[19]).to.equal(1_000_000);
    expect(rl.when('other')).to.equal(5);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces reservations 1/qps apart, refilling with time', () => {
    let t = 0;
    const rl = new BucketRateLimiter<string>(10, 3, () => t);
    expect([rl.when('a'), rl.when('b'), rl.when('c')]).to.deep.equal([0, 0, 0]);
    expect(rl.when('d')).to.be.closeTo(100, 1e-9);
    expect(rl.when('e')).to.be.closeTo(200, 1e-9);
    t += 100; // one token accrued, which pays back one reservation of debt
    expect(rl.when('f')).to.be.closeTo(200, 1e-9);
    t += 10_000; // refills, but only up to the burst
    expect([rl.when('g'), rl.when('h'), rl.when('i')]).to.deep.equal([0, 0, 0]);
    expect(rl.when('j')).to.be.closeTo(100, 1e-9);
    expect(rl.numRequeues('a')).to.equal(0);
    rl.forget('a');
  });

  it('accrues fractional tokens and ignores a clock going backwards', () => {
    let t = 1000;
    const rl = new BucketRateLimiter<string>(4, 1, () => t);
    expect(rl.when('x')).to.equal(0);
    expect(rl.when('x')).to.be.closeTo(250, 1e-9);
    t += 125;
    expect(rl.when('x')).to.be.closeTo(375, 1e-9);
    t -= 500;
    expect(rl.when('x')).to.be.closeTo(625, 1e-9);
  });

  it('rejects a non-positive rate or an empty bucket', () => {
    expect(() => new BucketRateLimiter(0, 1)).to.throw(RangeError);
    expect(() => new BucketRateLimiter(1, 0)).to.throw(RangeError);
    expect(new BucketRateLimiter<string>(Infinity, 1).when('a')).to.equal(0);
  });
});

describe('MaxOfRateLimiter', () => {
  it('returns the largest delay, and every limiter counts the call', () => {
    let t = 0;
    const exp = new ItemExponentialRateLimiter<string>(5, 1000);
    const bucket = new BucketRateLimiter<string>(1, 1, () => t);
    const rl = new MaxOfRateLimiter<string>(exp, bucket);
    expect(rl.when('a')).to.equal(5);
    expect(rl.when('a')).to.be.closeTo(1000, 1e-9);
    t += 5000;
    expect(rl.when('a')).to.equal(20);
    expect(exp.numRequeues('a')).to.equal(3);
  });

  it('reports the largest failure count and forgets in every limiter', () => {
    const a = new ItemExponentialRateLimiter<string>();
    const b = new ItemExponentialRateLimiter<string>();
    const counter: RateLimiter<string> = { when: () => 0, forget: () => {}, numRequeues: () => 1 };
    const rl = new MaxOfRateLimiter<string>(a, b, counter);
    a.when('k');
    a.when('k');
    b.when('k');
    b.when('k');
    b.when('k');
    expect(rl.numRequeues('k')).to.equal(3);
    rl.forget('k');
    expect([a.numRequeues('k'), b.numRequeues('k'), rl.numRequeues('k')]).to.deep.equal([0, 0, 1]);
    expect(() => new MaxOfRateLimiter<string>()).to.throw(RangeError);
  });
});

describe('rate limiter default keys', () => {
  it('keys controller requests by cluster, namespace and name, so user-built limiters count per request', () => {
    const rl = new ItemExponentialRateLimiter<{ cluster: string; namespace?: string; name: string }>();
    expect(rl.when({ cluster: 'a', namespace: 'ns', name: 'x' })).to.equal(5);
    expect(rl.when({ cluster: 'a', namespace: 'ns', name: 'x' })).to.equal(10);
    expect(rl.when({ cluster: 'b', namespace: 'ns', name: 'x' })).to.equal(5);
    expect(rl.when({ cluster: 'a', name: 'x' })).to.equal(5);
    expect(rl.numRequeues({ cluster: 'a', namespace: 'ns', name: 'x' })).to.equal(2);
  });
});

