/**
 * Names, keys and hashes of the apis.kcp.io objects: storage keys, label and annotation keys,
 * kcp's base62(SHA-224) derivations for the export label and the claim labels, the identity hash,
 * and small readers over stored JSON shared by the controllers of this directory.
 */
import { createHash } from 'node:crypto';
import { isObject, jsonCopy } from '../../json.js';
import type { Json, JsonObject, KubeObject } from '../../types.js';
import { bigText, sha224 } from '../hash.js';

/** The apis.kcp.io group. */
export const APIS_GROUP = 'apis.kcp.io';
/** Storage key of APIResourceSchemas. */
export const SCHEMAS = 'apis.kcp.io/apiresourceschemas';
/** Storage key of APIExports (stored as v1alpha2). */
export const EXPORTS = 'apis.kcp.io/apiexports';
/** Storage key of APIExportEndpointSlices. */
export const SLICES = 'apis.kcp.io/apiexportendpointslices';
/** Storage key of APIBindings (stored as v1alpha2). */
export const BINDINGS = 'apis.kcp.io/apibindings';

/** Label on APIBindings: the hash of the export they point to. */
export const EXPORT_LABEL = 'internal.apis.kcp.io/export';
/** Prefix of the labels that make objects visible to a claiming export. */
export const CLAIM_LABEL_PREFIX = 'claimed.internal.apis.kcp.io/';
/** The canonical workspace path annotation. */
export const PATH_ANNOTATION = 'kcp.io/path';
/** The annotation that suppresses the default endpoint slice (kcp reads an annotation, not a label). */
export const SKIP_SLICE_ANNOTATION = 'apiexports.apis.kcp.io/skip-endpointslice';
/** The finalizer that holds an APIBinding until its bound objects are gone. */
export const BINDING_FINALIZER = 'apis.kcp.io/apibinding-finalizer';
/** Namespace of the generated identity secrets. */
export const IDENTITY_NAMESPACE = 'kcp-system';

/** Go's `big.Int.Text(62)` of a big-endian byte string, the way kcp prints its SHA-224 sums. */
export function base62(bytes: Uint8Array): string {
  return bigText(bytes, 62);
}

// Every write to a claimable resource relabels the object with the same few hashes; SHA-224 and
// the base-62 rendering (BigInt division) cost more than the rest of the labelling.
const hashes = new Map<string, string>();
const MAX_HASHES = 4_096;

/** base62(SHA-224(s)), remembered for the most recent inputs. */
function hashed(s: string): string {
  let h = hashes.get(s);
  if (h === undefined) {
    if (hashes.size >= MAX_HASHES) hashes.clear();
    h = base62(sha224(s));
    hashes.set(s, h);
  }
  return h;
}

/** base62(SHA-224("<cluster>:<export>")): the export label value and the claim label key suffix. */
export function exportHash(exportClusterName: string, exportName: string): string {
  return hashed(`${exportClusterName}:${exportName}`);
}

/** What identifies a permission claim (group, resource, identity). */
export interface ClaimKey {
  group: string;
  resource: string;
  identityHash?: string;
}

/**
 * The claim label value: base62(SHA-224) of the claim as Go marshals a v1alpha2 PermissionClaim
 * with `verbs` and `defaultSelector` cleared (group and identityHash are omitempty, verbs is not),
 * so that changing verbs never relabels objects (sdk permissionclaims/labels.go).
 */
export function claimHash(c: ClaimKey): string {
  let json = '{';
  if (c.group) json += `"group":${JSON.stringify(c.group)},`;
  json += `"resource":${JSON.stringify(c.resource)},"verbs":null`;
  if (c.identityHash) json += `,"identityHash":${JSON.stringify(c.identityHash)}`;
  return hashed(json + '}');
}

/** The label a claimed object carries for one export and claim. */
export function claimLabel(exportClusterName: string, exportName: string, c: ClaimKey): [string, string] {
  return [CLAIM_LABEL_PREFIX + exportHash(exportClusterName, exportName), claimHash(c)];
}

/**
 * The value kcp puts on an APIBinding under its own export's claim key when nothing else claims
 * it ("reflexive" label): base62 of the fixed bytes 0..9,0..9,0..7, so the export owner always
 * sees the bindings that point at it.
 */
export const REFLEXIVE_CLAIM_VALUE = base62(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7]));

/** `status.identityHash` of an export: SHA-256 of the identity key, 64 lowercase hex characters. */
export function identityHashOfKey(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Storage key of a bound resource's objects: one group/resource under one export identity. */
export function boundResourceStorage(group: string, resource: string, identityHash: string): string {
  return `${group || 'core'}/${resource}:${identityHash}`;
}

/** Whether a storage key is that of a bound resource (identity-suffixed). */
export function isBoundStorage(storage: string): boolean {
  return storage.includes(':');
}

// ---------------------------------------------------------------------------------------------
// Readers over stored JSON: stored objects are untyped, and a missing field reads as empty.

/** A string field, or ''. */
export function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

/** An object field, or {}. */
export function obj(v: Json | undefined | object): JsonObject {
  return isObject(v) ? (v as JsonObject) : {};
}

/** The object entries of an array field. */
export function objs(v: Json | undefined): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The string entries of an array field. */
export function strs(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** `spec` of an object, or {}. */
export function specOf(o: KubeObject): JsonObject {
  return obj(o['spec'] as Json | undefined);
}

/** `status` of an object, or {}. */
export function statusOf(o: KubeObject): JsonObject {
  return obj(o['status'] as Json | undefined);
}

/** The logical cluster an object was read from (stamped on every stored object). */
export function clusterOf(o: KubeObject): string {
  return o.metadata.annotations?.['kcp.io/cluster'] ?? '';
}

/** A deep copy of JSON. */
export function clone<T extends Json | KubeObject>(v: T): T {
  return jsonCopy(v);
}
