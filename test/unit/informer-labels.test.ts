/** Client-side label selectors, cluster resolution and the kcp.io/cluster annotation. */
import { expect } from 'chai';
import { ClusterResolver, urlCluster } from '../../src/informer/cluster.js';
import { matchesLabels, parseLabelSelector } from '../../src/informer/labels.js';
import type { LogEntry } from '../../src/informer/log.js';

describe('informer: label selectors', () => {
  const m = (sel: string, labels: Record<string, string> | undefined) => matchesLabels(parseLabelSelector(sel), labels);

  it('supports =, ==, !=, in, notin, exists and !exists, ANDed by commas', () => {
    expect(m('', undefined)).to.equal(true);
    expect(m('a=1', { a: '1' })).to.equal(true);
    expect(m('a==1', { a: '2' })).to.equal(false);
    expect(m('a!=1', {})).to.equal(true);
    expect(m('a!=1', { a: '1' })).to.equal(false);
    expect(m('a in (1, 2)', { a: '2' })).to.equal(true);
    expect(m('a notin (1,2)', { a: '3' })).to.equal(true);
    expect(m('a notin (1,2)', {})).to.equal(true);
    expect(m('a', { a: '' })).to.equal(true);
    expect(m('!a', { a: '' })).to.equal(false);
    expect(m('example.dev/tier=front,app in (web),!legacy', { 'example.dev/tier': 'front', app: 'web' })).to.equal(true);
    expect(m('a=', { a: '' })).to.equal(true);
  });

  it('rejects malformed selectors with the selector in the message', () => {
    for (const bad of ['a in (1', 'a,,b', '=x', 'a b', 'a=b c', 'Inv@lid=1']) expect(() => parseLabelSelector(bad), bad).to.throw(/invalid label selector/);
  });
});

describe('informer: clusters of objects', () => {
  it('reads the last /clusters/<x> segment of a base URL', () => {
    expect(urlCluster('https://h:6443/clusters/*')).to.deep.equal({ wildcard: true, cluster: '' });
    expect(urlCluster('https://h/services/apiexport/root:org/widgets/clusters/*')).to.deep.equal({ wildcard: true, cluster: '' });
    expect(urlCluster('https://h/clusters/root:org')).to.deep.equal({ wildcard: false, cluster: 'root:org' });
    expect(urlCluster('https://h/clusters/abc/')).to.deep.equal({ wildcard: false, cluster: 'abc' });
    expect(urlCluster('https://h')).to.deep.equal({ wildcard: false, cluster: '' });
  });

  it('on a wildcard endpoint, skips objects without kcp.io/cluster and logs each once, as JSON-ready entries', () => {
    const logged: LogEntry[] = [];
    const r = new ClusterResolver({ wildcard: true, cluster: '' }, (e) => logged.push(e), { server: 'x' });
    const bare = { metadata: { name: 'n', namespace: 'ns' } };
    expect(r.clusterOf(bare)).to.equal(undefined);
    expect(r.clusterOf(bare)).to.equal(undefined);
    expect(r.clusterOf({ metadata: { name: 'n', annotations: { 'kcp.io/cluster': 'c1' } } })).to.equal('c1');
    expect(logged).to.have.length(1);
    expect(logged[0]).to.include({ level: 'warn', name: 'n', namespace: 'ns', server: 'x' });
    expect(() => JSON.stringify(logged[0])).not.to.throw();
    expect(r.skipped).to.equal(2);
  });

  it('stops remembering after a bound, with one summary line', () => {
    const logged: LogEntry[] = [];
    const r = new ClusterResolver({ wildcard: true, cluster: '' }, (e) => logged.push(e));
    for (let i = 0; i < 1500; i++) r.clusterOf({ metadata: { name: `n${i}` } });
    expect(logged).to.have.length(1001);
  });

  it('on a single-cluster URL, falls back to the URL when the annotation is missing', () => {
    const r = new ClusterResolver({ wildcard: false, cluster: 'root:org' }, () => expect.fail('no log'));
    expect(r.clusterOf({ metadata: { name: 'n' } })).to.equal('root:org');
    expect(r.clusterOf({ metadata: { name: 'n', annotations: { 'kcp.io/cluster': 'abc' } } })).to.equal('abc');
  });
});
