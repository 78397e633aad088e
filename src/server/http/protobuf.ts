/**
 * Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the
 * built-in kinds that Go clients write with typed clientsets. client-go's typed clients default to
 * protobuf for built-ins and never fall back to JSON on a 415, so without this `kubectl create
 * configmap|secret|namespace|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding` fail.
 * Responses stay JSON: those clients accept it (they send `Accept: ...protobuf,application/json`).
 *
 * The wire form is the 4-byte magic `k8s\0` and a `runtime.Unknown` {typeMeta, raw}; `raw` is the
 * gogo-protobuf encoding of the object. Field numbers are those of the k8s.io/api and
 * k8s.io/apimachinery `generated.proto` files. The result is the object's JSON form, as if the
 * client had sent JSON, so the rest of the server (validation, defaulting) is unchanged.
 */
import { ApiError, badRequest, unsupportedMediaType } from './errors.js';
import { setOwn } from '../api/patch.js';
import type { Json, JsonObject } from '../types.js';

/** The media type of Kubernetes protobuf. */
export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** How one field's value is read and written to JSON. */
type FieldType =
  | 'string'
  | 'bytes'
  | 'int'
  | 'bool'
  /** metav1.Time: RFC 3339 with seconds. */
  | 'time'
  /** metav1.MicroTime: RFC 3339 with microseconds. */
  | 'microtime'
  /** Bytes that hold JSON (metav1.FieldsV1). */
  | 'json'
  | { message: Fields }
  /** `strings`: a map of ExtraValue (`{items}`) messages, whose JSON form is the bare list. */
  | { map: 'string' | 'bytes' | 'strings' };

interface Field {
  name: string;
  type: FieldType;
  repeated?: true;
  /**
   * A Go pointer field: encoded only when set, so a zero value is meaningful. Other scalars are
   * always encoded by gogo-protobuf, and their zero values are dropped as JSON's omitempty does.
   */
  pointer?: true;
}

type Fields = Readonly<Record<number, Field>>;

const f = (name: string, type: FieldType, more: Partial<Field> = {}): Field => ({ name, type, ...more });
const strings = (name: string): Field => f(name, 'string', { repeated: true });

const TYPE_META: Fields = { 1: f('apiVersion', 'string'), 2: f('kind', 'string') };

