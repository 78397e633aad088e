/** Defaulting and validating reviews: the JSON patch by diff, the tenant cluster, denials and warnings. */
import { expect } from 'chai';
import { jsonPatch } from '../../src/server/api/index.js';
import type { Json } from '../../src/server/types.js';
import { Logger } from '../../src/log/index.js';
import type { Cluster } from '../../src/provider/types.js';
import {
  createJsonPatch,
  reviewDefault,
  reviewValidate,
  WebhookDenied,
  type AdmissionRequest,
  type AdmissionResponse,
  type JsonPatchOperation,
  type WebhookContext,
} from '../../src/webhook/index.js';

interface Widget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { size?: number; color?: string; tags?: string[] };
}

const lines: string[] = [];
const env = (engaged: Record<string, Cluster> = {}) => ({
  webhook: '/mutate-example-dev-v1alpha1-widget',
  log: new Logger({ write: (l) => lines.push(l) }),
  engaged: (c: string) => engaged[c],
});

function request(over: Partial<AdmissionRequest>): AdmissionRequest {
  return {
    uid: 'u-1',
    kind: { group: 'example.dev', version: 'v1alpha1', kind: 'Widget' },
    resource: { group: 'example.dev', version: 'v1alpha1', resource: 'widgets' },
    namespace: 'default',
    name: 'w',
    operation: 'CREATE',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    dryRun: false,
    ...over,
  };
}

function widget(spec: Widget['spec'], cluster?: string): Widget {
  return { apiVersion: 'example.dev/v1alpha1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', ...(cluster ? { annotations: { 'kcp.io/cluster': cluster } } : {}) }, spec };
}

function patchOf(r: AdmissionResponse): JsonPatchOperation[] {
  expect(r.patchType).to.equal('JSONPatch');
  return JSON.parse(Buffer.from(r.patch!, 'base64').toString('utf8')) as JsonPatchOperation[];
}

describe('webhook JSON patch by diff', () => {
  const cases: [string, unknown, unknown][] = [
    ['adds a field', { a: 1 }, { a: 1, b: { c: [1] } }],
    ['removes and replaces', { a: 1, b: 'x', c: null }, { b: 'y', c: 0 }],
    ['grows and shrinks arrays', { l: [1, 2, 3], m: [1] }, { l: [1], m: [1, { x: 2 }, 3] }],
    ['changes a type', { a: [1] }, { a: { b: 1 } }],
    ['escapes ~ and / in keys', { metadata: { annotations: { 'a~b': '1' } } }, { metadata: { annotations: { 'kcp.io/cluster': 'c1' } } }],
  ];
  for (const [title, from, to] of cases) {
    it(`${title}: applying the patch gives the target`, () => {
      const ops = createJsonPatch(from, to);
      expect(jsonPatch(from as Json, ops as unknown as Json)).to.deep.equal(to);
    });
  }

  it('is empty for equal documents, whatever the key order, and ignores undefined members', () => {
    expect(createJsonPatch({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1, e: undefined })).to.deep.equal([]);
  });

  it('escapes the kcp.io/cluster annotation as kube pointers do', () => {
    expect(createJsonPatch({ metadata: { annotations: {} } }, { metadata: { annotations: { 'kcp.io/cluster': 'c' } } })).to.deep.equal([
      { op: 'add', path: '/metadata/annotations/kcp.io~1cluster', value: 'c' },
    ]);
  });
});

describe('webhook defaulting review', () => {
  it('answers the diff between the object sent and the changed copy, leaving the request untouched', async () => {
    const obj = widget({ size: 3 }, 'tenant-a');
    const r = await reviewDefault<Widget>(request({ object: obj as never }), (w) => {
      w.spec.color ??= 'blue';
      w.metadata!.labels = { painted: 'no' };
    }, env());
    expect(r.allowed).to.equal(true);
    expect(r.uid).to.equal('u-1');
    const ops = patchOf(r);
    expect(jsonPatch(obj as unknown as Json, ops as unknown as Json)).to.deep.equal({ ...obj, metadata: { ...obj.metadata, labels: { painted: 'no' } }, spec: { size: 3, color: 'blue' } });
    expect(obj.spec).to.deep.equal({ size: 3 });
  });

  it('answers no patch when nothing changed, and skips DELETE without calling the handler', async () => {
    let calls = 0;
    const noop = (): void => {
      calls++;
    };
    const same = await reviewDefault(request({ object: widget({ size: 1 }) as never }), noop, env());
    expect(same).to.deep.equal({ uid: 'u-1', allowed: true, status: { code: 200 } });
    const del = await reviewDefault(request({ operation: 'DELETE', oldObject: widget({ size: 1 }) as never }), noop, env());
    expect(del.allowed).to.equal(true);
    expect(calls).to.equal(1);
  });

  it('refuses a request without an object with 400', async () => {
    const r = await reviewDefault(request({ object: null }), () => undefined, env());
    expect(r).to.deep.include({ allowed: false });
    expect(r.status).to.deep.equal({ code: 400, message: 'there is no content to decode' });
  });
});

