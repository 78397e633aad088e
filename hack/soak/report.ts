/** The soak's table (stdout) and its JSON under bench/results/. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SoakResult } from './run.js';

const MIB = 2 ** 20;

/** The table of one run, as text. */
export function table(r: SoakResult): string {
  const o = r.options;
  const rows: [string, string][] = [];
  const n = (v: number): string => v.toLocaleString('en-US');
  rows.push(['run', `${o.workspaces} workspaces × ${o.itemsPerWorkspace} Items, ${o.replicas} replicas, ${o.shards} shards, ${o.faultSeconds} s of faults, seed ${o.seed}`]);
  for (const [kind, count] of Object.entries(r.faults).sort()) rows.push([`faults: ${kind}`, n(count)]);
  if (!r.serverFaults) rows.push(['faults: server fault API', 'absent (watch cuts, 5xx/429, compaction, latency not injected)']);
  rows.push(['spec writes acknowledged', n(r.writes)]);
  rows.push(['reconciles', n(r.reconciles)]);
  for (const e of r.realErrors) rows.push([`real errors: ${e.category}`, `${n(e.count)} (${e.explanation})`]);
  rows.push(['retries (workqueue_retries_total)', n(r.retries)]);
  rows.push(['relists and list/watch retries', n(r.relists)]);
  rows.push(['hand-offs (kcp_mc_shard_handoffs_total)', n(r.handoffs)]);
  rows.push(['faults off → every Item converged', Number.isNaN(r.convergeMs) ? `not within ${o.settleSeconds} s` : `${(r.convergeMs / 1000).toFixed(1)} s`]);
  rows.push(['slowest server answer (GET /version each second)', `${(r.maxServerMs / 1000).toFixed(1)} s`]);
  const heap = (b: number): string => (Number.isNaN(b) ? 'n/a' : `${(b / MIB).toFixed(1)} MiB`);
  rows.push(['heapUsed of the long-lived replica, minute 2 → end', `${heap(r.heap.startBytes)} → ${heap(r.heap.endBytes)}${r.heap.checked ? '' : ' (not checked: under 3 minutes of faults)'}`]);
  rows.push(['violations', String(r.violations.length)]);
  rows.push(['wall time', `${(r.durationMs / 1000).toFixed(0)} s`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  for (const v of r.violations.slice(0, 20)) lines.push(`! ${v.oracle}: ${v.detail}`);
  return lines.join('\n');
}

/** Writes the run as JSON into `dir`; the file's path. */
export function save(r: SoakResult, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `soak-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(r, (_, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 2) + '\n');
  return file;
}
