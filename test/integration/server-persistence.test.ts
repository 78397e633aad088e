/** --data-dir: state, resourceVersion and token survive a restart; watchers resume across it. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { eventually, kubeConfigFor, request, start, WatchStream } from '../support/server.js';

describe('reference server: --data-dir', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-data-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps objects, the resourceVersion counter and the admin token across a restart', async () => {
    const first = await start({ dataDir: dir });
    const core = kubeConfigFor(first).makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept' }, data: { a: '1' } } });
    const team = first.createLogicalCluster('team1', { path: 'root:team' });
    await kubeConfigFor(first, 'root:team').makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'in-team' } } });
    const rv = first.resourceVersion();
    const token = first.token;
    const port = first.port;
    await first.stop();

    const second = await start({ dataDir: dir, port });
    try {
      expect(second.token).to.equal(token);
      expect(second.resourceVersion()).to.equal(rv);
      const core2 = kubeConfigFor(second).makeApiClient(CoreV1Api);
      expect((await core2.readNamespacedConfigMap({ namespace: 'default', name: 'kept' })).data).to.deep.equal({ a: '1' });
      const created = await core2.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after' } } });
      expect(Number(created.metadata!.resourceVersion)).to.be.greaterThan(rv);
      const inTeam = await kubeConfigFor(second, 'root:team').makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'default', name: 'in-team' });
      expect(inTeam.metadata?.annotations?.['kcp.io/cluster']).to.equal(team);
    } finally {
      await second.stop();
    }
  });

  it('lets a watcher resume from a resourceVersion taken before the restart', async () => {
    const first = await start({ dataDir: dir });
    const core = kubeConfigFor(first).makeApiClient(CoreV1Api);
    const rv = first.resourceVersion();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'while-away' } } });
    const port = first.port;
    await first.stop();
    const second = await start({ dataDir: dir, port });
    try {
      const w = new WatchStream(second, `/clusters/root/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`);
      await eventually(() => w.of('ADDED', 'while-away').length === 1, 'event replayed after restart');
      await w.close();
    } finally {
      await second.stop();
    }
  });

  it('survives kill -9 of a server process in the middle of writes', async function () {
    this.timeout(60_000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-root-'));
    const cli = path.resolve('dist/src/cli/main.js');
    const proc = spawn(process.execPath, [cli, 'server', '--port', '0', '--root-dir', root, '--data-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ready = await eventually(() => /port (\d+)\)/.exec(out), 'server ready', 20_000);
    const port = Number(ready![1]);
    const token = fs.readFileSync(path.join(dir, 'admin-token'), 'utf8').trim();
    const ca = fs.readFileSync(path.join(dir, 'apiserver.crt'), 'utf8');
    const acked: string[] = [];
    const writer = (async () => {
      for (let i = 0; i < 2000; i++) {
        const r = await request({ url: `https://127.0.0.1:${port}`, ca }, 'POST', '/clusters/root/api/v1/namespaces/default/configmaps', {
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ metadata: { name: `k-${i}` } }),
        }).catch(() => undefined);
        r?.resume();
        if (!r || r.statusCode !== 201) break;
        acked.push(`k-${i}`);
      }
    })();
    await eventually(() => acked.length >= 50, 'some writes acknowledged', 20_000);
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await writer;
    await exited;
    const again = await start({ dataDir: dir });
    try {
      const core = kubeConfigFor(again).makeApiClient(CoreV1Api);
      const names = new Set((await core.listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata!.name!));
      for (const n of acked) expect(names.has(n), n).to.equal(true);
    } finally {
      await again.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
