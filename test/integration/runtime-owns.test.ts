/**
 * `owns()` against the reference server, with a cluster-scoped owner: a ConfigMap in namespace
 * `default` controlled by a Namespace enqueues the Namespace's request, which has no namespace (the
 * scope comes from discovery, as controller-runtime's EnqueueRequestForOwner takes it from the
 * RESTMapper); a namespaced owner's request keeps its dependent's namespace.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Request } from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, type Claim, type Obj } from '../support/kcp.js';
import { runManager } from '../support/runtime.js';
import { eventually, raw, start } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const NS = { apiVersion: 'v1', kind: 'Namespace' } as const;
const CLAIMS: Claim[] = [
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'namespaces' },
  { group: '', resource: 'events' },
];

describe('runtime: owns() with a cluster-scoped owner (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let kc: KubeConfig;
  let cluster: string;

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'provider');
    kc = await createExport(srv, 'root:provider', 'teams', CLAIMS);
    cluster = await createWorkspace(srv, 'root', 'tenant');
    await bind(srv, 'root:tenant', 'root:provider', 'teams', { claims: CLAIMS });
    const ns = await raw(srv, 'POST', '/clusters/root:tenant/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    expect(ns.status, ns.text).to.equal(201);
    const owner = (ns.json as Obj)['metadata'] as Obj;
    const cm = await raw(srv, 'POST', '/clusters/root:tenant/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'quota', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'team-a', uid: owner['uid'], controller: true }] },
    });
    expect(cm.status, cm.text).to.equal(201);
    await createConfigMap(srv, 'root:tenant', 'plain');
  });
  after(() => srv?.stop());

  it("a namespaced dependent's event enqueues its cluster-scoped controller with no namespace", async () => {
    const seen: Request[] = [];
    const rt = await runManager(kc, 'teams', (m) => {
      m.controller('teams')
        // Only the owned ConfigMap's events enqueue anything: the Namespaces' own events are filtered out.
        .for(NS, { predicates: [() => false] })
        .owns(CM)
        .reconcile((req) => void seen.push({ ...req }));
    });
    try {
      await eventually(() => seen.some((r) => r.name === 'team-a'), 'the owner reconciled');
      const owners = seen.filter((r) => r.name === 'team-a');
      expect(owners.map((r) => ({ cluster: r.cluster, namespace: r.namespace ?? '' }))).to.deep.include({ cluster, namespace: '' });
      expect(owners.filter((r) => r.namespace), 'owner requests with a namespace').to.deep.equal([]);
    } finally {
      await rt.stop();
    }
  });

  it("a namespaced owner's request keeps its dependent's namespace", async () => {
    const owner = await createConfigMap(srv, 'root:tenant', 'parent');
    const child = await raw(srv, 'POST', '/clusters/root:tenant/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'child', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'parent', uid: (owner['metadata'] as Obj)['uid'], controller: true }] },
    });
    expect(child.status, child.text).to.equal(201);
    const seen: Request[] = [];
    const rt = await runManager(kc, 'teams', (m) => {
      m.controller('parents')
        .for(CM, { predicates: [() => false] })
        .owns(CM)
        .reconcile((req) => void seen.push({ ...req }));
    });
    try {
      await eventually(() => seen.some((r) => r.name === 'parent'), 'the owner reconciled');
      expect(seen.filter((r) => r.name === 'parent').map((r) => r.namespace)).to.include('default');
    } finally {
      await rt.stop();
    }
  });
});
