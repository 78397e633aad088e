/**
 * `kcp-mc run` with a module that exports its own `provider(kubeconfig, { log, eventSource,
 * endpointSlice })`: it gets the run's event source and the slice (optional then), and a provider
 * that throws is a usage error (exit 2, one line).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { kcpMcRun } from '../support/example-process.js';
import { start } from '../support/server.js';

describe('kcp-mc run: a module with its own provider (e2e)', function () {
  this.timeout(60_000);
  let dir: string;
  let srv: RunningServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-provider-'));
    srv = await start();
  });
  after(async () => {
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hands the provider function the event source and the slice, which is optional; a provider that throws exits 2', async () => {
    const mod = path.join(dir, 'own-provider.mjs');
    fs.writeFileSync(
      mod,
      `export default function setup() {}
export function provider(kubeconfig, ctx) {
  throw new Error('provider called: ' + JSON.stringify({ eventSource: ctx.eventSource, endpointSlice: ctx.endpointSlice ?? null, logs: typeof ctx.log.info, server: kubeconfig.getCurrentCluster().server }));
}
`,
    );
    for (const [extra, slice] of [[[], null], [['--endpointslice', 'mine'], 'mine']] as const) {
      const r = kcpMcRun([mod, '--kubeconfig', srv.kubeconfigPath, ...extra]);
      expect(await r.exited).to.equal(2);
      const m = /^kcp-mc run: the provider of .*own-provider\.mjs failed: provider called: (\{.*\})$/m.exec(r.err);
      expect(m, r.err).to.not.equal(null);
      expect(JSON.parse(m![1]!)).to.deep.equal({ eventSource: 'own-provider', endpointSlice: slice, logs: 'function', server: `${srv.url}/clusters/root` });
    }
  });
});
