/**
 * The soak's oracles (hack/soak/oracles.ts) fail on violating input: overlapping reconciles within a
 * process and across replicas, a reconcile after disengagement, an unexplained error, an error
 * metric that disagrees with the ledger, an unconverged Item, a lost acknowledged write, heap growth
 * and a crash; and pass on a clean ledger.
 */
import { expect } from 'chai';
import { desired, type Item, type SoakMark } from '../../hack/soak/api.js';
import * as oracle from '../../hack/soak/oracles.js';

const mark = (r: string, e: 'start' | 'end', t: number, id: string, extra: Partial<SoakMark> = {}): SoakMark => ({ r, c: 'c1', n: 'item-0', e, t, id, ...(e === 'end' ? { x: 'ok' as const } : {}), ...extra });
const none = new Map<string, number>();

function item(seq: number, generation: number, observed: number | undefined): Item {
  return { apiVersion: 'soak.example.dev/v1', kind: 'Item', metadata: { name: 'item-0', namespace: 'default', generation }, spec: { seq, value: `v${seq}` }, status: observed === undefined ? undefined : { observedGeneration: observed } };
}

describe('soak oracles', () => {
  it('pass a clean ledger: one replica after the other, each reconcile after the previous one ended', () => {
    const marks = [mark('r0#1', 'start', 1, 'a'), mark('r0#1', 'end', 5, 'a'), mark('r0#1', 'start', 5, 'b'), mark('r0#1', 'end', 9, 'b'), mark('r1#1', 'start', 10, 'c'), mark('r1#1', 'end', 12, 'c')];
    expect(oracle.ledgerViolations(marks, none, none, 100)).to.deep.equal([]);
  });

  it('flag two reconciles of one Item at once in one process', () => {
    const marks = [mark('r0#1', 'start', 1, 'a'), mark('r0#1', 'start', 3, 'b'), mark('r0#1', 'end', 5, 'a'), mark('r0#1', 'end', 6, 'b')];
    const v = oracle.ledgerViolations(marks, none, none, 100);
    expect(v.map((x) => x.oracle)).to.deep.equal(['overlap-in-process']);
  });

  it('flag two replicas on one cluster at once, also against a killed replica whose reconcile never ended', () => {
    const both = [mark('r0#1', 'start', 1, 'a'), mark('r1#1', 'start', 3, 'b', { n: 'item-1' }), mark('r0#1', 'end', 5, 'a'), mark('r1#1', 'end', 6, 'b', { n: 'item-1' })];
    expect(oracle.ledgerViolations(both, none, none, 100).map((x) => x.oracle)).to.deep.equal(['overlap-across-replicas']);
    const killed = [mark('r1#1', 'start', 1, 'a'), mark('r2#1', 'start', 8, 'b')];
    expect(oracle.acrossReplicaOverlaps(killed, new Map([['r1#1', 10]]), 100)).to.have.length(1);
    expect(oracle.acrossReplicaOverlaps(killed, new Map([['r1#1', 7]]), 100)).to.deep.equal([]);
  });

  it('flag a reconcile started after its cluster left, and an unexplained error', () => {
    const marks = [mark('r0#1', 'start', 1, 'a', { late: true }), mark('r0#1', 'end', 2, 'a', { x: 'unexplained', m: 'TypeError: boom' })];
    expect(oracle.ledgerViolations(marks, none, none, 100).map((x) => x.oracle)).to.deep.equal(['reconcile-after-disengage', 'unexplained-error']);
  });

  it('compare reconcile_errors_total and reconcile_timeouts_total with the ledger: injected plus real, not ok and not gone', () => {
    const marks = [
      mark('r0#1', 'end', 1, 'a', { x: 'injected-throw' }),
      mark('r0#1', 'end', 2, 'b', { x: 'injected-timeout', to: true }),
      mark('r0#1', 'end', 3, 'c', { x: 'conflict' }),
      mark('r0#1', 'end', 4, 'd', { x: 'gone' }),
      mark('r0#1', 'end', 5, 'e'),
    ];
    const t = oracle.tally(marks);
    expect(oracle.errorMetric([{ incarnation: 'r0#1', errors: 3, timeouts: 1 }], t)).to.deep.equal([]);
    expect(oracle.errorMetric([{ incarnation: 'r0#1', errors: 2, timeouts: 1 }], t).map((x) => x.oracle)).to.deep.equal(['error-metric']);
    expect(oracle.errorMetric([{ incarnation: 'r0#1', errors: 3, timeouts: 0 }], t)).to.have.length(1);
    // A scrape between two reads of the ledger: anything between the two tallies.
    const first = oracle.tally(marks.slice(0, 2));
    expect(oracle.errorMetric([{ incarnation: 'r0#1', errors: 2, timeouts: 1 }], first, t)).to.deep.equal([]);
    expect(oracle.errorMetric([{ incarnation: 'r0#1', errors: 1, timeouts: 1 }], first, t)).to.have.length(1);
    expect(oracle.realErrors(t)).to.deep.equal([{ category: 'conflict', count: 1, explanation: oracle.realErrors(t)[0]!.explanation }]);
  });

  it('flag an Item whose ConfigMap is not f(spec), or whose observedGeneration is behind', () => {
    const ok = { cluster: 'c1', item: item(3, 4, 4), out: desired({ seq: 3, value: 'v3' }) };
    expect(oracle.unconverged([ok])).to.deep.equal([]);
    expect(oracle.unconverged([{ ...ok, out: desired({ seq: 2, value: 'v2' }) }])).to.have.length(1);
    expect(oracle.unconverged([{ ...ok, out: undefined }])).to.have.length(1);
    expect(oracle.unconverged([{ ...ok, item: item(3, 4, 3) }])).to.have.length(1);
  });

  it('flag an acknowledged write missing on the server, heap growth of 10 % or more, and a crash', () => {
    expect(oracle.lostWrites(new Map([['c1/item-0', 5]]), new Map([['c1/item-0', 5]]), 'end')).to.deep.equal([]);
    expect(oracle.lostWrites(new Map([['c1/item-0', 5]]), new Map([['c1/item-0', 4]]), 'end')).to.have.length(1);
    expect(oracle.lostWrites(new Map([['c1/item-0', 5]]), new Map(), 'end')).to.have.length(1);
    expect(oracle.heapGrowth(100, 109)).to.deep.equal([]);
    expect(oracle.heapGrowth(100, 111)).to.have.length(1);
    expect(oracle.crashed([{ who: 'r1#2', code: 1, signal: null, tail: 'Unhandled promise rejection' }]).map((x) => x.oracle)).to.deep.equal(['crash']);
  });
});
