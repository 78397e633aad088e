/** Pure parts of the apis.kcp.io layer: kcp's hashes, version conversion, conditions, claim logic. */
import { expect } from 'chai';
import { intersectVerbs, selectorSelects } from '../../src/server/kcp/apis/claims.js';
import { markFalse, markTrue, mirrorReady, type Condition } from '../../src/server/kcp/apis/conditions.js';
import { bindingToV1, bindingToV2 } from '../../src/server/kcp/apis/convert-binding.js';
import { exportToV1, exportToV2 } from '../../src/server/kcp/apis/convert.js';
import { REFLEXIVE_CLAIM_VALUE, boundResourceStorage, claimLabel, exportHash, identityHashOfKey } from '../../src/server/kcp/apis/names.js';
import type { KubeObject } from '../../src/server/types.js';

describe('kcp apis: hashes', () => {
  it('derives label keys and values exactly as kcp (sdk permissionclaims/labels_test.go vectors)', () => {
    expect(exportHash('root', 'tenancy.kcp.io')).to.equal('bmCdly9xXiUpEHe3ypvDwvXMTfoVZUE92mqAQf');
    expect(exportHash('abcd1234', 'my-export')).to.equal('phGj1BkmdNY3LKTrtFc1KGLYTBs8Nt50p8PIU');
    expect(claimLabel('root', 'tenancy.kcp.io', { group: '', resource: 'configmaps' })).to.deep.equal([
      'claimed.internal.apis.kcp.io/bmCdly9xXiUpEHe3ypvDwvXMTfoVZUE92mqAQf',
      '3QVjs6pfBjMpLEVYYhysJnroYGsQGlWm05E4qe',
    ]);
    expect(claimLabel('abcd1234', 'my-export', { group: 'apps', resource: 'deployments', identityHash: 'deadbeef' })).to.deep.equal([
      'claimed.internal.apis.kcp.io/phGj1BkmdNY3LKTrtFc1KGLYTBs8Nt50p8PIU',
      '4CpOMiJ5JL9ZC4cG8ne7nGNQbSOEUiwZ89KHal',
    ]);
    expect(REFLEXIVE_CLAIM_VALUE).to.equal('LstvmbbzVDDOn90ZbhzSQO5U3DMCf88h1pZ');
  });

  it('hashes identities as 64 hex characters and keys bound storage by identity', () => {
    expect(identityHashOfKey(Buffer.from('abc'))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(boundResourceStorage('wildwest.dev', 'cowboys', 'h1')).to.not.equal(boundResourceStorage('wildwest.dev', 'cowboys', 'h2'));
    expect(boundResourceStorage('', 'things', 'h')).to.equal('core/things:h');
  });
});

const meta = { name: 'x' };

describe('kcp apis: version conversion', () => {
  it('converts a v1alpha1 export to v1alpha2 and back without loss', () => {
    const v1: KubeObject = {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIExport',
      metadata: { ...meta },
      spec: {
        latestResourceSchemas: ['a.things.core', 'b.widgets.example.com'],
        permissionClaims: [{ resource: 'configmaps', all: true }, { group: 'example.com', resource: 'gadgets', resourceSelector: [{ name: 'n' }], identityHash: 'h' }],
        identity: { secretRef: { namespace: 'kcp-system', name: 'x' } },
      },
    };
    const v2 = exportToV2(v1);
    expect(v2['spec']).to.deep.equal({
      identity: { secretRef: { namespace: 'kcp-system', name: 'x' } },
      permissionClaims: [{ resource: 'configmaps', verbs: ['*'] }, { group: 'example.com', resource: 'gadgets', verbs: ['*'], identityHash: 'h' }],
      resources: [
        { name: 'things', group: '', schema: 'a.things.core', storage: { crd: {} } },
        { name: 'widgets', group: 'example.com', schema: 'b.widgets.example.com', storage: { crd: {} } },
      ],
    });
    expect(v2.metadata.annotations?.['apis.v1alpha2.kcp.io/v1alpha1-permission-claims']).to.equal(
      '[{"resource":"configmaps","all":true},{"group":"example.com","resource":"gadgets","resourceSelector":[{"name":"n"}],"identityHash":"h"}]',
    );
    const back = exportToV1(v2);
    expect(back['spec']).to.deep.equal(v1['spec']);
    expect(back.metadata.annotations).to.equal(undefined);
  });

  it('keeps what v1alpha1 cannot say in annotations and restores it in place', () => {
    const v2: KubeObject = {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { ...meta, annotations: { keep: 'me' } },
      spec: {
        resources: [
          { name: 'v', group: 'g.io', schema: 'x.v.g.io', storage: { virtual: { reference: { kind: 'K', name: 'n' } } } },
          { name: 'c', group: 'g.io', schema: 'x.c.g.io', storage: { crd: {} } },
        ],
        permissionClaims: [{ resource: 'secrets', verbs: ['get'] }],
      },
      status: { identityHash: 'abc' },
    };
    const v1 = exportToV1(v2);
    expect(v1['spec']).to.deep.equal({ permissionClaims: [{ resource: 'secrets' }], latestResourceSchemas: ['x.c.g.io'] });
    expect(v1['status']).to.deep.equal({ identityHash: 'abc' });
    expect(v1.metadata.annotations).to.have.keys('keep', 'apis.v1alpha2.kcp.io/resource-schemas', 'apis.v1alpha2.kcp.io/permission-claims');
    const again = exportToV2(v1);
    expect(again['spec']).to.deep.equal(v2['spec']);
    // The v1alpha1 claims are recorded as well, exactly as kcp does on every v1alpha1 write.
    expect(again.metadata.annotations).to.deep.equal({ keep: 'me', 'apis.v1alpha2.kcp.io/v1alpha1-permission-claims': '[{"resource":"secrets"}]' });
  });

  it('converts bindings, spec and status, both ways', () => {
    const v2: KubeObject = {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIBinding',
      metadata: { ...meta },
      spec: {
        reference: { export: { path: 'root:p', name: 'e' } },
        permissionClaims: [
          { resource: 'configmaps', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' },
          { resource: 'secrets', verbs: ['get'], selector: { matchLabels: { a: 'b' } }, state: 'Rejected' },
        ],
      },
      status: {
        phase: 'Bound',
        exportPermissionClaims: [{ resource: 'configmaps', verbs: ['*'] }, { resource: 'secrets', verbs: ['get'] }],
        appliedPermissionClaims: [{ resource: 'configmaps', verbs: ['*'], selector: { matchAll: true } }],
      },
    };
    const v1 = bindingToV1(v2);
    expect(v1['spec']).to.deep.equal({
      reference: { export: { path: 'root:p', name: 'e' } },
      permissionClaims: [
        { resource: 'configmaps', all: true, state: 'Accepted' },
        { resource: 'secrets', state: 'Rejected' },
      ],
    });
    expect(v1['status']).to.deep.equal({
      phase: 'Bound',
      appliedPermissionClaims: [{ resource: 'configmaps', all: true }],
      exportPermissionClaims: [{ resource: 'configmaps' }, { resource: 'secrets' }],
    });
    const back = bindingToV2(v1);
    expect(back['spec']).to.deep.equal(v2['spec']);
    expect(back['status']).to.deep.equal(v2['status']);
    expect(Object.keys(back.metadata.annotations ?? {})).to.deep.equal(['apis.v1alpha2.kcp.io/v1alpha1-status-export-permission-claims']);

    const fromV1 = bindingToV2({ ...v1, metadata: { ...meta }, spec: { reference: { export: { name: 'e' } }, permissionClaims: [{ resource: 'events', resourceSelector: [{ namespace: 'n' }], state: 'Accepted' }] } });
    expect(fromV1['spec']).to.deep.equal({ reference: { export: { name: 'e' } }, permissionClaims: [{ resource: 'events', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' }] });
    expect(bindingToV1(fromV1)['spec']).to.deep.equal({ reference: { export: { name: 'e' } }, permissionClaims: [{ resource: 'events', resourceSelector: [{ namespace: 'n' }], state: 'Accepted' }] });
  });
});

describe('kcp apis: conditions and claims', () => {
  it('sorts Ready first, keeps transition times for unchanged states, and mirrors one condition into Ready', () => {
    const list: Condition[] = [];
    markTrue(list, 'Zeta');
    markFalse(list, 'InitialBindingCompleted', 'WaitingForEstablished', 'Info', 'Waiting for API(s) to be established');
    mirrorReady(list, 'InitialBindingCompleted');
    expect(list.map((c) => c.type)).to.deep.equal(['Ready', 'InitialBindingCompleted', 'Zeta']);
    expect(list[0]).to.include({ status: 'False', reason: 'WaitingForEstablished', severity: 'Info' });
    const t = list[2]!.lastTransitionTime;
    list[2]!.lastTransitionTime = 'unchanged';
    markTrue(list, 'Zeta');
    expect(list[2]!.lastTransitionTime).to.equal('unchanged');
    expect(t).to.match(/Z$/);
    markTrue(list, 'InitialBindingCompleted');
    mirrorReady(list, 'InitialBindingCompleted');
    expect(list[0]).to.deep.include({ type: 'Ready', status: 'True' }).and.not.have.property('reason');
  });

  it('intersects verbs with * as the wildcard and matches claim selectors', () => {
    expect(intersectVerbs(['*'], ['get', 'list'])).to.deep.equal(['get', 'list']);
    expect(intersectVerbs(['get', 'watch'], ['*'])).to.deep.equal(['get', 'watch']);
    expect(intersectVerbs(['get', 'watch'], ['watch', 'list'])).to.deep.equal(['watch']);
    expect(selectorSelects({ matchAll: true }, undefined)).to.equal(true);
    expect(selectorSelects({ matchLabels: { a: 'b' } }, { a: 'b', c: 'd' })).to.equal(true);
    expect(selectorSelects({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] }, { a: 'b' })).to.equal(false);
    expect(selectorSelects({}, { a: 'b' })).to.equal(false);
  });
});
