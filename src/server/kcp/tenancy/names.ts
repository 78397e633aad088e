/**
 * kcp's tenancy names and keys: annotation and label keys, the hashes kcp derives names and labels
 * from (SHA-224 rendered as hex, base36 or base62), and generated logical cluster names.
 */
import { randomBytes } from 'node:crypto';
import { bigText, sha224 } from '../hash.js';

/** Annotation: the canonical workspace path of a logical cluster (and of some kcp objects). */
export const PATH_ANNOTATION = 'kcp.io/path';
/** Annotation on a LogicalCluster: `<type path>:<type name>`. */
export const TYPE_ANNOTATION = 'internal.tenancy.kcp.io/type';
/** Annotation on a Workspace: the chosen logical cluster name. */
export const CLUSTER_NAME_ANNOTATION = 'internal.tenancy.kcp.io/cluster';
/** Annotation on a Workspace: 8 base36 characters of the chosen shard's name hash. */
export const SHARD_HASH_ANNOTATION = 'internal.tenancy.kcp.io/shard';
/** Annotation on Workspaces and LogicalClusters: the shard name. */
export const SHARD_ANNOTATION = 'core.kcp.io/shard';
/** Annotation: JSON user info of the workspace's creator. */
export const OWNER_ANNOTATION = 'experimental.tenancy.kcp.io/owner';
/** Label on Workspaces and LogicalClusters: the current phase. */
export const PHASE_LABEL = 'tenancy.kcp.io/phase';
/** Prefix of the hashed initializer labels on LogicalClusters. */
export const INITIALIZER_LABEL_PREFIX = 'initializer.internal.kcp.io/';
/** Prefix of the hashed terminator labels on LogicalClusters. */
export const TERMINATOR_LABEL_PREFIX = 'terminator.internal.kcp.io/';
/** Finalizer on a LogicalCluster while `status.terminators` lists any terminator. */
export const TERMINATORS_FINALIZER = 'kcp.io/has-terminators';
/** Finalizer on a Workspace, held until its LogicalCluster is gone. */
export const WORKSPACE_FINALIZER = 'core.kcp.io/logicalcluster';
/** Finalizer on a LogicalCluster, held until the cluster's content is gone. */
export const LOGICAL_CLUSTER_FINALIZER = 'core.kcp.io/logicalcluster-deletion';
/** The built-in initializer that creates a workspace's default APIBindings. */
export const APIBINDINGS_INITIALIZER = 'system:apibindings';
/** The initializer of the `universal` type in root (root's cluster name is its path). */
export const UNIVERSAL_INITIALIZER = 'root:universal';

/** The 56-hex SHA-224 of a string. */
export function sha224Hex(s: string): string {
  return sha224(s).toString('hex');
}

/**
 * A hashed label for a hook name: the prefix plus as much of the 56-hex SHA-224 as fits in a
 * 63-character name, and the full hash as the value.
 */
function hookLabel(prefix: string, name: string): [key: string, value: string] {
  const hash = sha224Hex(name);
  return [prefix + hash.slice(0, 63 - prefix.length), hash];
}

/** The hashed label kcp puts on a LogicalCluster for each initializer (`InitializerToLabel`). */
export function initializerLabel(initializer: string): [key: string, value: string] {
  return hookLabel(INITIALIZER_LABEL_PREFIX, initializer);
}

/** The hashed label kcp puts on a LogicalCluster for each terminator (`TerminatorToLabel`; 36 hex in the key). */
export function terminatorLabel(terminator: string): [key: string, value: string] {
  return hookLabel(TERMINATOR_LABEL_PREFIX, terminator);
}

/** `internal.tenancy.kcp.io/shard`: the first 8 characters of base36(SHA-224(shard name)). */
export function shardNameHash(shard: string): string {
  return bigText(sha224(shard), 36).toLowerCase().slice(0, 8);
}

/**
 * A new logical cluster name: 16 characters of lowercase base36 of the SHA-224 of 32 random
 * bytes, as kcp's scheduler makes them.
 */
export function newClusterName(): string {
  for (;;) {
    const s = bigText(sha224(randomBytes(32)), 36).toLowerCase().slice(0, 16);
    // A name must start and end alphanumerically and have 16 characters; base36 always does,
    // except for the (astronomically rare) short number.
    if (s.length === 16) return s;
  }
}

/**
 * The name kcp's `system:apibindings` initializer gives a default APIBinding:
 * `<export name>-<5 lowercased chars of base62(SHA-224("<cluster>|<path>|<export>"))>`.
 */
export function defaultAPIBindingName(cluster: string, exportPath: string, exportName: string): string {
  const prefix = exportName.slice(0, 253 - 1 - 5);
  const hash = bigText(sha224(`${cluster}|${exportPath}|${exportName}`), 62).slice(0, 5).toLowerCase();
  return `${prefix}-${hash}`;
}

/** The owner annotation value: Go's JSON of authentication/v1 UserInfo (empty fields omitted). */
export function ownerAnnotationValue(user: { name: string; uid?: string; groups: string[] }): string {
  const info: { username: string; uid?: string; groups?: string[] } = { username: user.name };
  if (user.uid) info.uid = user.uid;
  if (user.groups.length) info.groups = user.groups;
  return JSON.stringify(info);
}

/** Splits `a:b:c` into the path `a:b` and the last segment `c` (empty path when there is no colon). */
export function splitLast(s: string): [path: string, name: string] {
  const i = s.lastIndexOf(':');
  return i < 0 ? ['', s] : [s.slice(0, i), s.slice(i + 1)];
}
