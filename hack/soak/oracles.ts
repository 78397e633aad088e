/**
 * The soak's oracles as pure functions of what the driver collected (ledger marks, scraped metrics,
 * the objects on the server, what the writer had acknowledged, heap samples, crashes), each
 * returning its violations as text. The driver runs the ledger ones continuously and all of them at
 * the end; unit tests feed them violating inputs.
 */
import { crossReplicaOverlaps } from '../../test/support/ledger.js';
import { EXPLANATIONS, matches, type Item, type Outcome, type RealError, type SoakMark } from './api.js';
import type { Crash } from './processes.js';

/** One broken promise. */
export interface Violation {
  oracle: 'converged' | 'overlap-in-process' | 'overlap-across-replicas' | 'reconcile-after-disengage' | 'durability' | 'heap' | 'crash' | 'error-metric' | 'unexplained-error';
  detail: string;
}

/** Two reconciles of one Item by one incarnation at the same time (a worker pool handing out a key twice). */
export function inProcessOverlaps(marks: readonly SoakMark[], ended: ReadonlyMap<string, number>, now: number): Violation[] {
  const starts = new Map<string, SoakMark>();
  const byKey = new Map<string, { from: number; to: number; id: string }[]>();
  const push = (m: SoakMark, to: number): void => {
    const k = `${m.r} ${m.c}/${m.n}`;
    const list = byKey.get(k) ?? [];
    list.push({ from: m.t, to, id: m.id });
    byKey.set(k, list);
  };
  for (const m of marks) {
    if (m.e === 'start') starts.set(m.id, m);
    else {
      const s = starts.get(m.id);
      starts.delete(m.id);
      if (s) push(s, m.t);
    }
  }
  for (const s of starts.values()) push(s, ended.get(s.r) ?? now);
  const out: Violation[] = [];
  for (const [k, list] of byKey) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) {
      // Equal timestamps at ms resolution are a hand-over from one worker to the next, not an overlap.
      if (list[i]!.from < list[i - 1]!.to) out.push({ oracle: 'overlap-in-process', detail: `${k}: ${list[i - 1]!.id} [${list[i - 1]!.from}, ${list[i - 1]!.to}] and ${list[i]!.id} from ${list[i]!.from}` });
    }
  }
  return out;
}

/** Reconciles of one cluster by two incarnations at the same time (the shard fence broken). */
export function acrossReplicaOverlaps(marks: readonly SoakMark[], killedAt: ReadonlyMap<string, number>, now: number): Violation[] {
  return crossReplicaOverlaps(marks, killedAt, now).map((detail) => ({ oracle: 'overlap-across-replicas', detail }));
}

/** Reconciles started on a cluster handle whose engagement signal had already fired. */
export function lateStarts(marks: readonly SoakMark[]): Violation[] {
  return marks.filter((m) => m.e === 'start' && m.late).map((m) => ({ oracle: 'reconcile-after-disengage', detail: `${m.r} started ${m.c}/${m.n} (${m.id}) at ${m.t} after the cluster's engagement ended` }));
}

/** Reconcile errors no fault explains. */
export function unexplainedErrors(marks: readonly SoakMark[]): Violation[] {
  return marks.filter((m) => m.e === 'end' && m.x === 'unexplained').map((m) => ({ oracle: 'unexplained-error', detail: `${m.r} ${m.c}/${m.n}: ${m.m ?? '(no message)'}` }));
}

/** Reconcile ends of one incarnation by outcome, and how many hit the reconcile timeout. */
export interface Tally {
  outcomes: Partial<Record<Outcome, number>>;
  timeouts: number;
  reconciles: number;
}

/** Tallies the ends of each incarnation. */
export function tally(marks: readonly SoakMark[]): Map<string, Tally> {
  const by = new Map<string, Tally>();
  for (const m of marks) {
    if (m.e !== 'end') continue;
    let t = by.get(m.r);
    if (!t) by.set(m.r, (t = { outcomes: {}, timeouts: 0, reconciles: 0 }));
    t.reconciles++;
    t.outcomes[m.x!] = (t.outcomes[m.x!] ?? 0) + 1;
    if (m.to) t.timeouts++;
  }
  return by;
}

/** The failures `controller_runtime_reconcile_errors_total` must count: all but `ok` and `gone` (a cluster not found is no failure). */
export function countedErrors(t: Tally | undefined): number {
  if (!t) return 0;
  return Object.entries(t.outcomes).reduce((n, [x, c]) => (x === 'ok' || x === 'gone' ? n : n + c), 0);
}

/** The error counters an incarnation's /metrics reported once it was quiet. */
export interface ScrapedErrors {
  incarnation: string;
  errors: number;
  timeouts: number;
}

