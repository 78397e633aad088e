/**
 * Tenancy across restarts with a data directory: the bootstrap is idempotent, shard URLs (new
 * ports) are refreshed in Shard objects, Workspace `spec.URL` and LogicalCluster `status.URL`, and
 * a workspace left initializing carries on after the restart.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, raw, start } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

describe('reference server: tenancy across restarts (two shards, --data-dir)', function () {
  this.timeout(60_000);
  let dir: string;
  let srv: RunningServer | undefined;

  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-tenancy-restart-'))));
  after(async () => {
    await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function workspace(s: RunningServer, name: string): Promise<Obj> {
    return (await raw(s, 'GET', `/clusters/root${WS}/${name}`)).json as Obj;
  }

  it('keeps workspaces, refreshes URLs and does not duplicate the bootstrap', async () => {
    const first = await start({ shards: 2, dataDir: dir });
    srv = first;
    const post = (body: Obj) => raw(first, 'POST', `/clusters/root${WS}`, body);
    expect((await raw(first, 'POST', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes', { metadata: { name: 'gated' }, spec: { initializer: true } })).status).to.equal(201);
    expect((await post({ metadata: { name: 'far' }, spec: { location: { selector: { matchLabels: { name: 'shard-1' } } } } })).status).to.equal(201);
    expect((await post({ metadata: { name: 'waiting' }, spec: { type: { name: 'gated' }, location: { selector: { matchLabels: { name: 'shard-1' } } } } })).status).to.equal(201);
    await eventually(async () => (await workspace(first, 'far'))['status']?.phase === 'Ready', 'far Ready');
    await eventually(async () => (await workspace(first, 'waiting'))['status']?.phase === 'Initializing', 'waiting Initializing');
    const cluster = (await workspace(first, 'far'))['spec'].cluster as string;
    const waiting = (await workspace(first, 'waiting'))['spec'].cluster as string;
    await first.stop();
    srv = undefined;

    const second = await start({ shards: 2, dataDir: dir });
    srv = second;
    expect(second.shardURLs[1]).to.not.equal(first.shardURLs[1]);
    const types = (await raw(second, 'GET', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes')).json['items'] as Obj[];
    expect(types.map((t) => t['metadata'].name)).to.deep.equal(['gated', 'organization', 'root', 'team', 'universal']);
    const shards = (await raw(second, 'GET', '/clusters/root/apis/core.kcp.io/v1alpha1/shards')).json['items'] as Obj[];
    expect(shards.map((s) => s['spec'].baseURL)).to.deep.equal([...second.shardURLs]);
    const far = await eventually(async () => {
      const w = await workspace(second, 'far');
      return w['spec'].URL === `${second.shardURLs[1]}/clusters/root:far` ? w : undefined;
    }, 'spec.URL on the new port');
    expect(far!['status'].phase).to.equal('Ready');
    const lc = await eventually(async () => {
      const l = (await raw(second, 'GET', `/clusters/root:far/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
      return l['status']?.URL === `${second.shardURLs[1]}/clusters/${cluster}` ? l : undefined;
    }, 'status.URL on the new port');
    expect(lc!['metadata'].annotations['kcp.io/cluster']).to.equal(cluster);
    const wt = await eventually(async () => {
      const t = (await raw(second, 'GET', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes/gated')).json as Obj;
      return (t['status']?.virtualWorkspaces as Obj[] | undefined)?.some((v) => String(v['url']).startsWith(second.shardURLs[1]!)) ? t : undefined;
    }, 'virtual workspace URLs on the new ports');
    expect(wt!['status'].virtualWorkspaces).to.have.length(4);

    // The workspace left Initializing goes on once its initializer is removed.
    const r = await raw(second, 'PATCH', `/clusters/${waiting}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster/status`, { status: { initializers: [] } }, MERGE);
    expect(r.status, r.text).to.equal(200);
    await eventually(async () => (await workspace(second, 'waiting'))['status']?.phase === 'Ready', 'waiting Ready after restart');
    // And new workspaces still work.
    expect((await raw(second, 'POST', `/clusters/root${WS}`, { metadata: { name: 'after' } })).status).to.equal(201);
    await eventually(async () => (await workspace(second, 'after'))['status']?.phase === 'Ready', 'after Ready');
    await second.stop();
    srv = undefined;

    // Fewer shards: the missing shard's Shard object and URLs go away.
    const third = await start({ shards: 1, dataDir: dir });
    srv = third;
    const left = (await raw(third, 'GET', '/clusters/root/apis/core.kcp.io/v1alpha1/shards')).json['items'] as Obj[];
    expect(left.map((s) => s['metadata'].name)).to.deep.equal(['root']);
    await eventually(async () => {
      const t = (await raw(third, 'GET', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes/gated')).json as Obj;
      return (t['status']?.virtualWorkspaces as Obj[] | undefined)?.length === 2;
    }, 'one shard of virtual workspace URLs');
  });
});
