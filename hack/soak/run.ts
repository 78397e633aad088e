/**
 * One soak run: the server (2 shards, data directory) and the replicas in processes of their own,
 * W bound workspaces with Items, then `faultSeconds` of spec writes under faults (replica and
 * server SIGKILLs, binding churn, workspace deletion, and the server's own faults when it has the
 * fault API), the ledger oracles checked every few seconds; then faults off, a bounded settle, and
 * every oracle at the end.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONTROLLER, PROVIDER_PATH } from './api.js';
import { FaultDriver, type Counts } from './faults.js';
import { Kcp, pool, type Tenant } from './kcp.js';
import { LedgerReader } from './ledger.js';
import * as oracle from './oracles.js';
import type { SoakOptions } from './options.js';
import { freePort, ReplicaProcess, sample, ServerProcess, type Crash } from './processes.js';

/** What a soak run measured. */
export interface SoakResult {
  options: SoakOptions;
  startedAt: string;
  /** Wall time of the whole run, ms. */
  durationMs: number;
  /** Whether the server had the fault API. */
  serverFaults: boolean;
  /** Faults injected by kind. */
  faults: Counts;
  reconciles: number;
  /** Reconciles that failed on purpose. */
  injected: { throws: number; timeouts: number };
  /** Real reconcile errors by category, each explained. */
  realErrors: ReturnType<typeof oracle.realErrors>;
  retries: number;
  relists: number;
  handoffs: number;
  /** Spec writes the server acknowledged. */
  writes: number;
  /** Faults off → every Item converged, ms (NaN when it did not within the settle bound). */
  convergeMs: number;
  /** Longest answer of the server to a GET /version probed once a second, ms (restarts included). */
  maxServerMs: number;
  /** heapUsed of the never-killed replica after full collections: at minute 2 (or half-time) and at the end. */
  heap: { startBytes: number; endBytes: number; checked: boolean };
  violations: oracle.Violation[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one soak; `log` gets progress lines. */
export async function runSoak(o: SoakOptions, log: (line: string) => void): Promise<SoakResult> {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-soak-'));
  const ledgerFile = path.join(dir, 'ledger.jsonl');
  fs.writeFileSync(ledgerFile, '');
  const crashes: Crash[] = [];
  // --faults with nothing active serves /debug/faults; the faults start once the tenants are set up.
  const server = new ServerProcess(dir, await freePort(), o.shards, crashes, ['--faults', JSON.stringify({ seed: o.seed })]);
  const replicas: ReplicaProcess[] = [];
  const violations: oracle.Violation[] = [];
  const seen = new Set<string>();
  const addViolations = (vs: oracle.Violation[]): void => {
    for (const v of vs) {
      const k = `${v.oracle} ${v.detail}`;
      if (seen.has(k)) continue;
      seen.add(k);
      violations.push(v);
      log(`VIOLATION ${v.oracle}: ${v.detail}`);
    }
  };
  let kcp: Kcp | undefined;
  try {
    await server.start();
    kcp = new Kcp(server.kubeconfig, server.url);
    const k = kcp;
    const serverFaults = await k.hasFaults();
    log(`server on ${server.url} (${o.shards} shards, data in ${server.dataDir}); fault API ${serverFaults ? 'present' : 'absent: only process, binding and workspace faults'}`);
    await k.install();
    const providerKubeconfig = path.join(dir, 'provider.kubeconfig');
    fs.writeFileSync(providerKubeconfig, k.withServer(`${server.url}/clusters/${PROVIDER_PATH}`).exportConfig(), { mode: 0o600 });

    // Tenants: bound workspaces with Items at seq 0.
    const t0 = Date.now();
    const acked = new Map<string, number>();
    const tenants: Tenant[] = await pool(Array.from({ length: o.workspaces }, (_, i) => i), 16, async (i) => {
      const name = `soak-${String(i).padStart(5, '0')}`;
      const p = `root:${name}`;
      const cluster = await k.workspace(name);
      await k.bind(p);
      for (let j = 0; j < o.itemsPerWorkspace; j++) {
        await k.createItem(p, `item-${j}`, { seq: 0, value: 'v0' });
        acked.set(`${cluster}/item-${j}`, 0);
      }
      if ((i + 1) % 200 === 0) log(`  ${i + 1}/${o.workspaces} workspaces`);
      return { path: p, cluster, bound: true, deleted: false };
    });
    log(`${o.workspaces} workspaces × ${o.itemsPerWorkspace} Items in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const cfg = { kubeconfig: providerKubeconfig, ledger: ledgerFile, dir, failRate: o.failRate, timeoutRate: o.timeoutRate, timeoutMs: o.timeoutMs, concurrency: o.concurrency, peerLease: o.peerLease, fenceLease: o.fenceLease };
    for (let i = 0; i < o.replicas; i++) replicas.push(new ReplicaProcess(`r${i}`, cfg, crashes));
    await Promise.all(replicas.map((r) => r.start()));
    log(`${o.replicas} replicas started`);

    const ledger = new LedgerReader(ledgerFile);
    const killedAt = (): Map<string, number> => new Map(replicas.flatMap((r) => r.incarnations.filter((i) => i.killed).map((i) => [i.id, i.to!] as const)));
    const endedAt = (): Map<string, number> => new Map(replicas.flatMap((r) => r.incarnations.filter((i) => i.to !== undefined).map((i) => [i.id, i.to!] as const)));
    const scraped = new Map<string, { retries: number; handoffs: number; relists: number }>();
    const scrape = async (): Promise<void> => {
      for (const r of replicas.filter((x) => x.alive)) {
        try {
          const text = await r.metrics();
          const handoffs = text.split('\n').filter((l) => l.startsWith('kcp_mc_shard_handoffs_total{')).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
          scraped.set(r.incarnation, { retries: sample(text, 'workqueue_retries_total', CONTROLLER), handoffs, relists: (r.events.get('expired') ?? 0) + (r.events.get('retry') ?? 0) });
        } catch {
          // killed between the check and the scrape: its last scrape stands
        }
      }
    };

    // Faults: for `faultSeconds`, with the ledger oracles and a scrape every few seconds.
    const driver = new FaultDriver(o, k, server, replicas, tenants, acked, log, addViolations, serverFaults);
    const faultStart = Date.now();
    const heapAt = faultStart + Math.min(120_000, (o.faultSeconds * 1000) / 2);
    let heapStart = NaN;
    // The server's answer time to a cheap GET once a second: a stalled server explains slow convergence.
    let probing = true;
    let maxServerMs = 0;
    const probe = (async () => {
      while (probing) {
        const t = Date.now();
        await k.req('GET', '/version').catch(() => undefined);
        maxServerMs = Math.max(maxServerMs, Date.now() - t);
        if (Date.now() - t > 5000) log(`  the server took ${Date.now() - t} ms to answer GET /version`);
        await sleep(1000);
      }
    })();
    const done = driver.run(faultStart + o.faultSeconds * 1000);
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      await Promise.race([done, sleep(5000)]);
      ledger.read();
      addViolations(oracle.ledgerViolations(ledger.marks, killedAt(), endedAt(), Date.now()));
      addViolations(oracle.crashed(crashes.splice(0)));
      await scrape();
      if (Number.isNaN(heapStart) && Date.now() >= heapAt && replicas[0]!.alive) heapStart = await replicas[0]!.heap().catch(() => NaN);
      log(`  t+${Math.round((Date.now() - faultStart) / 1000)} s: ${ledger.marks.length / 2 | 0} reconciles, ${driver.writes} writes, faults ${JSON.stringify(driver.counts)}`);
    }
    await done;

    // Settle: faults off, every replica up, every surviving tenant bound; then wait for convergence.
    await driver.restoreAll();
    const stopAt = Date.now();
    const expected = tenants.filter((t) => !t.deleted).flatMap((t) => Array.from({ length: o.itemsPerWorkspace }, (_, j) => `${t.cluster}/item-${j}`));
    let last: oracle.Violation[] = [];
    let convergeMs = NaN;
    let observed = new Map<string, oracle.ObservedItem>();
    while (Date.now() - stopAt < o.settleSeconds * 1000) {
      try {
        observed = await k.observe();
        last = [...oracle.unconverged([...observed.values()]), ...expected.filter((key) => !observed.has(key)).map((key) => ({ oracle: 'converged' as const, detail: `${key}: not served by the virtual workspaces` }))];
        if (last.length === 0) {
          convergeMs = Date.now() - stopAt;
          break;
        }
      } catch (e) {
        last = [{ oracle: 'converged', detail: `the end check could not read the server: ${(e as Error).message}` }];
      }
      await sleep(1000);
    }
    log(Number.isNaN(convergeMs) ? `not converged within ${o.settleSeconds} s: ${last.length} Items` : `converged ${convergeMs} ms after the faults stopped`);
    addViolations(last.slice(0, 50));
    if (last.length > 50) addViolations([{ oracle: 'converged', detail: `… and ${last.length - 50} more` }]);
    const live = new Set(tenants.filter((t) => !t.deleted).map((t) => t.cluster));
    const onServer = new Map([...observed].map(([key, v]) => [key, v.item.spec.seq]));
    addViolations(oracle.lostWrites(new Map([...acked].filter(([key]) => live.has(key.split('/')[0]!))), onServer, 'end'));

    // The error counters of the replicas alive now, each scrape between two reads of the ledger
    // (exact when no reconcile ends meanwhile, which a settled run gives after a few tries).
    const final: oracle.ScrapedErrors[] = [];
    let before = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      ledger.read();
      before = ledger.marks.length;
      final.length = 0;
      for (const r of replicas) {
        const text = await r.metrics().catch((e: Error) => {
          addViolations([{ oracle: 'crash', detail: `${r.incarnation} did not answer /metrics: ${e.message}` }]);
          return undefined;
        });
        if (text !== undefined) final.push({ incarnation: r.incarnation, errors: sample(text, 'controller_runtime_reconcile_errors_total', CONTROLLER), timeouts: sample(text, 'controller_runtime_reconcile_timeouts_total', CONTROLLER) });
      }
      await sleep(300);
      ledger.read();
      if (ledger.marks.length === before) break;
    }
    await scrape();
    const tallies = oracle.tally(ledger.marks);
    addViolations(oracle.errorMetric(final, oracle.tally(ledger.marks.slice(0, before)), tallies));

    probing = false;
    await probe;
    const heapEnd = await replicas[0]!.heap().catch((e: Error) => {
      addViolations([{ oracle: 'crash', detail: `${replicas[0]!.incarnation} did not report its heap: ${e.message}` }]);
      return NaN;
    });
    const heapChecked = o.faultSeconds >= 180 && !Number.isNaN(heapStart);
    if (heapChecked) addViolations(oracle.heapGrowth(heapStart, heapEnd));

    for (const r of replicas) {
      const code = await r.stop();
      if (code !== 0) addViolations([{ oracle: 'crash', detail: `${r.incarnation} exited ${code} on SIGTERM` }]);
    }
    await server.stop();
    ledger.read();
    addViolations(oracle.ledgerViolations(ledger.marks, killedAt(), endedAt(), Date.now()));
    addViolations(oracle.crashed(crashes.splice(0)));

    const sum = (f: (v: { retries: number; handoffs: number; relists: number }) => number): number => [...scraped.values()].reduce((n, v) => n + f(v), 0);
    const outcomes = (x: string): number => [...tallies.values()].reduce((n, t) => n + (t.outcomes[x as keyof typeof t.outcomes] ?? 0), 0);
    return {
      options: o,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      serverFaults,
      faults: { ...driver.counts, 'reconcile throws (injected)': outcomes('injected-throw'), 'reconcile timeouts (injected)': outcomes('injected-timeout') },
      reconciles: [...tallies.values()].reduce((n, t) => n + t.reconciles, 0),
      injected: { throws: outcomes('injected-throw'), timeouts: outcomes('injected-timeout') },
      realErrors: oracle.realErrors(tallies),
      retries: sum((v) => v.retries),
      relists: sum((v) => v.relists),
      handoffs: sum((v) => v.handoffs),
      writes: driver.writes,
      convergeMs,
      maxServerMs,
      heap: { startBytes: heapStart, endBytes: heapEnd, checked: heapChecked },
      violations,
    };
  } finally {
    for (const r of replicas) if (r.alive) await r.kill();
    await server.kill();
    kcp?.close();
    if (violations.length === 0) fs.rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir} (ledger, data) for inspection`);
  }
}
