/** `kcp-mc watch` reports the progress of a long initial sync on stderr, then the synced state. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { runWatch } from '../../src/cli/watch.js';
import { eventually } from '../support/server.js';

const PAGES = 3;
const PER_PAGE = 200;

/** Discovery for configmaps, and a list served in slow pages; watches stay open and silent. */
function slowServer(): http.Server {
  const send = (res: http.ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname.replace(/^\/clusters\/[^/]+/, '');
    if (p === '/api') return send(res, { kind: 'APIVersions', versions: ['v1'] });
    if (p === '/apis') return send(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (p === '/api/v1') return send(res, { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['list', 'watch'], shortNames: ['cm'] }] });
    if (p !== '/api/v1/configmaps') return void res.writeHead(404).end();
    if (url.searchParams.get('watch') === 'true') return void res.writeHead(200, { 'Content-Type': 'application/json' });
    const page = Number(url.searchParams.get('continue') || '0');
    const items = Array.from({ length: PER_PAGE }, (_, i) => ({
      metadata: { name: `cm-${page}-${i}`, namespace: 'default', resourceVersion: '5', annotations: { 'kcp.io/cluster': 'c1' } },
    }));
    // Each page after the first takes a while: the sync spans several progress intervals.
    setTimeout(() => send(res, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '10', continue: page + 1 < PAGES ? String(page + 1) : undefined }, items }), page === 0 ? 0 : 300);
  });
}

describe('kcp-mc watch: progress of a long initial sync', function () {
  this.timeout(20_000);

  it('reports how many objects it has so far while listing, then the synced total', async () => {
    const srv = slowServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-watch-progress-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    const server = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/clusters/*`;
    fs.writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`,
    );
    const ctrl = new AbortController();
    let out = '';
    let err = '';
    const running = runWatch('cm', { kubeconfig, progressIntervalMs: 50 }, { out: (s) => (out += s), err: (s) => (err += s), signal: ctrl.signal });
    try {
      await eventually(() => /synced, 600 configmaps/.test(err), 'synced', 15_000);
      const progress = [...err.matchAll(/listing, (\d+) configmaps so far/g)].map((m) => Number(m[1]));
      expect(progress.length, err).to.be.greaterThan(0);
      expect(progress.every((n) => n > 0 && n < PAGES * PER_PAGE)).to.equal(true);
      expect(out.trim().split('\n')).to.have.length(PAGES * PER_PAGE);
    } finally {
      ctrl.abort();
      await running;
      srv.closeAllConnections();
      srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
