/** The typed built-in kinds: each names a resource the static table knows, and types wire JSON (timestamps as strings). */
import { expect } from 'chai';
import {
  builtinResources,
  CLUSTER_ROLE,
  CLUSTER_ROLE_BINDING,
  CONFIG_MAP,
  CORE_EVENT,
  EVENT,
  NAMESPACE,
  ROLE,
  ROLE_BINDING,
  SECRET,
  SERVICE_ACCOUNT,
  type Event,
  type ObjectType,
  type RoleBinding,
  type Secret,
} from '../../src/index.js';

describe('api: built-in kinds', () => {
  it('name the built-in resources a kcp workspace serves, and cannot be changed', () => {
    const table = new Map(builtinResources().map((r) => [`${r.apiVersion} ${r.kind}`, r.resource]));
    const types: [ObjectType, string][] = [
      [CONFIG_MAP, 'configmaps'],
      [SECRET, 'secrets'],
      [NAMESPACE, 'namespaces'],
      [EVENT, 'events'],
      [CORE_EVENT, 'events'],
      [SERVICE_ACCOUNT, 'serviceaccounts'],
      [ROLE, 'roles'],
      [ROLE_BINDING, 'rolebindings'],
      [CLUSTER_ROLE, 'clusterroles'],
      [CLUSTER_ROLE_BINDING, 'clusterrolebindings'],
    ];
    for (const [type, resource] of types) {
      expect(table.get(`${type.apiVersion} ${type.kind}`), `${type.apiVersion} ${type.kind}`).to.equal(resource);
      expect(Object.isFrozen(type)).to.equal(true);
    }
  });

  it('type objects as the wire carries them: timestamps are strings, fields as in client-node', () => {
    // These assignments are the check: with client-node's classes the timestamps would have to be Dates.
    const event: Event = {
      apiVersion: EVENT.apiVersion,
      kind: EVENT.kind,
      metadata: { name: 'e', namespace: 'default', creationTimestamp: '2026-12-07T00:00:00Z' },
      eventTime: '2026-12-07T00:00:00.000000Z',
      regarding: { kind: 'ConfigMap', name: 'c', namespace: 'default' },
      reason: 'Reconciled',
      type: 'Normal',
    };
    const binding: RoleBinding = {
      apiVersion: ROLE_BINDING.apiVersion,
      kind: ROLE_BINDING.kind,
      metadata: { name: 'b', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'default' }],
    };
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', stringData: { token: 'x' } };
    expect(JSON.parse(JSON.stringify([event, binding, secret]))).to.deep.equal([event, binding, secret]);
  });
});
