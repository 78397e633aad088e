/**
 * A provider whose source object cannot do its job says so: a missing APIExportEndpointSlice or
 * WorkspaceType (a wrong name, or a kubeconfig on the wrong workspace) is a WARN repeated at
 * growing intervals and a readiness failure that names the object, the workspace and what to
 * check, until the object appears; a slice without endpoints is an INFO after a while, with its
 * likely cause; a kubeconfig on a virtual workspace is refused with the same loudness; an
 * unreachable kcp shows its connection error in `/readyz/provider`; and endpoints that carry kcp's
 * `shards` field work as any other.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import { APIExportProvider, InitializingWorkspacesProvider, type APIExportEndpointSlice } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, sliceURLs, type Obj } from '../support/kcp.js';
import { closedPort, recording, runManager, runWith, saw, touchSlice, type Entry } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const SLICE_API = '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices';
const HINT = "the kubeconfig must point at the provider's workspace";

/** An APIExportProvider that shows the slice as it last saw it. */
class Peeking extends APIExportProvider {
  seen(): APIExportEndpointSlice | undefined {
    return this.source() as APIExportEndpointSlice | undefined;
  }
}

/** The gaps in ms between consecutive entries. */
function gaps(entries: Entry[]): number[] {
  const t = entries.map((e) => Date.parse(e['time'] as string));
  return t.slice(1).map((v, i) => v - t[i]!);
}

