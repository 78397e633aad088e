/**
 * The rows of section "runtime-fairness" measured in virtual time (see queue-sim.ts): 20 quiet
 * clusters at 5 writes/s each, one noisy cluster at 100× a quiet one's rate (500 writes/s over 500
 * keys), one worker that holds each item 2 ms, so the worker is saturated (600 writes/s offered
 * against 500 reconciles/s) and the noisy cluster's keys pile up. Quiet waits with fairness on, off,
 * and without the noisy cluster (baseline); each run has its own arrival seed.
 */
import { simulateQueue, type QueueSimOptions, type QueueSimResult } from './queue-sim.js';
import { row } from './runtime-fixture.js';
import { round } from './stats.js';
import type { BenchContext, BenchRow } from './types.js';

/** The load of the figure; `quietEvents` per run. */
export function fairnessLoad(quietEvents: number): Omit<QueueSimOptions, 'fairness' | 'noisyRate' | 'seed'> & { noisyRate: number } {
  return { quietClusters: 20, quietRatePerCluster: 5, noisyRate: 500, noisyKeys: 500, serviceMs: 2, workers: 1, quietEvents };
}

/** The goal for the quiet p99 with fairness on: within 2× of the baseline, or within 2 ms of it. */
export function fairnessBound(baselineP99Ms: number): number {
  return Math.max(2 * baselineP99Ms, baselineP99Ms + 2);
}

type Kind = 'baseline' | 'on' | 'off';

/** Runs baseline, fairness on and fairness off for `runs` seeds. */
export async function virtualFairness(runs: number, quietEvents: number): Promise<Record<Kind, QueueSimResult[]>> {
  const load = fairnessLoad(quietEvents);
  const out: Record<Kind, QueueSimResult[]> = { baseline: [], on: [], off: [] };
  for (let r = 0; r < runs; r++) {
    const seed = 1 + r;
    out.baseline.push(await simulateQueue({ ...load, noisyRate: 0, fairness: true, seed }));
    out.on.push(await simulateQueue({ ...load, fairness: true, seed }));
    out.off.push(await simulateQueue({ ...load, fairness: false, seed }));
  }
  return out;
}

/** The virtual-time rows of the fairness section. */
export async function virtualFairnessRows(ctx: BenchContext, id: string): Promise<BenchRow[]> {
  const quietEvents = ctx.quick ? 2_000 : 25_000;
  const res = await virtualFairness(ctx.runs, quietEvents);
  const label: Record<Kind, string> = { baseline: 'quiet only (baseline)', on: 'noisy tenant, fairness on', off: 'noisy tenant, fairness off' };
  for (const k of ['baseline', 'on', 'off'] as const) {
    ctx.log(`  virtual time, ${label[k]}: ` + res[k].map((r) => `p99 ${round(r.p99)} ms, max ${round(r.max)} ms over ${r.quietEvents} quiet events`).join('; '));
  }
  const bound = res.baseline.map((b) => fairnessBound(b.p99));
  const within = res.on.filter((r, i) => r.p99 <= bound[i]!).length;
  const detail = (k: Kind) => ({
    quietEvents: res[k].map((r) => r.quietEvents),
    quietP50Ms: res[k].map((r) => round(r.p50)),
    positionP99: res[k].map((r) => r.positionP99),
    positionMax: res[k].map((r) => r.positionMax),
    noisyAdds: res[k].map((r) => r.noisyAdds),
    noisyHandOuts: res[k].map((r) => r.noisyHandOuts),
    virtualSeconds: res[k].map((r) => round(r.seconds)),
  });
  const setup = {
    measures: 'queue wait in virtual time: the real PriorityQueue on a simulated clock, seeded Poisson writers, one synthetic worker holding each item exactly 2 ms; add → hand-out of the key',
    quiet: '20 clusters × 5 writes/s',
    noisy: '1 cluster, 500 writes/s over 500 keys',
  };
  const us = (k: Kind, f: 'p99' | 'max') => res[k].map((r) => 1000 * r[f]);
  return [
    row(id, 'virtual time: quiet wait p99, quiet only (baseline)', 'µs', us('baseline', 'p99'), { detail: { ...setup, ...detail('baseline') } }),
    row(id, 'virtual time: quiet wait p99, noisy tenant, fairness on', 'µs', us('on', 'p99'), { detail: detail('on') }),
    row(id, 'virtual time: quiet wait p99, noisy tenant, fairness off', 'µs', us('off', 'p99'), { detail: detail('off') }),
    row(id, 'virtual time: quiet wait max, quiet only (baseline)', 'µs', us('baseline', 'max')),
    row(id, 'virtual time: quiet wait max, noisy tenant, fairness on', 'µs', us('on', 'max')),
    row(id, 'virtual time: quiet wait max, noisy tenant, fairness off', 'µs', us('off', 'max')),
    row(id, 'virtual time: quiet p99 with fairness on, as a share of the baseline', '%', res.on.map((r, i) => (100 * r.p99) / res.baseline[i]!.p99)),
    row(id, 'virtual time: quiet p99 with fairness on, as a share of the goal (2× baseline, or baseline + 2 ms)', '%', res.on.map((r, i) => (100 * r.p99) / bound[i]!), {
      target: { max: 100, why: 'issue: ≤ 2× the quiet baseline or ≤ baseline + 2 ms' },
      detail: { runsWithinGoal: `${within}/${res.on.length}`, boundMs: bound.map(round) },
    }),
  ];
}
