/**
 * Bad input, table-driven: every row is one raw request (method, undecoded path, headers, body)
 * with the HTTP code and Status `reason` the reference server must answer (and, where it matters,
 * a message fragment or `details`). After every row the server must still serve, a sentinel
 * ConfigMap stored before the table must be unchanged (same resourceVersion, same data), and
 * Object.prototype must be unpolluted. Expectations follow kube/kcp (kcp-wire.md §1.1, §8 F);
 * where the reference server deliberately differs, the row says so.
 */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { request, start } from '../support/server.js';

const NS = '/clusters/root/api/v1/namespaces/default';
const CM = `${NS}/configmaps`;
const SENTINEL = `${CM}/sentinel`;
const SENTINEL_DATA = { keep: 'me', unicode: 'ünïcødé ✓ 🙂' };
const JSON_CT = { 'Content-Type': 'application/json' };
const YAML_CT = { 'Content-Type': 'application/yaml' };
const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const JSON_PATCH = { 'Content-Type': 'application/json-patch+json' };
const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
const NOT_FOUND = 'the server could not find the requested resource';
const NOT_ALLOWED = 'the server does not allow this method on the requested resource';
const WILDCARD_NOT_ALLOWED = `${NOT_ALLOWED} in the \`*\` logical cluster`;

/** A response as the rows see it. */
interface Res {
  status: number;
  contentType: string;
  text: string;
  // Rows inspect arbitrary JSON shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

interface Row {
  name: string;
  method: string;
  /** Sent as is: neither normalised nor re-encoded. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** The Authorization header; the admin bearer token when absent, none when null. */
  auth?: string | null;
  /** Leave out Content-Length, so that Node sends the body with chunked transfer encoding. */
  chunked?: boolean;
  code: number;
  /** Status reason of a failure. */
  reason?: string;
  /** A fragment of the Status message (string) or a pattern it must match. */
  message?: string | RegExp;
  /** Members `details` must contain. */
  details?: Record<string, unknown>;
  /** Further checks of the response. */
  check?(res: Res): void;
}

function nestedObject(levels: number, leaf = '1'): string {
  return '{"a":'.repeat(levels) + leaf + '}'.repeat(levels);
}

/** A YAML document whose aliases expand to 9^9 (387 million) strings. */
function yamlBomb(name: string): string {
  const lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) lines.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  return `${lines.join('\n')}\nmetadata: {name: ${name}}\n`;
}

/** A YAML document whose aliases nest `n` levels deep while its text is flat. */
function yamlAliasChain(n: number): string {
  const lines = ['c0: &c0 [x]'];
  for (let i = 1; i < n; i++) lines.push(`c${i}: &c${i} [*c${i - 1}]`);
  return `${lines.join('\n')}\nmetadata: {name: chain}\n`;
}

/** JSON patch ops that each copy /data into itself: the written-out object doubles per op. */
function copyBomb(ops: number): string {
  return JSON.stringify(Array.from({ length: ops }, (_, i) => ({ op: 'copy', from: '/data', path: `/data/c${i}` })));
}

const OVER_3MIB = `{"metadata":{"name":"huge"},"data":{"x":"${'a'.repeat(3 * 1024 * 1024)}"}}`;
const TWO_MIB = `{"metadata":{"name":"big-2mib"},"data":{"x":"${'b'.repeat(2 * 1024 * 1024)}"}}`;

function listOf(kind: string): (res: Res) => void {
  return (res) => {
    expect(res.json.kind).to.equal(kind);
    expect(res.json.items).to.be.an('array');
  };
}

