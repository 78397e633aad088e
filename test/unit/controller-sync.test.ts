/**
 * The cache-sync invariant: no request of a cluster reaches a reconciler before every informer the
 * controller watches (for, owns, watches) on that cluster's endpoint has synced — on first
 * engagement, on re-engagement at another endpoint, and for a controller added after the cluster
 * engaged. Requests that arrive meanwhile wait in the queue.
 */
import { expect } from 'chai';
import type { Cached, KubernetesObject, Manager } from '../../src/index.js';
import { FakeEndpoint, type FakeInformer } from '../support/fake-cluster.js';
import { harness, record, type Harness } from '../support/fake-manager.js';
import { eventually } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const SECRET = { apiVersion: 'v1', kind: 'Secret' } as const;

const db = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'db', namespace: 'default' } };
const conn = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db-conn', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'db', uid: 'u1', controller: true }] },
};

/** Lets the event loop run a few turns (timers aside): a worker with a ready request would take it by then. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** What each reconcile of `db` found in the Secret cache. */
function databaseController(m: Manager, name: string, seen: (Cached<KubernetesObject> | undefined)[]): void {
  m.controller(name)
    .for(CM)
    .owns(SECRET)
    .reconcile((req, ctx) => {
      if (req.name === 'db') seen.push(ctx.cluster.cache.get(SECRET, { namespace: 'default', name: 'db-conn' }));
    });
}

/** An endpoint whose ConfigMap informer holds `db` in `cluster` (synced) and whose Secret informer has not synced. */
function endpointWithSlowSecrets(ep: FakeEndpoint, cluster: string): FakeInformer {
  ep.informer(CM).put(cluster, db);
  const secrets = ep.informer(SECRET);
  secrets.setSynced(false);
  return secrets;
}

/** Waits until the controller has subscribed the Secret informer, lets the workers run, then completes the Secret list. */
async function syncLate(h: Harness, secrets: FakeInformer, cluster: string, seen: unknown[]): Promise<void> {
  await eventually(() => secrets.subscribers > 0, 'the Secret informer subscribed');
  await turns();
  expect(seen, 'a reconcile ran before the Secret informer synced').to.have.length(0);
  expect(h.manager.clusters().find((c) => c.name === cluster)?.state).to.equal('syncing');
  secrets.put(cluster, conn);
  secrets.setSynced(true);
  await eventually(() => seen.length > 0, 'the first reconcile after sync');
  expect(seen[0], 'the first reconcile saw the owned Secret').to.not.equal(undefined);
}

describe('controller: a cluster is reconciled only once every watched informer has synced', function () {
  this.timeout(10_000);

  it('on first engagement: requests queued while an owned type lists are handed out after it synced', async () => {
    const seen: (Cached<KubernetesObject> | undefined)[] = [];
    const h = await harness((m) => databaseController(m, 'databases', seen));
    const secrets = endpointWithSlowSecrets(h.provider.endpoint, 'c1');
    h.provider.add('c1');
    try {
      await syncLate(h, secrets, 'c1', seen);
      await eventually(() => h.manager.clusters().find((c) => c.name === 'c1')?.state === 'engaged', 'engaged');
    } finally {
      await h.stop();
    }
  });

  it('on re-engagement at another endpoint (the workspace moved): nothing runs before the new endpoint synced', async () => {
    const seen: (Cached<KubernetesObject> | undefined)[] = [];
    const h = await harness((m) => databaseController(m, 'databases', seen));
    const first = h.provider.endpoint;
    first.informer(CM).put('c1', db);
    first.informer(SECRET).put('c1', conn);
    h.provider.add('c1');
    try {
      await eventually(() => seen.length === 1, 'reconciled at the first endpoint');
      seen.length = 0;
      const moved = new FakeEndpoint();
      const secrets = endpointWithSlowSecrets(moved, 'c1');
      h.provider.add('c1', moved);
      await syncLate(h, secrets, 'c1', seen);
    } finally {
      await h.stop();
    }
  });

  it('for a controller added after the cluster engaged, on an informer nobody watched yet', async () => {
    const h = await harness((m) => m.controller('early').for(CM).reconcile(() => undefined));
    h.provider.endpoint.informer(CM).put('c1', db);
    h.provider.add('c1');
    try {
      await eventually(() => h.manager.clusters().find((c) => c.name === 'c1')?.state === 'engaged', 'engaged');
      const secrets = h.provider.endpoint.informer(SECRET);
      secrets.setSynced(false);
      const seen: (Cached<KubernetesObject> | undefined)[] = [];
      databaseController(h.manager, 'late', seen);
      await eventually(() => secrets.subscribers > 0, 'the Secret informer subscribed');
      await turns();
      expect(seen, 'the late controller reconciled before its Secret informer synced').to.have.length(0);
      secrets.put('c1', conn);
      secrets.setSynced(true);
      await eventually(() => seen.length > 0, 'the late controller reconciled');
      expect(seen[0]).to.not.equal(undefined);
    } finally {
      await h.stop();
    }
  });

  it('keeps other clusters flowing while one cluster syncs, and drops the held requests of a cluster that leaves meanwhile', async () => {
    const seen: (Cached<KubernetesObject> | undefined)[] = [];
    let ctrl!: ReturnType<Manager['controller']>;
    const h = await harness((m) => {
      databaseController(m, 'databases', seen);
      ctrl = m.controller('other').for(CM);
    });
    const outcomes = record(ctrl.reconcile(() => undefined));
    const ep = h.provider.endpoint;
    ep.informer(CM).put('fast', db);
    ep.informer(SECRET).put('fast', conn);
    h.provider.add('fast');
    try {
      await eventually(() => seen.length === 1, 'the synced cluster reconciled');
      // A second endpoint where Secrets never sync: its cluster waits, then leaves.
      const slow = new FakeEndpoint();
      endpointWithSlowSecrets(slow, 'slow');
      h.provider.add('slow', slow);
      await eventually(() => slow.informer(SECRET).subscribers > 0, 'the slow Secret informer subscribed');
      // The 'other' controller watches only ConfigMaps, which are synced there: it runs.
      await eventually(() => outcomes.some((o) => o.request.cluster === 'slow'), 'the ConfigMap-only controller reconciled the slow cluster');
      await turns();
      expect(seen).to.have.length(1);
      h.provider.remove('slow');
      await eventually(() => !h.manager.clusters().some((c) => c.name === 'slow'), 'the slow cluster left');
      expect(seen).to.have.length(1);
    } finally {
      await h.stop();
    }
  });
});
