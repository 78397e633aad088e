/** The finalizer helper end to end on ConfigMaps of the reference server. */
import { expect } from 'chai';
import { ClusterClient, isConflict, isInvalid, isNotFound, PatchType, Transport, type KubernetesObject, type ObjectType } from '../../src/client/index.js';
import { finalizer, type FinalizerEvent } from '../../src/controller/finalizer.js';
import type { RunningServer } from '../../src/server/index.js';
import { kubeConfigFor, rejection, start } from '../support/server.js';

interface ConfigMap extends KubernetesObject {
  data?: Record<string, string>;
}
const CM: ObjectType<ConfigMap> = { apiVersion: 'v1', kind: 'ConfigMap' };
const F = 'example.com/cleanup';
const OTHER = 'other.example.com/keep';

describe('controller: finalizer() (reference server)', () => {
  let srv: RunningServer;
  let t: Transport;
  let client: ClusterClient;

  before(async () => {
    srv = await start();
    t = Transport.fromKubeConfig(kubeConfigFor(srv, 'root'));
    client = new ClusterClient(t, { cluster: srv.createLogicalCluster() });
  });
  after(async () => {
    t.close();
    await srv.stop();
  });

  const make = (name: string, finalizers?: string[]): Promise<ConfigMap> =>
    client.create<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ...(finalizers ? { finalizers } : {}) }, data: { k: 'v' } });
  const read = (name: string): Promise<ConfigMap> => client.get(CM, { namespace: 'default', name });

  it('adds the finalizer first, applies next, and on deletion cleans up before the object goes', async () => {
    const seen: string[] = [];
    const handler = async (ev: FinalizerEvent<ConfigMap>): Promise<string> => {
      // During cleanup the finalizer still holds the object.
      if (ev.kind === 'cleanup') expect((await read('life')).metadata?.finalizers).to.deep.equal([F]);
      seen.push(ev.kind);
      return ev.kind;
    };
    await make('life');
    expect(await finalizer(client, F, await read('life'), handler)).to.equal(undefined);
    expect(seen).to.deep.equal([]);
    expect((await read('life')).metadata?.finalizers).to.deep.equal([F]);

    expect(await finalizer(client, F, await read('life'), handler)).to.equal('apply');
    expect(seen).to.deep.equal(['apply']);

    const marked = await client.delete(CM, { namespace: 'default', name: 'life' });
    expect(marked?.metadata?.deletionTimestamp).to.be.a('string');
    const deleting = await read('life');
    expect(deleting.metadata?.deletionTimestamp).to.be.a('string');
    expect(await finalizer(client, F, deleting, handler)).to.equal('cleanup');
    expect(seen).to.deep.equal(['apply', 'cleanup']);
    expect(isNotFound(await rejection(read('life')))).to.equal(true);
  });

  it('keeps the finalizer and the object when cleanup throws, and finishes on a later success', async () => {
    await make('stuck', [F]);
    await client.delete(CM, { namespace: 'default', name: 'stuck' });
    const boom = new Error('cleanup failed');
    const err = await rejection(finalizer(client, F, await read('stuck'), async () => Promise.reject(boom)));
    expect(err).to.equal(boom);
    const still = await read('stuck');
    expect(still.metadata?.finalizers).to.deep.equal([F]);
    expect(still.metadata?.deletionTimestamp).to.be.a('string');
    expect(await finalizer(client, F, still, async () => 'done')).to.equal('done');
    expect(isNotFound(await rejection(read('stuck')))).to.equal(true);
  });

  it('removes only its own finalizer; the object stays while others hold it', async () => {
    await make('shared', [OTHER, F]);
    await client.delete(CM, { namespace: 'default', name: 'shared' });
    expect(await finalizer(client, F, await read('shared'), async () => 'ok')).to.equal('ok');
    expect((await read('shared')).metadata?.finalizers).to.deep.equal([OTHER]);
    // Someone else's finalizer on a deleted object is not ours to act on.
    let called = false;
    expect(await finalizer(client, F, await read('shared'), async () => ((called = true), 'x'))).to.equal(undefined);
    expect(called).to.equal(false);
  });

  it('a concurrent change of the finalizers makes the add fail instead of clobbering it', async () => {
    await make('race');
    const stale = await read('race');
    await client.patch(CM, { namespace: 'default', name: 'race' }, { metadata: { finalizers: [OTHER] } }, { type: PatchType.Merge });
    const err = await rejection(finalizer(client, F, stale, async () => 'never'));
    expect(isInvalid(err) || isConflict(err), String(err)).to.equal(true);
    expect((await read('race')).metadata?.finalizers).to.deep.equal([OTHER]);

    // Same with a list present: the whole list is tested.
    const stale2 = await read('race');
    await client.patch(CM, { namespace: 'default', name: 'race' }, [{ op: 'add', path: '/metadata/finalizers/-', value: 'third.example.com/f' }], { type: PatchType.JSON });
    const err2 = await rejection(finalizer(client, F, stale2, async () => 'never'));
    expect(isInvalid(err2) || isConflict(err2), String(err2)).to.equal(true);
    expect((await read('race')).metadata?.finalizers).to.deep.equal([OTHER, 'third.example.com/f']);

    // A fresh read succeeds.
    expect(await finalizer(client, F, await read('race'), async () => 'never')).to.equal(undefined);
    expect((await read('race')).metadata?.finalizers).to.deep.equal([OTHER, 'third.example.com/f', F]);
  });

  it('a concurrent change of the finalizers makes the removal fail, and a retry removes the right one', async () => {
    await make('shift', [OTHER, F]);
    await client.delete(CM, { namespace: 'default', name: 'shift' });
    const stale = await read('shift');
    // OTHER goes away: F moves from index 1 to 0, so the stale index no longer holds it.
    await client.patch(CM, { namespace: 'default', name: 'shift' }, [{ op: 'remove', path: '/metadata/finalizers/0' }], { type: PatchType.JSON });
    const err = await rejection(finalizer(client, F, stale, async () => 'cleaned'));
    expect(isInvalid(err) || isConflict(err), String(err)).to.equal(true);
    expect((await read('shift')).metadata?.finalizers).to.deep.equal([F]);
    expect(await finalizer(client, F, await read('shift'), async () => 'cleaned')).to.equal('cleaned');
    expect(isNotFound(await rejection(read('shift')))).to.equal(true);
  });

  it('counts a removal on an object that is gone already as done', async () => {
    await make('vanish', [F]);
    await client.delete(CM, { namespace: 'default', name: 'vanish' });
    const stale = await read('vanish');
    await client.patch(CM, { namespace: 'default', name: 'vanish' }, { metadata: { finalizers: null } }, { type: PatchType.Merge });
    expect(isNotFound(await rejection(read('vanish')))).to.equal(true);
    expect(await finalizer(client, F, stale, async () => 'late')).to.equal('late');
  });
});
