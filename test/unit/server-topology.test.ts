/** The reference server's cross-shard path index: what a LogicalCluster's `kcp.io/path` resolves to as clusters come, move and go. */
import { expect } from 'chai';
import { LOGICAL_CLUSTERS } from '../../src/server/api/objects.js';
import type { Shard } from '../../src/server/shards/shard.js';
import { Topology } from '../../src/server/shards/topology.js';
import { Store } from '../../src/server/storage/store.js';

function logicalCluster(path: string | undefined): { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> } } {
  return { apiVersion: 'core.kcp.io/v1alpha1', kind: 'LogicalCluster', metadata: { name: 'cluster', ...(path ? { annotations: { 'kcp.io/path': path } } : {}) } };
}

describe('server topology path index', () => {
  let store: Store;
  let topology: Topology;
  beforeEach(() => {
    store = new Store();
    topology = new Topology([{ store } as unknown as Shard]);
  });

  it('resolves a path to its cluster, and a cluster name to itself', () => {
    store.put(LOGICAL_CLUSTERS, 'c1', logicalCluster('root:a'));
    expect(topology.resolve('root:a')).to.equal('c1');
    expect(topology.resolve('c1')).to.equal('c1');
    expect(topology.resolve('root:b')).to.equal(undefined);
  });

  it('forgets the old path when a cluster is indexed under a new one, and every path when it is deleted', () => {
    store.put(LOGICAL_CLUSTERS, 'c1', logicalCluster('root:a'));
    store.put(LOGICAL_CLUSTERS, 'c1', logicalCluster('root:moved'));
    expect(topology.resolve('root:a')).to.equal(undefined);
    expect(topology.resolve('root:moved')).to.equal('c1');
    store.put(LOGICAL_CLUSTERS, 'c1', logicalCluster(undefined));
    expect(topology.resolve('root:moved')).to.equal(undefined);
    store.put(LOGICAL_CLUSTERS, 'c1', logicalCluster('root:back'));
    store.delete(LOGICAL_CLUSTERS, 'c1', '', 'cluster');
    expect(topology.resolve('root:back')).to.equal(undefined);
    expect(topology.resolve('c1')).to.equal(undefined);
  });

  it('leaves a path taken over by another cluster to that cluster when the first goes', () => {
    store.put(LOGICAL_CLUSTERS, 'c1', logicalCluster('root:a'));
    store.put(LOGICAL_CLUSTERS, 'c2', logicalCluster('root:a'));
    expect(topology.resolve('root:a')).to.equal('c2');
    store.delete(LOGICAL_CLUSTERS, 'c1', '', 'cluster');
    expect(topology.resolve('root:a')).to.equal('c2');
  });

  it('indexes 20,000 clusters in linear time (an update does not scan every path)', function () {
    this.timeout(20_000);
    // Counted, not timed: reads of the path map per indexed cluster stay constant as clusters grow.
    const n = 20_000;
    for (let i = 0; i < n; i++) store.put(LOGICAL_CLUSTERS, `c${i}`, logicalCluster(`root:w${i}`));
    const paths = (topology as unknown as { paths: Map<string, string> }).paths;
    let visits = 0;
    const iterate = paths[Symbol.iterator].bind(paths);
    const entries = paths.entries.bind(paths);
    paths[Symbol.iterator] = () => {
      visits++;
      return iterate();
    };
    paths.entries = () => {
      visits++;
      return entries();
    };
    for (let i = 0; i < 1_000; i++) store.put(LOGICAL_CLUSTERS, `c${i}`, logicalCluster(`root:w${i}`));
    expect(visits).to.equal(0);
    expect(topology.resolve(`root:w${n - 1}`)).to.equal(`c${n - 1}`);
  });
});
