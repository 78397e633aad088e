import { expect } from 'chai';
import { BUILTIN_RESOURCES, resourceSchemaFromOpenAPI, openapiHash, openapiV3Document, openapiV3Index } from '../../src/server/api/index.js';
import type { Json, JsonObject, ResourceDef } from '../../src/server/types.js';
import { ALL_VERBS } from '../../src/server/types.js';

function o(v: Json | undefined): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`not an object: ${JSON.stringify(v)}`);
  return v;
}

function gvDoc(defs: readonly ResourceDef[], group: string, version: string): JsonObject {
  return o(openapiV3Document(defs, group, version));
}

const widget: ResourceDef = {
  group: 'example.com',
  version: 'v1',
  resource: 'widgets',
  singular: 'widget',
  kind: 'Widget',
  listKind: 'WidgetList',
  namespaced: true,
  verbs: [...ALL_VERBS],
  statusSubresource: true,
  builtin: false,
  storage: 'example.com/widgets',
  schema: resourceSchemaFromOpenAPI({
    type: 'object',
    properties: { spec: { type: 'object', properties: { size: { type: 'string', enum: ['S', 'M'] }, port: { 'x-kubernetes-int-or-string': true } } } },
  }),
};

const ALL = [...BUILTIN_RESOURCES, widget];

/** kubectl's probe (cli-runtime query_param_verifier_v3) gives up at the first PATCH op with the GVK. */
function patchOps(doc: JsonObject, gvk: { group: string; version: string; kind: string }): JsonObject[] {
  const out: JsonObject[] = [];
  for (const item of Object.values(o(doc.paths))) {
    const patch = o(item).patch;
    if (!patch) continue;
    const ext = o(o(patch)['x-kubernetes-group-version-kind']);
    if (ext.group === gvk.group && ext.version === gvk.version && ext.kind === gvk.kind) out.push(o(patch));
  }
  return out;
}

function paramNames(op: JsonObject, where = 'query'): string[] {
  return (op.parameters as Json[]).map(o).filter((p) => p.in === where).map((p) => p.name as string);
}

