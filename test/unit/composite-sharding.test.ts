/** CompositeProvider's clusters pass a sharded manager's admit and evict on to the part's own cluster. */
import { expect } from 'chai';
import { CompositeProvider, type Cluster } from '../../src/index.js';
import { FakeProvider } from '../support/fake-cluster.js';

describe('CompositeProvider and sharding', () => {
  it('forwards admit and evict of a qualified cluster to the inner cluster, and marks only unsharded parts', async () => {
    const tenants = new FakeProvider();
    const own = new FakeProvider();
    const calls: string[] = [];
    const inner = tenants.add('t1') as Cluster & { admit?: () => void; evict?: () => void };
    inner.admit = () => void calls.push('admit t1');
    inner.evict = () => void calls.push('evict t1');
    own.add('self');
    const composite = new CompositeProvider({ tenants, own }, { unsharded: ['own'] });
    const seen = new Map<string, Cluster>();
    const ctl = new AbortController();
    const run = composite.start({ engage: (name, cluster) => void seen.set(name, cluster) }, ctl.signal);
    try {
      const t1 = seen.get('tenants#t1')!;
      t1.admit?.();
      t1.evict?.();
      expect(calls).to.deep.equal(['admit t1', 'evict t1']);
      // A part's cluster without admit/evict (it keeps caching everything) takes the calls quietly.
      const self = seen.get('own#self')!;
      expect(() => {
        self.admit?.();
        self.evict?.();
      }).to.not.throw();
      expect(self.unsharded).to.equal(true);
      expect(t1.unsharded).to.equal(false);
    } finally {
      ctl.abort();
      await run;
    }
  });
});
