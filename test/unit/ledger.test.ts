/** The sharding tests' no-overlap oracle finds what it must and nothing else. */
import { expect } from 'chai';
import { crossReplicaOverlaps, type Mark } from '../support/ledger.js';

const m = (r: string, c: string, n: string, e: 'start' | 'end', t: number): Mark => ({ r, c, n, e, t });

describe('crossReplicaOverlaps (sharding test oracle)', () => {
  it('accepts back-to-back and same-replica reconciles, and different clusters at once', () => {
    const marks = [m('a', 'c1', 'x', 'start', 0), m('a', 'c1', 'y', 'start', 1), m('b', 'c2', 'x', 'start', 2), m('a', 'c1', 'x', 'end', 5), m('a', 'c1', 'y', 'end', 6), m('b', 'c1', 'x', 'start', 6), m('b', 'c1', 'x', 'end', 7), m('b', 'c2', 'x', 'end', 8)];
    expect(crossReplicaOverlaps(marks, new Map(), 100)).to.deep.equal([]);
  });

  it('finds two replicas on one cluster at once, also when one of them never ended (killed or running)', () => {
    const overlapping = [m('a', 'c1', 'x', 'start', 0), m('b', 'c1', 'y', 'start', 3), m('b', 'c1', 'y', 'end', 4), m('a', 'c1', 'x', 'end', 5)];
    expect(crossReplicaOverlaps(overlapping, new Map(), 100)).to.have.length(1);
    const killed = [m('a', 'c1', 'x', 'start', 0), m('b', 'c1', 'x', 'start', 10), m('b', 'c1', 'x', 'end', 11)];
    expect(crossReplicaOverlaps(killed, new Map([['a', 9]]), 100), 'ended by the kill').to.deep.equal([]);
    expect(crossReplicaOverlaps(killed, new Map([['a', 12]]), 100), 'still running at the kill').to.have.length(1);
    expect(crossReplicaOverlaps(killed, new Map(), 100), 'still running now').to.have.length(1);
  });
});
