/**
 * Several shards (kcp-wire §6, item 66): Shard objects, new logical clusters spread over the
 * shards matching `spec.location.selector`, `/clusters/<path|name>` answered on every port, and
 * wildcard lists that only show the shard's own clusters — so a controller must watch every shard.
 */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, raw, start, WatchStream } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const LC = '/apis/core.kcp.io/v1alpha1/logicalclusters';

/** The same server seen through one shard's port. */
function via(srv: RunningServer, i: number): RunningServer {
  return { ...srv, url: srv.shardURLs[i]! };
}

describe('reference server: two shards', function () {
  this.timeout(60_000);
  let srv: RunningServer;

  before(async () => {
    srv = await start({ shards: 2 });
  });
  after(() => srv.stop());

  async function createWorkspace(name: string, spec: Obj = {}): Promise<Obj> {
    const r = await raw(srv, 'POST', `/clusters/root${WS}`, { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec });
    expect(r.status, r.text).to.equal(201);
    const ws = await eventually(async () => {
      const g = await raw(srv, 'GET', `/clusters/root${WS}/${name}`);
      return (g.json['status'] as Obj | undefined)?.['phase'] === 'Ready' ? g.json : undefined;
    }, `${name} Ready`);
    return ws as Obj;
  }

  it('has one Shard object per shard, with its own URLs and name label', async () => {
    expect(srv.shardURLs).to.have.length(2);
    expect(srv.shardURLs[0]).to.equal(srv.url);
    const shards = (await raw(srv, 'GET', '/clusters/root/apis/core.kcp.io/v1alpha1/shards')).json['items'] as Obj[];
    expect(shards.map((s) => [s['metadata'].name, s['metadata'].labels.name, s['spec'].baseURL, s['spec'].virtualWorkspaceURL])).to.deep.equal([
      ['root', 'root', srv.shardURLs[0], srv.shardURLs[0]],
      ['shard-1', 'shard-1', srv.shardURLs[1], srv.shardURLs[1]],
    ]);
    // Shards are a root-only resource.
    const other = await createWorkspace('no-shards-here');
    expect((await raw(srv, 'GET', `/clusters/${other['spec'].cluster}/apis/core.kcp.io/v1alpha1/shards`)).status).to.equal(404);
  });

  it('spreads new logical clusters across shards; each wildcard list shows only its own shard; paths work on every port', async () => {
    const placed = new Map<string, string>();
    for (let i = 0; i < 40 && new Set(placed.values()).size < 2; i++) {
      const ws = await createWorkspace(`spread-${i}`);
      placed.set(ws['spec'].cluster, ws['metadata'].annotations['core.kcp.io/shard']);
      expect(ws['spec'].URL).to.equal(`${ws['metadata'].annotations['core.kcp.io/shard'] === 'root' ? srv.shardURLs[0] : srv.shardURLs[1]}/clusters/root:spread-${i}`);
    }
    expect(new Set(placed.values())).to.deep.equal(new Set(['root', 'shard-1']));

    const seen: string[][] = [];
    for (const [i, name] of [[0, 'root'], [1, 'shard-1']] as const) {
      const list = await raw(via(srv, i), 'GET', `/clusters/*${LC}`);
      expect(list.status).to.equal(200);
      const clusters = (list.json['items'] as Obj[]).map((o) => o['metadata'].annotations['kcp.io/cluster'] as string);
      seen.push(clusters);
      for (const [cluster, shard] of placed) expect(clusters.includes(cluster), `${cluster} on ${name}`).to.equal(shard === name);
      for (const item of list.json['items'] as Obj[]) {
        if (item['metadata'].annotations['kcp.io/cluster'] !== 'root') expect(item['metadata'].annotations['core.kcp.io/shard']).to.equal(name);
        expect(item['status'].URL).to.equal(`${srv.shardURLs[i]}/clusters/${item['metadata'].annotations['kcp.io/cluster']}`);
      }
    }
    // Every cluster is on exactly one shard; only the union of both lists sees them all.
    expect(seen[0]!.filter((c) => seen[1]!.includes(c))).to.deep.equal([]);
    expect([...placed.keys()].every((c) => seen[0]!.includes(c) || seen[1]!.includes(c))).to.equal(true);

    for (const cluster of placed.keys()) {
      const path = [...(await raw(srv, 'GET', `/clusters/root${WS}`)).json['items'] as Obj[]].find((w) => w['spec'].cluster === cluster)!['metadata'].name;
      for (const i of [0, 1]) {
        const byPath = await raw(via(srv, i), 'GET', `/clusters/root:${path}/api/v1/namespaces/default`);
        expect(byPath.status, `root:${path} via shard ${i}`).to.equal(200);
        expect((byPath.json['metadata'] as Obj)['annotations']['kcp.io/cluster']).to.equal(cluster);
        expect((await raw(via(srv, i), 'GET', `/clusters/${cluster}/api/v1/namespaces/default`)).status).to.equal(200);
      }
    }
  });

  it('needs one watch per shard: a wildcard watch sees the ConfigMaps of its own shard only', async () => {
    const watches = srv.shardURLs.map((_, i) => new WatchStream(via(srv, i), `/clusters/*/api/v1/configmaps?watch=1&resourceVersion=${srv.resourceVersion(i)}`));
    try {
      const a = await createWorkspace('watched-a', { location: { selector: { matchLabels: { name: 'root' } } } });
      const b = await createWorkspace('watched-b', { location: { selector: { matchLabels: { name: 'shard-1' } } } });
      expect(a['metadata'].annotations['core.kcp.io/shard']).to.equal('root');
      expect(b['metadata'].annotations['core.kcp.io/shard']).to.equal('shard-1');
      const clusterOf = (e: Obj) => e['object'].metadata.annotations['kcp.io/cluster'];
      await eventually(() => watches[0]!.events.some((e) => clusterOf(e) === a['spec'].cluster), 'shard root sees a');
      await eventually(() => watches[1]!.events.some((e) => clusterOf(e) === b['spec'].cluster), 'shard-1 sees b');
      expect(watches[0]!.events.some((e) => clusterOf(e) === b['spec'].cluster)).to.equal(false);
      expect(watches[1]!.events.some((e) => clusterOf(e) === a['spec'].cluster)).to.equal(false);
    } finally {
      await Promise.all(watches.map((w) => w.close()));
    }
  });

  it('leaves a workspace whose selector matches no shard unscheduled, with a condition saying so', async () => {
    const r = await raw(srv, 'POST', `/clusters/root${WS}`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'Workspace',
      metadata: { name: 'nowhere' },
      spec: { location: { selector: { matchLabels: { name: 'mars' } } } },
    });
    expect(r.status).to.equal(201);
    const ws = await eventually(async () => {
      const g = (await raw(srv, 'GET', `/clusters/root${WS}/nowhere`)).json as Obj;
      return g['status']?.conditions ? g : undefined;
    }, 'scheduling condition');
    expect(ws!['status'].phase).to.equal('Scheduling');
    expect(ws!['status'].conditions[0]).to.include({ type: 'WorkspaceScheduled', status: 'False', reason: 'Unschedulable' });
    expect(ws!['spec'].cluster).to.equal(undefined);
  });

  it('deletes a workspace whose logical cluster lives on the other shard', async () => {
    const ws = await createWorkspace('far', { location: { selector: { matchLabels: { name: 'shard-1' } } } });
    const cluster = ws['spec'].cluster as string;
    expect((await raw(srv, 'DELETE', `/clusters/root${WS}/far`)).status).to.equal(200);
    await eventually(async () => (await raw(srv, 'GET', `/clusters/root${WS}/far`)).status === 404, 'workspace gone');
    const left = (await raw(via(srv, 1), 'GET', '/clusters/*/api/v1/configmaps')).json['items'] as Obj[];
    expect(left.filter((o) => o['metadata'].annotations['kcp.io/cluster'] === cluster)).to.deep.equal([]);
    expect((await raw(srv, 'GET', `/clusters/${cluster}/api/v1/namespaces`)).status).to.equal(403);
  });
});