describe('openapi', () => {
  it('indexes every group/version with a hash-pinned relative URL', () => {
    const index = o(openapiV3Index(ALL));
    const paths = o(index.paths);
    expect(Object.keys(paths)).to.deep.equal([
      'api/v1',
      'apis/coordination.k8s.io/v1',
      'apis/core.kcp.io/v1alpha1',
      'apis/events.k8s.io/v1',
      'apis/example.com/v1',
      'apis/rbac.authorization.k8s.io/v1',
    ]);
    for (const [key, entry] of Object.entries(paths)) {
      const url = o(entry).serverRelativeURL as string;
      const [group, version] = key === 'api/v1' ? ['', 'v1'] : key.split('/').slice(1);
      expect(url).to.equal(`/openapi/v3/${key}?hash=${openapiHash(gvDoc(ALL, group!, version!))}`);
    }
  });

  it('returns undefined for a group/version nothing serves', () => {
    expect(openapiV3Document(ALL, 'nope.io', 'v1')).to.equal(undefined);
    expect(openapiV3Document(ALL, 'example.com', 'v2')).to.equal(undefined);
  });

  it('has a PATCH op with the GVK and fieldValidation for every resource, without strategic merge patch', () => {
    for (const def of ALL) {
      const doc = gvDoc(ALL, def.group, def.version);
      const ops = patchOps(doc, { group: def.group, version: def.version, kind: def.kind });
      expect(ops.length, def.resource).to.equal(def.statusSubresource ? 2 : 1);
      for (const op of ops) {
        expect(op['x-kubernetes-action']).to.equal('patch');
        expect(paramNames(op)).to.include.members(['fieldValidation', 'dryRun', 'fieldManager', 'force']);
        const content = Object.keys(o(o(op.requestBody).content));
        expect(content).to.have.members(['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
        expect(content).not.to.include('application/strategic-merge-patch+json');
      }
    }
  });

  it('serves namespaced, all-namespaces, cluster-scoped and status paths with their operations', () => {
    const core = o(gvDoc(ALL, '', 'v1').paths);
    const cm = o(core['/api/v1/namespaces/{namespace}/configmaps']);
    expect(Object.keys(cm)).to.include.members(['get', 'post', 'delete', 'parameters']);
    expect(o(cm.get)['x-kubernetes-action']).to.equal('list');
    expect(o(cm.post)['x-kubernetes-action']).to.equal('post');
    expect(o(cm.delete)['x-kubernetes-action']).to.equal('deletecollection');
    expect(paramNames(o(cm.post))).to.include.members(['fieldValidation', 'dryRun', 'fieldManager']);
    expect(paramNames(o(cm.get))).to.include.members(['watch', 'labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion']);
    expect((cm.parameters as Json[]).map(o).map((p) => `${p.in}:${p.name}`)).to.deep.equal(['path:namespace', 'query:pretty']);
    const cmItem = o(core['/api/v1/namespaces/{namespace}/configmaps/{name}']);
    expect(Object.keys(cmItem)).to.include.members(['get', 'put', 'patch', 'delete']);
    expect(paramNames(o(cmItem.put))).to.include('fieldValidation');
    expect(o(o(cmItem.put)['x-kubernetes-group-version-kind'])).to.deep.equal({ group: '', kind: 'ConfigMap', version: 'v1' });
    expect(o(o(core['/api/v1/configmaps']).get).operationId).to.equal('listCoreV1ConfigMapForAllNamespaces');
    expect(core).to.have.property('/api/v1/namespaces/{name}');
    expect(core).to.have.property('/api/v1/namespaces/{name}/status');
    expect(core).not.to.have.property('/api/v1/namespaces/{namespace}/configmaps/{name}/status');

    const kcp = o(gvDoc(ALL, 'core.kcp.io', 'v1alpha1').paths);
    expect(Object.keys(kcp).sort()).to.deep.equal([
      '/apis/core.kcp.io/v1alpha1/logicalclusters',
      '/apis/core.kcp.io/v1alpha1/logicalclusters/{name}',
      '/apis/core.kcp.io/v1alpha1/logicalclusters/{name}/status',
    ]);
    expect(o(o(kcp['/apis/core.kcp.io/v1alpha1/logicalclusters/{name}/status']).patch).operationId).to.equal(
      'patchCoreKcpIoV1alpha1LogicalClusterStatus',
    );
    const rbac = o(gvDoc(ALL, 'rbac.authorization.k8s.io', 'v1').paths);
    expect(o(o(rbac['/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/{name}']).patch).operationId).to.equal(
      'patchRbacAuthorizationV1NamespacedRole',
    );
  });

  it('omits operations for verbs a resource does not serve', () => {
    const readOnly: ResourceDef = { ...widget, verbs: ['get', 'list', 'watch'], statusSubresource: false };
    const paths = o(gvDoc([readOnly], 'example.com', 'v1').paths);
    const item = o(paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}']);
    expect(Object.keys(item).sort()).to.deep.equal(['get', 'parameters']);
    expect(Object.keys(o(paths['/apis/example.com/v1/namespaces/{namespace}/widgets'])).sort()).to.deep.equal(['get', 'parameters']);
  });

  it('publishes component schemas tagged with their GVK', () => {
    const schemas = o(o(gvDoc(ALL, '', 'v1').components).schemas);
    const cm = o(schemas['io.k8s.api.core.v1.ConfigMap']);
    expect(cm['x-kubernetes-group-version-kind']).to.deep.equal([{ group: '', kind: 'ConfigMap', version: 'v1' }]);
    expect(o(o(cm.properties).data)).to.deep.equal({ type: 'object', additionalProperties: { type: 'string' } });
    expect(o(o(cm.properties).metadata)).to.deep.equal({ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
    const meta = o(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    expect(o(o(meta.properties).ownerReferences)).to.include({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-patch-merge-key': 'uid',
      'x-kubernetes-patch-strategy': 'merge',
    });
    expect(o(schemas['io.k8s.api.core.v1.ConfigMapList'])['x-kubernetes-group-version-kind']).to.deep.equal([
      { group: '', kind: 'ConfigMapList', version: 'v1' },
    ]);
    const w = o(o(o(gvDoc(ALL, 'example.com', 'v1').components).schemas)['com.example.v1.Widget']);
    const spec = o(o(w.properties).spec);
    expect(o(o(spec.properties).port)).to.deep.include({ 'x-kubernetes-int-or-string': true });
    expect(o(o(spec.properties).size)).to.deep.equal({ type: 'string', enum: ['S', 'M'] });
    const lc = o(o(o(gvDoc(ALL, 'core.kcp.io', 'v1alpha1').components).schemas)['io.kcp.core.v1alpha1.LogicalCluster']);
    const conditions = o(o(o(lc.properties).status).properties).conditions;
    expect(o(conditions)).to.include({ 'x-kubernetes-list-type': 'map' });
    expect(o(conditions)).not.to.have.property('x-kubernetes-patch-strategy');
  });

  it('is deterministic and its hash tracks content', () => {
    const a = openapiV3Document(ALL, '', 'v1');
    const b = openapiV3Document([...ALL].reverse(), '', 'v1');
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    expect(openapiHash(a!)).to.equal(openapiHash(b!));
    expect(openapiHash(a!)).to.match(/^[0-9A-F]{128}$/);
    expect(openapiHash({ b: 1, a: [1, 2] })).to.equal(openapiHash({ a: [1, 2], b: 1 }));

    const before = openapiHash(gvDoc([widget], 'example.com', 'v1'));
    const changedSchema: ResourceDef = {
      ...widget,
      schema: resourceSchemaFromOpenAPI({ type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'string' } } } } }),
    };
    expect(openapiHash(gvDoc([changedSchema], 'example.com', 'v1'))).not.to.equal(before);
    const changedVerbs: ResourceDef = { ...widget, verbs: ['get', 'list'] };
    expect(openapiHash(gvDoc([changedVerbs], 'example.com', 'v1'))).not.to.equal(before);

    const idxBefore = o(o(openapiV3Index([widget, ...BUILTIN_RESOURCES])).paths);
    const idxAfter = o(o(openapiV3Index([changedSchema, ...BUILTIN_RESOURCES])).paths);
    expect(idxAfter['apis/example.com/v1']).not.to.deep.equal(idxBefore['apis/example.com/v1']);
    expect(idxAfter['api/v1']).to.deep.equal(idxBefore['api/v1']);
  });
});
