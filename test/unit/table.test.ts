/** Server-side printing helpers. */
import { expect } from 'chai';
import { humanDuration, readPath, toTable, wantsTable, BUILTIN_RESOURCES } from '../../src/server/api/index.js';

describe('server tables', () => {
  it('recognises kubectl\'s Table Accept header, and only when it comes first', () => {
    expect(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).to.equal(true);
    expect(wantsTable('application/json')).to.equal(false);
    expect(wantsTable(undefined)).to.equal(false);
    expect(wantsTable('application/json, application/json;as=Table;v=v1;g=meta.k8s.io')).to.equal(false);
  });

  it('prints durations like kube', () => {
    expect(humanDuration(45_000)).to.equal('45s');
    expect(humanDuration(5 * 60_000 + 30_000)).to.equal('5m30s');
    expect(humanDuration(42 * 60_000)).to.equal('42m');
    expect(humanDuration(3 * 3600_000 + 4 * 60_000)).to.equal('3h4m');
    expect(humanDuration(30 * 3600_000)).to.equal('30h');
    expect(humanDuration(3 * 86400_000)).to.equal('3d');
    expect(humanDuration(800 * 86400_000)).to.equal('2y70d');
  });

  it('reads JSONPaths with filters and indexes', () => {
    const o = { status: { conditions: [{ type: 'A', status: 'False' }, { type: 'Ready', status: 'True' }] }, spec: { list: ['x', 'y'] } };
    expect(readPath(o, '.status.conditions[?(@.type=="Ready")].status')).to.equal('True');
    expect(readPath(o, '.spec.list[1]')).to.equal('y');
    expect(readPath(o, '.spec.missing.deeper')).to.equal(undefined);
    expect(readPath(o, 'garbage')).to.equal(undefined);
  });

  it('builds rows with the kind\'s columns and partial object metadata', () => {
    const cm = BUILTIN_RESOURCES.find((d) => d.resource === 'configmaps')!;
    const t = toTable(cm, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', creationTimestamp: new Date(Date.now() - 60_000).toISOString() }, data: { x: '1', y: '2' } }], { resourceVersion: '7' });
    expect((t['columnDefinitions'] as { name: string }[]).map((c) => c.name)).to.deep.equal(['Name', 'Data', 'Age']);
    const row = (t['rows'] as { cells: unknown[]; object: { kind: string } }[])[0]!;
    expect(row.cells.slice(0, 2)).to.deep.equal(['a', 2]);
    expect(row.cells[2]).to.match(/^(59|60|61)s$/);
    expect(row.object.kind).to.equal('PartialObjectMetadata');
  });
});
