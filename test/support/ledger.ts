/**
 * The no-overlap oracle of sharding tests: reconciles recorded as start/end marks by replica and
 * cluster, and every pair of reconciles of one cluster by two replicas that overlapped in time.
 */

/** One ledger line: a reconcile of `n` in cluster `c` by replica `r` started or ended at `t` (ms). */
export interface Mark {
  r: string;
  c: string;
  n: string;
  e: 'start' | 'end';
  t: number;
}

/**
 * Pairs of reconciles of one cluster by two different replicas whose intervals overlap. A reconcile
 * with no end ran until its replica was killed (`killedAt`), else until `now`.
 */
export function crossReplicaOverlaps(marks: readonly Mark[], killedAt: ReadonlyMap<string, number>, now: number): string[] {
  const open = new Map<string, number>();
  const intervals = new Map<string, { r: string; from: number; to: number }[]>();
  const push = (c: string, v: { r: string; from: number; to: number }): void => {
    const list = intervals.get(c);
    if (list) list.push(v);
    else intervals.set(c, [v]);
  };
  for (const m of marks) {
    const key = JSON.stringify([m.r, m.c, m.n]);
    if (m.e === 'start') open.set(key, m.t);
    else {
      const from = open.get(key);
      open.delete(key);
      if (from !== undefined) push(m.c, { r: m.r, from, to: m.t });
    }
  }
  for (const [key, from] of open) {
    const [r, c] = JSON.parse(key) as [string, string];
    push(c, { r, from, to: killedAt.get(r) ?? now });
  }
  const found: string[] = [];
  for (const [c, list] of intervals) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j]!.from < list[i]!.to; j++) {
        if (list[j]!.r !== list[i]!.r) found.push(`${c}: ${list[i]!.r} [${list[i]!.from}, ${list[i]!.to}] and ${list[j]!.r} [${list[j]!.from}, ${list[j]!.to}]`);
      }
    }
  }
  return found;
}
