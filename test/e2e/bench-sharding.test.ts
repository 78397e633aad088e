/**
 * `npm run bench -- --only sharding --quick`: the sharding section runs end to end (server and
 * replicas in processes of their own) and reports every figure, so that the section cannot rot.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const exec = promisify(execFile);
const BENCH = path.resolve('dist/hack/bench.js');

/** The sharding rows of the table on stdout: measurement → median. */
function medians(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('sharding  ')) continue;
    const [, name, median] = line.split(/\s{2,}/);
    out.set(name!, Number(median!.replace(/,/g, '')));
  }
  return out;
}

describe('npm run bench -- --only sharding --quick (e2e)', function () {
  this.timeout(400_000);

  it('measures heap at 1, 2 and 4 replicas, reconciles/s with CPU per process, and SIGTERM and kill -9 hand-offs, without a problem', async () => {
    const { stdout, stderr } = await exec(process.execPath, [BENCH, '--only', 'sharding', '--quick', '--runs', '1', '--no-save'], { maxBuffer: 16 * 2 ** 20, timeout: 380_000 });
    expect(stdout, stderr).not.to.contain('! sharding');
    const m = medians(stdout);
    const find = (part: string): number => {
      const hits = [...m].filter(([name]) => name.includes(part));
      expect(hits, `one row containing "${part}" in\n${stdout}`).to.have.length(1);
      return hits[0]![1];
    };
    for (const k of ['1 replica ', '2 replicas ', '4 replicas ']) expect(find(`${k}start → every cluster engaged`)).to.be.greaterThan(0);
    expect(find('heapUsed of 1 replica')).to.be.greaterThan(1);
    for (const k of [2, 4]) {
      expect(find(`heapUsed of the largest of ${k} replicas`)).to.be.greaterThan(1);
      expect(find(`heap ratio, largest of ${k} replicas`)).to.be.within(0.01, 2);
    }
    for (const k of ['1 replica:', '2 replicas:']) expect(find(`reconciles/s of ${k}`)).to.be.greaterThan(0);
    for (const k of ['1 replica', '2 replicas']) {
      expect(find(`CPU s of the server during that touch, ${k}`)).to.be.greaterThan(0);
      expect(find(`CPU s per replica during that touch, ${k}`)).to.be.greaterThan(0);
    }
    const graceful = find('SIGTERM 1 of 2 replicas (peer 30 s, fence 20 s) → each of its clusters reconciled by the other, p50');
    expect(find('SIGTERM 1 of 2 replicas (peer 30 s, fence 20 s) → each of its clusters reconciled by the other, p99')).to.be.at.least(graceful);
    // A killed replica's fences cannot be taken before they expire: 5 s is a floor of that figure.
    const killed = find('kill -9 1 of 2 replicas (peer and fence Leases 5 s) → each of its clusters reconciled by the other, p50');
    expect(killed).to.be.at.least(5_000);
    expect(find('kill -9 1 of 2 replicas (peer and fence Leases 5 s) → each of its clusters reconciled by the other, p99')).to.be.at.least(killed);
    expect(graceful).to.be.lessThan(killed);
  });
});
