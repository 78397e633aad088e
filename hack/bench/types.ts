/** The vocabulary shared by the benchmark sections, the runner and the report. */

/** A bound a measured figure should keep: a lower bound (`min`), an upper bound (`max`), or both. */
export interface Target {
  /** The figure passes when its median is at least this. */
  min?: number;
  /** The figure passes when its median is at most this (for "less than" goals: latency, memory). */
  max?: number;
  /** Why this bound (e.g. "issue #12: 2-core CI box"). */
  why?: string;
}

/** One measured figure: the median of several runs. */
export interface BenchRow {
  /** Id of the section that produced it. */
  section: string;
  /** What was measured, e.g. "ConfigMap create, 8 in flight". */
  name: string;
  /** Unit of `median` and `runs`, e.g. "writes/s". */
  unit: string;
  /** Median of `runs`. */
  median: number;
  /** Every counted run, in the order they ran (warm-up runs are not included). */
  runs: number[];
  target?: Target;
  /** Set when a run did not complete cleanly (errors, a time bound hit, lost events). */
  problem?: string;
  /** Free-form measurements that explain the figure (latencies, counts, bytes). */
  detail?: Record<string, unknown>;
}

/** How a figure compares to its target. */
export type Verdict = 'pass' | 'miss' | 'error' | '-';

/** Settings every section receives. */
export interface BenchContext {
  /** Counted runs per figure (the median is taken over them); at least 3 unless `quick`. */
  runs: number;
  /** Smaller counts and shorter time bounds, for a smoke test of the harness itself. */
  quick: boolean;
  /** Serve HTTPS (the server's default, as kcp does) instead of plain HTTP. */
  tls: boolean;
  /** Progress output (stderr), so that stdout stays the table. */
  log(message: string): void;
}

/** A group of related figures; later issues add sections to `SECTIONS` in `sections.ts`. */
export interface BenchSection {
  /** Short id, selectable with `--only <id>`. */
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** Whether a row passes its target. */
export function verdictOf(row: BenchRow): Verdict {
  if (row.problem) return 'error';
  if (!row.target) return '-';
  const { min, max } = row.target;
  if (min !== undefined && !(row.median >= min)) return 'miss';
  if (max !== undefined && !(row.median <= max)) return 'miss';
  return 'pass';
}
