/** Names of the sharding Leases and shard ids: valid, bounded, readable, and never shared by two clusters. */
import { expect } from 'chai';
import { fenceLeaseName, peerLeaseName, shardIdFromHostname } from '../../src/sharding/index.js';
import { groupLabelValue, isDNSLabel } from '../../src/sharding/names.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function valid(name: string): void {
  expect(name.length, name).to.be.at.most(63);
  expect(name, name).to.match(DNS_LABEL);
}

describe('sharding: names', () => {
  it('cleans a hostname into a DNS label', () => {
    expect(shardIdFromHostname('controller-0')).to.equal('controller-0');
    expect(shardIdFromHostname('Worker_1.Example.COM')).to.equal('worker-1-example-com');
    expect(shardIdFromHostname('--x--')).to.equal('x');
    const long = `${'a'.repeat(70)}.example`;
    const id = shardIdFromHostname(long);
    valid(id);
    expect(id.startsWith('aaaa')).to.equal(true);
    // Two long hostnames with the same first 63 characters stay distinct.
    expect(shardIdFromHostname(`${'a'.repeat(70)}.other`)).to.not.equal(id);
    valid(shardIdFromHostname('___'));
    valid(shardIdFromHostname(''));
  });

  it('recognises DNS labels', () => {
    expect(isDNSLabel('a-0')).to.equal(true);
    expect(isDNSLabel('A')).to.equal(false);
    expect(isDNSLabel('-a')).to.equal(false);
    expect(isDNSLabel('a-')).to.equal(false);
    expect(isDNSLabel('a'.repeat(64))).to.equal(false);
  });

  it('names a fence readably and within 63 characters', () => {
    const n = fenceLeaseName('kcp-mc-widgets', '2x8tv6kyjsyxqpl1');
    valid(n);
    expect(n).to.match(/^kcp-mc-widgets-fence-2x8tv6kyjsyxqpl1-[0-9a-f]{16}$/);
    for (const cluster of ['a'.repeat(300), 'root:org:team-a', 'Ünïcode!', ':::', '']) valid(fenceLeaseName('kcp-mc-widgets', cluster));
    valid(fenceLeaseName('g'.repeat(200), 'c'.repeat(200)));
  });

  it('never gives two clusters (or two groups) the same fence, even when their readable parts agree', () => {
    const clusters = ['root:a', 'root-a', 'Root-A', 'root_a', 'root.a', `${'x'.repeat(80)}1`, `${'x'.repeat(80)}2`];
    const names = new Set(clusters.map((c) => fenceLeaseName('g', c)));
    expect(names.size).to.equal(clusters.length);
    expect(fenceLeaseName('a-b', 'c')).to.not.equal(fenceLeaseName('a', 'b-c'));
    // The readable parts of these agree; only the hash tells them apart.
    expect(fenceLeaseName('g', 'root:a').slice(0, -17)).to.equal(fenceLeaseName('g', 'root-a').slice(0, -17));
  });

  it('names a peer Lease after the group and the id, distinct from every fence', () => {
    const n = peerLeaseName('kcp-mc-widgets', 'replica-0');
    valid(n);
    expect(n).to.match(/^kcp-mc-widgets-replica-0-[0-9a-f]{16}$/);
    expect(peerLeaseName('a-b', 'c')).to.not.equal(peerLeaseName('a', 'b-c'));
    expect(peerLeaseName('g', 'fence-x')).to.not.equal(fenceLeaseName('g', 'x'));
    valid(peerLeaseName('g'.repeat(100), 'r'.repeat(63)));
  });

  it('uses the group as its label value when it is one, else a bounded hashed form', () => {
    expect(groupLabelValue('kcp-mc-widgets')).to.equal('kcp-mc-widgets');
    expect(groupLabelValue('My.Group_1')).to.equal('My.Group_1');
    const long = groupLabelValue('g'.repeat(100));
    valid(long);
    expect(groupLabelValue('g'.repeat(100))).to.not.equal(groupLabelValue(`${'g'.repeat(99)}h`));
    valid(groupLabelValue('bad/value'));
  });
});