/**
 * reconcile_errors_total = injected + explained real failures, and reconcile_timeouts_total =
 * timeouts seen, per incarnation. A scrape lands between two reads of the ledger: the counters must
 * lie between the tallies of the first (`before`) and of the second (`after`); equal when quiet.
 */
export function errorMetric(scraped: readonly ScrapedErrors[], before: ReadonlyMap<string, Tally>, after: ReadonlyMap<string, Tally> = before): Violation[] {
  const out: Violation[] = [];
  for (const s of scraped) {
    const lo = before.get(s.incarnation);
    const hi = after.get(s.incarnation);
    const range = (a: number, b: number): string => (a === b ? String(a) : `${a}..${b}`);
    if (s.errors < countedErrors(lo) || s.errors > countedErrors(hi)) {
      out.push({ oracle: 'error-metric', detail: `${s.incarnation}: controller_runtime_reconcile_errors_total ${s.errors}, ledger ${range(countedErrors(lo), countedErrors(hi))} (${JSON.stringify(hi?.outcomes ?? {})})` });
    }
    if (s.timeouts < (lo?.timeouts ?? 0) || s.timeouts > (hi?.timeouts ?? 0)) {
      out.push({ oracle: 'error-metric', detail: `${s.incarnation}: controller_runtime_reconcile_timeouts_total ${s.timeouts}, ledger ${range(lo?.timeouts ?? 0, hi?.timeouts ?? 0)}` });
    }
  }
  return out;
}

/** Real errors by category over all incarnations, each with its explanation. */
export function realErrors(tallies: ReadonlyMap<string, Tally>): { category: RealError; count: number; explanation: string }[] {
  const sum = new Map<RealError, number>();
  for (const t of tallies.values()) {
    for (const [x, c] of Object.entries(t.outcomes) as [Outcome, number][]) {
      if (x in EXPLANATIONS) sum.set(x as RealError, (sum.get(x as RealError) ?? 0) + c);
    }
  }
  return [...sum].map(([category, count]) => ({ category, count, explanation: EXPLANATIONS[category] }));
}

/** An Item as the end check sees it: where it is, and its ConfigMap's data (absent when missing). */
export interface ObservedItem {
  cluster: string;
  item: Item;
  out: Readonly<Record<string, string>> | undefined;
}

/** Items whose ConfigMap is not `desired(spec)` or whose observedGeneration is behind. */
export function unconverged(items: readonly ObservedItem[]): Violation[] {
  const out: Violation[] = [];
  for (const { cluster, item, out: data } of items) {
    const n = `${cluster}/${item.metadata?.name}`;
    if (!matches(item.spec, data)) out.push({ oracle: 'converged', detail: `${n}: ConfigMap ${JSON.stringify(data ?? null)} for spec ${JSON.stringify(item.spec)}` });
    else if (item.status?.observedGeneration !== item.metadata?.generation) out.push({ oracle: 'converged', detail: `${n}: observedGeneration ${item.status?.observedGeneration} of generation ${item.metadata?.generation}` });
  }
  return out;
}

/** Acknowledged spec writes missing on the server: `acked` is the highest `spec.seq` the server answered 2xx for, by `cluster/name`. */
export function lostWrites(acked: ReadonlyMap<string, number>, onServer: ReadonlyMap<string, number>, when: string): Violation[] {
  const out: Violation[] = [];
  for (const [k, seq] of acked) {
    const have = onServer.get(k);
    if (have === undefined || have < seq) out.push({ oracle: 'durability', detail: `${when}: ${k} has seq ${have ?? '(missing)'}, the server had acknowledged ${seq}` });
  }
  return out;
}

/** Heap growth of the long-lived replica between the first sample (minute 2) and the end must stay under `limit` (0.1). */
export function heapGrowth(start: number, end: number, limit = 0.1): Violation[] {
  return end > start * (1 + limit) ? [{ oracle: 'heap', detail: `heapUsed grew ${(((end - start) / start) * 100).toFixed(1)} % (${start} → ${end} bytes), limit ${limit * 100} %` }] : [];
}

/** Processes that exited on their own (unhandled rejections end the process too). */
export function crashed(crashes: readonly Crash[]): Violation[] {
  return crashes.map((c) => ({ oracle: 'crash', detail: `${c.who} exited (code ${c.code}, signal ${c.signal}): ${c.tail.slice(-1500)}` }));
}

/** Every ledger oracle at once (the continuous check). */
export function ledgerViolations(marks: readonly SoakMark[], killedAt: ReadonlyMap<string, number>, ended: ReadonlyMap<string, number>, now: number): Violation[] {
  return [...inProcessOverlaps(marks, ended, now), ...acrossReplicaOverlaps(marks, killedAt, now), ...lateStarts(marks), ...unexplainedErrors(marks)];
}
