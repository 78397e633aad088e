/** Decoding of Kubernetes protobuf request bodies (what typed Go clients and `kubectl create <kind>` send). */
import { expect } from 'chai';
import { decodeProtobufDeleteOptions, decodeProtobufObject } from '../../src/server/http/index.js';
import { apiErrorOf as apiError } from '../support/api-error.js';

// A minimal protobuf encoder, enough to write the messages the decoder reads.
function varint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const int = (num: number, n: bigint | number) => Buffer.concat([varint((num << 3) | 0), varint(n)]);
const bytes = (num: number, payload: Buffer | string) => {
  const b = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([varint((num << 3) | 2), varint(b.length), b]);
};
const msg = (...parts: Buffer[]) => Buffer.concat(parts);
const entry = (num: number, key: string, value: Buffer | string) => bytes(num, msg(bytes(1, key), bytes(2, value)));
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytes(1, msg(bytes(1, apiVersion), bytes(2, kind))), bytes(2, raw), bytes(3, ''), bytes(4, '')]);

describe('protobuf request bodies', () => {
  it('decodes the bytes kubectl v1.33 sends for `kubectl create configmap lit -n demo --from-literal=k=v`', () => {
    // Captured with `kubectl -v=9`: every non-pointer ObjectMeta string is present but empty, and
    // the zero creationTimestamp is an empty message.
    const hex =
      '6b3873000a0f0a0276311209436f6e6669674d617012210a170a036c69741200' +
      '1a0464656d6f22002a003200380042001206 0a016b1201761a002200';
    const body = Buffer.from(hex.replace(/\s/g, ''), 'hex');
    expect(decodeProtobufObject(body)).to.deep.equal({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'lit', namespace: 'demo' },
      data: { k: 'v' },
    });
  });

  it('decodes ObjectMeta maps, lists, owner references, times, and keeps zero values of pointer fields', () => {
    const owner = msg(bytes(1, 'ConfigMap'), bytes(3, 'owner'), bytes(4, 'u-1'), bytes(5, 'v1'), int(6, 1), int(7, 0));
    const meta = msg(
      bytes(1, 'x'),
      bytes(2, ''),
      int(7, 0),
      bytes(8, msg(int(1, 1_700_000_000), int(2, 500_000_000))),
      int(10, 0),
      entry(11, 'app', 'web'),
      entry(11, 'tier', ''),
      entry(12, '__proto__', 'kept as a key'),
      bytes(13, owner),
      bytes(14, 'example.com/a'),
      bytes(14, 'example.com/b'),
      // A field number the decoder does not know is skipped.
      int(99, 7),
    );
    const raw = msg(bytes(1, meta), entry(3, 'blob', Buffer.from([0, 1, 255])), int(4, 0));
    const obj = decodeProtobufObject(envelope('v1', 'ConfigMap', raw));
    const m = obj['metadata'] as Record<string, unknown>;
    expect(m['name']).to.equal('x');
    expect(m).to.not.have.property('generateName');
    expect(m).to.not.have.property('generation');
    expect(m['creationTimestamp']).to.equal('2023-11-14T22:13:20Z');
    expect(m['deletionGracePeriodSeconds']).to.equal(0);
    expect(m['labels']).to.deep.equal({ app: 'web', tier: '' });
    expect(Object.hasOwn(m['annotations'] as object, '__proto__')).to.equal(true);
    expect(Object.getPrototypeOf(m['annotations'])).to.equal(Object.prototype);
    expect(m['ownerReferences']).to.deep.equal([{ kind: 'ConfigMap', name: 'owner', uid: 'u-1', apiVersion: 'v1', controller: true, blockOwnerDeletion: false }]);
    expect(m['finalizers']).to.deep.equal(['example.com/a', 'example.com/b']);
    expect(obj['binaryData']).to.deep.equal({ blob: 'AAH/' });
    expect(obj['immutable']).to.equal(false);
  });

  it('decodes negative int64 values (ten-byte varints)', () => {
    const raw = msg(bytes(1, msg(bytes(1, 'x'), int(10, -1n))));
    const obj = decodeProtobufObject(envelope('v1', 'Secret', raw));
    expect((obj['metadata'] as Record<string, unknown>)['deletionGracePeriodSeconds']).to.equal(-1);
  });

  it('decodes RBAC bindings with nested messages', () => {
    const raw = msg(
      bytes(1, msg(bytes(1, 'rb'))),
      bytes(2, msg(bytes(1, 'User'), bytes(2, 'rbac.authorization.k8s.io'), bytes(3, 'alice'), bytes(4, ''))),
      bytes(3, msg(bytes(1, 'rbac.authorization.k8s.io'), bytes(2, 'Role'), bytes(3, 'reader'))),
    );
    expect(decodeProtobufObject(envelope('rbac.authorization.k8s.io/v1', 'RoleBinding', raw))).to.deep.equal({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    });
  });

  it('decodes DeleteOptions', () => {
    const raw = msg(int(1, 0), bytes(2, msg(bytes(1, 'u-1'))), bytes(4, 'Foreground'), bytes(5, 'All'));
    expect(decodeProtobufDeleteOptions(envelope('meta.k8s.io/v1', 'DeleteOptions', raw))).to.deep.equal({
      gracePeriodSeconds: 0,
      preconditions: { uid: 'u-1' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
  });

  it('refuses kinds without a protobuf form with 415, as kube does for custom resources', () => {
    for (const body of [envelope('core.kcp.io/v1alpha1', 'LogicalCluster', msg()), Buffer.from('k8s\0', 'latin1')]) {
      const e = apiError(() => decodeProtobufObject(body));
      expect(e.code).to.equal(415);
      expect(e.message).to.equal('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
    }
  });

  it('answers 400 for malformed data', () => {
    const good = envelope('v1', 'ConfigMap', msg(bytes(1, msg(bytes(1, 'x')))));
    const cases: [string, Buffer][] = [
      ['no magic', Buffer.from('{"kind":"ConfigMap"}')],
      ['truncated', good.subarray(0, good.length - 3)],
      ['length beyond the end', envelope('v1', 'ConfigMap', Buffer.from([0x0a, 0x7f, 0x01]))],
      ['wrong wire type for a message', envelope('v1', 'ConfigMap', int(1, 3))],
      ['invalid UTF-8', envelope('v1', 'ConfigMap', bytes(1, msg(bytes(1, Buffer.from([0xff, 0xfe])))))],
      ['unterminated varint', Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.alloc(11, 0xff)])],
      ['content encoding', Buffer.concat([good, bytes(3, 'gzip')])],
    ];
    for (const [what, body] of cases) {
      const e = apiError(() => decodeProtobufObject(body));
      expect(e.code, what).to.equal(400);
      expect(e.message, what).to.match(/^the request body could not be decoded: /);
    }
  });
});