const OWNER_REFERENCE: Fields = {
  1: f('kind', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('controller', 'bool', { pointer: true }),
  7: f('blockOwnerDeletion', 'bool', { pointer: true }),
};
const MANAGED_FIELDS_ENTRY: Fields = {
  1: f('manager', 'string'),
  2: f('operation', 'string'),
  3: f('apiVersion', 'string'),
  4: f('time', 'time'),
  6: f('fieldsType', 'string'),
  7: f('fieldsV1', { message: { 1: f('raw', 'json') } }),
  8: f('subresource', 'string'),
};
const OBJECT_META: Fields = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  4: f('selfLink', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('generation', 'int'),
  8: f('creationTimestamp', 'time'),
  9: f('deletionTimestamp', 'time'),
  10: f('deletionGracePeriodSeconds', 'int', { pointer: true }),
  11: f('labels', { map: 'string' }),
  12: f('annotations', { map: 'string' }),
  13: f('ownerReferences', { message: OWNER_REFERENCE }, { repeated: true }),
  14: strings('finalizers'),
  17: f('managedFields', { message: MANAGED_FIELDS_ENTRY }, { repeated: true }),
};
const METADATA = f('metadata', { message: OBJECT_META });

const LABEL_SELECTOR: Fields = {
  1: f('matchLabels', { map: 'string' }),
  2: f('matchExpressions', { message: { 1: f('key', 'string'), 2: f('operator', 'string'), 3: strings('values') } }, { repeated: true }),
};
const OBJECT_REFERENCE: Fields = {
  1: f('kind', 'string'),
  2: f('namespace', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('fieldPath', 'string'),
};
const POLICY_RULE: Fields = { 1: strings('verbs'), 2: strings('apiGroups'), 3: strings('resources'), 4: strings('resourceNames'), 5: strings('nonResourceURLs') };
const SUBJECT: Fields = { 1: f('kind', 'string'), 2: f('apiGroup', 'string'), 3: f('name', 'string'), 4: f('namespace', 'string') };
const ROLE_REF: Fields = { 1: f('apiGroup', 'string'), 2: f('kind', 'string'), 3: f('name', 'string') };
const BINDING: Fields = { 1: METADATA, 2: f('subjects', { message: SUBJECT }, { repeated: true }), 3: f('roleRef', { message: ROLE_REF }) };

const RESOURCE_ATTRIBUTES: Fields = {
  1: f('namespace', 'string'),
  2: f('verb', 'string'),
  3: f('group', 'string'),
  4: f('version', 'string'),
  5: f('resource', 'string'),
  6: f('subresource', 'string'),
  7: f('name', 'string'),
};
const NON_RESOURCE_ATTRIBUTES: Fields = { 1: f('path', 'string'), 2: f('verb', 'string') };
const SUBJECT_ACCESS_REVIEW: Fields = {
  1: METADATA,
  2: f('spec', {
    message: {
      1: f('resourceAttributes', { message: RESOURCE_ATTRIBUTES }),
      2: f('nonResourceAttributes', { message: NON_RESOURCE_ATTRIBUTES }),
      3: f('user', 'string'),
      4: strings('groups'),
      5: f('extra', { map: 'strings' }),
      6: f('uid', 'string'),
    },
  }),
};

/** The kinds whose protobuf form is decoded, by `<apiVersion>/<kind>`. */
const KINDS: Readonly<Record<string, Fields>> = {
  'v1/ConfigMap': { 1: METADATA, 2: f('data', { map: 'string' }), 3: f('binaryData', { map: 'bytes' }), 4: f('immutable', 'bool', { pointer: true }) },
  'v1/Secret': {
    1: METADATA,
    2: f('data', { map: 'bytes' }),
    3: f('type', 'string'),
    4: f('stringData', { map: 'string' }),
    5: f('immutable', 'bool', { pointer: true }),
  },
  'v1/Namespace': {
    1: METADATA,
    2: f('spec', { message: { 1: strings('finalizers') } }),
    3: f('status', { message: { 1: f('phase', 'string') } }),
  },
  'v1/ServiceAccount': {
    1: METADATA,
    2: f('secrets', { message: OBJECT_REFERENCE }, { repeated: true }),
    3: f('imagePullSecrets', { message: { 1: f('name', 'string') } }, { repeated: true }),
    4: f('automountServiceAccountToken', 'bool', { pointer: true }),
  },
  'rbac.authorization.k8s.io/v1/Role': { 1: METADATA, 2: f('rules', { message: POLICY_RULE }, { repeated: true }) },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    1: METADATA,
    2: f('rules', { message: POLICY_RULE }, { repeated: true }),
    3: f('aggregationRule', { message: { 1: f('clusterRoleSelectors', { message: LABEL_SELECTOR }, { repeated: true }) } }),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
  // What `kubectl auth can-i` and `kubectl auth whoami` send; a status sent along is ignored.
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: METADATA,
    2: f('spec', { message: { 1: f('resourceAttributes', { message: RESOURCE_ATTRIBUTES }), 2: f('nonResourceAttributes', { message: NON_RESOURCE_ATTRIBUTES }) } }),
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': { 1: METADATA, 2: f('spec', { message: { 1: f('namespace', 'string') } }) },
  'authorization.k8s.io/v1/SubjectAccessReview': SUBJECT_ACCESS_REVIEW,
  'authorization.k8s.io/v1/LocalSubjectAccessReview': SUBJECT_ACCESS_REVIEW,
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: METADATA },
};

/** metav1.DeleteOptions, the body of a typed client's DELETE. */
const DELETE_OPTIONS: Fields = {
  1: f('gracePeriodSeconds', 'int', { pointer: true }),
  2: f('preconditions', { message: { 1: f('uid', 'string', { pointer: true }), 2: f('resourceVersion', 'string', { pointer: true }) } }),
  3: f('orphanDependents', 'bool', { pointer: true }),
  4: f('propagationPolicy', 'string', { pointer: true }),
  5: strings('dryRun'),
};

class Malformed extends Error {}

/** A cursor over protobuf wire data. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new Malformed('unexpected end of data in a varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new Malformed('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > BigInt(this.buf.length - this.pos)) throw new Malformed('length beyond the end of data');
    const out = this.buf.subarray(this.pos, this.pos + Number(n));
    this.pos += Number(n);
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.advance(4);
    else throw new Malformed(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new Malformed('unexpected end of data');
    this.pos += n;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new Malformed('invalid UTF-8 in a string field');
  }
}

/** A metav1.Time or MicroTime; an empty message is Go's zero time, i.e. unset. */
function timestamp(b: Uint8Array, micro: boolean): string | undefined {
  if (b.length === 0) return undefined;
  const t = decode(b, { 1: f('seconds', 'int'), 2: f('nanos', 'int') });
  const ms = Number(t['seconds'] ?? 0) * 1000 + Math.floor(Number(t['nanos'] ?? 0) / 1e6);
  const iso = new Date(ms).toISOString();
  if (!micro) return iso.replace(/\.\d{3}Z$/, 'Z');
  const us = String(Math.floor(Number(t['nanos'] ?? 0) / 1000)).padStart(6, '0');
  return iso.replace(/\.\d{3}Z$/, `.${us}Z`);
}

function scalar(r: Reader, wire: number, type: Exclude<FieldType, object>): Json | undefined {
  if (type === 'int' || type === 'bool') {
    if (wire !== 0) throw new Malformed(`wire type ${wire} for a varint field`);
    const v = r.varint();
    return type === 'bool' ? v !== 0n : Number(BigInt.asIntN(64, v));
  }
  if (wire !== 2) throw new Malformed(`wire type ${wire} for a length-delimited field`);
  const b = r.bytes();
  switch (type) {
    case 'string':
      return text(b);
    case 'bytes':
      return Buffer.from(b).toString('base64');
    case 'time':
    case 'microtime':
      return timestamp(b, type === 'microtime');
    case 'json':
      try {
        return JSON.parse(text(b)) as Json;
      } catch {
        throw new Malformed('invalid JSON in a FieldsV1 field');
      }
  }
}

function isZero(v: Json): boolean {
  return v === '' || v === 0 || v === false;
}

/** Decodes one message into its JSON form. Unknown field numbers are skipped, as gogo does. */
function decode(buf: Uint8Array, fields: Fields): JsonObject {
  const r = new Reader(buf);
  const out: JsonObject = {};
  while (!r.done) {
    const key = r.varint();
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    const field = fields[num];
    if (!field) {
      r.skip(wire);
      continue;
    }
    let value: Json | undefined;
    const t = field.type;
    if (typeof t === 'string') {
      value = scalar(r, wire, t);
    } else if (wire !== 2) {
      throw new Malformed(`wire type ${wire} for field ${field.name}`);
    } else if ('message' in t) {
      value = decode(r.bytes(), t.message);
    } else {
      const valueField = t.map === 'strings' ? f('value', { message: { 1: strings('items') } }) : f('value', t.map);
      const entry = decode(r.bytes(), { 1: f('key', 'string'), 2: valueField });
      const v = t.map === 'strings' ? ((entry['value'] as JsonObject | undefined)?.['items'] ?? []) : (entry['value'] ?? '');
      // Keys are user data: `__proto__` must stay a key, not become the prototype.
      setOwn((out[field.name] ??= {}) as JsonObject, String(entry['key'] ?? ''), v);
      continue;
    }
    if (value === undefined) continue;
    if (field.repeated) ((out[field.name] ??= []) as Json[]).push(value);
    else if (field.pointer || !isZero(value)) out[field.name] = value;
  }
  return out;
}

/** Splits the `k8s\0` envelope (a runtime.Unknown) into the object's type and raw bytes. */
function envelope(buf: Buffer): { apiVersion: string; kind: string; raw: Uint8Array } {
  if (buf.length < MAGIC.length || MAGIC.some((b, i) => buf[i] !== b)) {
    throw badRequest('the request body could not be decoded: protobuf data does not start with the "k8s\\x00" prefix');
  }
  const r = new Reader(buf.subarray(MAGIC.length));
  let meta: JsonObject = {};
  let raw: Uint8Array = new Uint8Array(0);
  while (!r.done) {
    const key = r.varint();
    const wire = Number(key & 7n);
    const num = Number(key >> 3n);
    if (wire === 2 && num === 1) meta = decode(r.bytes(), TYPE_META);
    else if (wire === 2 && num === 2) raw = r.bytes();
    else if (wire === 2 && num === 3) {
      // contentEncoding: client-go never sets one, and kube refuses to guess.
      const encoding = text(r.bytes());
      if (encoding) throw badRequest(`the request body could not be decoded: unsupported content encoding "${encoding}"`);
    } else r.skip(wire);
  }
  return { apiVersion: String(meta['apiVersion'] ?? ''), kind: String(meta['kind'] ?? ''), raw };
}

function decodeFailure(e: unknown): never {
  if (e instanceof Malformed) throw badRequest(`the request body could not be decoded: ${e.message}`);
  throw e;
}

/**
 * The JSON form of a protobuf object body. A kind without a known protobuf form is refused with
 * 415, as kube refuses protobuf for custom resources.
 */
export function decodeProtobufObject(buf: Buffer): JsonObject {
  try {
    const { apiVersion, kind, raw } = envelope(buf);
    const fields = KINDS[`${apiVersion}/${kind}`];
    if (!fields) throw unsupportedMediaType(PROTOBUF, ['application/json', 'application/yaml']);
    return { apiVersion, kind, ...decode(raw, fields) };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    return decodeFailure(e);
  }
}

/** The JSON form of a protobuf DeleteOptions body. */
export function decodeProtobufDeleteOptions(buf: Buffer): JsonObject {
  try {
    return decode(envelope(buf).raw, DELETE_OPTIONS);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    return decodeFailure(e);
  }
}
