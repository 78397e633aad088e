/**
 * The controller runtime end to end against the reference server: an APIExportProvider on the
 * export's endpoint slice, a Manager, and ConfigMap controllers reconciling in every bound
 * workspace, with controller-runtime's semantics for updates during a reconcile, requeues, backoff
 * and disengagement.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Controller, Manager, Request, ReconcileOutcome } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, unbind, updateConfigMap, type Obj } from '../support/kcp.js';
import { runManager } from '../support/runtime.js';
import { eventually, raw, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

function outcomes(c: Controller): ReconcileOutcome[] {
  const seen: ReconcileOutcome[] = [];
  c.onReconcile((o) => seen.push(o));
  return seen;
}

describe('runtime: controllers across APIExport-bound workspaces', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let kc: KubeConfig;
  const clusters: Record<string, string> = {};

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    kc = await createExport(srv, 'root:provider', 'things');
    for (const n of ['tenant-a', 'tenant-b', 'unbound']) clusters[n] = await createWorkspace(srv, 'root', n);
    await bind(srv, 'root:tenant-a', 'root:provider', 'things');
    await bind(srv, 'root:tenant-b', 'root:provider', 'things');
  });
  after(() => srv?.stop());

  it('reconciles the ConfigMaps of each bound workspace, never the unbound one, with the cluster cache and client', async () => {
    await createConfigMap(srv, 'root:tenant-a', 'one', { k: 'a' });
    await createConfigMap(srv, 'root:tenant-b', 'one', { k: 'b' });
    await createConfigMap(srv, 'root:unbound', 'one', { k: 'x' });
    const seen = new Map<string, string | undefined>();
    const rt = await runManager(kc, 'things', (m) => {
      m.controller('mirror')
        .for(CM)
        .reconcile(async (req, ctx) => {
          const cm = ctx.cluster.cache.get<Obj>(CM, req);
          if (req.name !== 'one') return;
          seen.set(req.cluster, cm?.['data']?.k as string | undefined);
          expect(ctx.cluster.name).to.equal(req.cluster);
          // The client writes through the VW into the request's own workspace.
          await ctx.cluster.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one-mirror', namespace: 'default' }, data: { from: String(cm?.['data']?.k) } }, { fieldManager: 'mirror', force: true });
        });
    });
    try {
      await eventually(() => seen.size === 2, 'both bound clusters reconciled');
      expect(Object.fromEntries(seen)).to.deep.equal({ [clusters['tenant-a']!]: 'a', [clusters['tenant-b']!]: 'b' });
      expect(rt.manager.clusters().map((c) => c.name).sort()).to.deep.equal([clusters['tenant-a'], clusters['tenant-b']].sort());
      for (const [ws, k] of [['tenant-a', 'a'], ['tenant-b', 'b']] as const) {
        const mirrored = await rt.provider.get(clusters[ws]!).client.get<Obj>(CM, { namespace: 'default', name: 'one-mirror' });
        expect(mirrored['data']).to.deep.equal({ from: k });
      }
      expect(() => rt.provider.get(clusters['unbound']!)).to.throw(/not found/);
    } finally {
      await rt.stop();
    }
  });

  it('runs a key once more, exactly, when it changes during its reconcile', async () => {
    await createConfigMap(srv, 'root:tenant-a', 'busy', { v: '0' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const versions: string[] = [];
    let ctrl!: Controller;
    const rt = await runManager(kc, 'things', (m) => {
      ctrl = m.controller('busy')
        .for(CM)
        .reconcile(async (req, ctx) => {
          if (req.name !== 'busy') return;
          const cm = ctx.cluster.cache.get<Obj>(CM, req);
          versions.push(cm?.['data']?.v as string);
          if (versions.length === 1) await gate;
        });
    });
    const seen = outcomes(ctrl);
    try {
      await eventually(() => versions.length === 1, 'first reconcile');
      for (const v of ['1', '2', '3']) await updateConfigMap(srv, 'root:tenant-a', 'busy', { v });
      // The three updates land (in the cache) while the key is processing: one follow-up, after done.
      const cache = rt.provider.get(clusters['tenant-a']!).cache;
      await eventually(() => cache.get<Obj>(CM, { namespace: 'default', name: 'busy' })?.['data']?.v === '3', 'cache at v3');
      release();
      await eventually(() => versions.length === 2, 'the follow-up reconcile');
      const busy = () => seen.filter((o) => o.request.name === 'busy').length;
      await eventually(() => busy() === 2, 'two outcomes');
      expect(versions[1]).to.equal('3');
      // Quiet afterwards: a later unrelated change makes the key-count grow only by its own event.
      await createConfigMap(srv, 'root:tenant-a', 'marker');
      await eventually(() => seen.some((o) => o.request.name === 'marker'), 'marker reconciled');
      expect(versions).to.have.length(2);
    } finally {
      await rt.stop();
    }
  });

  it('honours requeueAfter and backs off a failing reconciler', async () => {
    await createConfigMap(srv, 'root:tenant-b', 'again');
    await createConfigMap(srv, 'root:tenant-b', 'fails');
    const againAt: number[] = [];
    const failAt: number[] = [];
    const rt = await runManager(kc, 'things', (m) => {
      m.controller('timing')
        .for(CM)
        .reconcile((req) => {
          if (req.name === 'again') {
            againAt.push(performance.now());
            return againAt.length < 3 ? { requeueAfter: 150 } : undefined;
          }
          if (req.name === 'fails') {
            failAt.push(performance.now());
            if (failAt.length < 6) throw new Error('not yet');
          }
          return undefined;
        });
    });
    try {
      await eventually(() => againAt.length === 3, 'three reconciles of the requeued key');
      for (let i = 1; i < 3; i++) expect(againAt[i]! - againAt[i - 1]!).to.be.at.least(140);
      await eventually(() => failAt.length === 6, 'six attempts of the failing key');
      // Per-item exponential backoff: 5, 10, 20, 40, 80 ms between attempts (timers may fire late, never early).
      const gaps = failAt.slice(1).map((t, i) => t - failAt[i]!);
      gaps.forEach((g, i) => expect(g, `gap ${i}`).to.be.at.least(5 * 2 ** i - 2));
      expect(gaps[4]).to.be.greaterThan(gaps[0]!);
    } finally {
      await rt.stop();
    }
  });

  it('disengages a cluster whose last binding goes: 1,000 waiting keys dropped, the in-flight signal aborted, nothing reconciled there afterwards', async () => {
    const ws = await createWorkspace(srv, 'root', 'leaving');
    await bind(srv, 'root:leaving', 'root:provider', 'things');
    const names = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    for (let i = 0; i < names.length; i += 25) await Promise.all(names.slice(i, i + 25).map((n) => createConfigMap(srv, 'root:leaving', n)));
    let aborted: unknown;
    let inflight: Request | undefined;
    let ctrl!: Controller;
    const rt = await runManager(kc, 'things', (m) => {
      ctrl = m.controller('leaver')
        .for(CM)
        .reconcile(async (req, ctx) => {
          if (req.cluster !== ws) return;
          inflight = req;
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) return resolve();
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          aborted = ctx.signal.reason;
        });
    });
    const seen = outcomes(ctrl);
    try {
      await eventually(() => inflight !== undefined && ctrl.queue.len() >= 900, 'a reconcile in flight with the rest waiting', 20_000);
      await unbind(srv, 'root:leaving', 'things');
      await eventually(() => aborted !== undefined, 'in-flight signal aborted');
      expect(String(aborted)).to.match(/disengaged/);
      await eventually(() => !rt.manager.clusters().some((c) => c.name === ws), 'cluster gone from the manager');
      expect(ctrl.queue.len()).to.equal(0);
      const after = seen.filter((o) => o.request.cluster === ws && o.result !== 'dropped').length;
      await createConfigMap(srv, 'root:tenant-a', 'after-leave');
      await eventually(() => seen.some((o) => o.request.name === 'after-leave'), 'other cluster still served');
      expect(seen.filter((o) => o.request.cluster === ws && o.result !== 'dropped').length).to.equal(after);
      expect(after).to.be.at.most(1);
      expect(() => rt.provider.get(ws)).to.throw(/not found/);
    } finally {
      await rt.stop();
    }
  });

  it('keeps a cluster with two bindings engaged until the last goes', async () => {
    const ws = await createWorkspace(srv, 'root', 'two-bindings');
    await bind(srv, 'root:two-bindings', 'root:provider', 'things', { name: 'first' });
    await bind(srv, 'root:two-bindings', 'root:provider', 'things', { name: 'second' });
    const BINDING = { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIBinding' };
    const rt = await runManager(kc, 'things', (m) => {
      // Watching bindings takes an informer of its own (the provider keeps a slim view of them).
      m.controller('noop').for(CM).watches(BINDING, () => []).reconcile(() => undefined);
    });
    try {
      await eventually(() => rt.manager.clusters().some((c) => c.name === ws && c.state === 'engaged'), 'engaged');
      await unbind(srv, 'root:two-bindings', 'first');
      // Still there once the provider has seen the delete.
      const cache = rt.provider.get(ws).cache;
      await eventually(() => cache.list(BINDING).length === 1, 'the provider saw one binding go');
      expect(rt.provider.clusterNames()).to.include(ws);
      await unbind(srv, 'root:two-bindings', 'second');
      await eventually(() => !rt.provider.clusterNames().includes(ws), 'disengaged after the last binding');
    } finally {
      await rt.stop();
    }
  });

  it('keeps a slim view of the bindings when nothing but the default filter reads them; a controller watching bindings, a filter and hooks see whole ones', async () => {
    const BINDING = { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIBinding' };
    type Binding = Obj & { metadata: { annotations?: Record<string, string>; labels?: Record<string, string>; managedFields?: unknown }; spec?: unknown; status?: { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[] } };
    /** The bindings of a tenant (default tenant-a) in the provider's own view (its watch informer). */
    const viewOf = (p: unknown, cluster = clusters['tenant-a']!): Binding[] => {
      const endpoints = (p as { endpoints: Map<string, { informer: { store: { listCluster(c: string): Binding[] } } }> }).endpoints;
      return [...endpoints.values()].flatMap((ep) => ep.informer.store.listCluster(cluster));
    };
    const rt = await runManager(kc, 'things', (m) => {
      m.controller('bindings').for(CM).watches(BINDING, () => []).reconcile(() => undefined);
    });
    try {
      await eventually(() => rt.manager.clusters().some((c) => c.name === clusters['tenant-a'] && c.state === 'engaged'), 'engaged');
      const [slim] = viewOf(rt.provider);
      expect(slim?.metadata).to.have.all.keys('name', 'resourceVersion', 'annotations');
      expect(slim?.metadata.annotations).to.deep.equal({ 'kcp.io/cluster': clusters['tenant-a'], 'kcp.io/path': 'root:tenant-a' });
      expect(slim?.spec).to.equal(undefined);
      expect(slim?.status).to.deep.equal({ conditions: [{ type: 'Ready', status: 'True' }] });
      // Every ready binding shares one read-only status.
      expect(viewOf(rt.provider, clusters['tenant-b']!)[0]?.status).to.equal(slim?.status);
      expect(Object.isFrozen(slim?.status?.conditions?.[0])).to.equal(true);
      // The controller's cache of bindings is a separate informer with whole objects.
      await eventually(() => rt.provider.get(clusters['tenant-a']!).cache.list<Binding>(BINDING).length === 1, 'the controller\'s binding cache synced');
      const [full] = rt.provider.get(clusters['tenant-a']!).cache.list<Binding>(BINDING);
      expect(full?.spec).to.not.equal(undefined);
      expect(full?.status?.phase).to.equal('Bound');
      expect(full?.status?.conditions?.length).to.be.greaterThan(1);
    } finally {
      await rt.stop();
    }
    // With hooks (or a filter) the provider keeps whole bindings: they are handed to user code.
    const seen: Binding[] = [];
    const hooked = await runManager(kc, 'things', (m) => m.controller('noop').for(CM).reconcile(() => undefined), {}, { hooks: { onAdd: (b) => void seen.push(b as Binding) } });
    try {
      await eventually(() => seen.length >= 2, 'the hooks saw both bindings');
      expect(seen[0]?.spec).to.not.equal(undefined);
      expect(seen[0]?.status?.phase).to.equal('Bound');
      expect(seen[0]?.metadata.managedFields).to.equal(undefined);
      expect(viewOf(hooked.provider)[0]?.spec).to.not.equal(undefined);
    } finally {
      await hooked.stop();
    }
  });

  it('engages by a custom filter, disengages on reject when asked, and calls the lifecycle hooks with the binding', async () => {
    const ws = await createWorkspace(srv, 'root', 'filtered');
    await bind(srv, 'root:filtered', 'root:provider', 'things');
    const hooks: string[] = [];
    const label = (v: string | null) =>
      raw(srv, 'PATCH', '/clusters/root:filtered/apis/apis.kcp.io/v1alpha2/apibindings/things', { metadata: { labels: { engage: v } } }, { 'Content-Type': 'application/merge-patch+json' });
    const rt = await runManager(
      kc,
      'things',
      (m) => {
        m.controller('filtered').for(CM).reconcile(() => undefined);
      },
      {},
      {
        filter: (b) => b.metadata?.labels?.['engage'] === 'yes',
        disengageOnFilterReject: true,
        hooks: {
          onAdd: (b, c) => c === ws && hooks.push(`add:${b.metadata?.name}`),
          onUpdate: (_o, b, c) => c === ws && hooks.push(`update:${b.metadata?.name}`),
          onDelete: (b, c) => c === ws && hooks.push(`delete:${b?.metadata?.name}`),
        },
      },
    );
    try {
      await eventually(() => rt.provider.ready().ready, 'provider synced');
      expect(rt.provider.clusterNames()).to.not.include(ws);
      expect((await label('yes')).status).to.equal(200);
      await eventually(() => rt.manager.clusters().some((c) => c.name === ws && c.state === 'engaged'), 'engaged by the filter');
      expect(hooks[0]).to.equal('update:things');
      expect((await label(null)).status).to.equal(200);
      await eventually(() => !rt.provider.clusterNames().includes(ws), 'disengaged on reject');
      await eventually(() => !rt.manager.clusters().some((c) => c.name === ws), 'gone from the manager');
      expect(hooks.at(-1)).to.equal('delete:things');
    } finally {
      await rt.stop();
    }
  });

  it('with leader election, runs leader-only controllers on the leader alone and the others everywhere; a standby takes over on release', async () => {
    await createConfigMap(srv, 'root:tenant-a', 'elected');
    const le = { id: 'runtime-test', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 };
    const seen: Record<string, Set<string>> = {};
    const setup = (who: string) => (m: Manager) => {
      for (const [name, needLeaderElection] of [[`${who}-leader-only`, true], [`${who}-everywhere`, false]] as const) {
        m.controller(name)
          .for(CM)
          .withOptions({ needLeaderElection })
          .reconcile((req) => {
            if (req.name === 'elected') (seen[name] ??= new Set()).add(req.cluster);
          });
      }
    };
    const a = await runManager(kc, 'things', setup('a'), { kubeconfig: kc, leaderElection: { ...le, identity: 'a' } });
    await eventually(() => a.manager.isLeader, 'a leads');
    const b = await runManager(kc, 'things', setup('b'), { kubeconfig: kc, leaderElection: { ...le, identity: 'b' } });
    try {
      await eventually(() => seen['a-leader-only'] && seen['a-everywhere'] && seen['b-everywhere'], 'leader and standby reconcile');
      expect(b.manager.isLeader).to.equal(false);
      expect(seen['b-leader-only']).to.equal(undefined);
      const t0 = performance.now();
      await a.stop();
      await eventually(() => seen['b-leader-only'], 'the standby takes over', 5_000);
      // Released, not expired: well within the lease duration.
      expect(performance.now() - t0).to.be.below(le.leaseDurationMs);
      expect(b.manager.isLeader).to.equal(true);
    } finally {
      await b.stop();
    }
  });
});
