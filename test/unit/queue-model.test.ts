/** PriorityQueue against a plain model: random adds, delays, gets, dones and drops (seeded, deterministic). */
import { expect } from 'chai';
import { PriorityQueue, type RateLimiter } from '../../src/queue/index.js';
import { seededRandom } from '../../src/server/faults/index.js';

// A seeded PRNG, so a failure replays.
const rng = seededRandom;

type ModelEntry =
  | { state: 'ready'; pri: number; order: number }
  | { state: 'waiting'; pri: number; at: number; seq: number }
  | { state: 'proc'; follow?: { pri: number; at: number } };

const BACKOFF = 7;

async function run(seed: number, fairness: boolean): Promise<void> {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let timerSeq = 0;
  const limiter: RateLimiter<string> = { when: () => BACKOFF, forget: () => {}, numRequeues: () => 0 };
  const q = new PriorityQueue<string>({
    keyOf: (s) => s,
    clusterOf: (s) => s.split('/')[0]!,
    fairness,
    rateLimiter: limiter,
    now: () => now,
    setTimer: (fn, ms) => {
      timers.set(++timerSeq, { at: now + ms, fn });
      return timerSeq;
    },
    clearTimer: (t) => void timers.delete(t as number),
  });
  const model = new Map<string, ModelEntry>();
  let order = 0;
  let seq = 0;
  const keys = ['a', 'b', 'c', 'd'].flatMap((c) => Array.from({ length: 10 }, (_, i) => `${c}/${i}`));
  const readyCount = () => [...model.values()].filter((e) => e.state === 'ready').length;

  const place = (key: string, pri: number, at: number) => {
    // The queue numbers every entry it creates; equal due times promote in that order.
    const n = seq++;
    model.set(key, at <= now ? { state: 'ready', pri, order: order++ } : { state: 'waiting', pri, at, seq: n });
  };

  for (let step = 0; step < 3000; step++) {
    const r = rand();
    if (r < 0.45) {
      const key = pick(keys);
      const pri = pick([-100, 0, 0, 1, 5]);
      const after = pick([0, 0, 0, 3, 20]);
      const rateLimited = rand() < 0.15;
      q.add(key, { priority: pri, after, rateLimited });
      const delay = rateLimited ? (after > 0 ? Math.min(after, BACKOFF) : BACKOFF) : after;
      const at = now + delay;
      const e = model.get(key);
      if (e === undefined) place(key, pri, at);
      else if (e.state === 'proc') e.follow = e.follow ? { pri: Math.max(e.follow.pri, pri), at: Math.min(e.follow.at, at) } : { pri, at };
      else if (e.state === 'ready') {
        if (pri > e.pri) model.set(key, { state: 'ready', pri, order: order++ });
      } else {
        const merged = Math.min(e.at, at);
        const p = Math.max(e.pri, pri);
        if (merged <= now) model.set(key, { state: 'ready', pri: p, order: order++ });
        else model.set(key, { state: 'waiting', pri: p, at: merged, seq: e.seq });
      }
    } else if (r < 0.7) {
      if (readyCount() === 0) continue;
      const got = await q.get();
      if (got.shutdown) throw new Error('shutdown');
      const e = model.get(got.item);
      expect(e?.state, `step ${step}: ${got.item} handed out`).to.equal('ready');
      const ready = [...model.entries()].filter((x): x is [string, Extract<ModelEntry, { state: 'ready' }>] => x[1].state === 'ready');
      const top = Math.max(...ready.map(([, x]) => x.pri));
      expect(got.priority).to.equal(top);
      const cluster = got.item.split('/')[0]!;
      const peers = ready.filter(([k, x]) => x.pri === top && (!fairness || k.split('/')[0] === cluster));
      const oldest = peers.reduce((m, x) => (x[1].order < m[1].order ? x : m));
      expect(got.item, `step ${step}: FIFO`).to.equal(oldest[0]);
      model.set(got.item, { state: 'proc' });
    } else if (r < 0.88) {
      const busy = [...model.entries()].filter(([, e]) => e.state === 'proc');
      if (busy.length === 0) continue;
      const [key, e] = pick(busy);
      q.done(key);
      if (e.state === 'proc' && e.follow) place(key, e.follow.pri, e.follow.at);
      else model.delete(key);
    } else if (r < 0.99) {
      const end = now + Math.floor(rand() * 10);
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
        promote();
      }
      now = end;
    } else {
      const cluster = pick(['a', 'b', 'c', 'd']);
      let n = 0;
      for (const [k, e] of model) {
        if (k.split('/')[0] !== cluster) continue;
        if (e.state === 'proc') {
          if (e.follow) n++;
          delete e.follow;
        } else {
          model.delete(k);
          n++;
        }
      }
      expect(q.dropCluster(cluster)).to.equal(n);
    }
    expect(q.len(), `step ${step}: len`).to.equal(readyCount());
    expect(timers.size).to.be.at.most(1);
  }

  function promote(): void {
    const due = [...model.entries()]
      .filter((x): x is [string, Extract<ModelEntry, { state: 'waiting' }>] => x[1].state === 'waiting' && x[1].at <= now)
      .sort((x, y) => x[1].at - y[1].at || x[1].seq - y[1].seq);
    for (const [k, e] of due) model.set(k, { state: 'ready', pri: e.pri, order: order++ });
  }
}

describe('PriorityQueue model check', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`matches the model with fairness (seed ${seed})`, async () => run(seed, true));
    it(`matches the model without fairness (seed ${seed})`, async () => run(seed, false));
  }
});
