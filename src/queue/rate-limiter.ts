/**
 * Retry delays for the work queue, after client-go's `workqueue` rate limiters.
 *
 * Limiters that count failures per item identify an item by a `keyOf` function (default: a
 * string is its own key, a request `{ cluster, namespace?, name }` is `cluster/namespace/name`,
 * anything else its JSON), so items that are objects work as long as the limiter and the queue
 * agree on the key. `PriorityQueue` builds its default limiter with its own `keyOf`; a limiter passed to it
 * should be built with the same `keyOf`.
 */
import type { RateLimiter } from './types.js';

/** How a limiter names an item; the same function as the queue's `keyOf`. */
export type KeyOf<K> = (item: K) => string;

const stringKey = <K>(item: K): string => {
  if (typeof item === 'string') return item;
  if (typeof item === 'object' && item !== null) {
    const r = item as { cluster?: unknown; namespace?: unknown; name?: unknown };
    // A controller's request, keyed as the controller's queue keys it (`requestKey`).
    if (typeof r.cluster === 'string' && typeof r.name === 'string') return `${r.cluster}/${typeof r.namespace === 'string' ? r.namespace : ''}/${r.name}`;
    return JSON.stringify(item);
  }
  return String(item);
};

/** Per-item exponential backoff: `baseMs × 2^failures`, capped at `maxMs` (client-go's ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
    private readonly keyOf: KeyOf<K> = stringKey,
  ) {
    if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError('ItemExponentialRateLimiter: baseMs and maxMs must be >= 0');
  }

  /** Delay (ms) before the item's next retry; counts a failure. */
  when(item: K): number {
    const key = this.keyOf(item);
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    // 2 ** exp becomes Infinity for a long failure streak; the cap keeps the result finite.
    return Math.min(this.maxMs, this.baseMs * 2 ** exp);
  }

  /** Resets the item's failures (and frees its entry). */
  forget(item: K): void {
    this.failures.delete(this.keyOf(item));
  }

  /** Failures counted for the item since it was last forgotten. */
  numRequeues(item: K): number {
    return this.failures.get(this.keyOf(item)) ?? 0;
  }
}

/**
 * An overall token bucket shared by all items (client-go's BucketRateLimiter over
 * golang.org/x/time/rate): tokens accrue at `qps` up to `burst`; each `when` reserves one token
 * and returns how long to wait until it is available. Items are not told apart, so it needs no key.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(qps > 0)) throw new RangeError('BucketRateLimiter: qps must be > 0');
    if (!(burst >= 1)) throw new RangeError('BucketRateLimiter: burst must be >= 1');
    this.tokens = burst;
  }

  /** Reserves a token; the delay (ms) until it is due. Reservations beyond the burst go into debt. */
  when(_item: K): number {
    if (this.qps === Infinity) return 0;
    const t = this.now();
    if (this.last !== undefined) {
      // A clock that went backwards accrues nothing, as in x/time/rate.
      const elapsed = Math.max(0, t - this.last);
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.qps) / 1000);
    }
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  /** The bucket has no per-item state. */
  forget(_item: K): void {}

  /** The bucket counts no failures. */
  numRequeues(_item: K): number {
    return 0;
  }
}

/** The largest delay of several limiters (client-go's MaxOfRateLimiter); every limiter sees every call. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    if (limiters.length === 0) throw new RangeError('MaxOfRateLimiter: at least one limiter is needed');
    this.limiters = limiters;
  }

  /** The maximum of all limiters' delays; each limiter counts the failure. */
  when(item: K): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }

  /** Forgets the item in every limiter. */
  forget(item: K): void {
    for (const l of this.limiters) l.forget(item);
  }

  /** The largest failure count of all limiters. */
  numRequeues(item: K): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/**
 * The default limiter with the priority queue: per-item exponential backoff 5 ms → 1000 s and no
 * overall bucket, as controller-runtime uses with its priority queue.
 */
export function defaultRateLimiter<K>(keyOf: KeyOf<K> = stringKey): RateLimiter<K> {
  return new ItemExponentialRateLimiter<K>(5, 1_000_000, keyOf);
}
