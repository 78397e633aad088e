/** Capped exponential backoff with jitter, for retrying lists and watches after errors. */

/** Backoff parameters. */
export interface BackoffOptions {
  /** First delay, ms. Default 800 (client-go's reflector). */
  initialMs?: number;
  /** Largest delay, ms. Default 30,000. */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /**
   * Fraction of the delay that is randomised, 0..1. Default 0.5: a delay lies in
   * [(1 - jitter)·d, d], so it never exceeds `maxMs` and many clients do not retry in lockstep.
   */
  jitter?: number;
}

/** The delay before retry number `attempt` (0-based); `random` is injectable for tests. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialMs ?? 800;
  const max = opts.maxMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
  // Clamp the exponent so that a long outage cannot overflow to Infinity or NaN.
  const exp = Math.min(Math.max(0, attempt), 64);
  const base = Math.min(max, initial * Math.pow(factor, exp));
  return Math.max(0, base - base * jitter * random());
}

/** A failure counter that yields growing delays until `reset()`. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /** The delay for the next retry; counts one more failure. */
  next(): number {
    return backoffDelay(this.attempt++, this.opts, this.random);
  }

  /** Forgets past failures after a success. */
  reset(): void {
    this.attempt = 0;
  }
}
