/**
 * The initializing-workspaces virtual workspace (kcp-wire §4, item 64): the wildcard view of the
 * logical clusters waiting for one initializer, its ADDED/DELETED transitions, the per-cluster
 * LogicalCluster and status with the "remove only your own initializer" rule, and the proxy into
 * an initializing cluster.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { kubectlFor } from '../support/kubectl.js';
import { eventually, raw, serves, start, WatchStream } from '../support/server.js';

/** kcp's hashed initializer label (`initializer.internal.kcp.io/<hash[0:35]>=<hash>`). */
function initializerLabel(initializer: string): [string, string] {
  const h = createHash('sha224').update(initializer).digest('hex');
  return [`initializer.internal.kcp.io/${h.slice(0, 35)}`, h];
}

const LC = '/apis/core.kcp.io/v1alpha1/logicalclusters';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

describe('conformance: initializing-workspaces virtual workspace (hand-made logical clusters, reference server)', () => {
  let srv: RunningServer;
  const INIT = 'root:example';
  const OTHER = 'root:other';
  const vw = `/services/initializingworkspaces/${INIT}`;

  before(async () => {
    srv = await start({ bookmarkIntervalMs: 200 });
  });
  after(() => srv.stop());

  /** Puts a logical cluster into phase Initializing with these initializers, labels included. */
  async function initializing(cluster: string, initializers: string[]): Promise<void> {
    const labels: Record<string, string | null> = { 'tenancy.kcp.io/phase': 'Initializing' };
    for (const i of [INIT, OTHER]) {
      const [k, v] = initializerLabel(i);
      labels[k] = initializers.includes(i) ? v : null;
    }
    const a = await raw(srv, 'PATCH', `/clusters/${cluster}${LC}/cluster`, { metadata: { labels } }, MERGE);
    expect(a.status, a.text).to.equal(200);
    const b = await raw(srv, 'PATCH', `/clusters/${cluster}${LC}/cluster/status`, { status: { phase: 'Initializing', initializers } }, MERGE);
    expect(b.status, b.text).to.equal(200);
  }

  it('serves discovery of logicalclusters (get, list, watch) and their status', async () => {
    const r = await raw(srv, 'GET', `${vw}/clusters/%2A/apis/core.kcp.io/v1alpha1`);
    expect(r.status).to.equal(200);
    const resources = r.json['resources'] as { name: string; verbs: string[] }[];
    expect(resources.map((x) => x.name)).to.deep.equal(['logicalclusters', 'logicalclusters/status']);
    expect(resources[0]!.verbs).to.deep.equal(['get', 'list', 'watch']);
    expect((await raw(srv, 'GET', `${vw}/clusters/%2A/apis`)).json['groups']).to.deep.equal([
      { name: 'core.kcp.io', versions: [{ groupVersion: 'core.kcp.io/v1alpha1', version: 'v1alpha1' }], preferredVersion: { groupVersion: 'core.kcp.io/v1alpha1', version: 'v1alpha1' } },
    ]);
  });

  it('lists only clusters initializing with this initializer; a watch sees them enter (ADDED) and leave (DELETED)', async () => {
    const a = srv.createLogicalCluster();
    const b = srv.createLogicalCluster();
    const c = srv.createLogicalCluster();
    await initializing(a, [INIT]);
    await initializing(b, [OTHER]);
    const list = await raw(srv, 'GET', `${vw}/clusters/%2A${LC}`);
    expect(list.status).to.equal(200);
    const names = (list.json['items'] as { metadata: { annotations: Record<string, string> } }[]).map((i) => i.metadata.annotations['kcp.io/cluster']);
    expect(names).to.include(a).and.not.include(b).and.not.include(c);
    const rv = (list.json['metadata'] as { resourceVersion: string }).resourceVersion;

    const w = new WatchStream(srv, `${vw}/clusters/%2A${LC}?watch=1&resourceVersion=${rv}`);
    await initializing(c, [INIT, OTHER]);
    await eventually(() => w.of('ADDED').some((e) => e.object.metadata.annotations['kcp.io/cluster'] === c), 'ADDED for the entering cluster');
    // The cluster leaves once its labels stop matching: a DELETED with the new resourceVersion.
    await initializing(a, [OTHER]);
    const del = await eventually(() => w.of('DELETED').find((e) => e.object.metadata.annotations['kcp.io/cluster'] === a), 'DELETED for the leaving cluster');
    // The DELETED carries the resourceVersion of the write that made it leave, not its last one.
    expect(Number(del!.object.metadata.resourceVersion)).to.be.greaterThan(Number(rv)).and.at.most(srv.resourceVersion());
    expect(w.events.every((e) => e.object.metadata.annotations['kcp.io/cluster'] !== b)).to.equal(true);
    await w.close();
  });

  it('allows only list and watch on *, and only the wildcard for listing', async () => {
    const a = srv.createLogicalCluster();
    await initializing(a, [INIT]);
    expect((await raw(srv, 'DELETE', `${vw}/clusters/%2A${LC}/cluster`)).status).to.equal(405);
    // Per cluster, the LogicalCluster is get-only.
    expect((await raw(srv, 'GET', `${vw}/clusters/${a}${LC}`)).status).to.equal(405);
    expect((await raw(srv, 'GET', `${vw}/clusters/${a}${LC}/cluster`)).status).to.equal(200);
  });

  it('lets the initializer remove itself and nothing else (422), and hides a cluster no longer waiting (404)', async () => {
    const a = srv.createLogicalCluster();
    await initializing(a, [OTHER, INIT]);
    const status = `${vw}/clusters/${a}${LC}/cluster/status`;
    const other = await raw(srv, 'PATCH', status, { status: { initializers: [INIT] } }, MERGE);
    expect(other.status).to.equal(422);
    expect(other.json['reason']).to.equal('Invalid');
    expect(String(other.json['message'])).to.equal(
      `Workspace.tenancy.kcp.io "cluster" is invalid: status.initializers: Invalid value: []string{"${INIT}"}: only removing the "${INIT}" initializer is supported`,
    );
    const both = await raw(srv, 'PATCH', status, { status: { initializers: [] } }, MERGE);
    expect(both.status).to.equal(422);
    const phase = await raw(srv, 'PATCH', status, { status: { phase: 'Ready' } }, MERGE);
    expect(phase.status).to.equal(422);
    const get = await raw(srv, 'GET', status);
    expect(get.status).to.equal(200);
    const mine = await raw(srv, 'PATCH', status, { status: { initializers: [OTHER] } }, MERGE);
    expect(mine.status, mine.text).to.equal(200);
    expect((mine.json['status'] as { initializers: string[] }).initializers).to.deep.equal([OTHER]);
    // Once its label is gone (tenancy does that; done by hand here) the cluster is not there.
    await initializing(a, [OTHER]);
    expect((await raw(srv, 'GET', `${vw}/clusters/${a}${LC}/cluster`)).status).to.equal(404);
  });

  it('proxies into a cluster while it initializes with this initializer, and refuses (403) after', async () => {
    const a = srv.createLogicalCluster();
    await initializing(a, [INIT]);
    const cm = await raw(srv, 'POST', `${vw}/clusters/${a}/api/v1/namespaces/default/configmaps`, { metadata: { name: 'seeded' } });
    expect(cm.status, cm.text).to.equal(201);
    expect((await raw(srv, 'GET', `/clusters/${a}/api/v1/namespaces/default/configmaps/seeded`)).status).to.equal(200);
    expect((await raw(srv, 'GET', `${vw}/clusters/${a}/api/v1`)).status).to.equal(200);
    const done = await raw(srv, 'PATCH', `${vw}/clusters/${a}${LC}/cluster/status`, { status: { initializers: [] } }, MERGE);
    expect(done.status, done.text).to.equal(200);
    const after = await raw(srv, 'GET', `${vw}/clusters/${a}/api/v1/namespaces/default/configmaps`);
    expect(after.status).to.equal(403);
    expect(after.json['message']).to.equal(`initializer "${INIT}" cannot access this workspace`);
    const never = srv.createLogicalCluster();
    expect((await raw(srv, 'GET', `${vw}/clusters/${never}/api/v1/namespaces/default/configmaps`)).status).to.equal(403);
  });
});

