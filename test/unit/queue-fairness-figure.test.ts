/** The fairness figure in virtual time (the bench's runtime-fairness goal), at a size a unit test affords. */
import { expect } from 'chai';
import { fairnessBound, fairnessLoad } from '../../hack/bench/fairness-virtual.js';
import { simulateQueue } from '../../hack/bench/queue-sim.js';

describe('PriorityQueue fairness figure (virtual time)', () => {
  const load = fairnessLoad(3_000);

  it('keeps quiet clusters within 2× (or 2 ms) of their baseline p99 beside a noisy cluster at 100× their rate', async () => {
    for (const seed of [1, 2, 3]) {
      const baseline = await simulateQueue({ ...load, noisyRate: 0, fairness: true, seed });
      const on = await simulateQueue({ ...load, fairness: true, seed });
      expect(on.quietEvents).to.equal(3_000);
      // The noisy cluster really saturates the worker: most of its writes merge into waiting keys.
      expect(on.noisyHandOuts).to.be.below(on.noisyAdds);
      expect(on.p99, `seed ${seed}: baseline p99 ${baseline.p99} ms`).to.be.at.most(fairnessBound(baseline.p99));
      // A quiet key waits at most for one item of each other cluster with ready items.
      expect(on.positionMax).to.be.at.most(load.quietClusters);
    }
  });

  it('shows the noisy cluster starving quiet ones when fairness is off', async () => {
    const baseline = await simulateQueue({ ...load, noisyRate: 0, fairness: true, seed: 1 });
    const off = await simulateQueue({ ...load, fairness: false, seed: 1 });
    expect(off.p99).to.be.above(10 * fairnessBound(baseline.p99));
  });

  it('gives the same figures for the same seed', async () => {
    const a = await simulateQueue({ ...load, quietEvents: 500, fairness: true, seed: 7 });
    const b = await simulateQueue({ ...load, quietEvents: 500, fairness: true, seed: 7 });
    expect(a).to.deep.equal(b);
  });
});
