/** Finalizer patches and the finalizer() state machine against a recording fake client; Event text helpers. */
import { expect } from 'chai';
import { ApiError, type ClusterClient, type JSONPatchOperation, type KubernetesObject } from '../../src/client/index.js';
import { addFinalizerPatch, finalizer, hasFinalizer, removeFinalizerPatch, type FinalizerEvent } from '../../src/controller/finalizer.js';
import { microTime } from '../../src/client/index.js';
import { cutNote } from '../../src/provider/recorder.js';

const F = 'example.com/cleanup';
const cm = (meta: KubernetesObject['metadata'] = {}): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'default', resourceVersion: '7', ...meta },
});

interface Call {
  type: unknown;
  key: unknown;
  patch: unknown;
  opts: unknown;
}

function fakeClient(fail?: unknown): { client: ClusterClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    async patch(type: unknown, key: unknown, patch: unknown, opts: unknown) {
      calls.push({ type, key, patch, opts });
      if (fail) throw fail;
      return {};
    },
  } as unknown as ClusterClient;
  return { client, calls };
}

describe('controller: finalizer patches', () => {
  it('hasFinalizer', () => {
    expect(hasFinalizer(cm({ finalizers: ['a', F] }), F)).to.equal(true);
    expect(hasFinalizer(cm({ finalizers: ['a'] }), F)).to.equal(false);
    expect(hasFinalizer(cm(), F)).to.equal(false);
    expect(hasFinalizer({}, F)).to.equal(false);
  });

  it('addFinalizerPatch tests the whole list when present, the resourceVersion when absent', () => {
    expect(addFinalizerPatch(cm({ finalizers: ['a'] }), F)).to.deep.equal([
      { op: 'test', path: '/metadata/finalizers', value: ['a'] },
      { op: 'add', path: '/metadata/finalizers/-', value: F },
    ]);
    expect(addFinalizerPatch(cm({ finalizers: [] }), F)).to.deep.equal([
      { op: 'test', path: '/metadata/finalizers', value: [] },
      { op: 'add', path: '/metadata/finalizers/-', value: F },
    ]);
    expect(addFinalizerPatch(cm(), F)).to.deep.equal([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'add', path: '/metadata/finalizers', value: [F] },
    ]);
    expect(addFinalizerPatch({ metadata: { name: 'x' } }, F)[0]).to.deep.equal({ op: 'test', path: '/metadata/finalizers', value: null });
  });

  it('removeFinalizerPatch tests the value at its index, then removes that index', () => {
    expect(removeFinalizerPatch(cm({ finalizers: ['a', F, 'b'] }), F)).to.deep.equal([
      { op: 'test', path: '/metadata/finalizers/1', value: F },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
    expect(removeFinalizerPatch(cm({ finalizers: ['a'] }), F)).to.equal(undefined);
    expect(removeFinalizerPatch(cm(), F)).to.equal(undefined);
  });
});

describe('controller: finalizer()', () => {
  const gone = new ApiError({ code: 404, reason: 'NotFound' });
  const conflict = new ApiError({ code: 422, reason: 'Invalid', message: 'test failed' });

  it('adds the finalizer to a live object without calling the handler', async () => {
    const { client, calls } = fakeClient();
    const seen: FinalizerEvent<KubernetesObject>[] = [];
    const signal = new AbortController().signal;
    const r = await finalizer(client, F, cm(), async (ev) => (seen.push(ev), 1), { signal });
    expect(r).to.equal(undefined);
    expect(seen).to.deep.equal([]);
    expect(calls).to.have.length(1);
    expect(calls[0]!.type).to.deep.equal({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(calls[0]!.key).to.deep.equal({ namespace: 'default', name: 'c' });
    expect(calls[0]!.patch).to.deep.equal(addFinalizerPatch(cm(), F));
    expect(calls[0]!.opts).to.deep.equal({ type: 'application/json-patch+json', signal });
  });

  it('propagates a failed add (the reconcile retries)', async () => {
    const { client } = fakeClient(conflict);
    let err: unknown;
    await finalizer(client, F, cm(), async () => 1).catch((e) => (err = e));
    expect(err).to.equal(conflict);
  });

  it('applies a live object that has the finalizer, with no write', async () => {
    const { client, calls } = fakeClient();
    const o = cm({ finalizers: [F] });
    const r = await finalizer(client, F, o, async (ev) => (expect(ev).to.deep.equal({ kind: 'apply', object: o }), 'applied'));
    expect(r).to.equal('applied');
    expect(calls).to.have.length(0);
  });

  it('cleans up a deleted object, then removes exactly its finalizer', async () => {
    const { client, calls } = fakeClient();
    const o = cm({ finalizers: ['other', F], deletionTimestamp: '2026-01-01T00:00:00Z' });
    const order: string[] = [];
    const r = await finalizer(client, F, o, async (ev) => {
      order.push(ev.kind);
      expect(calls).to.have.length(0);
      return 'cleaned';
    });
    expect(r).to.equal('cleaned');
    expect(order).to.deep.equal(['cleanup']);
    expect(calls.map((c) => c.patch)).to.deep.equal([removeFinalizerPatch(o, F)]);
  });

  it('keeps the finalizer when cleanup throws', async () => {
    const { client, calls } = fakeClient();
    const boom = new Error('boom');
    let err: unknown;
    await finalizer(client, F, cm({ finalizers: [F], deletionTimestamp: 't' }), async () => {
      throw boom;
    }).catch((e) => (err = e));
    expect(err).to.equal(boom);
    expect(calls).to.have.length(0);
  });

  it('counts a 404 on removal as done, and propagates other removal failures', async () => {
    const deleted = cm({ finalizers: [F], deletionTimestamp: 't' });
    expect(await finalizer(fakeClient(gone).client, F, deleted, async () => 'ok')).to.equal('ok');
    let err: unknown;
    await finalizer(fakeClient(conflict).client, F, deleted, async () => 'ok').catch((e) => (err = e));
    expect(err).to.equal(conflict);
  });

  it('does nothing for a deleted object without the finalizer', async () => {
    const { client, calls } = fakeClient();
    let called = false;
    const r = await finalizer(client, F, cm({ finalizers: ['other'], deletionTimestamp: 't' }), async () => ((called = true), 1));
    expect(r).to.equal(undefined);
    expect(called).to.equal(false);
    expect(calls).to.have.length(0);
  });

  it('refuses objects it cannot address', async () => {
    const { client } = fakeClient();
    let err: unknown;
    await finalizer(client, F, { metadata: { name: 'x' } }, async () => 1).catch((e) => (err = e));
    expect(String(err)).to.match(/apiVersion, kind/);
  });
});

describe('controller: Event text helpers', () => {
  it('microTime writes microseconds in UTC', () => {
    expect(microTime(new Date('2026-12-02T17:00:00.000Z'))).to.equal('2026-12-02T17:00:00.000000Z');
    expect(microTime(new Date('2026-12-02T17:00:00.123Z'))).to.equal('2026-12-02T17:00:00.123000Z');
  });

  it('cutNote keeps at most 1024 bytes of UTF-8 and never splits a character', () => {
    expect(cutNote('short')).to.equal('short');
    expect(cutNote('a'.repeat(2000))).to.have.length(1024);
    const euro = '€'.repeat(400); // 3 bytes each
    const cut = cutNote(euro);
    expect(Buffer.byteLength(cut)).to.equal(1023);
    expect(cut).to.equal('€'.repeat(341));
    expect(cutNote('a' + '€'.repeat(400))).to.equal('a' + '€'.repeat(341));
  });
});

// The type of a JSON patch is what the client accepts.
const _typed: JSONPatchOperation[] = addFinalizerPatch(cm(), F);
void _typed;
