import { expect } from 'chai';
import { admissionReview } from '../../src/server/admission/call.js';
import { webhooksOf, type Webhook } from '../../src/server/admission/configs.js';
import { matchWebhooks, type MatchAttributes, type Operation } from '../../src/server/admission/match.js';
import { BUILTIN_RESOURCES } from '../../src/server/api/index.js';
import type { Json, KubeObject, ResourceDef } from '../../src/server/types.js';
import { apiErrorWith } from '../support/api-error.js';

const WIDGETS_V1: ResourceDef = { ...BUILTIN_RESOURCES.find((d) => d.resource === 'configmaps')!, group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget' };
const WIDGETS_V2: ResourceDef = { ...WIDGETS_V1, version: 'v2' };
const NAMESPACES = BUILTIN_RESOURCES.find((d) => d.resource === 'namespaces')!;
const CLUSTER_SCOPED: ResourceDef = { ...WIDGETS_V1, resource: 'gadgets', namespaced: false };

/** One webhook with the given rules and extra fields, as a stored configuration yields it. */
function hook(rules: Record<string, Json>[], extra: Record<string, Json> = {}): Webhook {
  const config = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'c' }, webhooks: [{ name: 'a.b.c', rules, ...extra }] };
  return webhooksOf(config as unknown as KubeObject, false)[0]!;
}

function attrs(def: ResourceDef, opts: { op?: Operation; sub?: string; ns?: string; labels?: Record<string, string>; oldLabels?: Record<string, string> } = {}): MatchAttributes {
  const object = { apiVersion: 'x', kind: def.kind, metadata: { name: 'n', labels: opts.labels } } as KubeObject;
  return {
    operation: opts.op ?? 'CREATE',
    def,
    subresource: opts.sub ?? '',
    namespace: opts.ns ?? (def.namespaced ? 'default' : ''),
    object: opts.op === 'DELETE' ? undefined : object,
    oldObject: opts.oldLabels ? { ...object, metadata: { name: 'n', labels: opts.oldLabels } } : undefined,
  };
}

const NS_LABELS: Record<string, Record<string, string>> = { default: {}, guarded: { guarded: 'true' } };
const namespaceOf = (name: string): KubeObject | undefined =>
  NS_LABELS[name] ? ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: NS_LABELS[name] } } as KubeObject) : undefined;

function reaches(h: Webhook, a: MatchAttributes, equivalents: ResourceDef[] = []): boolean {
  return matchWebhooks([h], a, equivalents, namespaceOf).length === 1;
}

const rule = (resources: string[], extra: Record<string, Json> = {}) => ({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources, scope: '*', ...extra });