describe('conformance: initializing-workspaces virtual workspace (WorkspaceType with an initializer)', () => {
  let srv: RunningServer;
  let cacheDir: string;

  before(async function () {
    srv = await start();
    if (!(await serves(srv, 'tenancy.kcp.io/v1alpha1', 'workspacetypes', 'workspaces'))) {
      // Tenancy is a separate layer of the reference server; these run once it serves both kinds.
      await srv.stop();
      this.skip();
    }
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-vw-kubectl-'));
  });
  after(async () => {
    await srv?.stop();
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  const { kubectl, kubectlJSON } = kubectlFor(() => ({ srv, cacheDir }));

  async function workspace(name: string): Promise<Record<string, unknown>> {
    return kubectlJSON<Record<string, unknown>>(['get', 'workspace', name]);
  }

  it('an initializer removing itself makes its cluster leave (DELETED) and the workspace Ready; removing another is 422', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: tenancy.kcp.io/v1alpha1',
        'kind: WorkspaceType',
        'metadata: {name: vw-init-a}',
        'spec: {initializer: true}',
        '---',
        'apiVersion: tenancy.kcp.io/v1alpha1',
        'kind: WorkspaceType',
        'metadata: {name: vw-init-b}',
        'spec:',
        '  initializer: true',
        '  extend: {with: [{name: vw-init-a, path: root}]}',
        '---',
        'apiVersion: tenancy.kcp.io/v1alpha1',
        'kind: Workspace',
        'metadata: {name: vw-init-ws}',
        'spec: {type: {name: vw-init-b, path: root}}',
        '',
      ].join('\n'),
    );
    const INIT_A = 'root:vw-init-a';
    const INIT_B = 'root:vw-init-b';
    const wt = await eventually(async () => {
      const t = JSON.parse(await kubectl(['get', 'workspacetype', 'vw-init-a', '-o', 'json'])) as { status?: { virtualWorkspaces?: { url: string }[] } };
      return t.status?.virtualWorkspaces?.find((v) => v.url.includes('/initializingworkspaces/'));
    }, 'the initializing VW URL on the WorkspaceType');
    expect(wt!.url).to.equal(`${srv.url}/services/initializingworkspaces/${INIT_A}`);
    const vw = `/services/initializingworkspaces/${INIT_A}`;

    const ws = await eventually(async () => {
      const w = await workspace('vw-init-ws');
      const s = w['status'] as { phase?: string } | undefined;
      return s?.phase === 'Initializing' ? w : undefined;
    }, 'the workspace to wait in Initializing');
    const cluster = (ws!['spec'] as { cluster: string }).cluster;
    const list = await raw(srv, 'GET', `${vw}/clusters/%2A${LC}`);
    const items = list.json['items'] as { metadata: { annotations: Record<string, string> }; status: { initializers: string[] } }[];
    const mine = items.find((i) => i.metadata.annotations['kcp.io/cluster'] === cluster);
    expect(mine, 'the workspace is listed').to.not.equal(undefined);
    expect(mine!.status.initializers).to.have.members([INIT_A, INIT_B]);

    const w = new WatchStream(srv, `${vw}/clusters/%2A${LC}?watch=1&resourceVersion=${(list.json['metadata'] as { resourceVersion: string }).resourceVersion}`);
    const status = `${vw}/clusters/${cluster}${LC}/cluster/status`;
    const other = await raw(srv, 'PATCH', status, { status: { initializers: [INIT_A] } }, MERGE);
    expect(other.status).to.equal(422);
    expect(String(other.json['message'])).to.contain(`only removing the "${INIT_A}" initializer is supported`);
    const self = await raw(srv, 'PATCH', status, { status: { initializers: [INIT_B] } }, MERGE);
    expect(self.status, self.text).to.equal(200);
    await eventually(() => w.of('DELETED').some((e) => e.object.metadata.annotations['kcp.io/cluster'] === cluster), 'DELETED after removing itself');
    await w.close();

    // The second initializer, through its own VW, finishes the job.
    const done = await raw(srv, 'PATCH', `/services/initializingworkspaces/${INIT_B}/clusters/${cluster}${LC}/cluster/status`, { status: { initializers: [] } }, MERGE);
    expect(done.status, done.text).to.equal(200);
    await eventually(async () => ((await workspace('vw-init-ws'))['status'] as { phase?: string }).phase === 'Ready', 'the workspace to become Ready');
  });
});
