/**
 * The fairness figure in virtual time: the controller's work queue (the real `PriorityQueue`, keyed
 * and grouped by cluster as a controller builds it) on a simulated clock, fed by seeded Poisson
 * writers and drained by a synthetic worker that takes exactly `serviceMs` per item. Nothing waits
 * on the wall clock, so the figure is about the queue's order alone: on a shared, loaded machine
 * the scheduler cannot move it, and a run of 25,000 quiet events takes a second or two.
 *
 * A quiet event's wait is the virtual time from its add to the next hand-out of its key (an add
 * merged into a waiting key, or recorded while the key is processing, counts until the hand-out
 * that covers it); its position is how many items were handed out in between.
 */
import { PriorityQueue } from '../../src/queue/index.js';
import { seededRandom } from '../../src/server/faults/index.js';
import { quantile } from './stats.js';

/** The load of one simulated run. */
export interface QueueSimOptions {
  /** Quiet clusters, one key each. */
  quietClusters: number;
  /** Writes per second to each quiet cluster. */
  quietRatePerCluster: number;
  /** Writes per second to the noisy cluster (0: no noisy tenant, the baseline). */
  noisyRate: number;
  /** Keys of the noisy cluster, written round-robin. */
  noisyKeys: number;
  /** Round-robin across clusters (the controller's `fairness`). */
  fairness: boolean;
  /** Virtual ms a worker holds each item. */
  serviceMs: number;
  /** Workers (the controller's `maxConcurrentReconciles`). */
  workers: number;
  /** Quiet events to measure; the run lasts as long as the quiet writers need for them. */
  quietEvents: number;
  /** Seed of the arrival times. */
  seed: number;
}

/** What one simulated run measured; times in virtual ms. */
export interface QueueSimResult {
  /** Quiet events measured (each covered by a hand-out). */
  quietEvents: number;
  /** Quiet waits (add → hand-out), p50 / p99 / max, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Items handed out between a quiet add and its hand-out, p99 and max. */
  positionP99: number;
  positionMax: number;
  /** Noisy adds, and how many of them the queue merged into a key already waiting. */
  noisyAdds: number;
  noisyHandOuts: number;
  /** Virtual seconds simulated. */
  seconds: number;
}

interface Item {
  cluster: string;
  name: string;
}

/** Events of the simulation, by time (ties: in the order scheduled). */
class Agenda {
  private readonly heap: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  at(at: number, fn: () => void): void {
    const h = this.heap;
    const node = { at, seq: this.seq++, fn };
    let i = h.length;
    h.push(node);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(node, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = node;
  }

  pop(): { at: number; fn: () => void } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

const before = (a: { at: number; seq: number }, b: { at: number; seq: number }): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** Runs one simulation to the end (every quiet event handed out). */
export async function simulateQueue(o: QueueSimOptions): Promise<QueueSimResult> {
  const rnd = seededRandom(o.seed);
  const exp = (ratePerSecond: number) => (-Math.log(1 - rnd()) * 1000) / ratePerSecond;
  let now = 0;
  const agenda = new Agenda();
  const q = new PriorityQueue<Item>({
    keyOf: (i) => `${i.cluster}/${i.name}`,
    clusterOf: (i) => i.cluster,
    fairness: o.fairness,
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { live: true };
      agenda.at(now + ms, () => t.live && fn());
      return t;
    },
    clearTimer: (t) => void ((t as { live: boolean }).live = false),
  });

  // Outstanding quiet adds per key: [add time, hand-outs so far then].
  const outstanding = new Map<string, [number, number][]>();
  const waits: number[] = [];
  const positions: number[] = [];
  let handOuts = 0;
  let noisyHandOuts = 0;
  let idle = 0;

  const take = (r: Awaited<ReturnType<PriorityQueue<Item>['get']>>): void => {
    idle--;
    if (r.shutdown) return;
    const item = r.item;
    handOuts++;
    if (item.cluster === 'noisy') noisyHandOuts++;
    else {
      const key = `${item.cluster}/${item.name}`;
      for (const [t, h] of outstanding.get(key) ?? []) {
        waits.push(now - t);
        positions.push(handOuts - 1 - h);
      }
      outstanding.delete(key);
    }
    agenda.at(now + o.serviceMs, () => {
      q.done(item);
      ask();
    });
  };
  const ask = (): void => {
    idle++;
    void q.get().then(take);
  };

  const quietRate = o.quietClusters * o.quietRatePerCluster;
  const seconds = o.quietEvents / quietRate;
  const end = seconds * 1000;
  let quietAdds = 0;
  let noisyAdds = 0;
  const quietWrite = (): void => {
    const cluster = `quiet-${quietAdds % o.quietClusters}`;
    quietAdds++;
    const key = `${cluster}/cm`;
    let list = outstanding.get(key);
    if (!list) outstanding.set(key, (list = []));
    list.push([now, handOuts]);
    q.add({ cluster, name: 'cm' });
    if (quietAdds < o.quietEvents) agenda.at(now + exp(quietRate), quietWrite);
  };
  const noisyWrite = (): void => {
    q.add({ cluster: 'noisy', name: `cm-${noisyAdds % o.noisyKeys}` });
    noisyAdds++;
    const next = now + exp(o.noisyRate);
    if (next < end) agenda.at(next, noisyWrite);
  };

  for (let w = 0; w < o.workers; w++) ask();
  agenda.at(exp(quietRate), quietWrite);
  if (o.noisyRate > 0) agenda.at(exp(o.noisyRate), noisyWrite);
  for (let e = agenda.pop(); e !== undefined; e = agenda.pop()) {
    now = e.at;
    e.fn();
    // A hand-out to a waiting worker settles in a microtask: let it run before time moves on.
    await Promise.resolve();
    if (idle > 0 && q.len() > 0) throw new Error('simulation: a worker idles while items are ready');
  }
  q.shutDown();
  if (outstanding.size > 0) throw new Error(`simulation: ${outstanding.size} quiet keys never handed out`);
  return {
    quietEvents: waits.length,
    p50: quantile(waits, 0.5),
    p99: quantile(waits, 0.99),
    max: waits.reduce((a, b) => Math.max(a, b), 0),
    positionP99: quantile(positions, 0.99),
    positionMax: positions.reduce((a, b) => Math.max(a, b), 0),
    noisyAdds,
    noisyHandOuts,
    seconds: now / 1000,
  };
}
