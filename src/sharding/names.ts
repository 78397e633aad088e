/**
 * Names of the sharding Leases, labels and shard ids. Every Lease name ends in a hash of everything
 * it stands for (kind, group, replica or cluster), so lossy sanitising of the readable part can
 * never make two replicas or two clusters share a Lease; the readable part is only for people.
 */
import { createHash } from 'node:crypto';

/** Longest DNS label (and label value) Kubernetes accepts. */
export const MAX_LABEL = 63;
/** Hex digits of the hash suffix: 64 bits, so a million fences collide with odds of about 1 in 30 million. */
const SUFFIX_HEX = 16;

/** Label key: the replica group a Lease belongs to. */
export const SHARD_GROUP_LABEL = 'sharding.kcp-mc.dev/group';
/** Label key: `peer` (a replica's membership Lease) or `fence` (a cluster's fence). */
export const SHARD_ROLE_LABEL = 'sharding.kcp-mc.dev/role';
/** Annotation key: a peer's weight. */
export const SHARD_WEIGHT_ANNOTATION = 'sharding.kcp-mc.dev/weight';
/** Annotation key: the full name of the cluster a fence guards. */
export const FENCE_CLUSTER_ANNOTATION = 'sharding.kcp-mc.dev/cluster';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The first `hex` hex digits of the SHA-256 of `key`. */
export function shortHash(key: string, hex = SUFFIX_HEX): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, hex);
}

/** Whether `s` is a DNS label (RFC 1123: lowercase alphanumerics and '-', at most 63). */
export function isDNSLabel(s: string): boolean {
  return s.length <= MAX_LABEL && DNS_LABEL.test(s);
}

/** `s` lowercased with every character outside [a-z0-9-] turned into '-', trimmed of '-' at both ends. */
function sanitize(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The first `max` characters of `s` without trailing '-'. */
function cut(s: string, max: number): string {
  return s.slice(0, Math.max(0, max)).replace(/-+$/, '');
}

/**
 * A shard id from a hostname: lowercased, other characters turned into '-', at most 63 characters
 * (a longer one keeps a prefix and gains a hash of the whole, so two long hostnames stay distinct).
 */
export function shardIdFromHostname(host: string): string {
  const clean = sanitize(host);
  if (clean && clean.length <= MAX_LABEL) return clean;
  const prefix = cut(clean, MAX_LABEL - SUFFIX_HEX - 1);
  return prefix ? `${prefix}-${shortHash(host)}` : `replica-${shortHash(host)}`;
}

/** A Lease name: the readable parts (sanitised, shortened) and a hash of `key`, at most 63 characters. */
function leaseName(readable: string, key: string): string {
  const prefix = cut(sanitize(readable).replace(/-{2,}/g, '-'), MAX_LABEL - SUFFIX_HEX - 1);
  return prefix ? `${prefix}-${shortHash(key)}` : shortHash(key);
}

/** The membership Lease of replica `id` in `group`: `<group>-<id>-<hash>`. */
export function peerLeaseName(group: string, id: string): string {
  return leaseName(`${group}-${id}`, `peer\0${group}\0${id}`);
}

/**
 * The fence Lease of `cluster` in `group`: `<group>-fence-<cluster prefix>-<hash>`; the hash covers
 * the group and the full cluster name, so two clusters never share a fence.
 */
export function fenceLeaseName(group: string, cluster: string): string {
  return leaseName(`${cut(sanitize(group), 20)}-fence-${sanitize(cluster)}`, `fence\0${group}\0${cluster}`);
}

/** `group` as a label value: itself when it is a valid one, else a readable prefix and a hash of it. */
export function groupLabelValue(group: string): string {
  if (group.length <= MAX_LABEL && LABEL_VALUE.test(group)) return group;
  return leaseName(group, `group\0${group}`);
}
