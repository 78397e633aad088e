/**
 * createOrUpdate / createOrPatch on a cluster a manager engaged through an APIExport's virtual
 * workspace on the reference server: created → unchanged → updated with an owner reference set in
 * `mutate`; ConfigMaps (watched by a controller) read from the cache, Secrets (not watched) from the
 * client; a write that meets a concurrent change retried once with a fresh read, keeping that change;
 * conditions of the export's own type written through its status subresource.
 */
import { expect } from 'chai';
import {
  CONFIG_MAP,
  ClusterClient,
  SECRET,
  Transport,
  createOrPatch,
  createOrUpdate,
  setControllerReference,
  setStatusCondition,
  PatchType,
  type Condition,
  type KubernetesObject,
  type Cluster,
  type ConfigMap,
  type ObjectAccess,
  type ObjectType,
  type Secret,
} from '../../src/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createExport, createWorkspace, type Claim } from '../support/kcp.js';
import { runManager } from '../support/runtime.js';
import { eventually, kubeConfigFor, raw, start } from '../support/server.js';

interface Gizmo extends KubernetesObject {
  spec?: { size?: number };
  status?: { conditions?: Condition[] };
}
const GIZMO: ObjectType<Gizmo> = { apiVersion: 'example.dev/v1', kind: 'Gizmo' };

const CLAIMS: Claim[] = [
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'secrets' },
];
const KEEP = 'other.example.dev/keep';
const OURS = 'example.dev/ours';

