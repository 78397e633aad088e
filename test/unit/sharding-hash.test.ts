/** Weighted rendezvous hashing: stable, proportional to weight, minimal movement, always finite. */
import { expect } from 'chai';
import { hash64, rendezvousOwner, rendezvousScore, toUnit, unitHash } from '../../src/sharding/index.js';
import type { ShardPeer } from '../../src/sharding/index.js';

const N = 100_000;
const clusters = Array.from({ length: N }, (_, i) => `cluster-${i.toString(36)}-${(i * 7919) % 1000}`);

function peers(...weights: number[]): ShardPeer[] {
  return weights.map((weight, i) => ({ id: `replica-${i}`, weight }));
}

function shares(ps: readonly ShardPeer[]): Map<string, number> {
  const counts = new Map<string, number>(ps.map((p) => [p.id, 0]));
  for (const c of clusters) {
    const o = rendezvousOwner(c, ps);
    counts.set(o, counts.get(o)! + 1);
  }
  return new Map([...counts].map(([id, n]) => [id, n / N]));
}

function owners(ps: readonly ShardPeer[]): string[] {
  return clusters.map((c) => rendezvousOwner(c, ps));
}

describe('sharding: rendezvous hashing', function () {
  this.timeout(60_000);

  it('hashes to the first 8 bytes of SHA-256, the same on every call', () => {
    // sha256("abc") = ba7816bf8f01cfea 414140de5dae2223 ...
    expect(hash64('abc')).to.equal(0xba7816bf8f01cfean);
    expect(hash64('')).to.equal(0xe3b0c44298fc1c14n);
    expect(hash64('ünïcode|replica-0')).to.equal(hash64('ünïcode|replica-0'));
    expect(rendezvousOwner('c1', peers(1, 1, 1))).to.equal(rendezvousOwner('c1', peers(1, 1, 1)));
  });

  it('does not depend on the order of the peers', () => {
    const ps = peers(1, 2, 3, 1);
    const reversed = [...ps].reverse();
    for (const c of clusters.slice(0, 2000)) expect(rendezvousOwner(c, reversed)).to.equal(rendezvousOwner(c, ps));
  });

  it('maps hashes into the open interval (0, 1), even the extreme ones', () => {
    expect(toUnit(0n)).to.be.greaterThan(0);
    expect(toUnit(0xffffffffffffffffn)).to.be.lessThan(1);
    expect(toUnit(0xffffffffffffffffn)).to.equal(1 - 2 ** -53);
    expect(toUnit(0n)).to.equal(2 ** -53);
    for (const h of [0n, 1n, 2047n, 2048n, 0xffffffffffffffffn]) {
      expect(Number.isFinite(-Math.log(toUnit(h)))).to.equal(true);
      expect(-Math.log(toUnit(h))).to.be.greaterThan(0);
    }
  });

  it('gives a finite positive score for any input and weight', () => {
    const odd = ['', '|', '||', 'a'.repeat(10_000), '\u0000', '🙂', 'root:org:ws', '-0', 'NaN'];
    for (const c of odd) {
      for (const id of odd) {
        for (const weight of [Number.MIN_VALUE, 1e-300, 0.001, 1, 3.5, 1e6, Number.MAX_VALUE]) {
          const s = rendezvousScore(c, { id, weight });
          expect(Number.isNaN(s), `${c}/${id}/${weight}`).to.equal(false);
          expect(s, `${c}/${id}/${weight}`).to.be.at.least(0);
        }
        const u = unitHash(`${c}|${id}`);
        expect(u).to.be.greaterThan(0).and.lessThan(1);
      }
    }
    // A tiny weight may overflow to Infinity only when its reciprocal does; every normal weight stays finite.
    for (const c of clusters.slice(0, 5000)) expect(Number.isFinite(rendezvousScore(c, { id: 'p', weight: 1e-6 }))).to.equal(true);
  });

  it('rejects weights that are not finite numbers > 0, and an empty peer list', () => {
    for (const weight of [0, -1, -0, Number.NaN, Infinity, -Infinity]) {
      expect(() => rendezvousOwner('c', [{ id: 'a', weight: 1 }, { id: 'b', weight }])).to.throw(RangeError, /weight of peer b/);
    }
    expect(() => rendezvousOwner('c', [])).to.throw(/at least one peer/);
  });

  it('splits 100k clusters 1:1:1 within 1 point of a third each', () => {
    for (const [id, share] of shares(peers(1, 1, 1))) expect(share, id).to.be.closeTo(1 / 3, 0.01);
  });

  it('splits 100k clusters in proportion to weight (1:2, 1:2:5)', () => {
    const two = shares(peers(1, 2));
    expect(two.get('replica-0')).to.be.closeTo(1 / 3, 0.01);
    expect(two.get('replica-1')).to.be.closeTo(2 / 3, 0.01);
    const three = shares(peers(1, 2, 5));
    expect(three.get('replica-0')).to.be.closeTo(1 / 8, 0.01);
    expect(three.get('replica-1')).to.be.closeTo(2 / 8, 0.01);
    expect(three.get('replica-2')).to.be.closeTo(5 / 8, 0.01);
  });

  it('moves about 1/n of the clusters, all to the new peer, when one joins', () => {
    const before = owners(peers(1, 1, 1, 1));
    const after = owners(peers(1, 1, 1, 1, 1));
    let moved = 0;
    for (let i = 0; i < N; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(after[i]).to.equal('replica-4');
    }
    const ideal = N / 5;
    expect(moved).to.be.greaterThan(ideal / 1.5).and.lessThan(ideal * 1.5);
  });

  it('moves only the clusters of a peer that leaves, spread over the others', () => {
    const all = peers(1, 1, 1, 1, 1);
    const before = owners(all);
    const after = owners(all.filter((p) => p.id !== 'replica-2'));
    let moved = 0;
    const receivers = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(before[i]).to.equal('replica-2');
      receivers.set(after[i]!, (receivers.get(after[i]!) ?? 0) + 1);
    }
    const ideal = N / 5;
    expect(moved).to.be.greaterThan(ideal / 1.5).and.lessThan(ideal * 1.5);
    for (const [id, n] of receivers) expect(n / moved, id).to.be.closeTo(1 / 4, 0.02);
  });

  it('moves about weight/total of the clusters when a weighted peer joins', () => {
    const before = owners(peers(1, 1));
    const after = owners(peers(1, 1, 2));
    const moved = before.filter((o, i) => o !== after[i]).length;
    const ideal = N / 2;
    expect(moved).to.be.greaterThan(ideal / 1.5).and.lessThan(ideal * 1.5);
    expect(moved / N).to.be.closeTo(0.5, 0.01);
  });
});
