/**
 * An APIExportEndpointSlice across a restart on a data directory: shards listen on new ports, and
 * the slice lists each bound shard's new URL and none of the old ones (a controller that kept a
 * dead URL would watch it for ever).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createExport, createWorkspace, sliceURLs } from '../support/kcp.js';
import { eventually, start } from '../support/server.js';

describe('reference server: endpoint slice URLs across a restart (two shards, --data-dir)', function () {
  this.timeout(60_000);
  let dir: string;
  let srv: RunningServer | undefined;

  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-slice-restart-'))));
  after(async () => {
    await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("replaces a restarted shard's old endpoint URL with its new one", async () => {
    const first = await start({ shards: 2, dataDir: dir });
    srv = first;
    await createWorkspace(first, 'root', 'provider');
    await createExport(first, 'root:provider', 'things');
    await createWorkspace(first, 'root', 'far', { location: { selector: { matchLabels: { name: 'shard-1' } } } });
    await bind(first, 'root:far', 'root:provider', 'things');
    const before = await eventually(async () => {
      const urls = await sliceURLs(first, 'root:provider', 'things');
      return urls.length === 1 ? urls : undefined;
    }, 'the slice lists shard-1');
    expect(before![0]).to.match(new RegExp(`^${first.shardURLs[1]}/services/apiexport/`));
    await first.stop();
    srv = undefined;

    const second = await start({ shards: 2, dataDir: dir });
    srv = second;
    expect(second.shardURLs[1]).to.not.equal(first.shardURLs[1]);
    const after = await eventually(async () => {
      const urls = await sliceURLs(second, 'root:provider', 'things');
      return urls.some((u) => u.startsWith(`${second.shardURLs[1]}/`)) ? urls : undefined;
    }, "the slice lists shard-1's new URL");
    expect(after!).to.have.length(1);
    expect(after![0]).to.match(new RegExp(`^${second.shardURLs[1]}/services/apiexport/`));
  });
});
