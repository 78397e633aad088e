/** `kcp-mc run`'s sharding flags: clusters spread over the replicas of a controller group. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ShardingOptions } from '../sharding/index.js';
import { parseDuration } from './duration.js';

/** The sharding part of `kcp-mc run`'s options, after flags and environment. */
export interface ShardingFlags {
  /** `--sharding`: spread clusters over the replicas. */
  sharding?: boolean;
  shardId?: string;
  shardLeaseNamespace: string;
  shardWeight?: number;
  /** Milliseconds. */
  shardPeerLeaseDuration?: number;
  /** Milliseconds. */
  shardFenceLeaseDuration?: number;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function dnsLabel(v: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)) throw new InvalidArgumentError('must be a DNS label (lowercase letters, digits and -, at most 63)');
  return v;
}

function duration(v: string): number {
  const ms = parseDuration(v);
  if (ms < 1000) throw new InvalidArgumentError('must be at least 1s (Lease durations are whole seconds)');
  return ms;
}

/** Adds the sharding flags (each also `KCP_MC_<FLAG>`). */
export function addShardingOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--sharding', 'spread clusters over the replicas: each cluster is worked on by one replica at a time, fenced by a Lease').env('KCP_MC_SHARDING'))
    .addOption(new Option('--shard-id <id>', "this replica's shard id (default: the hostname, as a DNS label)").env('KCP_MC_SHARD_ID').argParser(dnsLabel))
    .addOption(new Option('--shard-lease-namespace <ns>', 'namespace of the peer and fence Leases').default('default').env('KCP_MC_SHARD_LEASE_NAMESPACE'))
    .addOption(new Option('--shard-weight <n>', "this replica's share of the clusters relative to the others (default 1)").env('KCP_MC_SHARD_WEIGHT').argParser(positiveNumber))
    .addOption(new Option('--shard-peer-lease-duration <duration>', 'a replica counts as live this long after its last renewal (default 30s)').env('KCP_MC_SHARD_PEER_LEASE_DURATION').argParser(duration))
    .addOption(new Option('--shard-fence-lease-duration <duration>', "duration of each cluster's fence Lease (default 20s)").env('KCP_MC_SHARD_FENCE_LEASE_DURATION').argParser(duration));
}

/** The manager's sharding options from the flags; undefined when sharding is off. */
export function shardingFrom(o: ShardingFlags): ShardingOptions | undefined {
  if (!o.sharding) return undefined;
  return {
    id: o.shardId,
    namespace: o.shardLeaseNamespace,
    weight: o.shardWeight,
    peerLeaseDuration: o.shardPeerLeaseDuration,
    fenceLeaseDuration: o.shardFenceLeaseDuration,
  };
}

/** Help text on sharding for `kcp-mc run --help`. */
export const SHARDING_HELP = `
With --sharding, every replica runs and each cluster is worked on by exactly one of them: replicas announce
themselves with a Lease each (named after the group, kcp-mc-<name>, and the shard id), clusters are spread by
weighted rendezvous hashing over the live replicas, and each owned cluster is fenced by a Lease of its own.
When a replica joins or leaves, about 1/n of the clusters move; a hand-off stops the cluster's work, waits for
its reconciles to settle and only then releases the fence. --sharding and --leader-elect are exclusive.`;
