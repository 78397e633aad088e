/**
 * `npm run soak -- --minutes 10 --workspaces 1000`: the chaos soak (see hack/soak/run.ts). Prints
 * a table, writes JSON under bench/results/ (not with --no-save), and exits 1 on any violation.
 */
import { parse } from './soak/options.js';
import { save, table } from './soak/report.js';
import { runSoak } from './soak/run.js';

const opts = parse(process.argv.slice(2));
const result = await runSoak(opts, (l) => process.stderr.write(`${l}\n`));
process.stdout.write(`${table(result)}\n`);
if (opts.out) process.stdout.write(`saved ${save(result, opts.out)}\n`);
process.exitCode = result.violations.length === 0 ? 0 : 1;
