/** The reference server's JSON helpers: deep copies that stay own-property safe. */
import { expect } from 'chai';
import { jsonCopy } from '../../src/server/json.js';
import { clone } from '../../src/server/kcp/apis/names.js';

describe('server jsonCopy', () => {
  it('copies objects and arrays deeply, sharing nothing with the original', () => {
    const src = { a: [1, { b: 'x', c: null }], d: { e: { f: true } }, g: undefined as unknown };
    const out = jsonCopy(src);
    expect(out).to.deep.equal(src);
    expect(Object.hasOwn(out, 'g')).to.equal(true);
    expect(out.a).to.not.equal(src.a);
    expect(out.a[1]).to.not.equal(src.a[1]);
    expect(out.d.e).to.not.equal(src.d.e);
    (out.d.e as { f: boolean }).f = false;
    expect(src.d.e.f).to.equal(true);
  });

  it('keeps a "__proto__" key as an own property instead of changing the prototype', () => {
    const src = JSON.parse('{"__proto__":{"polluted":true},"x":{"__proto__":[1]}}') as Record<string, unknown>;
    const out = jsonCopy(src);
    expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).to.equal(true);
    expect((out as { polluted?: unknown }).polluted).to.equal(undefined);
    expect(JSON.stringify(out)).to.equal(JSON.stringify(src));
  });

  it('is what the kcp API conversions copy stored objects with', () => {
    const binding = { apiVersion: 'apis.kcp.io/v1alpha2', kind: 'APIBinding', metadata: { name: 'b', annotations: { a: '1' } }, spec: { permissionClaims: [{ resource: 'configmaps' }] } };
    const copy = clone(binding);
    expect(copy).to.deep.equal(binding);
    expect(copy.metadata).to.not.equal(binding.metadata);
  });
});
