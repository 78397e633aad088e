/**
 * `npm run bench`: throughput of the bundled reference server, measured against an in-process
 * instance on 127.0.0.1. Prints a table of medians (with targets) on stdout, progress on stderr, and
 * writes `bench/results/<timestamp>.json` and `bench/results/latest.json`.
 *
 * Options: `--runs N` (counted runs per figure, default 3, at least 3 unless --quick),
 * `--only id[,id]` (sections, see hack/bench/sections.ts), `--quick` (small counts; harness smoke
 * test, figures not comparable), `--tls` (HTTPS with the server's self-signed certificate, its default;
 * without it the server and clients speak plain HTTP), `--no-save` (do not write JSON).
 *
 * Each section runs in a process of its own, so that no section's figures depend on the heap, the
 * sockets or the JIT state another left behind (`--section-child ID --rows-out FILE` is that
 * child's mode).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment, formatTable, writeResults } from './bench/report.js';
import { SECTIONS } from './bench/sections.js';
import { verdictOf, type BenchContext, type BenchRow } from './bench/types.js';

interface Args {
  runs: number;
  only: string[] | undefined;
  quick: boolean;
  save: boolean;
  tls: boolean;
  /** Child mode: run this one section and write its rows to `rowsOut`. */
  sectionChild?: string;
  rowsOut?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 3, only: undefined, quick: false, save: true, tls: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') args.runs = Number(value());
    else if (a === '--only') args.only = value().split(',').filter(Boolean);
    else if (a === '--quick') args.quick = true;
    else if (a === '--no-save') args.save = false;
    else if (a === '--tls') args.tls = true;
    else if (a === '--section-child') args.sectionChild = value();
    else if (a === '--rows-out') args.rowsOut = value();
    else throw new Error(`unknown option ${a} (options: --runs N, --only id[,id], --quick, --tls, --no-save)`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs must be a positive integer');
  if (!args.quick && args.runs < 3) throw new Error('--runs must be at least 3 (medians of fewer runs are not reported); use --quick for a smoke test');
  const known = SECTIONS.map((s) => s.id);
  for (const id of [...(args.only ?? []), ...(args.sectionChild ? [args.sectionChild] : [])]) {
    if (!known.includes(id)) throw new Error(`unknown section "${id}" (known: ${known.join(', ')})`);
  }
  return args;
}

/** Runs one section in a fresh Node process and returns its rows. */
async function runInChild(id: string, args: Args): Promise<BenchRow[]> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-bench-')), 'rows.json');
  const argv = [fileURLToPath(import.meta.url), '--section-child', id, '--rows-out', out, '--runs', String(args.runs)];
  if (args.quick) argv.push('--quick');
  if (args.tls) argv.push('--tls');
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    if (code !== 0 || !fs.existsSync(out)) return [{ section: id, name: `${id} benchmark`, unit: '-', median: NaN, runs: [], problem: `section process exited with ${String(code)}` }];
    // JSON has no NaN: figures a section could not measure come back as null.
    const rows = JSON.parse(fs.readFileSync(out, 'utf8')) as (Omit<BenchRow, 'median' | 'runs'> & { median: number | null; runs: (number | null)[] })[];
    return rows.map((r) => ({ ...r, median: r.median ?? NaN, runs: r.runs.map((x) => x ?? NaN) }));
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.sectionChild) {
    const section = SECTIONS.find((s) => s.id === args.sectionChild)!;
    const rows = await section.run({ runs: args.runs, quick: args.quick, tls: args.tls, log: (m) => process.stderr.write(m + '\n') });
    fs.writeFileSync(args.rowsOut ?? '/dev/stdout', JSON.stringify(rows));
    return 0;
  }
  // dist/hack/bench.js → project root
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const env: Record<string, unknown> = { ...environment(), transport: args.tls ? 'https (self-signed, keep-alive)' : 'http (keep-alive)' };
  const ctx: BenchContext = { runs: args.runs, quick: args.quick, tls: args.tls, log: (m) => process.stderr.write(m + '\n') };
  const started = new Date();
  ctx.log(`kcp reference server benchmark — ${String(env['note'])}`);
  const rows: BenchRow[] = [];
  const sections: { id: string; title: string; seconds: number }[] = [];
  for (const s of SECTIONS) {
    if (args.only && !args.only.includes(s.id)) continue;
    ctx.log(`[${s.id}] ${s.title}`);
    const t = Date.now();
    rows.push(...(await runInChild(s.id, args)));
    sections.push({ id: s.id, title: s.title, seconds: Math.round((Date.now() - t) / 100) / 10 });
  }
  env['loadAverage1mAtEnd'] = Math.round(os.loadavg()[0]! * 100) / 100;
  const table = formatTable(rows);
  const load = `1-minute load average ${String(env['loadAverage1m'])} at start, ${String(env['loadAverage1mAtEnd'])} at end`;
  process.stdout.write(
    `\n${table}\n\n(${String(env['note'])} Transport: ${String(env['transport'])}; ${load}.` +
      `${args.quick ? ' QUICK MODE: figures are not comparable.' : ''})\n`,
  );
  if (args.save) {
    const file = writeResults(
      root,
      {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        quick: args.quick,
        tls: args.tls,
        runsPerFigure: args.runs,
        environment: env,
        sections,
        rows: rows.map((r) => ({ ...r, result: verdictOf(r) })),
      },
      started,
    );
    process.stdout.write(`results: ${path.relative(process.cwd(), file)} (and latest.json)\n`);
  }
  return rows.some((r) => verdictOf(r) === 'error') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('bench:', e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
