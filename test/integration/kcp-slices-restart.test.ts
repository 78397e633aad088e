/**
 * Endpoint slices across a restart on a data directory: shard ports change, and every slice lists
 * the shards' current virtual-workspace URLs only, not the ones of the previous run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { startTestEnvironment, type TestEnvironment } from '../../src/testing/index.js';
import { eventually, raw } from '../support/server.js';
import { exportWithTenants } from '../support/shard-tenants.js';

describe('reference server: endpoint slices across a restart (two shards, --data-dir)', function () {
  this.timeout(60_000);
  let dir: string;
  let env: TestEnvironment | undefined;

  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-slices-restart-'))));
  after(async () => {
    await env?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("replaces the previous run's endpoint URLs with the new ports'", async () => {
    env = await startTestEnvironment({ server: { shards: 2, dataDir: dir } });
    await exportWithTenants(env, [['a', 'root'], ['b', 'shard-1']]);
    const before = await env.virtualWorkspace('root:provider', 'things', { endpoints: 2 });
    const exportPath = new URL(before.urls[0]!).pathname;
    await env.stop();

    env = await startTestEnvironment({ server: { shards: 2, dataDir: dir } });
    const srv = env.server;
    const want = srv.shardURLs.map((u) => `${u}${exportPath}`).sort();
    expect(want).to.not.deep.equal([...before.urls].sort());
    let last: string[] = [];
    await eventually(async () => {
      const slice = (await raw(srv, 'GET', '/clusters/root:provider/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/things')).json;
      last = ((slice['status'] as { endpoints?: { url: string }[] }).endpoints ?? []).map((e) => e.url).sort();
      return last.join() === want.join();
    }, 'endpoints on the current ports only').catch((e: Error) => {
      throw new Error(`${e.message}; endpoints: ${last.join(', ')}`);
    });
  });
});