describe('api: createOrUpdate / createOrPatch (reference server, engaged cluster)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let t: Transport;
  let direct: ClusterClient;
  let tenant: string;
  let rt: Awaited<ReturnType<typeof runManager>>;
  let cluster: Cluster;
  const gets: string[] = [];
  let access: ObjectAccess;
  let owner: ConfigMap;

  before(async () => {
    srv = await start();
    await createWorkspace(srv, 'root', 'cou-provider');
    const schema = await raw(srv, 'POST', '/clusters/root:cou-provider/apis/apis.kcp.io/v1alpha1/apiresourceschemas', {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIResourceSchema',
      metadata: { name: 'v1.gizmos.example.dev' },
      spec: {
        group: 'example.dev',
        names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo', listKind: 'GizmoList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }],
      },
    });
    expect(schema.status, schema.text).to.equal(201);
    const kc = await createExport(srv, 'root:cou-provider', 'cou', CLAIMS);
    const exp = await raw(srv, 'PATCH', '/clusters/root:cou-provider/apis/apis.kcp.io/v1alpha2/apiexports/cou', {
      spec: { resources: [{ group: 'example.dev', name: 'gizmos', schema: 'v1.gizmos.example.dev', storage: { crd: {} } }] },
    }, { 'Content-Type': 'application/merge-patch+json' });
    expect(exp.status, exp.text).to.equal(200);
    tenant = await createWorkspace(srv, 'root', 'cou-tenant');
    await bind(srv, 'root:cou-tenant', 'root:cou-provider', 'cou', { claims: CLAIMS });
    t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root:cou-tenant'));
    direct = new ClusterClient(t);
    rt = await runManager(kc, 'cou', (m) => void m.controller('configmaps').for(CONFIG_MAP).reconcile(() => undefined));
    cluster = (await eventually(() => {
      try {
        const c = rt.provider.get(tenant);
        return c.cache.has(CONFIG_MAP) ? c : undefined;
      } catch {
        return undefined;
      }
    }, 'tenant engaged with ConfigMaps cached'))!;
    // The cluster's client, with its reads recorded: what did not come from the cache.
    const client = new Proxy(cluster.client, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'get' && typeof v === 'function') {
          return (type: ObjectType, key: { name: string }, ...rest: unknown[]) => {
            gets.push(`${type.kind}/${key.name}`);
            return (v as (...a: unknown[]) => unknown).call(target, type, key, ...rest);
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    access = { client, cache: cluster.cache };
    owner = await direct.create<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: 'default' } });
    await eventually(() => cluster.cache.get(CONFIG_MAP, { namespace: 'default', name: 'owner' }), 'owner cached');
  });
  after(async () => {
    await rt?.stop();
    t?.close();
    await srv?.stop();
  });
  beforeEach(() => void (gets.length = 0));

  const cached = (name: string, rv: string | undefined) =>
    eventually(() => cluster.cache.get(CONFIG_MAP, { namespace: 'default', name })?.metadata?.resourceVersion === rv, `${name} cached at ${rv}`);

  for (const [label, fn] of [['createOrUpdate', createOrUpdate], ['createOrPatch', createOrPatch]] as const) {
    const name = `cm-${label.toLowerCase()}`;

    it(`${label}: a watched ConfigMap, read from the cache: created, unchanged, updated, owned`, async () => {
      const want = (size: string) => (o: ConfigMap & { metadata: object }): void => {
        o.data = { size };
        o.metadata.ownerReferences = setControllerReference(owner, o);
      };
      const obj: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } };
      expect(await fn(access, obj, want('1'))).to.equal('created');
      expect(obj.metadata?.uid).to.be.a('string');
      await cached(name, obj.metadata?.resourceVersion);

      const again: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } };
      expect(await fn(access, again, want('1'))).to.equal('unchanged');
      expect(again.metadata?.resourceVersion).to.equal(obj.metadata?.resourceVersion);
      expect((await direct.get(CONFIG_MAP, { namespace: 'default', name })).metadata?.resourceVersion).to.equal(obj.metadata?.resourceVersion);

      expect(await fn(access, { ...again }, want('2'))).to.equal('updated');
      const stored = await direct.get(CONFIG_MAP, { namespace: 'default', name });
      expect(stored.data).to.deep.equal({ size: '2' });
      expect(stored.metadata?.ownerReferences).to.deep.equal([
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid, controller: true, blockOwnerDeletion: true },
      ]);
      // Three runs, no read from the server: the cache answered.
      expect(gets).to.deep.equal([]);
    });

    it(`${label}: an unwatched Secret, read through the client: created, unchanged, updated`, async () => {
      const secret = (): Secret => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'Opaque' });
      expect(await fn(access, secret(), (o) => void (o.stringData = { token: 'a' }))).to.equal('created');
      // Secrets come back with data, base64: the mutate that leads to the same data changes nothing.
      expect(await fn(access, secret(), (o) => void (o.data = { token: Buffer.from('a').toString('base64') }))).to.equal('unchanged');
      expect(await fn(access, secret(), (o) => void (o.data = { token: Buffer.from('b').toString('base64') }))).to.equal('updated');
      expect((await direct.get(SECRET, { namespace: 'default', name })).data).to.deep.equal({ token: Buffer.from('b').toString('base64') });
      expect(gets).to.deep.equal([`Secret/${name}`, `Secret/${name}`, `Secret/${name}`]);
    });

    it(`${label}: a change made since the cached read conflicts; one retry with a fresh read keeps it`, async () => {
      const key = { namespace: 'default', name };
      await cached(name, (await direct.get(CONFIG_MAP, key)).metadata?.resourceVersion);
      let runs = 0;
      const result = await fn(access, { apiVersion: 'v1', kind: 'ConfigMap', metadata: key } as ConfigMap, async (o) => {
        if (++runs === 1) {
          // Someone else's finalizer arrives after our read.
          await direct.patch(CONFIG_MAP, key, { metadata: { finalizers: [KEEP] } }, { type: PatchType.Merge });
        }
        o.metadata.finalizers = [...(o.metadata.finalizers ?? []).filter((f) => f !== OURS), OURS];
        o.data = { ...o.data, seen: String(runs) };
      });
      expect(result).to.equal('updated');
      expect(runs).to.equal(2);
      expect(gets).to.deep.equal([`ConfigMap/${name}`]);
      const stored = await direct.get(CONFIG_MAP, key);
      expect(stored.metadata?.finalizers).to.deep.equal([KEEP, OURS]);
      expect(stored.data?.['seen']).to.equal('2');
      await direct.patch(CONFIG_MAP, key, { metadata: { finalizers: null } }, { type: PatchType.Merge });
    });

    it(`${label}: conditions of a type with a status subresource, written through it`, async () => {
      const key = { namespace: 'default', name };
      const gizmo = (): Gizmo => ({ apiVersion: GIZMO.apiVersion, kind: GIZMO.kind, metadata: { ...key } });
      const ready = (status: 'True' | 'False', generation?: number) => (o: Gizmo): void => {
        o.spec = { size: 1 };
        setStatusCondition((o.status ??= {}).conditions ??= [], { type: 'Ready', status, reason: status === 'True' ? 'Reconciled' : 'Failed', observedGeneration: generation ?? o.metadata?.generation });
      };
      const obj = gizmo();
      expect(await fn(access, obj, ready('True', 1))).to.equal('created');
      const created = await direct.get(GIZMO, key);
      expect(created.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).to.deep.equal(['Ready=True/Reconciled']);
      expect(obj.status).to.deep.equal(created.status);
      expect(await fn(access, gizmo(), ready('True'))).to.equal('unchanged');
      expect(await fn(access, gizmo(), ready('False'))).to.equal('updated');
      const failed = await direct.get(GIZMO, key);
      expect(failed.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).to.deep.equal(['Ready=False/Failed']);
      // Only the status changed: the object's generation did not move.
      expect(failed.metadata?.generation).to.equal(created.metadata?.generation);
      // Not watched: every read went to the server.
      expect(gets).to.deep.equal([`Gizmo/${name}`, `Gizmo/${name}`, `Gizmo/${name}`]);
    });
  }
});
