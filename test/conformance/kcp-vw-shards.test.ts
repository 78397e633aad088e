/**
 * The APIExport virtual workspace across shards (kcp-wire §3.3, §3.6, §6, items 59 and 66): each
 * shard's VW serves that shard's logical clusters only, in that shard's resourceVersion space, so a
 * provider must watch every endpoint URL to see every cluster.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { bindingTo, cowboysExport, cowboysSchema, inCluster as clusterFlags, kubectlFor } from '../support/kubectl.js';
import { eventually, raw, serves, start, WatchStream } from '../support/server.js';

const COWBOYS = '/apis/wildwest.dev/v1alpha1';

const PROVIDER = `${cowboysSchema(`  - {name: v1alpha1, served: true, storage: true, schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`)}---
${cowboysExport('wildwest')}`;

const BINDING = bindingTo('root:shards-provider', 'wildwest');

describe('conformance: APIExport virtual workspace on two shards', () => {
  let srv: RunningServer;
  let cacheDir: string;
  let provider: string;
  /** Bound clusters on shard 0 and shard 1. */
  let a: string;
  let b: string;
  const on = (i: number): RunningServer => ({ ...srv, url: srv.shardURLs[i]! });

  const { kubectl } = kubectlFor(() => ({ srv, cacheDir }));
  const inCluster = (c: string) => clusterFlags(srv, c);

  before(async function () {
    srv = await start({ shards: 2 });
    if (!(await serves(srv, 'apis.kcp.io/v1alpha2', 'apiexports', 'apibindings'))) {
      // The apis.kcp.io layer is separate; these run once it serves exports and bindings.
      await srv.stop();
      this.skip();
    }
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-vw-kubectl-'));
    provider = srv.createLogicalCluster(undefined, { path: 'root:shards-provider', shard: 0 });
    a = srv.createLogicalCluster(undefined, { path: 'root:shards-a', shard: 0 });
    b = srv.createLogicalCluster(undefined, { path: 'root:shards-b', shard: 1 });
    await kubectl([...inCluster(provider), 'apply', '-f', '-'], PROVIDER);
    await eventually(async () => {
      const e = JSON.parse(await kubectl([...inCluster(provider), 'get', 'apiexport', 'wildwest', '-o', 'json'])) as { status?: { identityHash?: string } };
      return !!e.status?.identityHash;
    }, 'the export identity');
    for (const c of [a, b]) {
      await kubectl([...inCluster(c), 'apply', '-f', '-'], BINDING);
      await eventually(async () => {
        const x = JSON.parse(await kubectl([...inCluster(c), 'get', 'apibinding', 'wildwest', '-o', 'json'])) as { status?: { phase?: string } };
        return x.status?.phase === 'Bound';
      }, `the binding in ${c}`);
      await kubectl([...inCluster(c), 'apply', '-f', '-'], `apiVersion: wildwest.dev/v1alpha1\nkind: Cowboy\nmetadata: {name: cowboy-${c}, namespace: default}\n`);
    }
  });
  after(async () => {
    await srv?.stop();
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('publishes one endpoint URL per shard with bindings; each serves only its own shard\'s clusters', async () => {
    const urls = await eventually(async () => {
      const s = JSON.parse(await kubectl([...inCluster(provider), 'get', 'apiexportendpointslice', 'wildwest', '-o', 'json'])) as { status?: { endpoints?: { url: string }[] } };
      const u = (s.status?.endpoints ?? []).map((e) => e.url);
      return u.length === 2 ? u : undefined;
    }, 'two endpoint URLs');
    expect(urls).to.have.members(srv.shardURLs.map((u) => `${u}/services/apiexport/${provider}/wildwest`));
    for (const [i, mine, theirs] of [
      [0, a, b],
      [1, b, a],
    ] as const) {
      const p = new URL(urls!.find((u) => u.startsWith(srv.shardURLs[i]!))!).pathname;
      const list = await raw(on(i), 'GET', `${p}/clusters/%2A${COWBOYS}/cowboys`);
      expect(list.status).to.equal(200);
      const clusters = (list.json['items'] as { metadata: { annotations: Record<string, string> } }[]).map((x) => x.metadata.annotations['kcp.io/cluster']);
      expect(clusters).to.deep.equal([mine]);
      // One resourceVersion space per shard.
      expect(Number((list.json['metadata'] as { resourceVersion: string }).resourceVersion)).to.equal(srv.resourceVersion(i));
      const bindings = await raw(on(i), 'GET', `${p}/clusters/%2A/apis/apis.kcp.io/v1alpha1/apibindings`);
      expect((bindings.json['items'] as { metadata: { annotations: Record<string, string> } }[]).map((x) => x.metadata.annotations['kcp.io/cluster'])).to.deep.equal([mine]);
      // A cluster of the other shard is not reachable through this shard's VW.
      expect((await raw(on(i), 'GET', `${p}/clusters/${theirs}${COWBOYS}/cowboys`)).status).to.equal(403);
      expect((await raw(on(i), 'GET', `${p}/clusters/${mine}${COWBOYS}/cowboys`)).status).to.equal(200);
    }
  });

  it('a watch on one shard sees only that shard\'s changes', async () => {
    const base = `/services/apiexport/${provider}/wildwest/clusters/%2A${COWBOYS}/cowboys?watch=1`;
    const w0 = new WatchStream(on(0), `${base}&resourceVersion=${srv.resourceVersion(0)}`);
    const w1 = new WatchStream(on(1), `${base}&resourceVersion=${srv.resourceVersion(1)}`);
    await raw(srv, 'POST', `/clusters/${b}${COWBOYS}/namespaces/default/cowboys`, { metadata: { name: 'late' } });
    const ev = await eventually(() => w1.of('ADDED', 'late')[0], 'ADDED on shard 1');
    expect(ev!.object.metadata.annotations['kcp.io/cluster']).to.equal(b);
    await new Promise((r) => setTimeout(r, 200));
    expect(w0.events).to.deep.equal([]);
    await w0.close();
    await w1.close();
  });

  it('a shard without bindings to the export answers an empty list and a silent watch', async () => {
    await kubectl([...inCluster(provider), 'apply', '-f', '-'], cowboysExport('lonely'));
    const vw = `/services/apiexport/${provider}/lonely/clusters/%2A${COWBOYS}/cowboys`;
    const list = await eventually(async () => {
      const r = await raw(on(1), 'GET', vw);
      return r.status === 200 ? r : undefined;
    }, 'the lonely export to be served');
    expect(list!.json['items']).to.deep.equal([]);
    const w = new WatchStream(on(1), `${vw}?watch=1`);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.status).to.equal(200);
    expect(w.events).to.deep.equal([]);
    await w.close();
  });
});