describe('admission webhook matching', () => {
  it('matches resources and subresources as kube\'s rules do', () => {
    const cases: [string, string, boolean][] = [
      ['widgets', '', true],
      ['widgets', 'status', false],
      ['widgets/status', 'status', true],
      ['widgets/status', '', false],
      ['widgets/*', '', true],
      ['widgets/*', 'status', true],
      ['*', '', true],
      ['*', 'status', false],
      ['*/status', 'status', true],
      ['*/status', '', false],
      ['*/*', 'status', true],
      ['gadgets', '', false],
    ];
    for (const [resource, sub, want] of cases) {
      expect(reaches(hook([rule([resource])]), attrs(WIDGETS_V1, { sub })), `${resource} on widgets${sub ? '/' + sub : ''}`).to.equal(want);
    }
  });

  it('matches operations, groups and versions exactly or by *', () => {
    expect(reaches(hook([rule(['widgets'], { operations: ['UPDATE'] })]), attrs(WIDGETS_V1))).to.equal(false);
    expect(reaches(hook([rule(['widgets'], { operations: ['CREATE'] })]), attrs(WIDGETS_V1))).to.equal(true);
    expect(reaches(hook([rule(['widgets'], { apiGroups: ['other.com'] })]), attrs(WIDGETS_V1))).to.equal(false);
    expect(reaches(hook([rule(['widgets'], { apiVersions: ['v2'] })], { matchPolicy: 'Exact' }), attrs(WIDGETS_V1, {}), [WIDGETS_V2])).to.equal(false);
  });

  it('with matchPolicy Equivalent, matches another served version and sends the object in it', () => {
    const h = hook([rule(['widgets'], { apiVersions: ['v2'] })]);
    const [m] = matchWebhooks([h], attrs(WIDGETS_V1), [WIDGETS_V1, WIDGETS_V2], namespaceOf);
    expect(m?.def.version).to.equal('v2');
  });

  it('scopes rules: Namespaced needs a namespace and excludes namespaces; Cluster takes cluster-scoped resources and namespaces', () => {
    expect(reaches(hook([rule(['*'], { scope: 'Namespaced' })]), attrs(WIDGETS_V1))).to.equal(true);
    expect(reaches(hook([rule(['*'], { scope: 'Namespaced' })]), attrs(CLUSTER_SCOPED))).to.equal(false);
    expect(reaches(hook([rule(['*'], { scope: 'Namespaced' })]), attrs(NAMESPACES))).to.equal(false);
    expect(reaches(hook([rule(['*'], { scope: 'Cluster' })]), attrs(NAMESPACES))).to.equal(true);
    expect(reaches(hook([rule(['*'], { scope: 'Cluster' })]), attrs(CLUSTER_SCOPED))).to.equal(true);
    expect(reaches(hook([rule(['*'], { scope: 'Cluster' })]), attrs(WIDGETS_V1))).to.equal(false);
  });

  it('applies namespaceSelector to the namespace\'s labels, a namespace\'s own labels, and never to other cluster-scoped objects', () => {
    const guarded = hook([rule(['*'])], { namespaceSelector: { matchLabels: { guarded: 'true' } } });
    expect(reaches(guarded, attrs(WIDGETS_V1, { ns: 'guarded' }))).to.equal(true);
    expect(reaches(guarded, attrs(WIDGETS_V1, { ns: 'default' }))).to.equal(false);
    expect(reaches(guarded, attrs(CLUSTER_SCOPED))).to.equal(true);
    expect(reaches(guarded, attrs(NAMESPACES, { labels: { guarded: 'true' } }))).to.equal(true);
    expect(reaches(guarded, attrs(NAMESPACES, { labels: {} }))).to.equal(false);
    const missing = apiErrorWith(() => reaches(guarded, attrs(WIDGETS_V1, { ns: 'gone' })), 404, 'NotFound');
    expect(missing.message).to.equal('namespaces "gone" not found');
  });

  it('applies objectSelector to the object or the old object', () => {
    const h = hook([rule(['*'])], { objectSelector: { matchLabels: { app: 'x' } } });
    expect(reaches(h, attrs(WIDGETS_V1, { labels: { app: 'x' } }))).to.equal(true);
    expect(reaches(h, attrs(WIDGETS_V1, { labels: {} }))).to.equal(false);
    expect(reaches(h, attrs(WIDGETS_V1, { op: 'UPDATE', labels: {}, oldLabels: { app: 'x' } }))).to.equal(true);
    expect(reaches(h, attrs(WIDGETS_V1, { op: 'DELETE', oldLabels: { app: 'y' } }))).to.equal(false);
  });
});

describe('AdmissionReview requests', () => {
  const user = { name: 'alice', uid: 'u-1', groups: ['team'] };
  it('names the matched version in kind and resource, and the addressed one in requestKind and requestResource', () => {
    const object = { apiVersion: 'example.com/v2', kind: 'Widget', metadata: { name: 'w' } } as KubeObject;
    const review = admissionReview(
      { operation: 'UPDATE', def: WIDGETS_V2, requestDef: WIDGETS_V1, subresource: 'status', name: 'w', namespace: 'default', object, oldObject: object, user, dryRun: true, fieldManager: 'kubectl' },
      'uid-1',
    );
    expect(review).to.deep.equal({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'uid-1',
        kind: { group: 'example.com', version: 'v2', kind: 'Widget' },
        resource: { group: 'example.com', version: 'v2', resource: 'widgets' },
        subResource: 'status',
        requestKind: { group: 'example.com', version: 'v1', kind: 'Widget' },
        requestResource: { group: 'example.com', version: 'v1', resource: 'widgets' },
        requestSubResource: 'status',
        name: 'w',
        namespace: 'default',
        operation: 'UPDATE',
        userInfo: { username: 'alice', uid: 'u-1', groups: ['team'] },
        object: object as unknown as Json,
        oldObject: object as unknown as Json,
        dryRun: true,
        options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'], fieldManager: 'kubectl' },
      },
    });
  });

  it('omits the namespace of a cluster-scoped object and sends a null object on DELETE', () => {
    const old = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'g' } } as KubeObject;
    const { request } = admissionReview(
      { operation: 'DELETE', def: CLUSTER_SCOPED, requestDef: CLUSTER_SCOPED, subresource: '', name: 'g', namespace: '', object: undefined, oldObject: old, user, dryRun: false, fieldManager: undefined },
      'uid-2',
    ) as { request: Record<string, Json> };
    expect(Object.keys(request)).to.not.include.members(['namespace', 'subResource', 'requestSubResource']);
    expect([request['object'], request['dryRun'], request['options']]).to.deep.equal([null, false, { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' }]);
  });
});
