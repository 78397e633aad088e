/**
 * Stable hashing for shard ownership: a 64-bit hash of a string (the first 8 bytes of its SHA-256,
 * as a BigInt, so nothing overflows and every replica of every version agrees) and weighted
 * rendezvous (highest-random-weight) hashing over the live peers.
 */
import { createHash } from 'node:crypto';
import type { ShardPeer } from './types.js';

const TWO_POW_52 = 2 ** 52;

/** The first 8 bytes of the SHA-256 of `s` (UTF-8) as an unsigned 64-bit integer. */
export function hash64(s: string): bigint {
  return createHash('sha256').update(s, 'utf8').digest().readBigUInt64BE(0);
}

/** `hash64(s)` mapped into the open interval (0, 1) (see `toUnit`). */
export function unitHash(s: string): number {
  return toUnit(hash64(s));
}

/**
 * A 64-bit value mapped into the open interval (0, 1): `(top + 0.5) / 2^52` of its top 52 bits.
 * 52, not 53: `top + 0.5` must be exact, and with 53 bits the largest value, 2^53 − 0.5, rounds to
 * 2^53 (u = 1, a score of 0). Never 0 or 1, so `-ln(u)` is always finite and positive.
 */
export function toUnit(h: bigint): number {
  return (Number(BigInt.asUintN(64, h) >> 12n) + 0.5) / TWO_POW_52;
}

/** Throws unless `weight` is a finite number > 0. */
export function checkWeight(weight: number, what = 'weight'): void {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new RangeError(`${what} must be a finite number > 0, got ${String(weight)}`);
  }
}

/**
 * The rendezvous score of `peer` for `cluster`: `-ln(u) / weight` with `u = unitHash("cluster|peer")`.
 * Each score is exponentially distributed with rate `weight`, so the lowest one belongs to a peer
 * with probability proportional to its weight.
 */
export function rendezvousScore(cluster: string, peer: ShardPeer): number {
  checkWeight(peer.weight, `weight of peer ${peer.id}`);
  return -Math.log(unitHash(`${cluster}|${peer.id}`)) / peer.weight;
}

/**
 * The id of the peer that owns `cluster`: the lowest rendezvous score wins, a tie goes to the lower
 * peer id. Adding or removing a peer moves only the clusters it wins or held (about 1/n of them).
 */
export function rendezvousOwner(cluster: string, peers: readonly ShardPeer[]): string {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const p of peers) {
    const score = rendezvousScore(cluster, p);
    if (best === undefined || score < bestScore || (score === bestScore && p.id < best)) {
      best = p.id;
      bestScore = score;
    }
  }
  if (best === undefined) throw new Error('rendezvous hashing needs at least one peer');
  return best;
}
