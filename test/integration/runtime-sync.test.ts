/**
 * The cache-sync invariant against the reference server: a primary and its owned object exist in a
 * bound workspace before the manager starts; the controller's first reconcile of the primary finds
 * the owned object in the cache (its informer synced before any request was handed out), so a
 * restart neither re-creates owned objects nor publishes Events for work already done.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, type Claim, type Obj } from '../support/kcp.js';
import { runManager } from '../support/runtime.js';
import { eventually, raw, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const SECRET = { apiVersion: 'v1', kind: 'Secret' } as const;
const CLAIMS: Claim[] = [
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'secrets' },
  { group: '', resource: 'events' },
];

describe('runtime: caches synced before a cluster is reconciled (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let kc: KubeConfig;

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    kc = await createExport(srv, 'root:provider', 'databases', CLAIMS);
    for (const t of ['tenant-a', 'tenant-b']) {
      await createWorkspace(srv, 'root', t);
      await bind(srv, `root:${t}`, 'root:provider', 'databases', { claims: CLAIMS });
      const db = await createConfigMap(srv, `root:${t}`, 'db', { engine: 'postgres' });
      // Many owned objects make the owned type's list take longer than the primary's.
      for (let i = 0; i < 40; i++) {
        const r = await raw(srv, 'POST', `/clusters/root:${t}/api/v1/namespaces/default/secrets`, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: i === 0 ? 'db-conn' : `filler-${i}`,
            namespace: 'default',
            ...(i === 0 ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'db', uid: (db['metadata'] as Obj)['uid'], controller: true }] } : {}),
          },
          stringData: { url: 'postgres://db' },
        });
        expect(r.status, r.text).to.equal(201);
      }
    }
  });
  after(() => srv?.stop());

  it("a for(ConfigMap).owns(Secret) controller's first reconcile finds the owned Secret, in every workspace, on every start", async () => {
    for (let run = 0; run < 3; run++) {
      const firsts = new Map<string, boolean>();
      const rt = await runManager(kc, 'databases', (m) => {
        m.controller('databases')
          .for(CM)
          .owns(SECRET)
          .reconcile((req, ctx) => {
            if (req.name !== 'db' || firsts.has(req.cluster)) return;
            firsts.set(req.cluster, ctx.cluster.cache.get(SECRET, { namespace: 'default', name: 'db-conn' }) !== undefined);
          });
      });
      try {
        await eventually(() => firsts.size === 2, 'both workspaces reconciled');
        expect([...firsts.values()], `start ${run + 1}: the owned Secret seen by each first reconcile`).to.deep.equal([true, true]);
      } finally {
        await rt.stop();
      }
    }
  });
});
