import { expect } from 'chai';
import { BUILTIN_RESOURCES, kindSchema, objectMetaSchema, resourceSchemaFromOpenAPI } from '../../src/server/api/index.js';
import type { ResourceDef, Schema } from '../../src/server/types.js';
import { ALL_VERBS } from '../../src/server/types.js';

function find(group: string, resource: string): ResourceDef {
  const d = BUILTIN_RESOURCES.find((r) => r.group === group && r.resource === resource);
  if (!d) throw new Error(`no ${resource}.${group}`);
  return d;
}

/** Follows a dotted path of property names (and `[]` for array items) through a schema. */
function at(schema: Schema, path: string): Schema {
  let s: Schema = schema;
  for (const part of path.split('.')) {
    if (part === '[]') {
      if (s.type !== 'array') throw new Error(`${path}: not an array at ${part}`);
      s = s.items;
    } else if (part === '{}') {
      if (s.type !== 'object' || !s.additionalProperties) throw new Error(`${path}: not a map at ${part}`);
      s = s.additionalProperties;
    } else {
      if (s.type !== 'object' || !s.properties?.[part]) throw new Error(`${path}: no property ${part}`);
      s = s.properties[part]!;
    }
  }
  return s;
}

describe('builtins', () => {
  it('serves the expected resources with discovery metadata', () => {
    const names = BUILTIN_RESOURCES.map((d) => `${d.resource}.${d.group || 'core'}/${d.version}`).sort();
    expect(names).to.deep.equal(
      [
        'clusterrolebindings.rbac.authorization.k8s.io/v1',
        'clusterroles.rbac.authorization.k8s.io/v1',
        'configmaps.core/v1',
        'events.core/v1',
        'events.events.k8s.io/v1',
        'leases.coordination.k8s.io/v1',
        'logicalclusters.core.kcp.io/v1alpha1',
        'namespaces.core/v1',
        'rolebindings.rbac.authorization.k8s.io/v1',
        'roles.rbac.authorization.k8s.io/v1',
        'secrets.core/v1',
        'serviceaccounts.core/v1',
      ].sort(),
    );
    for (const d of BUILTIN_RESOURCES) {
      expect(d.verbs, d.resource).to.deep.equal(ALL_VERBS);
      // events.k8s.io/v1 is a converted view of the core Events storage, as in kube.
      expect(d.storage).to.equal(d.group === 'events.k8s.io' ? 'core/events' : `${d.group || 'core'}/${d.resource}`);
      expect(d.conversion !== undefined, d.resource).to.equal(d.group === 'events.k8s.io');
      expect(d.listKind).to.equal(`${d.kind}List`);
      expect(d.builtin).to.equal(d.group !== 'core.kcp.io');
    }
    expect(find('', 'namespaces')).to.include({ namespaced: false, statusSubresource: true, kind: 'Namespace' });
    expect(find('', 'namespaces').shortNames).to.deep.equal(['ns']);
    expect(find('', 'configmaps').shortNames).to.deep.equal(['cm']);
    expect(find('', 'events').shortNames).to.deep.equal(['ev']);
    expect(find('events.k8s.io', 'events').shortNames).to.deep.equal(['ev']);
    expect(find('', 'serviceaccounts').shortNames).to.deep.equal(['sa']);
    expect(find('rbac.authorization.k8s.io', 'clusterroles').namespaced).to.equal(false);
    const lc = find('core.kcp.io', 'logicalclusters');
    expect(lc).to.include({ namespaced: false, statusSubresource: true, builtin: false, kind: 'LogicalCluster' });
    expect(lc.categories).to.deep.equal(['kcp']);
  });

  it('shares ObjectMeta with kube list semantics', () => {
    expect(at(find('', 'configmaps').schema, 'metadata')).to.equal(objectMetaSchema);
    expect(at(objectMetaSchema, 'finalizers')).to.deep.include({ listType: 'set' });
    expect(at(objectMetaSchema, 'ownerReferences')).to.deep.include({ listType: 'map', mergeKeys: ['uid'] });
    expect(at(objectMetaSchema, 'labels.{}')).to.deep.equal({ type: 'string' });
    expect(at(objectMetaSchema, 'annotations.{}')).to.deep.equal({ type: 'string' });
    expect(at(objectMetaSchema, 'managedFields.[].fieldsV1')).to.deep.include({ type: 'object', preserveUnknownFields: true });
    for (const f of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']) {
      expect(at(objectMetaSchema, f), f).to.be.an('object');
    }
    expect(Object.isFrozen(objectMetaSchema)).to.equal(true);
  });

  it('declares the kinds’ fields and list semantics', () => {
    expect(at(find('', 'configmaps').schema, 'data.{}')).to.deep.equal({ type: 'string' });
    expect(at(find('', 'configmaps').schema, 'binaryData.{}')).to.include({ type: 'string' });
    expect(at(find('', 'secrets').schema, 'stringData.{}')).to.deep.equal({ type: 'string' });
    expect(at(find('', 'secrets').schema, 'type')).to.deep.equal({ type: 'string' });
    expect(at(find('', 'namespaces').schema, 'status.phase')).to.deep.include({ enum: ['Active', 'Terminating'] });
    expect(at(find('', 'namespaces').schema, 'spec.finalizers.[]')).to.deep.equal({ type: 'string' });
    expect(at(find('', 'events').schema, 'involvedObject.fieldPath')).to.deep.equal({ type: 'string' });
    expect(at(find('', 'events').schema, 'series.lastObservedTime')).to.include({ type: 'string' });
    expect(at(find('', 'serviceaccounts').schema, 'secrets')).to.deep.include({ listType: 'map', mergeKeys: ['name'] });
    const lease = find('coordination.k8s.io', 'leases').schema;
    for (const f of ['holderIdentity', 'leaseDurationSeconds', 'acquireTime', 'renewTime', 'leaseTransitions', 'strategy', 'preferredHolder']) {
      expect(at(lease, `spec.${f}`), f).to.be.an('object');
    }
    expect(at(lease, 'spec.leaseDurationSeconds')).to.deep.equal({ type: 'integer' });
    expect(at(find('rbac.authorization.k8s.io', 'rolebindings').schema, 'subjects')).to.deep.include({ listType: 'atomic' });
    expect(at(find('rbac.authorization.k8s.io', 'clusterroles').schema, 'aggregationRule.clusterRoleSelectors.[].matchLabels.{}')).to.deep.equal({
      type: 'string',
    });
    const lc = find('core.kcp.io', 'logicalclusters').schema;
    expect(at(lc, 'spec.owner')).to.deep.include({ required: ['apiVersion', 'cluster', 'name', 'resource', 'uid'] });
    expect(at(lc, 'spec.directlyDeletable')).to.deep.equal({ type: 'boolean' });
    expect(at(lc, 'status.conditions')).to.deep.include({ listType: 'map', mergeKeys: ['type'] });
    expect((at(lc, 'status.phase') as { enum?: string[] }).enum).to.include.members(['Scheduling', 'Initializing', 'Ready', 'Unavailable']);
    expect(at(lc, 'status.URL')).to.deep.equal({ type: 'string' });
    expect(at(lc, 'status.terminators.[]')).to.include({ type: 'string' });
  });

  it('kindSchema wraps fields with apiVersion, kind and metadata', () => {
    const s = kindSchema({ spec: { type: 'object', properties: { a: { type: 'string' } } } }, ['spec']);
    expect(at(s, 'apiVersion')).to.deep.equal({ type: 'string' });
    expect(at(s, 'metadata')).to.equal(objectMetaSchema);
    expect(at(s, 'spec.a')).to.deep.equal({ type: 'string' });
    expect(s).to.deep.include({ required: ['spec'] });
  });

  describe('resourceSchemaFromOpenAPI', () => {
    const crd = {
      type: 'object',
      required: ['spec'],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' } } },
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            size: { type: 'string', enum: ['S', 'M', 'L', 3] },
            replicas: { type: 'integer', format: 'int32' },
            ratio: { type: 'number' },
            on: { type: 'boolean' },
            port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            anything: { 'x-kubernetes-preserve-unknown-fields': true },
            template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
            ports: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name', 'protocol'],
              items: { type: 'object', properties: { name: { type: 'string' }, protocol: { type: 'string' } } },
            },
            tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string', pattern: '^t' } },
          },
        },
      },
    };

    it('converts every supported keyword', () => {
      const s = resourceSchemaFromOpenAPI(crd);
      expect(s).to.deep.include({ type: 'object', required: ['spec'] });
      expect(at(s, 'apiVersion')).to.deep.equal({ type: 'string' });
      expect(at(s, 'metadata.name')).to.deep.equal({ type: 'string', pattern: '^[a-z]+$' });
      expect(at(s, 'metadata.labels.{}')).to.deep.equal({ type: 'string' });
      expect(at(s, 'spec')).to.deep.include({ required: ['size'] });
      expect(at(s, 'spec.size')).to.deep.equal({ type: 'string', enum: ['S', 'M', 'L'] });
      expect(at(s, 'spec.replicas')).to.deep.equal({ type: 'integer' });
      expect(at(s, 'spec.ratio')).to.deep.equal({ type: 'number' });
      expect(at(s, 'spec.on')).to.deep.equal({ type: 'boolean' });
      expect(at(s, 'spec.port')).to.deep.equal({ type: 'string', format: 'int-or-string' });
      expect(at(s, 'spec.labels.{}')).to.deep.equal({ type: 'string' });
      expect(at(s, 'spec.free')).to.deep.equal({ type: 'object', preserveUnknownFields: true });
      expect(at(s, 'spec.anything')).to.deep.equal({ type: 'any' });
      expect(at(s, 'spec.template.metadata')).to.equal(objectMetaSchema);
      expect(at(s, 'spec.template.kind')).to.deep.equal({ type: 'string' });
      expect(at(s, 'spec.template.spec')).to.deep.equal({ type: 'object' });
      expect(at(s, 'spec.ports')).to.deep.include({ listType: 'map', mergeKeys: ['name', 'protocol'] });
      expect(at(s, 'spec.tags')).to.deep.include({ listType: 'set' });
      expect(at(s, 'spec.tags.[]')).to.deep.equal({ type: 'string', pattern: '^t' });
    });

    it('adds ObjectMeta even when the schema omits metadata, and keeps root preserve-unknown-fields', () => {
      const s = resourceSchemaFromOpenAPI({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
      expect(at(s, 'metadata')).to.equal(objectMetaSchema);
      expect(s).to.deep.include({ preserveUnknownFields: true });
    });
  });
});
