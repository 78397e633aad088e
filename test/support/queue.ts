/** Support for the work-queue unit tests: a manual clock, a queue on it, and small helpers. */
import { PriorityQueue, type GetResult, type PriorityQueueOptions } from '../../src/queue/index.js';

/** A manual clock with timers that fire only when the test advances time. */
export class FakeTime {
  /** @param t the clock's start (ms) */
  constructor(public t = 1_000) {}
  private seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void; ms: number }>();
  readonly delays: number[] = [];
  now = (): number => this.t;
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn, ms });
    this.delays.push(ms);
    return id;
  };
  clearTimer = (id: unknown): void => {
    this.timers.delete(id as number);
  };
  /** Moves the clock forward, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

/** A queue of `cluster/key` strings on a manual clock starting at `start`. */
export const setup = (extra: Partial<PriorityQueueOptions<string>> = {}, start?: number) => {
  const time = new FakeTime(start);
  const q = new PriorityQueue<string>({
    keyOf: (s) => s,
    clusterOf: (s) => s.split('/')[0]!,
    now: time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
    ...extra,
  });
  return { q, time };
};

/** The promise's value if it has settled after the pending microtasks ran, else 'pending'. */
export async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

export const item = (r: GetResult<string>): string => {
  if (r.shutdown) throw new Error('unexpected shutdown');
  return r.item;
};

/** Takes `n` ready items; done each at once unless `hold`. */
export async function take(q: PriorityQueue<string>, n: number, hold = false): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = item(await q.get());
    out.push(k);
    if (!hold) q.done(k);
  }
  return out;
}
