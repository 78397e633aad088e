/** The kcp_mc_shard_* families: registered only when sharding reports through them, then with their series at 0. */
import { expect } from 'chai';
import { FENCE_WAIT_BUCKETS, RuntimeMetrics } from '../../src/metrics/index.js';

describe('sharding: metrics', () => {
  it('leaves the shard families out of a manager that does not shard', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    expect(await m.metrics()).to.not.include('kcp_mc_shard_');
  });

  it('registers the five families on first use, with both hand-off directions at 0', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    expect(m.shard).to.equal(m.shard);
    const text = await m.metrics();
    expect(text).to.include('# TYPE kcp_mc_shard_peers gauge');
    expect(text).to.include('# TYPE kcp_mc_shard_owned_clusters gauge');
    expect(text).to.include('# TYPE kcp_mc_shard_handoffs_total counter');
    expect(text).to.include('# TYPE kcp_mc_shard_not_owned_dropped_total counter');
    expect(text).to.include('# TYPE kcp_mc_shard_fence_wait_seconds histogram');
    expect(text).to.match(/^kcp_mc_shard_handoffs_total\{direction="gained"\} 0$/m);
    expect(text).to.match(/^kcp_mc_shard_handoffs_total\{direction="lost"\} 0$/m);
    expect(text).to.match(/^kcp_mc_shard_peers 1$/m);
  });

  it('records what the hooks are told', async () => {
    const m = new RuntimeMetrics({ defaultMetrics: false });
    m.shard.peers(3);
    m.shard.ownedClusters(42);
    m.shard.handoff('gained');
    m.shard.handoff('gained');
    m.shard.handoff('lost');
    m.shard.notOwnedDropped();
    m.shard.fenceWait(0.2);
    m.shard.fenceWait(25);
    const text = await m.metrics();
    expect(text).to.match(/^kcp_mc_shard_peers 3$/m);
    expect(text).to.match(/^kcp_mc_shard_owned_clusters 42$/m);
    expect(text).to.match(/^kcp_mc_shard_handoffs_total\{direction="gained"\} 2$/m);
    expect(text).to.match(/^kcp_mc_shard_handoffs_total\{direction="lost"\} 1$/m);
    expect(text).to.match(/^kcp_mc_shard_not_owned_dropped_total 1$/m);
    expect(text).to.match(/^kcp_mc_shard_fence_wait_seconds_count 2$/m);
    expect(text).to.match(/^kcp_mc_shard_fence_wait_seconds_bucket\{le="0.25"\} 1$/m);
    expect(FENCE_WAIT_BUCKETS.at(-1)).to.be.at.least(120);
  });
});
