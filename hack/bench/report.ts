/** The benchmark's outputs: a plain-text table on stdout and JSON under `bench/results/`. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verdictOf, type BenchRow } from './types.js';

/** Where results go, relative to the project root. */
export const RESULTS_DIR = path.join('bench', 'results');

/** The conditions of a measurement, printed above the table and stored with it. */
export function environment(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    availableParallelism: os.availableParallelism(),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    note:
      'Server and client on loopback 127.0.0.1. The server sections share one Node process (one event loop) with ' +
      "their client, so those figures include the client's own cost; the runtime-* sections run the server in a " +
      `child process, so heap and CPU figures are the runtime's alone. Machine: ${cpus.length} core(s).`,
  };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  // Small figures (ratios, sub-10 ms latencies) keep their significant digits.
  const digits = Math.abs(n) < 10 ? 2 : Math.abs(n) < 100 ? 1 : 0;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function targetText(t: NonNullable<BenchRow['target']>): string {
  const parts: string[] = [];
  if (t.min !== undefined) parts.push(`≥ ${fmt(t.min)}`);
  if (t.max !== undefined) parts.push(`≤ ${fmt(t.max)}`);
  return parts.join(', ') || '-';
}

/** The table of medians with targets and verdicts. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['section', 'measurement', 'median', 'unit', 'runs', 'target', 'result'];
  const body = rows.map((r) => [
    r.section,
    r.name,
    fmt(r.median),
    r.unit,
    r.runs.map(fmt).join(' / '),
    r.target ? targetText(r.target) : '-',
    verdictOf(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([2]);
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  const problems = rows.filter((r) => r.problem);
  for (const r of problems) out.push(`! ${r.section} / ${r.name}: ${r.problem}`);
  return out.join('\n');
}

/** Writes `<timestamp>.json` and `latest.json`; returns the timestamped path. */
export function writeResults(root: string, doc: Record<string, unknown>, at: Date): string {
  const dir = path.join(root, RESULTS_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const text = JSON.stringify(doc, null, 2) + '\n';
  const file = path.join(dir, `${stamp}.json`);
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(dir, 'latest.json'), text);
  return file;
}
