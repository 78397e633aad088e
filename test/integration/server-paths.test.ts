/** Cluster addressing: canonical paths, names, and paths that start at a cluster name. */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { raw, start } from '../support/server.js';

describe('reference server: cluster paths', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await start();
    srv.createLogicalCluster('orgcluster01', { path: 'root:org' });
    srv.createLogicalCluster('teamcluster01', { path: 'root:org:team' });
  });
  after(() => srv.stop());

  const clusterOf = async (x: string) => {
    const r = await raw(srv, 'GET', `/clusters/${x}/api/v1/namespaces/default`);
    return r.status === 200 ? (r.json['metadata'] as { annotations: Record<string, string> }).annotations['kcp.io/cluster'] : r.status;
  };

  it('reaches a cluster by canonical path, by name, and by a path that starts at a cluster name', async () => {
    expect(await clusterOf('root:org:team')).to.equal('teamcluster01');
    expect(await clusterOf('teamcluster01')).to.equal('teamcluster01');
    expect(await clusterOf('orgcluster01:team')).to.equal('teamcluster01');
    expect(await clusterOf('orgcluster01')).to.equal('orgcluster01');
  });

  it('answers 404 for an unresolvable path and 403 for an unknown name', async () => {
    expect(await clusterOf('root:org:nope')).to.equal(404);
    expect(await clusterOf('nocluster:team')).to.equal(404);
    expect(await clusterOf('nocluster')).to.equal(403);
  });
});
