/** Discovery caching, refresh-once-on-miss and VW quirks, against a fake transport. */
import { expect } from 'chai';
import { apiErrorFromResponse, Discovery, UnknownKindError, UnknownResourceError, type JSONRequester, type RequestOptions } from '../../src/client/index.js';

type Docs = Record<string, unknown>;

/** Serves discovery documents from a table; a path that is not in it answers 404. */
class FakeTransport implements JSONRequester {
  readonly server = 'https://vw.example/services/apiexport/abc/widgets/clusters/*';
  readonly calls: string[] = [];
  constructor(public docs: Docs) {}
  async requestJSON<T>(o: RequestOptions): Promise<T> {
    const path = o.url.startsWith(this.server) ? o.url.slice(this.server.length) : o.url;
    this.calls.push(path);
    expect(o.url.slice('https://'.length)).not.to.contain('//');
    if (!(path in this.docs)) throw apiErrorFromResponse(404, '');
    return structuredClone(this.docs[path]) as T;
  }
  count(path: string): number {
    return this.calls.filter((c) => c === path).length;
  }
}

const coreV1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'list'], shortNames: ['cm'] },
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get'], shortNames: ['ns'] },
    { name: 'namespaces/status', singularName: '', namespaced: false, kind: 'Namespace', verbs: ['get', 'patch'] },
    { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: ['create'], shortNames: ['ev'] },
  ],
};
const wildwest = (version: string) => ({
  kind: 'APIResourceList',
  groupVersion: `wildwest.dev/${version}`,
  resources: [
    { name: 'cowboys', singularName: 'cowboy', namespaced: true, kind: 'Cowboy', verbs: ['get', 'list', 'watch'], shortNames: ['cb'] },
    { name: 'cowboys/status', singularName: '', namespaced: true, kind: 'Cowboy', verbs: ['get', 'patch'] },
  ],
});
const eventsV1 = {
  kind: 'APIResourceList',
  groupVersion: 'events.k8s.io/v1',
  resources: [{ name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: ['create'], shortNames: ['ev'] }],
};
const groups = {
  kind: 'APIGroupList',
  groups: [
    {
      name: 'wildwest.dev',
      versions: [
        { groupVersion: 'wildwest.dev/v1', version: 'v1' },
        { groupVersion: 'wildwest.dev/v1alpha1', version: 'v1alpha1' },
      ],
      preferredVersion: { groupVersion: 'wildwest.dev/v1', version: 'v1' },
    },
    { name: 'events.k8s.io', versions: [{ groupVersion: 'events.k8s.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'events.k8s.io/v1', version: 'v1' } },
  ],
};
const full = (): Docs => ({
  '/api': { kind: 'APIVersions', versions: ['v1'] },
  '/api/v1': coreV1,
  '/apis': groups,
  '/apis/wildwest.dev/v1': wildwest('v1'),
  '/apis/wildwest.dev/v1alpha1': wildwest('v1alpha1'),
  '/apis/events.k8s.io/v1': eventsV1,
});

describe('client: Discovery', () => {
  it('maps kind to resource with scope, verbs and subresources', async () => {
    const t = new FakeTransport(full());
    const d = new Discovery(t);
    const cb = await d.resourceFor({ apiVersion: 'wildwest.dev/v1', kind: 'Cowboy' });
    expect(cb).to.include({ group: 'wildwest.dev', version: 'v1', resource: 'cowboys', namespaced: true });
    expect(cb.subresources).to.deep.equal(['status']);
    expect(cb.verbs).to.deep.equal(['get', 'list', 'watch']);
    const ns = await d.resourceFor({ apiVersion: 'v1', kind: 'Namespace' });
    expect(ns).to.include({ group: '', resource: 'namespaces', namespaced: false });
    expect(ns.subresources).to.deep.equal(['status']);
  });

  it('caches per groupVersion: repeated lookups cost one request', async () => {
    const t = new FakeTransport(full());
    const d = new Discovery(t);
    await Promise.all([1, 2, 3].map(() => d.resourceFor({ apiVersion: 'v1', kind: 'ConfigMap' })));
    await d.resourceFor({ apiVersion: 'v1', kind: 'Namespace' });
    expect(t.count('/api/v1')).to.equal(1);
  });

  it('refreshes once on a miss, finding a kind bound since the cache was filled', async () => {
    const docs = full();
    const t = new FakeTransport(docs);
    const d = new Discovery(t);
    await d.resourceFor({ apiVersion: 'wildwest.dev/v1', kind: 'Cowboy' });
    const list = docs['/apis/wildwest.dev/v1'] as { resources: unknown[] };
    list.resources.push({ name: 'sheriffs', singularName: 'sheriff', namespaced: false, kind: 'Sheriff', verbs: ['get'] });
    const sh = await d.resourceFor({ apiVersion: 'wildwest.dev/v1', kind: 'Sheriff' });
    expect(sh.resource).to.equal('sheriffs');
    expect(t.count('/apis/wildwest.dev/v1')).to.equal(2);
  });

  it('throws UnknownKindError after exactly one refresh', async () => {
    const t = new FakeTransport(full());
    const d = new Discovery(t);
    await d.resourceFor({ apiVersion: 'wildwest.dev/v1', kind: 'Cowboy' });
    const err = await d.resourceFor({ apiVersion: 'wildwest.dev/v1', kind: 'Horse' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UnknownKindError);
    expect((err as UnknownKindError).kind).to.equal('Horse');
    expect(t.count('/apis/wildwest.dev/v1')).to.equal(2);
    // An unserved group version is one request, not a crash.
    const err2 = await d.resourceFor({ apiVersion: 'nope.dev/v1', kind: 'X' }).catch((e: unknown) => e);
    expect(err2).to.be.instanceOf(UnknownKindError);
    expect(t.count('/apis/nope.dev/v1')).to.equal(1);
  });

  it('tolerates the VW quirk: /api says v1 but /api/v1 is 404', async () => {
    const docs = full();
    delete docs['/api/v1'];
    const t = new FakeTransport(docs);
    const d = new Discovery(t);
    const all = await d.resources();
    expect(all.map((r) => r.resource)).to.have.members(['cowboys', 'cowboys', 'events']);
    expect(await d.resourceFor({ apiVersion: 'v1', kind: 'ConfigMap' }).catch((e: unknown) => e)).to.be.instanceOf(UnknownKindError);
  });

  it('tolerates a missing /api', async () => {
    const docs = full();
    delete docs['/api'];
    delete docs['/api/v1'];
    const d = new Discovery(new FakeTransport(docs));
    expect((await d.resolveResource('cowboys')).group).to.equal('wildwest.dev');
  });

  it('resolves resource names like kubectl', async () => {
    const t = new FakeTransport(full());
    const d = new Discovery(t);
    const r = async (n: string): Promise<string> => {
      const i = await d.resolveResource(n);
      return `${i.resource}.${i.version}.${i.group}`;
    };
    expect(await r('configmaps')).to.equal('configmaps.v1.');
    expect(await r('configmap')).to.equal('configmaps.v1.');
    expect(await r('cm')).to.equal('configmaps.v1.');
    expect(await r('ConfigMap')).to.equal('configmaps.v1.');
    expect(await r('cowboys')).to.equal('cowboys.v1.wildwest.dev');
    expect(await r('cowboys.wildwest.dev')).to.equal('cowboys.v1.wildwest.dev');
    expect(await r('cowboys.v1alpha1.wildwest.dev')).to.equal('cowboys.v1alpha1.wildwest.dev');
    expect(await r('cb')).to.equal('cowboys.v1.wildwest.dev');
    expect(await r('events')).to.equal('events.v1.');
    expect(await r('events.events.k8s.io')).to.equal('events.v1.events.k8s.io');
    expect(t.count('/apis')).to.equal(1);
    const err = await d.resolveResource('horses').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UnknownResourceError);
    expect(t.count('/apis')).to.equal(2);
  });

  it('does not cache failures', async () => {
    const t = new FakeTransport(full());
    let fail = true;
    const flaky: JSONRequester = {
      server: t.server,
      requestJSON: <T>(o: RequestOptions): Promise<T> => {
        if (fail) return Promise.reject(apiErrorFromResponse(503, ''));
        return t.requestJSON<T>(o);
      },
    };
    const d = new Discovery(flaky);
    expect(await d.resourceFor({ apiVersion: 'v1', kind: 'ConfigMap' }).catch((e: unknown) => e)).to.have.property('code', 503);
    fail = false;
    expect((await d.resourceFor({ apiVersion: 'v1', kind: 'ConfigMap' })).resource).to.equal('configmaps');
  });
});