describe('webhook validating review', () => {
  it('gives the handler the tenant cluster of the object on CREATE, the engaged cluster, and the request facts', async () => {
    const handle = { name: 'tenant-a' } as Cluster;
    let seen: WebhookContext<Widget> | undefined;
    const r = await reviewValidate<Widget>(
      request({ object: widget({ size: 1 }, 'tenant-a') as never, dryRun: true }),
      {
        create: (_w, ctx) => {
          seen = ctx;
          ctx.log.info('checked');
          return ['size 1 is small'];
        },
      },
      env({ 'tenant-a': handle }),
    );
    expect(r).to.deep.equal({ uid: 'u-1', allowed: true, status: { code: 200 }, warnings: ['size 1 is small'] });
    expect(seen!.cluster).to.equal('tenant-a');
    expect(seen!.engaged).to.equal(handle);
    expect(seen!.operation).to.equal('CREATE');
    expect(seen!.dryRun).to.equal(true);
    expect(seen!.userInfo.username).to.equal('alice');
    const logged = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    expect(logged).to.include({ msg: 'checked', webhook: '/mutate-example-dev-v1alpha1-widget', cluster: 'tenant-a', namespace: 'default', name: 'w', uid: 'u-1' });
  });

  it('takes the cluster from oldObject on UPDATE and DELETE when the new object lacks it', async () => {
    const clusters: string[] = [];
    const v = {
      update: (_o: Readonly<Widget>, _n: Readonly<Widget>, ctx: WebhookContext<Widget>) => void clusters.push(ctx.cluster),
      delete: (_o: Readonly<Widget>, ctx: WebhookContext<Widget>) => void clusters.push(`${ctx.cluster}:${ctx.oldObject?.spec.size}`),
    };
    await reviewValidate<Widget>(request({ operation: 'UPDATE', object: widget({ size: 2 }) as never, oldObject: widget({ size: 1 }, 'tenant-b') as never }), v, env());
    await reviewValidate<Widget>(request({ operation: 'DELETE', object: null, oldObject: widget({ size: 1 }, 'tenant-c') as never }), v, env());
    expect(clusters).to.deep.equal(['tenant-b', 'tenant-c:1']);
  });

  it('turns a WebhookDenied into its status: a plain denial is 403 Forbidden, one with causes 422 Invalid with details', async () => {
    const plain = await reviewValidate<Widget>(request({ object: widget({ color: 'pink' }) as never }), {
      create: () => {
        throw new WebhookDenied('cannot paint pink', { warnings: ['try red'] });
      },
    }, env());
    expect(plain).to.deep.equal({ uid: 'u-1', allowed: false, status: { code: 403, reason: 'Forbidden', message: 'cannot paint pink', status: 'Failure' }, warnings: ['try red'] });
    const invalid = await reviewValidate<Widget>(request({ object: widget({ color: 'pink' }) as never }), {
      create: () => {
        throw new WebhookDenied('spec.color: Unsupported value: "pink"', { causes: [{ field: 'spec.color', reason: 'FieldValueNotSupported', message: 'Unsupported value: "pink"' }] });
      },
    }, env());
    expect(invalid.status).to.deep.equal({
      code: 422,
      reason: 'Invalid',
      message: 'spec.color: Unsupported value: "pink"',
      status: 'Failure',
      details: { name: 'w', group: 'example.dev', kind: 'Widget', causes: [{ field: 'spec.color', reason: 'FieldValueNotSupported', message: 'Unsupported value: "pink"' }] },
    });
  });

  it('lets anything else a handler throws propagate (the server answers it as a 500), and allows operations without a handler', async () => {
    let err: unknown;
    try {
      await reviewValidate<Widget>(request({ object: widget({}) as never }), { create: () => { throw new TypeError('boom'); } }, env());
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(TypeError);
    const del = await reviewValidate<Widget>(request({ operation: 'DELETE', oldObject: widget({}) as never }), { create: () => undefined }, env());
    expect(del.allowed).to.equal(true);
    const odd = await reviewValidate<Widget>(request({ operation: 'PATCH' as never, object: widget({}) as never }), { create: () => undefined }, env());
    expect(odd.status).to.deep.equal({ code: 400, message: 'unknown operation "PATCH"' });
  });
});
