/**
 * Virtual-workspace addressing (kcp-wire §3.1, §4, items 57 and 64): what resolves to a virtual
 * workspace and what gets kcp's 403 "Path not resolved to a valid virtual workspace", and the 404
 * of an unknown export. These need no APIs beyond the server's own.
 */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { raw, start } from '../support/server.js';

describe('conformance: virtual workspace paths', () => {
  let srv: RunningServer;

  before(async () => {
    srv = await start();
  });
  after(() => srv.stop());

  const unresolvedPaths = [
    // A colon path is not a logical cluster name: kcp's Path.Name() fails and no VW accepts it.
    '/services/apiexport/root/some-export/clusters/root:org/api',
    '/services/apiexport/root/some-export/clusters/root:org/apis/example.dev/v1/widgets',
    // Without /clusters/<x> nothing is served, not even discovery (kcp-dev/multicluster-provider#61).
    '/services/apiexport/root/some-export/api',
    '/services/apiexport/root/some-export',
    '/services/apiexport/root',
    '/services/apiexport/root/some-export/clusters',
    '/services/apiexport/root/some-export/clusters/',
    '/services/initializingworkspaces/root:example/clusters/root:org/api',
    '/services/initializingworkspaces/root:example/api',
    '/services/initializingworkspaces/root:example',
    // An empty segment, or one that decodes to a slash, names no virtual workspace either.
    '/services/apiexport/root//clusters/*/api',
    '/services/apiexport/root/some-export/clusters//api',
    '/services/apiexport/root/some%2Fexport/clusters/*/api',
    // An unknown virtual workspace kind.
    '/services/nosuchworkspace/x/clusters/*/api',
  ];
  for (const path of unresolvedPaths) {
    it(`403 "Path not resolved to a valid virtual workspace": ${path}`, async () => {
      const r = await raw(srv, 'GET', path);
      expect(r.status).to.equal(403);
      expect(r.json['kind']).to.equal('Status');
      expect(r.json['reason']).to.equal('Forbidden');
      expect(String(r.json['message'])).to.contain('Path not resolved to a valid virtual workspace');
    });
  }

  it('a colon path is refused for writes too, before anything is read', async () => {
    const r = await raw(srv, 'POST', '/services/apiexport/root/some-export/clusters/root:org/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'x' },
    });
    expect(r.status).to.equal(403);
    expect(String(r.json['message'])).to.contain('Path not resolved to a valid virtual workspace');
  });

  it('an unknown export answers 404 for discovery and resources, on * and on a name', async () => {
    for (const x of ['*', 'root']) {
      for (const rest of ['/api', '/apis', '/api/v1/configmaps', '/apis/apis.kcp.io/v1alpha1/apibindings']) {
        const r = await raw(srv, 'GET', `/services/apiexport/root/no-such-export/clusters/${x === '*' ? '%2A' : x}${rest}`);
        expect(r.status, `${x}${rest}`).to.equal(404);
      }
    }
  });

  it('the export segment is a logical cluster name: a path there matches no export (404)', async () => {
    const r = await raw(srv, 'GET', '/services/apiexport/root:org/some-export/clusters/*/api');
    expect(r.status).to.equal(404);
  });
});