describe("provider source: a wrong or missing source object is loud and not ready", function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let kc: KubeConfig;
  let tenant: string;

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    await createExport(srv, 'root:provider', 'things');
    tenant = await createWorkspace(srv, 'root', 'tenant');
    await bind(srv, 'root:tenant', 'root:provider', 'things');
    await createConfigMap(srv, 'root:tenant', 'hello');
    kc = kubeConfigFor(srv, 'root:provider');
  });
  after(() => srv?.stop());

  it('warns, with growing intervals, while the APIExportEndpointSlice is missing, fails /readyz/provider with the reason, and proceeds once it is created', async () => {
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'later', (m) => (rec = recording(m, 'x')), { healthProbeBindAddress: '127.0.0.1:0' }, { reportBackoff: { initialMs: 100, maxMs: 400 } });
    try {
      const warns = (): Entry[] => rt.entries.filter((e) => e.level === 'warn' && e['kind'] === 'APIExportEndpointSlice');
      await eventually(() => warns().length >= 5, 'five warnings', 15_000);
      const first = warns()[0]!;
      expect(first.msg).to.equal('APIExportEndpointSlice "later" not found in workspace root:provider');
      expect(first).to.include({ component: 'apiexport-provider', endpointSlice: 'later', name: 'later', workspace: 'root:provider', server: `${srv.url}/clusters/root:provider`, reports: 1 });
      expect(String(first['hint'])).to.contain(HINT);
      // 100, 200, 400, 400 ms apart: repeated with backoff, capped, never in a burst.
      const g = gaps(warns().slice(0, 5));
      [100, 200, 400, 400].forEach((min, i) => expect(g[i], `gap ${i}: ${g.join(', ')}`).to.be.at.least(min - 5));

      const why = rt.provider.ready();
      expect(why.ready).to.equal(false);
      expect(why.reason).to.equal(`APIExportEndpointSlice "later" not found in workspace root:provider: ${first['hint'] as string}`);
      const health = rt.manager.addresses.health!;
      const one = await fetch(`${health}/readyz/provider`);
      expect(one.status).to.equal(500);
      expect(await one.text()).to.contain('APIExportEndpointSlice "later" not found in workspace root:provider').and.contain(HINT);
      expect((await fetch(`${health}/readyz`)).status).to.equal(500);

      const made = await raw(srv, 'POST', `/clusters/root:provider${SLICE_API}`, {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIExportEndpointSlice',
        metadata: { name: 'later' },
        spec: { export: { path: 'root:provider', name: 'things' } },
      });
      expect(made.status, made.text).to.equal(201);
      await eventually(() => saw(rec.seen, tenant, 'hello'), 'the tenant reconciled through the new slice');
      await eventually(() => rt.provider.ready().ready, 'ready');
      expect((await fetch(`${health}/readyz`)).status).to.equal(200);
      expect(rt.entries.find((e) => e.msg === 'APIExportEndpointSlice "later" found in workspace root:provider')).to.include({ level: 'info' });
      // The warnings stop with the slice there: none in twice the longest interval.
      const count = warns().length;
      const since = Date.now();
      await eventually(() => Date.now() - since >= 800, 'two capped intervals');
      expect(warns().length).to.equal(count);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it("names the workspace the kubeconfig points at when it is not the provider's (root)", async () => {
    const rt = await runManager(kubeConfigFor(srv, 'root'), 'things', () => undefined);
    try {
      const warn = await eventually(() => rt.entries.find((e) => e.level === 'warn' && e['kind'] === 'APIExportEndpointSlice'), 'the warning');
      expect(warn).to.include({ msg: 'APIExportEndpointSlice "things" not found in workspace root', workspace: 'root', reports: 1 });
      expect(String(warn!['hint'])).to.contain(HINT);
      expect(rt.provider.ready().reason).to.match(/^APIExportEndpointSlice "things" not found in workspace root: the kubeconfig must point at the provider's workspace/);
    } finally {
      await rt.stop();
    }
  });

  it('says the same of a missing WorkspaceType', async () => {
    const rt = await runWith((log) => new InitializingWorkspacesProvider(kc, { workspaceType: 'nowhere', log }), () => undefined);
    try {
      const warn = await eventually(() => rt.entries.find((e) => e.level === 'warn' && e['kind'] === 'WorkspaceType'), 'the warning');
      expect(warn).to.include({ msg: 'WorkspaceType "nowhere" not found in workspace root:provider', workspaceType: 'nowhere', workspace: 'root:provider' });
      expect(rt.provider.ready().reason).to.contain('WorkspaceType "nowhere" not found in workspace root:provider').and.contain(HINT);
    } finally {
      await rt.stop();
    }
  });

  it('logs at info, after the configured time and not once per slice event, that a slice lists no endpoints, with the likely cause; it stays ready', async () => {
    await createExport(srv, 'root:provider', 'unbound');
    await eventually(async () => (await raw(srv, 'GET', `/clusters/root:provider${SLICE_API}/unbound`)).status === 200, 'the default slice');
    const t0 = Date.now();
    const rt = await runWith((log) => new Peeking(kc, { endpointSlice: 'unbound', log, noEndpointsAfterMs: 1_000, reportBackoff: { initialMs: 10_000 } }), () => undefined);
    try {
      await eventually(() => rt.provider.ready().ready, 'ready on an empty slice');
      const infos = (): Entry[] => rt.entries.filter((e) => e.msg === 'APIExportEndpointSlice "unbound" lists no endpoint URLs');
      for (let i = 0; i < 5; i++) await touchSlice(srv, 'unbound', String(i));
      const info = await eventually(() => infos()[0], 'the info line');
      expect(Date.parse(info!['time'] as string) - t0).to.be.at.least(1_000);
      expect(info).to.include({ level: 'info', endpointSlice: 'unbound', reports: 1 });
      expect(String(info!['likelyCause'])).to.match(/no APIBinding to the export yet/);
      for (let i = 5; i < 10; i++) await touchSlice(srv, 'unbound', String(i));
      await eventually(() => rt.provider.seen()?.metadata?.labels?.['touched'] === '9', 'every slice event seen');
      expect(infos()).to.have.length(1);
      expect(rt.provider.ready().ready).to.equal(true);
      expect(rt.entries.filter((e) => e.level === 'warn' && e['kind'])).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it("refuses a kubeconfig on a virtual-workspace URL: a warning and a readiness reason that say it must point at the provider's workspace", async () => {
    const urls = await eventually(async () => {
      const u = await sliceURLs(srv, 'root:provider', 'things');
      return u.length ? u : undefined;
    }, 'the slice URL');
    const vw = kubeConfigFor(srv, 'root:provider');
    vw.clusters[0] = { ...vw.clusters[0]!, server: urls![0]! };
    const rt = await runManager(vw, 'things', () => undefined, { healthProbeBindAddress: '127.0.0.1:0' });
    try {
      const warn = await eventually(() => rt.entries.find((e) => e.level === 'warn' && e['virtualWorkspace']), 'the warning');
      expect(warn!['virtualWorkspace']).to.match(/^\/services\/apiexport\/[^/]+\/things$/);
      expect(String(warn!['reason'])).to.contain("it must point at the provider's workspace");
      const res = await fetch(`${rt.manager.addresses.health!}/readyz/provider`);
      expect(res.status).to.equal(500);
      expect(await res.text()).to.match(/points at a virtual workspace \(\/services\/apiexport\/.*\), not a workspace: it must point at the provider's workspace/);
      // Nothing was listed there.
      expect(rt.entries.filter((e) => e.event === 'retry')).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it('names the connection error of an unreachable kcp in the readiness reason', async () => {
    const port = await closedPort();
    const down = kubeConfigFor({ ...srv, url: `${new URL(srv.url).protocol}//127.0.0.1:${port}` }, 'root:provider');
    const rt = await runManager(down, 'things', () => undefined, { healthProbeBindAddress: '127.0.0.1:0' });
    try {
      await eventually(() => rt.entries.some((e) => e.event === 'retry'), 'a failed list');
      const res = await fetch(`${rt.manager.addresses.health!}/readyz/provider`);
      expect(res.status).to.equal(500);
      const body = await res.text();
      expect(body).to.contain(`connect ECONNREFUSED 127.0.0.1:${port}`).and.contain('cannot list APIExportEndpointSlice "things" in workspace root:provider');
      expect(body).to.not.contain('not synced yet');
    } finally {
      await rt.stop();
    }
  });

  it("watches the endpoints of a slice whose status.endpoints carry kcp's shards field", async () => {
    const [url] = await sliceURLs(srv, 'root:provider', 'things');
    const patched = await raw(srv, 'PATCH', `/clusters/root:provider${SLICE_API}/things/status`, { status: { endpoints: [{ url, shards: { matchAll: true } }] } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status, patched.text).to.equal(200);
    const slice = (await raw(srv, 'GET', `/clusters/root:provider${SLICE_API}/things`)).json as Obj;
    expect((slice as APIExportEndpointSlice).status?.endpoints).to.deep.equal([{ url, shards: { matchAll: true } }]);
    let rec!: ReturnType<typeof recording>;
    const rt = await runManager(kc, 'things', (m) => (rec = recording(m, 'x')));
    try {
      await eventually(() => saw(rec.seen, tenant, 'hello'), 'the tenant reconciled');
      expect(rt.provider.endpointURLs()).to.deep.equal([url]);
      expect(rt.provider.ready()).to.deep.equal({ ready: true });
      // A label selector in place of matchAll is as good.
      const relabel = await raw(srv, 'PATCH', `/clusters/root:provider${SLICE_API}/things/status`, { status: { endpoints: [{ url, shards: { selector: { matchLabels: { region: 'eu' } } } }] } }, { 'Content-Type': 'application/merge-patch+json' });
      expect(relabel.status, relabel.text).to.equal(200);
      await createConfigMap(srv, 'root:tenant', 'after');
      await eventually(() => saw(rec.seen, tenant, 'after'), 'reconciled after the change');
      expect(rt.provider.endpointURLs()).to.deep.equal([url]);
      expect(rt.errors()).to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });
});
