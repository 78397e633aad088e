/**
 * The terminating-workspaces provider against the reference server's workspace termination
 * (kcp-terminators.md §8 P10): no engagement before deletion; engagement after delete; a type and
 * one extending it both engaged; one terminator's removal does not disengage another's provider;
 * a wrong removal is refused (422); no `terminate` grant, no VW (403); content reachable through a
 * static mapping; the last removal disengages and the Workspace goes; a provider started after the
 * deletion picks the cluster up from its initial list.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import {
  LOGICAL_CLUSTER,
  TerminatingWorkspacesProvider,
  hasTerminator,
  removeTerminator,
  terminating,
  type Cluster,
  type LogicalCluster,
} from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { createWorkspace, type Obj } from '../support/kcp.js';
import { runWith } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const WST = '/apis/tenancy.kcp.io/v1alpha1/workspacetypes';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const ALICE = 'alice-token-0123456789';

describe('providers: TerminatingWorkspacesProvider (reference server, two shards)', function () {
  this.timeout(90_000);
  let srv: RunningServer;
  let dir: string;
  let typeCluster: string;

  async function type(name: string, extend?: string): Promise<void> {
    const r = await raw(srv, 'POST', `/clusters/root:tp-provider${WST}`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'WorkspaceType',
      metadata: { name },
      spec: { terminator: true, extend: { with: [{ name: 'universal', path: 'root' }, ...(extend ? [{ name: extend, path: 'root:tp-provider' }] : [])] } },
    });
    expect(r.status, r.text).to.equal(201);
  }

  async function workspace(name: string, of: string, shard: 'root' | 'shard-1'): Promise<string> {
    const r = await raw(srv, 'POST', `/clusters/root:tp-provider${WS}`, {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'Workspace',
      metadata: { name },
      spec: { type: { name: of, path: 'root:tp-provider' }, location: { selector: { matchLabels: { name: shard } } } },
    });
    expect(r.status, r.text).to.equal(201);
    const ws = await eventually(async () => {
      const g = (await raw(srv, 'GET', `/clusters/root:tp-provider${WS}/${name}`)).json as Obj;
      return g['status']?.phase === 'Ready' ? g : undefined;
    }, `${name} Ready`, 30_000);
    return ws!['spec'].cluster as string;
  }

  const gone = async (name: string): Promise<boolean> => (await raw(srv, 'GET', `/clusters/root:tp-provider${WS}/${name}`)).status === 404;
  const del = async (name: string): Promise<void> => {
    const r = await raw(srv, 'DELETE', `/clusters/root:tp-provider${WS}/${name}`);
    expect(r.status, r.text).to.be.oneOf([200, 202]);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-term-'));
    const tokens = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokens, `${ALICE},alice,alice-uid,""\n`);
    srv = await start({ shards: 2, tokenFile: tokens });
    typeCluster = await createWorkspace(srv, 'root', 'tp-provider', { location: { selector: { matchLabels: { name: 'root' } } } });
    await type('guarded');
    await type('guarded-more', 'guarded');
  });
  after(async () => {
    await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('engages only on deletion, both the type and the one extending it, on both shards; removals are exact; the last removal lets the workspace go', async () => {
    const guarded = `${typeCluster}:guarded`;
    const more = `${typeCluster}:guarded-more`;
    const a = await workspace('tp-a', 'guarded', 'root');
    const b = await workspace('tp-b', 'guarded-more', 'shard-1');
    const lcB = (await raw(srv, 'GET', '/clusters/root:tp-provider:tp-b/apis/core.kcp.io/v1alpha1/logicalclusters/cluster')).json as Obj;
    expect(lcB['spec'].terminators).to.include.members([guarded, more]);

    const handles = new Map<string, Cluster>();
    const rt = await runWith(
      (log) => new TerminatingWorkspacesProvider(kubeConfigFor(srv, 'root:tp-provider'), { workspaceType: 'guarded', log }),
      (m) => {
        m.controller('terminator')
          .for(LOGICAL_CLUSTER)
          .withEventFilter(terminating(guarded))
          .reconcile(async (req, ctx) => void handles.set(req.cluster, ctx.cluster));
      },
    );
    const other = await runWith(
      (log) => new TerminatingWorkspacesProvider(kubeConfigFor(srv, 'root:tp-provider'), { workspaceType: 'guarded-more', log }),
      (m) => void m.controller('other').for(LOGICAL_CLUSTER).reconcile(async () => undefined),
    );
    try {
      await eventually(() => rt.provider.endpointURLs().length === 2 && rt.provider.ready().ready, 'one terminating URL per shard, synced');
      expect(rt.provider.terminator()).to.equal(guarded);
      expect(rt.provider.endpointURLs().every((u) => u.includes('/services/terminatingworkspaces/'))).to.equal(true);
      expect(rt.provider.clusterNames()).to.deep.equal([]);

      await del('tp-a');
      await del('tp-b');
      await eventually(() => handles.has(a) && handles.has(b), 'both deleted workspaces engaged and reconciled');
      await eventually(() => other.provider.clusterNames().includes(b), 'the extending type engaged too');
      expect(other.provider.clusterNames()).to.not.include(a);

      // Content through the static mapping (the VW answers no per-cluster discovery).
      const items = await handles.get(a)!.client.list(CM, { namespace: 'default' });
      expect(items.items).to.be.an('array');

      // Removing someone else's terminator is refused.
      const wrong = await handles.get(b)!.client.patchStatus(LOGICAL_CLUSTER, { name: 'cluster' }, { status: { terminators: [guarded] } }).then(
        () => 200,
        (e: { code?: number }) => e.code,
      );
      expect(wrong).to.equal(422);

      // Our removal on b leaves b to the other provider.
      const lc = await handles.get(b)!.client.get(LOGICAL_CLUSTER, { name: 'cluster' });
      expect(hasTerminator(lc, guarded)).to.equal(true);
      expect(await removeTerminator(handles.get(b)!.client, guarded)).to.equal('removed');
      await eventually(() => !rt.provider.clusterNames().includes(b), 'b disengaged from the guarded provider');
      expect(other.provider.clusterNames()).to.include(b);
      expect(await gone('tp-b')).to.equal(false);
      expect(await removeTerminator(other.provider.get(b).client, more)).to.equal('removed');
      await eventually(() => !other.provider.clusterNames().includes(b), 'b disengaged from the other provider');
      await eventually(() => gone('tp-b'), 'tp-b gone', 30_000);

      // a: removed twice counts once, then it is gone.
      expect(await removeTerminator(handles.get(a)!.client, guarded)).to.equal('removed');
      expect(await removeTerminator(handles.get(a)!.client, guarded)).to.equal('absent');
      await eventually(() => !rt.provider.clusterNames().includes(a), 'a disengaged');
      await eventually(() => gone('tp-a'), 'tp-a gone', 30_000);
      expect(rt.errors(), JSON.stringify(rt.errors())).to.deep.equal([]);
    } finally {
      await other.stop();
      await rt.stop();
    }
  });

  it('a provider started after the deletion picks the cluster up from its initial list', async () => {
    const c = await workspace('tp-late', 'guarded', 'shard-1');
    await del('tp-late');
    await eventually(async () => ((await raw(srv, 'GET', `/clusters/root:tp-provider${WS}/tp-late`)).json as Obj)['status']?.phase === 'Terminating', 'tp-late Terminating');
    const rt = await runWith(
      (log) => new TerminatingWorkspacesProvider(kubeConfigFor(srv, 'root:tp-provider'), { workspaceType: 'guarded', log }),
      (m) =>
        void m
          .controller('late')
          .for(LOGICAL_CLUSTER)
          .reconcile(async (req, ctx) => {
            const lc = ctx.cluster.cache.get(LOGICAL_CLUSTER, req) as LogicalCluster | undefined;
            if (lc && hasTerminator(lc, `${typeCluster}:guarded`)) await removeTerminator(ctx.cluster.client, `${typeCluster}:guarded`);
          }),
    );
    try {
      await eventually(() => gone('tp-late'), 'tp-late gone after the late provider removed its terminator', 30_000);
      await eventually(() => !rt.provider.clusterNames().includes(c), 'disengaged');
    } finally {
      await rt.stop();
    }
  });

  it('without a terminate grant the VW refuses (403); with it the provider works as that user', async () => {
    const [url] = (((await raw(srv, 'GET', `/clusters/root:tp-provider${WST}/guarded`)).json as Obj)['status'].virtualWorkspaces as Obj[])
      .filter((v) => v['type'] === 'terminating')
      .map((v) => v['url'] as string);
    const asAlice = async (): Promise<number> => {
      const u = new URL(`${url}/clusters/*/apis/core.kcp.io/v1alpha1/logicalclusters`);
      const r = await raw(srv, 'GET', u.pathname, undefined, { Authorization: `Bearer ${ALICE}` });
      return r.status;
    };
    expect(await asAlice()).to.equal(403);
    for (const [kind, body] of [
      ['clusterroles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'terminate-guarded' }, rules: [{ apiGroups: ['tenancy.kcp.io'], resources: ['workspacetypes'], resourceNames: ['guarded'], verbs: ['terminate', 'get', 'list', 'watch'] }] }],
      ['clusterrolebindings', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'alice-terminates' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'terminate-guarded' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] }],
    ] as const) {
      const r = await raw(srv, 'POST', `/clusters/root:tp-provider/apis/rbac.authorization.k8s.io/v1/${kind}`, body);
      expect(r.status, r.text).to.equal(201);
    }
    await eventually(async () => (await asAlice()) === 200, 'alice may use the VW once granted');
  });

  it('a cluster that no longer exists is absent to removeTerminator (404 counts as done)', async () => {
    const rt = await runWith(
      (log) => new TerminatingWorkspacesProvider(kubeConfigFor(srv, 'root:tp-provider'), { workspaceType: 'guarded', log }),
      (m) => void m.controller('idle').for(LOGICAL_CLUSTER).reconcile(async () => undefined),
    );
    try {
      await eventually(() => rt.provider.endpointURLs().length === 2, 'endpoints');
      const c = await workspace('tp-gone', 'guarded', 'root');
      await del('tp-gone');
      const handle = await eventually(() => {
        try {
          return rt.provider.get(c);
        } catch {
          return undefined;
        }
      }, 'engaged');
      expect(await removeTerminator(handle!.client, `${typeCluster}:guarded`)).to.equal('removed');
      await eventually(() => gone('tp-gone'), 'gone', 30_000);
      expect(await removeTerminator(handle!.client, `${typeCluster}:guarded`)).to.equal('absent');
    } finally {
      await rt.stop();
    }
  });
});
