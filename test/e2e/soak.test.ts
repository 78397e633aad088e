/**
 * The 60-second soak (`npm run soak` small): 50 bound workspaces, 3 sharded replica processes and a
 * 2-shard server process; 60 s of spec writes under watch cuts, 500/429, 503 windows, compaction,
 * slow lists, two replica SIGKILLs, a server SIGKILL + restart on its data directory, binding churn
 * and a workspace deletion; then every oracle. It fails on any violation (hack/soak/oracles.ts; see
 * test/unit/soak-oracles.test.ts for each oracle failing on a violating input).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const exec = promisify(execFile);
const SOAK = path.resolve('dist/hack/soak.js');

/** The table's rows: name → value. */
function rows(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [k, v] = line.split(/\s{2,}/);
    if (k && v !== undefined) out.set(k, v);
  }
  return out;
}

describe('npm run soak, 60 seconds (e2e)', function () {
  this.timeout(300_000);

  it('converges under faults with zero violations, and reports what it injected', async () => {
    const args = [SOAK, '--minutes', '1', '--workspaces', '50', '--kill-every', '25', '--server-restart-every', '35', '--settle-seconds', '90', '--no-save'];
    const { stdout, stderr } = await exec(process.execPath, args, { maxBuffer: 64 * 2 ** 20, timeout: 280_000 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`${e.message}\n${e.stdout ?? ''}\n${(e.stderr ?? '').slice(-5000)}`);
    });
    const t = rows(stdout);
    // Every check names the run's table and log: a soak failure is looked into from them.
    const why = `${stdout}\n${stderr.slice(-5000)}`;
    expect(t.get('violations'), why).to.equal('0');
    expect(Number(t.get('faults: replica SIGKILL')), why).to.equal(2);
    expect(Number(t.get('faults: server SIGKILL + restart')), why).to.equal(1);
    expect(Number(t.get('faults: server: watchCut')), why).to.be.greaterThan(0);
    expect(Number(t.get('faults: binding deleted + recreated')), why).to.be.greaterThan(0);
    expect(Number(t.get('faults: workspace deleted')), why).to.equal(1);
    expect(Number(t.get('reconciles')?.replace(/,/g, '')), why).to.be.greaterThan(100);
    expect(t.get('faults off → every Item converged'), why).to.match(/^\d+\.\d s$/);
  });
});