const ROWS: Row[] = [
  // ---- bodies ------------------------------------------------------------------------------
  { name: 'malformed JSON', method: 'POST', path: CM, body: '{"metadata":', headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'could not be decoded' },
  { name: 'malformed YAML', method: 'POST', path: CM, body: 'metadata: [\n', headers: YAML_CT, code: 400, reason: 'BadRequest', message: 'could not be decoded' },
  { name: 'JSON array body', method: 'POST', path: CM, body: '[]', headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'must be a JSON or YAML object' },
  { name: 'JSON string body', method: 'POST', path: CM, body: '"configmap"', headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'must be a JSON or YAML object' },
  { name: 'JSON null body', method: 'POST', path: CM, body: 'null', headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'must be a JSON or YAML object' },
  {
    // kube decodes a missing metadata to an empty ObjectMeta, so the create fails on the name.
    name: 'object without metadata',
    method: 'POST',
    path: CM,
    body: '{"data":{"a":"b"}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: 'metadata.name: Required value: name or generateName is required',
  },
  { name: 'metadata that is not an object', method: 'POST', path: CM, body: '{"metadata":"x"}', headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'metadata' },
  {
    name: 'apiVersion that does not match the URL',
    method: 'POST',
    path: CM,
    body: '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"wrong-version"}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'the API version in the data (apps/v1) does not match the expected API version (v1)',
  },
  {
    name: 'kind that does not match the URL',
    method: 'POST',
    path: CM,
    body: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wrong-kind"}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'the kind in the data (Secret) does not match the expected kind (ConfigMap)',
  },
  {
    name: 'kind that does not match the URL, on an update of the sentinel',
    method: 'PUT',
    path: SENTINEL,
    body: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"sentinel"},"data":{}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'does not match the expected kind',
  },
  { name: 'body over 3 MiB with Content-Length', method: 'POST', path: CM, body: OVER_3MIB, headers: JSON_CT, code: 413, reason: 'RequestEntityTooLarge', message: 'limit is 3145728' },
  {
    name: 'body over 3 MiB with chunked transfer',
    method: 'POST',
    path: CM,
    body: OVER_3MIB,
    headers: JSON_CT,
    chunked: true,
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: 'limit is 3145728',
  },
  { name: 'empty body on POST', method: 'POST', path: CM, body: '', headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'the request body is empty' },
  { name: 'no body at all on POST', method: 'POST', path: CM, headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'the request body is empty' },
  {
    name: 'a valid 2 MiB body is accepted',
    method: 'POST',
    path: CM,
    body: TWO_MIB,
    headers: JSON_CT,
    code: 201,
    check: (res) => expect((res.json.data.x as string).length).to.equal(2 * 1024 * 1024),
  },
  {
    name: 'the same 2 MiB body with chunked transfer is accepted too',
    method: 'POST',
    path: CM,
    body: TWO_MIB.replace('big-2mib', 'big-2mib-chunked'),
    headers: JSON_CT,
    chunked: true,
    code: 201,
  },
  {
    // Go's decoder stops at 10,000 levels; this server at MAX_JSON_DEPTH (1000), because V8 cannot recurse 10,000 deep.
    name: 'JSON nested 10,000 levels in a create',
    method: 'POST',
    path: CM,
    body: `{"metadata":{"name":"deep"},"data":${nestedObject(10_000)}}`,
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'exceeded max depth',
  },
  { name: 'a bare array nested 1,500,000 levels (3 MB)', method: 'POST', path: CM, body: '['.repeat(1_500_000) + ']'.repeat(1_500_000), headers: JSON_CT, code: 400, reason: 'BadRequest', message: 'exceeded max depth' },
  { name: 'merge patch nested 10,000 levels', method: 'PATCH', path: SENTINEL, body: `{"data":${nestedObject(10_000)}}`, headers: MERGE, code: 400, reason: 'BadRequest', message: 'exceeded max depth' },
  { name: 'strategic merge patch nested 10,000 levels', method: 'PATCH', path: SENTINEL, body: `{"data":${nestedObject(10_000)}}`, headers: SMP, code: 400, reason: 'BadRequest', message: 'exceeded max depth' },
  {
    name: 'JSON patch with a value nested 10,000 levels',
    method: 'PATCH',
    path: SENTINEL,
    body: `[{"op":"add","path":"/data/deep","value":${nestedObject(10_000)}}]`,
    headers: JSON_PATCH,
    code: 400,
    reason: 'BadRequest',
    message: 'exceeded max depth',
  },
  {
    name: 'YAML nested beyond js-yaml’s depth limit',
    method: 'POST',
    path: CM,
    body: `metadata: {name: deep-yaml}\ndata: ${nestedObject(500)}\n`,
    headers: YAML_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'could not be decoded',
  },
  { name: 'YAML alias bomb (billion laughs)', method: 'POST', path: CM, body: yamlBomb('bomb'), headers: YAML_CT, code: 400, reason: 'BadRequest', message: 'excessive aliasing' },
  {
    name: 'YAML alias bomb as a server-side apply patch',
    method: 'PATCH',
    path: `${CM}/bomb?fieldManager=t`,
    body: yamlBomb('bomb'),
    headers: { 'Content-Type': 'application/apply-patch+yaml' },
    code: 400,
    reason: 'BadRequest',
    message: 'excessive aliasing',
  },
  { name: 'YAML alias chain that nests 1,500 levels with flat text', method: 'POST', path: CM, body: yamlAliasChain(1500), headers: YAML_CT, code: 400, reason: 'BadRequest', message: 'exceeded max depth' },
  { name: 'YAML alias that contains itself', method: 'POST', path: CM, body: 'metadata: {name: loop}\nx: &a\n  y: *a\n', headers: YAML_CT, code: 400, reason: 'BadRequest' },
  {
    // Each copy shares the subtree, so 40 of them describe 2^40 values; kube's copy limit is a 422 too.
    name: 'JSON patch copy amplification',
    method: 'PATCH',
    path: SENTINEL,
    body: copyBomb(40),
    headers: JSON_PATCH,
    code: 422,
    reason: 'Invalid',
    message: 'values',
  },
  {
    name: 'unicode data values round-trip',
    method: 'POST',
    path: CM,
    body: JSON.stringify({ metadata: { name: 'unicode-data' }, data: { k: 'ünïcødé ✓ 🙂 \u0000 \u2028' } }),
    headers: JSON_CT,
    code: 201,
    check: (res) => expect(res.json.data.k).to.equal('ünïcødé ✓ 🙂 \u0000 \u2028'),
  },
  {
    name: 'unicode object name',
    method: 'POST',
    path: CM,
    body: JSON.stringify({ metadata: { name: 'ünïcode' } }),
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: 'a lowercase RFC 1123 subdomain',
    details: { name: 'ünïcode', kind: 'ConfigMap' },
  },
  {
    name: 'unicode object name in the URL',
    method: 'GET',
    path: `${CM}/%C3%BCn%C3%AFcode`,
    code: 404,
    reason: 'NotFound',
    message: 'configmaps "ünïcode" not found',
    details: { name: 'ünïcode', kind: 'configmaps' },
  },
  {
    name: '__proto__ and constructor keys are plain data',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"proto-keys"},"__proto__":{"polluted":"yes"},"data":{"__proto__":"x","constructor":"y","toString":"z"}}',
    headers: JSON_CT,
    code: 201,
    check: (res) => {
      const data = res.json.data as Record<string, unknown>;
      expect(Object.keys(data)).to.have.members(['__proto__', 'constructor', 'toString']);
      expect(Object.hasOwn(data, '__proto__') && data['__proto__']).to.equal('x');
      expect(Object.hasOwn(res.json, 'polluted')).to.equal(false);
    },
  },
  {
    name: '__proto__ in a merge patch',
    method: 'PATCH',
    path: `${CM}/proto-keys`,
    body: '{"__proto__":{"polluted":"yes"},"data":{"__proto__":"x2","constructor":null}}',
    headers: MERGE,
    code: 200,
    check: (res) => expect(JSON.stringify(res.json.data)).to.equal('{"__proto__":"x2","toString":"z"}'),
  },
  {
    name: '__proto__ in a YAML body',
    method: 'POST',
    path: CM,
    body: '__proto__: {polluted: yes}\nmetadata: {name: proto-yaml}\ndata: {__proto__: v, constructor: w}\n',
    headers: YAML_CT,
    code: 201,
    check: (res) => expect(JSON.stringify(res.json.data)).to.equal('{"__proto__":"v","constructor":"w"}'),
  },
  {
    name: 'an unknown field named constructor under fieldValidation=Strict',
    method: 'POST',
    path: `${CM}?fieldValidation=Strict`,
    body: '{"metadata":{"name":"strict-ctor"},"constructor":{"prototype":{"polluted":"yes"}}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'strict decoding error: unknown field "constructor"',
  },
  {
    name: 'an unknown field named __proto__ under fieldValidation=Strict',
    method: 'POST',
    path: `${CM}?fieldValidation=Strict`,
    body: '{"metadata":{"name":"strict-proto"},"__proto__":{"polluted":"yes"}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'unknown field "__proto__"',
  },
  {
    name: 'a label key __proto__',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"proto-label","labels":{"__proto__":"x"}}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: 'metadata.labels: Invalid value: "__proto__"',
  },

  // ---- hostile cluster names and paths -----------------------------------------------------
  { name: 'cluster ..', method: 'GET', path: '/clusters/../api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid request path segment ".."' },
  { name: 'cluster %2e%2e', method: 'GET', path: '/clusters/%2e%2e/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid request path segment "%2e%2e"' },
  { name: 'cluster %2F', method: 'GET', path: '/clusters/%2F/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid request path segment' },
  { name: 'cluster root%2Fetc', method: 'GET', path: '/clusters/root%2Fetc/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid request path segment "root%2Fetc"' },
  { name: 'cluster a//b (empty segment)', method: 'GET', path: '/clusters/a//b/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid request path segment ""' },
  { name: 'empty cluster segment', method: 'GET', path: '/clusters//api/v1/namespaces', code: 400, reason: 'BadRequest' },
  { name: '/clusters/ without a cluster', method: 'GET', path: '/clusters/', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'cluster ROOT (uppercase)', method: 'GET', path: '/clusters/ROOT/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid cluster: "ROOT" does not match the regex' },
  { name: 'cluster root:', method: 'GET', path: '/clusters/root:/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid cluster: "root:" does not match the regex' },
  { name: 'cluster :root', method: 'GET', path: '/clusters/:root/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid cluster: ":root" does not match the regex' },
  { name: 'cluster root::x', method: 'GET', path: '/clusters/root::x/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid cluster: "root::x" does not match the regex' },
  { name: 'cluster with a 70-character segment', method: 'GET', path: `/clusters/${'a'.repeat(70)}/api/v1/namespaces`, code: 400, reason: 'BadRequest', message: 'does not match the regex' },
  { name: 'cluster path with a 70-character segment', method: 'GET', path: `/clusters/root:${'a'.repeat(70)}/api/v1/namespaces`, code: 400, reason: 'BadRequest', message: 'does not match the regex' },
  { name: 'cluster with non-ASCII characters', method: 'GET', path: '/clusters/r%C3%B6ot/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'does not match the regex' },
  { name: 'cluster with the public endpoints behind an invalid name', method: 'GET', path: '/clusters/ROOT/version', auth: null, code: 400, reason: 'BadRequest', message: 'does not match the regex' },
  // system: names pass the regex and are used as names; this server has no system:admin cluster.
  { name: 'cluster system:admin', method: 'GET', path: '/clusters/system:admin/api/v1/namespaces', code: 403, reason: 'Forbidden', message: 'system:admin' },
  { name: 'unknown cluster name', method: 'GET', path: '/clusters/nosuchcluster/api/v1/namespaces', code: 403, reason: 'Forbidden', message: 'nosuchcluster' },
  {
    name: 'unknown workspace path',
    method: 'GET',
    path: '/clusters/root:nope/api/v1/namespaces',
    code: 404,
    reason: 'NotFound',
    message: 'workspaces.tenancy.kcp.io "root:nope" not found',
    details: { name: 'root:nope', group: 'tenancy.kcp.io', kind: 'workspaces' },
  },
  { name: 'cluster %2A is the wildcard (list allowed)', method: 'GET', path: '/clusters/%2A/api/v1/configmaps', code: 200, check: listOf('ConfigMapList') },
  { name: 'wildcard watch is allowed', method: 'GET', path: '/clusters/*/api/v1/configmaps?watch=true&timeoutSeconds=1', code: 200, check: (res) => expect(res.text).to.include('"type":"ADDED"') },
  { name: 'wildcard POST', method: 'POST', path: '/clusters/*/api/v1/namespaces/default/configmaps', body: '{"metadata":{"name":"w"}}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'wildcard POST on a cluster-scoped collection', method: 'POST', path: '/clusters/*/api/v1/namespaces', body: '{"metadata":{"name":"w"}}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'wildcard PUT', method: 'PUT', path: '/clusters/%2A/api/v1/namespaces/default', body: '{"metadata":{"name":"default"}}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'wildcard PATCH', method: 'PATCH', path: '/clusters/*/api/v1/namespaces/default', body: '{}', headers: MERGE, code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'wildcard DELETE', method: 'DELETE', path: '/clusters/*/api/v1/namespaces/default', code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'wildcard DELETE of a collection', method: 'DELETE', path: '/clusters/*/api/v1/configmaps', code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'wildcard GET of one object', method: 'GET', path: '/clusters/*/api/v1/namespaces/default', code: 405, reason: 'MethodNotAllowed', message: WILDCARD_NOT_ALLOWED },
  { name: 'cluster with a NUL byte', method: 'GET', path: '/clusters/root%00/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid request path segment' },
  { name: 'cluster with invalid percent-encoding', method: 'GET', path: '/clusters/%zz/api/v1/namespaces', code: 400, reason: 'BadRequest', message: 'invalid percent-encoding' },
  { name: 'resource path that climbs with ..', method: 'GET', path: '/clusters/root/api/v1/namespaces/../configmaps', code: 400, reason: 'BadRequest', message: 'invalid request path segment ".."' },

  // ---- object names ------------------------------------------------------------------------
  { name: 'object name ..', method: 'GET', path: `${CM}/..`, code: 400, reason: 'BadRequest', message: 'invalid request path segment ".."' },
  { name: 'object name %2e%2e', method: 'DELETE', path: `${CM}/%2e%2e`, code: 400, reason: 'BadRequest', message: 'invalid request path segment' },
  { name: 'object name .', method: 'GET', path: `${CM}/.`, code: 400, reason: 'BadRequest', message: 'invalid request path segment "."' },
  { name: 'object name a/b via %2F', method: 'GET', path: `${CM}/a%2Fb`, code: 400, reason: 'BadRequest', message: 'invalid request path segment "a%2Fb"' },
  { name: 'object name with a NUL byte', method: 'GET', path: `${CM}/x%00y`, code: 400, reason: 'BadRequest', message: 'invalid request path segment' },
  { name: 'object name with invalid percent-encoding', method: 'GET', path: `${CM}/%zz`, code: 400, reason: 'BadRequest', message: 'invalid percent-encoding' },
  { name: 'uppercase object name in the URL', method: 'GET', path: `${CM}/UPPER`, code: 404, reason: 'NotFound', message: 'configmaps "UPPER" not found', details: { name: 'UPPER', group: '', kind: 'configmaps' } },
  {
    name: 'uppercase object name in a create',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"UPPER"}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: 'ConfigMap "UPPER" is invalid: metadata.name: Invalid value: "UPPER"',
    check: (res) => expect(res.json.details.causes[0]).to.include({ reason: 'FieldValueInvalid', field: 'metadata.name' }),
  },
  { name: '254-character object name in a create', method: 'POST', path: CM, body: JSON.stringify({ metadata: { name: 'a'.repeat(254) } }), headers: JSON_CT, code: 422, reason: 'Invalid', message: 'must be no more than 253 characters' },
  { name: '254-character object name in the URL', method: 'GET', path: `${CM}/${'a'.repeat(254)}`, code: 404, reason: 'NotFound' },
  { name: 'object name .. in a create', method: 'POST', path: CM, body: '{"metadata":{"name":".."}}', headers: JSON_CT, code: 422, reason: 'Invalid', message: 'metadata.name' },
  {
    name: 'RBAC name .. (path-segment rule)',
    method: 'POST',
    path: '/clusters/root/apis/rbac.authorization.k8s.io/v1/clusterroles',
    body: '{"metadata":{"name":".."}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: "may not be '..'",
  },
  {
    name: 'RBAC name a/b (path-segment rule)',
    method: 'POST',
    path: '/clusters/root/apis/rbac.authorization.k8s.io/v1/clusterroles',
    body: '{"metadata":{"name":"a/b"}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: "may not contain '/'",
  },
  {
    name: 'name in the URL does not match the body (PUT of the sentinel)',
    method: 'PUT',
    path: SENTINEL,
    body: '{"metadata":{"name":"other"},"data":{"keep":"overwritten"}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'the name of the object (other) does not match the name on the URL (sentinel)',
  },
  {
    name: 'name in the URL does not match the patched object',
    method: 'PATCH',
    path: SENTINEL,
    body: '{"metadata":{"name":"other"}}',
    headers: MERGE,
    code: 400,
    reason: 'BadRequest',
    message: 'does not match the name on the URL',
  },
  {
    name: 'namespace in the URL does not match the body',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"ns-mismatch","namespace":"kube-system"}}',
    headers: JSON_CT,
    code: 400,
    reason: 'BadRequest',
    message: 'the namespace of the provided object does not match the namespace sent on the request',
  },
  {
    name: 'stale resourceVersion on an update of the sentinel',
    method: 'PUT',
    path: SENTINEL,
    body: '{"metadata":{"name":"sentinel","resourceVersion":"1"},"data":{"keep":"overwritten"}}',
    headers: JSON_CT,
    code: 409,
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on configmaps "sentinel": the object has been modified',
  },
  { name: 'create into a missing namespace', method: 'POST', path: '/clusters/root/api/v1/namespaces/nope/configmaps', body: '{"metadata":{"name":"x"}}', headers: JSON_CT, code: 404, reason: 'NotFound', message: 'namespaces "nope" not found' },

  // ---- unknown resources, groups, versions, subresources, verbs, paths ----------------------
  { name: 'unknown core resource', method: 'GET', path: '/clusters/root/api/v1/nopes', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown group', method: 'GET', path: '/clusters/root/apis/nope.example.com/v1/things', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown group discovery', method: 'GET', path: '/clusters/root/apis/nope.example.com', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown core version', method: 'GET', path: '/clusters/root/api/v2/namespaces', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown version of a known group', method: 'GET', path: '/clusters/root/apis/coordination.k8s.io/v9/leases', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown version discovery', method: 'GET', path: '/clusters/root/apis/coordination.k8s.io/v9', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'cluster-scoped resource under a namespace', method: 'GET', path: `${NS}/namespaces`, code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown subresource', method: 'GET', path: `${SENTINEL}/scale`, code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'status subresource of a kind without one', method: 'PUT', path: `${SENTINEL}/status`, body: '{"metadata":{"name":"sentinel"}}', headers: JSON_CT, code: 404, reason: 'NotFound' },
  { name: 'too many path segments', method: 'GET', path: `${SENTINEL}/status/extra`, code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'POST to an item', method: 'POST', path: SENTINEL, body: '{"metadata":{"name":"sentinel"}}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed', message: NOT_ALLOWED },
  { name: 'PUT to a collection', method: 'PUT', path: CM, body: '{"metadata":{"name":"sentinel"}}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed', message: NOT_ALLOWED },
  { name: 'PATCH to a collection', method: 'PATCH', path: CM, body: '{}', headers: MERGE, code: 405, reason: 'MethodNotAllowed', message: NOT_ALLOWED },
  { name: 'OPTIONS on a collection', method: 'OPTIONS', path: CM, code: 405, reason: 'MethodNotAllowed', message: NOT_ALLOWED },
  { name: 'POST to discovery', method: 'POST', path: '/clusters/root/api', body: '{}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed', message: NOT_ALLOWED },
  { name: 'POST to /version', method: 'POST', path: '/version', body: '{}', headers: JSON_CT, code: 405, reason: 'MethodNotAllowed' },
  { name: '/openapi/v2 in a media type it is not served in', method: 'GET', path: '/clusters/root/openapi/v2', headers: { Accept: 'application/yaml' }, code: 406, reason: 'NotAcceptable', message: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' },
  { name: 'below /openapi/v2', method: 'GET', path: '/clusters/root/openapi/v2/x', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: '/openapi/v3 of an unknown group', method: 'GET', path: '/clusters/root/openapi/v3/apis/nope.example.com/v1', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown top-level path', method: 'GET', path: '/nonsense', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'unknown path in a workspace', method: 'GET', path: '/clusters/root/nonsense/deeper', code: 404, reason: 'NotFound', message: NOT_FOUND },
  { name: 'test hook with GET', method: 'GET', path: '/_reference/compact', code: 404, reason: 'NotFound' },

  // ---- selectors and list options ---------------------------------------------------------
  { name: 'label selector with a bad operator', method: 'GET', path: `${CM}?labelSelector=a%3D%3D%3Db`, code: 400, reason: 'BadRequest', message: 'unable to parse requirement' },
  { name: 'label selector with an unclosed set', method: 'GET', path: `${CM}?labelSelector=a+in+(b`, code: 400, reason: 'BadRequest', message: 'unable to parse requirement' },
  { name: 'label selector with a bad value', method: 'GET', path: `${CM}?labelSelector=a%3D%24%24`, code: 400, reason: 'BadRequest', message: 'Invalid value: "$$"' },
  { name: 'label selector with a bad key', method: 'GET', path: `${CM}?labelSelector=-a%3Db`, code: 400, reason: 'BadRequest' },
  { name: 'unknown field selector field', method: 'GET', path: `${CM}?fieldSelector=spec.foo%3Dx`, code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' },
  { name: 'field selector without an operator', method: 'GET', path: `${CM}?fieldSelector=metadata.name`, code: 400, reason: 'BadRequest' },
  { name: 'limit that is not a number', method: 'GET', path: `${CM}?limit=abc`, code: 400, reason: 'BadRequest', message: 'invalid limit: "abc"' },
  { name: 'limit that is a fraction', method: 'GET', path: `${CM}?limit=1.5`, code: 400, reason: 'BadRequest', message: 'invalid limit' },
  { name: 'timeoutSeconds that is not a number', method: 'GET', path: `${CM}?timeoutSeconds=soon`, code: 400, reason: 'BadRequest', message: 'invalid timeoutSeconds' },
  // Real kube answers 500 for these (kubernetes/kubernetes#139485); 400 is the fix that issue asks for.
  { name: 'resourceVersion that is not a number', method: 'GET', path: `${CM}?resourceVersion=abc`, code: 400, reason: 'BadRequest', message: 'invalid resourceVersion: "abc"' },
  { name: 'negative resourceVersion', method: 'GET', path: `${CM}?resourceVersion=-1`, code: 400, reason: 'BadRequest', message: 'invalid resourceVersion' },
  { name: 'resourceVersion beyond any counter', method: 'GET', path: `${CM}?resourceVersion=99999999999999999999999`, code: 400, reason: 'BadRequest', message: 'invalid resourceVersion' },
  {
    name: 'resourceVersionMatch without resourceVersion',
    method: 'GET',
    path: `${CM}?resourceVersionMatch=NotOlderThan`,
    code: 422,
    reason: 'Invalid',
    message: 'resourceVersionMatch is forbidden unless resourceVersion is provided',
    check: (res) => expect(res.json.details.causes[0]).to.include({ field: 'resourceVersionMatch' }),
  },
  { name: 'unknown resourceVersionMatch', method: 'GET', path: `${CM}?resourceVersion=1&resourceVersionMatch=Sometimes`, code: 422, reason: 'Invalid', message: 'Unsupported value: "Sometimes"' },
  { name: 'continue token that is not one', method: 'GET', path: `${CM}?limit=1&continue=garbage`, code: 400, reason: 'BadRequest', message: 'continue key is not valid' },
  { name: 'continue token with a resourceVersion', method: 'GET', path: `${CM}?continue=garbage&resourceVersion=5`, code: 400, reason: 'BadRequest', message: 'specifying resource version is not allowed when using continue' },
  { name: 'watch with a bad resourceVersion', method: 'GET', path: `${CM}?watch=true&resourceVersion=abc`, code: 400, reason: 'BadRequest', message: 'invalid resourceVersion: "abc"' },
  { name: 'watch with a bad label selector', method: 'GET', path: `${CM}?watch=1&labelSelector=a%3D%3D%3Db`, code: 400, reason: 'BadRequest', message: 'unable to parse requirement' },
  { name: 'watch with resourceVersionMatch but no sendInitialEvents', method: 'GET', path: `${CM}?watch=1&resourceVersion=1&resourceVersionMatch=NotOlderThan`, code: 422, reason: 'Invalid', message: 'resourceVersionMatch' },
  { name: 'sendInitialEvents without bookmarks', method: 'GET', path: `${CM}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`, code: 422, reason: 'Invalid', message: 'sendInitialEvents' },
  { name: 'a negative limit is no limit', method: 'GET', path: `${CM}?limit=-1`, code: 200, check: listOf('ConfigMapList') },

  // ---- content types -----------------------------------------------------------------------
  {
    name: 'protobuf request body',
    method: 'POST',
    path: CM,
    body: '\u006b\u0038\u0073\u0000',
    headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'accepted media types include: application/json, application/yaml',
  },
  { name: 'text/plain request body', method: 'POST', path: CM, body: '{"metadata":{"name":"text"}}', headers: { 'Content-Type': 'text/plain' }, code: 415, reason: 'UnsupportedMediaType' },
  { name: 'PATCH with an unknown content type', method: 'PATCH', path: SENTINEL, body: '{}', headers: { 'Content-Type': 'application/xml' }, code: 415, reason: 'UnsupportedMediaType', message: 'application/merge-patch+json' },
  { name: 'PATCH without a content type', method: 'PATCH', path: SENTINEL, body: '{"data":{"keep":"overwritten"}}', code: 415, reason: 'UnsupportedMediaType' },
  {
    name: 'strategic merge patch on a kcp type',
    method: 'PATCH',
    path: '/clusters/root/apis/core.kcp.io/v1alpha1/logicalclusters/cluster',
    body: '{"metadata":{"labels":{"x":"y"}}}',
    headers: SMP,
    code: 415,
    reason: 'UnsupportedMediaType',
    check: (res) => {
      expect(res.json.message).to.include('application/merge-patch+json');
      expect(res.json.message).not.to.include('strategic');
    },
  },
  { name: 'Accept protobuf only', method: 'GET', path: CM, headers: { Accept: 'application/vnd.kubernetes.protobuf' }, code: 406, reason: 'NotAcceptable', message: 'application/json' },
  { name: 'Accept protobuf watch only', method: 'GET', path: `${CM}?watch=1`, headers: { Accept: 'application/vnd.kubernetes.protobuf;stream=watch' }, code: 406, reason: 'NotAcceptable' },
  { name: 'Accept YAML only (answers are JSON)', method: 'GET', path: CM, headers: { Accept: 'application/yaml' }, code: 406, reason: 'NotAcceptable' },
  {
    name: 'Accept protobuf first and JSON second',
    method: 'GET',
    path: CM,
    headers: { Accept: 'application/vnd.kubernetes.protobuf, application/json' },
    code: 200,
    check: (res) => {
      expect(res.contentType).to.match(/^application\/json/);
      listOf('ConfigMapList')(res);
    },
  },
  {
    name: 'aggregated discovery Accept gets plain discovery',
    method: 'GET',
    path: '/clusters/root/apis',
    headers: {
      Accept:
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
    },
    code: 200,
    check: (res) => expect(res.json.kind).to.equal('APIGroupList'),
  },
  {
    name: 'aggregated discovery Accept alone is not a 406',
    method: 'GET',
    path: '/clusters/root/api',
    headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' },
    code: 200,
    check: (res) => expect(res.json.kind).to.equal('APIVersions'),
  },

  // ---- authentication ----------------------------------------------------------------------
  { name: 'no token', method: 'GET', path: CM, auth: null, code: 401, reason: 'Unauthorized', message: 'Unauthorized' },
  { name: 'wrong token', method: 'GET', path: CM, auth: 'Bearer not-the-token', code: 401, reason: 'Unauthorized', message: 'Unauthorized' },
  { name: 'Basic auth', method: 'GET', path: CM, auth: `Basic ${Buffer.from('admin:admin').toString('base64')}`, code: 401, reason: 'Unauthorized', message: 'Unauthorized' },
  { name: 'Bearer without a token', method: 'GET', path: CM, auth: 'Bearer ', code: 401, reason: 'Unauthorized' },
  { name: 'no token on a write to the sentinel', method: 'DELETE', path: SENTINEL, auth: null, code: 401, reason: 'Unauthorized' },
  { name: 'no token on discovery', method: 'GET', path: '/clusters/root/apis', auth: null, code: 401, reason: 'Unauthorized' },
  { name: '/healthz without a token', method: 'GET', path: '/healthz', auth: null, code: 200, check: (res) => expect(res.text).to.equal('ok') },
  { name: '/readyz without a token', method: 'GET', path: '/readyz', auth: null, code: 200, check: (res) => expect(res.text).to.equal('ok') },
  { name: '/livez without a token', method: 'GET', path: '/livez', auth: null, code: 200, check: (res) => expect(res.text).to.equal('ok') },
  { name: '/version without a token', method: 'GET', path: '/version', auth: null, code: 200, check: (res) => expect(res.json.gitVersion).to.match(/^v1\.\d+\.\d+\+kcp/) },
  { name: '/version of a workspace without a token', method: 'GET', path: '/clusters/root/version', auth: null, code: 200, check: (res) => expect(res.json.major).to.equal('1') },

  // ---- dryRun, fieldValidation, patches ----------------------------------------------------
  {
    name: 'dryRun with a bad value',
    method: 'POST',
    path: `${CM}?dryRun=Bogus`,
    body: '{"metadata":{"name":"dry"}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Bogus"}: supported values: "All"',
    details: { group: 'meta.k8s.io', kind: 'CreateOptions' },
  },
  { name: 'dryRun with a bad value on an update', method: 'PUT', path: `${SENTINEL}?dryRun=yes`, body: '{"metadata":{"name":"sentinel"}}', headers: JSON_CT, code: 422, reason: 'Invalid', message: 'UpdateOptions.meta.k8s.io' },
  { name: 'dryRun with a bad value on a delete', method: 'DELETE', path: `${SENTINEL}?dryRun=yes`, code: 422, reason: 'Invalid', message: 'DeleteOptions.meta.k8s.io' },
  {
    name: 'fieldValidation with a bad value',
    method: 'POST',
    path: `${CM}?fieldValidation=Bogus`,
    body: '{"metadata":{"name":"fv"}}',
    headers: JSON_CT,
    code: 422,
    reason: 'Invalid',
    message: 'fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"',
  },
  { name: 'fieldValidation with a bad value on a patch', method: 'PATCH', path: `${SENTINEL}?fieldValidation=strict`, body: '{}', headers: MERGE, code: 422, reason: 'Invalid', message: 'PatchOptions.meta.k8s.io' },
  { name: 'reads ignore dryRun and fieldValidation, as kube does', method: 'GET', path: `${CM}?dryRun=x&fieldValidation=y`, code: 200, check: listOf('ConfigMapList') },
  // The server answers 400 for malformed patch documents by design (patch.ts); kube answers 422
  // for an unknown op, because it only fails when the patch is applied.
  { name: 'JSON patch with a bad op', method: 'PATCH', path: SENTINEL, body: '[{"op":"frob","path":"/data/keep"}]', headers: JSON_PATCH, code: 400, reason: 'BadRequest', message: 'unexpected op "frob"' },
  { name: 'JSON patch with a bad pointer', method: 'PATCH', path: SENTINEL, body: '[{"op":"add","path":"data/keep","value":"x"}]', headers: JSON_PATCH, code: 400, reason: 'BadRequest', message: 'invalid JSON pointer' },
  { name: 'JSON patch with a bad escape', method: 'PATCH', path: SENTINEL, body: '[{"op":"add","path":"/data/a~2","value":"x"}]', headers: JSON_PATCH, code: 400, reason: 'BadRequest' },
  {
    name: 'JSON patch with a failing test op',
    method: 'PATCH',
    path: SENTINEL,
    body: '[{"op":"replace","path":"/data/keep","value":"gone"},{"op":"test","path":"/data/keep","value":"other"}]',
    headers: JSON_PATCH,
    code: 422,
    reason: 'Invalid',
    message: 'test failed',
  },
  { name: 'JSON patch removing a missing path', method: 'PATCH', path: SENTINEL, body: '[{"op":"remove","path":"/data/nope"}]', headers: JSON_PATCH, code: 422, reason: 'Invalid', message: 'doc is missing path' },
  { name: 'JSON patch that is an object', method: 'PATCH', path: SENTINEL, body: '{"op":"add","path":"/data/x","value":"y"}', headers: JSON_PATCH, code: 400, reason: 'BadRequest', message: 'must be a JSON array' },
  { name: 'merge patch that is an array', method: 'PATCH', path: SENTINEL, body: '[{"data":{"keep":"x"}}]', headers: MERGE, code: 400, reason: 'BadRequest', message: 'a merge patch must be a JSON object' },
  { name: 'merge patch that is null', method: 'PATCH', path: SENTINEL, body: 'null', headers: MERGE, code: 400, reason: 'BadRequest' },
  { name: 'merge patch that is malformed', method: 'PATCH', path: SENTINEL, body: '{"data":', headers: MERGE, code: 400, reason: 'BadRequest', message: 'could not be decoded' },
  { name: 'merge patch removing metadata', method: 'PATCH', path: SENTINEL, body: '{"metadata":null}', headers: MERGE, code: 400, reason: 'BadRequest' },
  { name: 'merge patch with a stale resourceVersion', method: 'PATCH', path: SENTINEL, body: '{"metadata":{"resourceVersion":"1"},"data":{"keep":"x"}}', headers: MERGE, code: 409, reason: 'Conflict' },
  { name: 'strategic merge patch that is an array', method: 'PATCH', path: SENTINEL, body: '[]', headers: SMP, code: 400, reason: 'BadRequest' },
  { name: 'patch of a missing object', method: 'PATCH', path: `${CM}/does-not-exist`, body: '{}', headers: MERGE, code: 404, reason: 'NotFound', details: { name: 'does-not-exist', kind: 'configmaps' } },
  { name: 'server-side apply without fieldManager', method: 'PATCH', path: SENTINEL, body: 'metadata: {name: sentinel}\n', headers: { 'Content-Type': 'application/apply-patch+yaml' }, code: 422, reason: 'Invalid', message: 'fieldManager' },
  { name: 'malformed DeleteOptions', method: 'DELETE', path: SENTINEL, body: '{"propagationPolicy":', headers: JSON_CT, code: 400, reason: 'BadRequest' },
  { name: 'DeleteOptions that are an array', method: 'DELETE', path: SENTINEL, body: '[]', headers: JSON_CT, code: 400, reason: 'BadRequest' },
  { name: 'DeleteOptions with a bad propagationPolicy', method: 'DELETE', path: SENTINEL, body: '{"propagationPolicy":"Sideways"}', headers: JSON_CT, code: 422, reason: 'Invalid', message: 'propagationPolicy' },
  {
    name: 'DeleteOptions with a failing uid precondition',
    method: 'DELETE',
    path: SENTINEL,
    body: '{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}',
    headers: JSON_CT,
    code: 409,
    reason: 'Conflict',
    message: 'Precondition failed: UID in precondition',
  },
];

describe('reference server: bad input', function () {
  let srv: RunningServer;
  let sentinel: { resourceVersion: string; uid: string };

  async function send(row: Pick<Row, 'method' | 'path' | 'body' | 'headers' | 'auth' | 'chunked'>): Promise<Res> {
    const headers: Record<string, string> = { ...row.headers };
    const auth = row.auth === undefined ? `Bearer ${srv.token}` : row.auth;
    if (auth !== null) headers['Authorization'] = auth;
    if (row.body !== undefined && !row.chunked) headers['Content-Length'] = String(Buffer.byteLength(row.body));
    const res = await request(srv, row.method, row.path, { body: row.body, headers });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (healthz)
    }
    return { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json };
  }

  before(async () => {
    srv = await start();
    const res = await send({ method: 'POST', path: CM, body: JSON.stringify({ metadata: { name: 'sentinel', labels: { role: 'sentinel' } }, data: SENTINEL_DATA }), headers: JSON_CT });
    expect(res.status, res.text).to.equal(201);
    sentinel = { resourceVersion: res.json.metadata.resourceVersion, uid: res.json.metadata.uid };
  });
  after(() => srv?.stop());

  for (const row of ROWS) {
    it(`${row.method} ${row.name} → ${row.code}${row.reason ? ` ${row.reason}` : ''}`, async () => {
      const res = await send(row);
      const what = `${row.method} ${row.path.slice(0, 120)}: ${res.text.slice(0, 400)}`;
      expect(res.status, what).to.equal(row.code);
      if (row.code >= 400) {
        expect(res.contentType, what).to.match(/^application\/json/);
        expect(res.json, what).to.be.an('object');
        expect(res.json).to.include({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: row.code });
        expect(res.json.message, what).to.be.a('string').and.not.equal('');
        expect(res.json.details, what).to.be.an('object');
        expect(res.json.metadata, what).to.deep.equal({});
        if (row.reason) expect(res.json.reason, what).to.equal(row.reason);
      } else {
        expect(res.json?.kind, what).not.to.equal('Status');
      }
      if (typeof row.message === 'string') expect(res.json.message, what).to.include(row.message);
      if (row.message instanceof RegExp) expect(res.json.message, what).to.match(row.message);
      if (row.details) expect(res.json.details, what).to.deep.include(row.details);
      row.check?.(res);

      // The server still serves, and nothing stored before the row changed.
      const ns = await send({ method: 'GET', path: NS });
      expect(ns.status, `namespace default after the row: ${ns.text.slice(0, 300)}`).to.equal(200);
      const cur = await send({ method: 'GET', path: SENTINEL });
      expect(cur.status, cur.text.slice(0, 300)).to.equal(200);
      expect(cur.json.metadata.resourceVersion, 'sentinel resourceVersion').to.equal(sentinel.resourceVersion);
      expect(cur.json.metadata.uid).to.equal(sentinel.uid);
      expect(cur.json.data).to.deep.equal(SENTINEL_DATA);
      expect(cur.json.metadata.labels).to.deep.equal({ role: 'sentinel' });
      expect(({} as Record<string, unknown>)['polluted'], 'Object.prototype polluted').to.equal(undefined);
      expect(Object.prototype).not.to.have.property('polluted');
    });
  }

  it('still lists the sentinel and the accepted objects, and nothing from refused rows', async () => {
    const res = await send({ method: 'GET', path: CM });
    const names = (res.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    expect(names).to.include.members(['sentinel', 'big-2mib', 'big-2mib-chunked', 'unicode-data', 'proto-keys', 'proto-yaml']);
    for (const refused of ['huge', 'deep', 'bomb', 'chain', 'loop', 'wrong-version', 'wrong-kind', 'dry', 'fv', 'strict-ctor', 'strict-proto', 'proto-label', 'text', 'ns-mismatch']) {
      expect(names, refused).not.to.include(refused);
    }
  });
});
