/**
 * The soak's load and faults while they run: the spec writer at a steady, bounded rate, replica
 * SIGKILLs, server SIGKILL + restart on its data directory (with a durability check of every
 * acknowledged write after it), bindings deleted and recreated, workspaces deleted, and the
 * server's fault API when it has one. Each loop stops by itself at the deadline.
 */
import { seededRandom } from '../../src/server/faults/index.js';
import type { Kcp, Tenant } from './kcp.js';
import * as oracle from './oracles.js';
import type { SoakOptions } from './options.js';
import type { ReplicaProcess, ServerProcess } from './processes.js';

/** Faults injected so far, by kind. */
export type Counts = Record<string, number>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Drives the writer and the faults until a deadline. */
export class FaultDriver {
  readonly counts: Counts = {};
  /** Spec writes the server acknowledged. */
  writes = 0;
  private readonly random: () => number;
  /** Highest `spec.seq` sent, by `cluster/item`. */
  private readonly seq = new Map<string, number>();
  /** `spec.seq` on the server as the writer last knew it (its guard for the next write). */
  private readonly onServer = new Map<string, number>();
  /** Keys whose last write has an unknown outcome (refused, timed out, cut). */
  private readonly uncertain = new Set<string>();
  /** Server fault counts of earlier server processes (a restart resets the server's own). */
  private serverStatsBase: Counts = {};
  private serverStats: Counts = {};
  /** While the server restarts, the writer and the churn wait. */
  private restarting: Promise<void> | undefined;

  constructor(
    private readonly o: SoakOptions,
    private readonly kcp: Kcp,
    private readonly server: ServerProcess,
    private readonly replicas: ReplicaProcess[],
    private readonly tenants: Tenant[],
    /** Highest acknowledged `spec.seq` by `cluster/item`. */
    private readonly acked: Map<string, number>,
    private readonly log: (line: string) => void,
    private readonly violate: (v: oracle.Violation[]) => void,
    private readonly serverFaults: boolean,
  ) {
    this.random = seededRandom(o.seed);
  }

  private count(kind: string, n = 1): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + n;
  }

  /** Runs every loop until `deadline` (ms since the epoch). */
  async run(deadline: number): Promise<void> {
    if (this.serverFaults) await this.kcp.setFaults(this.o.serverFaults);
    const every = (seconds: number, what: string, fn: () => Promise<void>): Promise<void> => this.loop(deadline, seconds * 1000, what, fn);
    await Promise.all([
      this.writer(deadline),
      every(this.o.killEverySeconds, 'replica kill', () => this.killReplica()),
      this.o.serverRestartEverySeconds > 0 ? every(this.o.serverRestartEverySeconds, 'server restart', () => this.restartServer()) : Promise.resolve(),
      every(this.o.bindingChurnEverySeconds, 'binding churn', () => this.churnBinding()),
      every(this.o.workspaceDeleteEverySeconds, 'workspace delete', () => this.deleteWorkspace()),
      this.serverFaults ? every(5, 'fault stats', () => this.readStats()) : Promise.resolve(),
    ]);
    if (this.serverFaults) {
      await this.readStats();
      await this.kcp.clearFaults();
    }
  }

  private async loop(deadline: number, periodMs: number, what: string, fn: () => Promise<void>): Promise<void> {
    for (let next = Date.now() + periodMs; next < deadline; next += periodMs) {
      await sleep(next - Date.now());
      await this.restarting;
      try {
        await fn();
      } catch (e) {
        // A fault step that meets another fault (e.g. the server restarting) is retried next period.
        this.log(`  ${what} failed: ${(e as Error).message}`);
      }
    }
  }

  private async writer(deadline: number): Promise<void> {
    const gap = 1000 / this.o.writesPerSecond;
    const inflight = new Set<Promise<void>>();
    const busy = new Set<string>();
    for (let next = Date.now(); next < deadline; next += gap) {
      await sleep(next - Date.now());
      // Bounded: a slow server makes the writer skip ticks, never pile requests up.
      if (inflight.size >= 32) {
        this.count('writes skipped (server slow)');
        continue;
      }
      const live = this.tenants.filter((t) => t.bound && !t.deleted);
      if (live.length === 0) continue;
      const t = live[Math.floor(this.random() * live.length)]!;
      const item = `item-${Math.floor(this.random() * this.o.itemsPerWorkspace)}`;
      const key = `${t.cluster}/${item}`;
      // One write per Item at a time: two in flight may land in either order, and "acknowledged"
      // would no longer mean "the latest".
      if (busy.has(key)) continue;
      busy.add(key);
      const value = `-${Math.floor(this.random() * 1e6)}`;
      const p = (async () => {
        // After a write whose outcome is unknown, the server's seq is read before the next one.
        if (this.uncertain.has(key)) {
          this.onServer.set(key, await this.kcp.readSeq(t.path, item));
          this.uncertain.delete(key);
        }
        const prev = this.onServer.get(key) ?? 0;
        // Above every seq sent so far, so the seqs a key ever had on the server only grow.
        const seq = Math.max(this.seq.get(key) ?? 0, prev) + 1;
        this.seq.set(key, seq);
        try {
          await this.kcp.writeSpec(t.path, item, prev, { seq, value: `v${seq}${value}` });
        } catch (e) {
          this.uncertain.add(key);
          throw e;
        }
        this.onServer.set(key, seq);
        this.writes++;
        if ((this.acked.get(key) ?? -1) < seq) this.acked.set(key, seq);
      })()
        .catch(() => this.count('writes refused (faults)'))
        .finally(() => {
          inflight.delete(p);
          busy.delete(key);
        });
      inflight.add(p);
    }
    await Promise.all(inflight);
  }

  private async killReplica(): Promise<void> {
    // The first replica is never killed: its heap is the one compared over the run.
    const victims = this.replicas.slice(1);
    if (victims.length === 0) return;
    const v = victims[(this.counts['replica SIGKILL'] ?? 0) % victims.length]!;
    await v.kill();
    this.count('replica SIGKILL');
    await sleep(1000);
    await v.start();
  }

  private async restartServer(): Promise<void> {
    let release!: () => void;
    this.restarting = new Promise((r) => (release = r));
    try {
      if (this.serverFaults) await this.readStats().catch(() => undefined);
      const snapshot = new Map(this.acked);
      await this.server.kill();
      this.count('server SIGKILL + restart');
      this.serverStatsBase = this.sum(this.serverStatsBase, this.serverStats);
      this.serverStats = {};
      await this.server.start();
      this.kcp.reconnect();
      if (this.serverFaults) await this.kcp.setFaults(this.o.serverFaults);
      await this.checkDurable(snapshot);
    } finally {
      release();
      this.restarting = undefined;
    }
  }

  /** Every write acknowledged before the restart is on the server after it (bound tenants: what the virtual workspaces serve). */
  private async checkDurable(snapshot: ReadonlyMap<string, number>): Promise<void> {
    const live = new Set(this.tenants.filter((t) => t.bound && !t.deleted).map((t) => t.cluster));
    for (let attempt = 0; ; attempt++) {
      try {
        const seen = await this.kcp.observe();
        const onServer = new Map([...seen].map(([k, v]) => [k, v.item.spec.seq]));
        this.violate(oracle.lostWrites(new Map([...snapshot].filter(([k]) => live.has(k.split('/')[0]!) && this.isLive(k))), onServer, `after server restart ${this.counts['server SIGKILL + restart']}`));
        return;
      } catch (e) {
        // The virtual workspaces come back with the shards; give them a few seconds.
        if (attempt >= 20) throw e;
        await sleep(500);
      }
    }
  }

  private isLive(key: string): boolean {
    const c = key.split('/')[0];
    const t = this.tenants.find((x) => x.cluster === c);
    return !!t && t.bound && !t.deleted;
  }

  private pick(): Tenant | undefined {
    const live = this.tenants.filter((t) => t.bound && !t.deleted);
    return live.length ? live[Math.floor(this.random() * live.length)] : undefined;
  }

  private async churnBinding(): Promise<void> {
    const t = this.pick();
    if (!t) return;
    t.bound = false;
    await this.kcp.unbind(t.path);
    this.count('binding deleted + recreated');
    await sleep(2000);
    await this.rebind(t);
  }

  private async rebind(t: Tenant): Promise<void> {
    await this.kcp.bind(t.path);
    for (let j = 0; j < this.o.itemsPerWorkspace; j++) {
      // Items outlive their binding in kcp; if this server dropped them, they start again at seq 0.
      if (await this.kcp.createItem(t.path, `item-${j}`, { seq: 0, value: 'v0' })) {
        this.count('Items recreated after rebinding');
        this.acked.set(`${t.cluster}/item-${j}`, 0);
        this.onServer.set(`${t.cluster}/item-${j}`, 0);
        this.uncertain.delete(`${t.cluster}/item-${j}`);
      }
    }
    t.bound = true;
  }

  private async deleteWorkspace(): Promise<void> {
    const max = Math.max(1, Math.floor(this.o.workspaces / 100));
    if ((this.counts['workspace deleted'] ?? 0) >= max) return;
    const t = this.pick();
    if (!t) return;
    t.deleted = true;
    for (const k of [...this.acked.keys()]) if (k.startsWith(`${t.cluster}/`)) this.acked.delete(k);
    // The one deletion of a short run must not be lost to an injected 500/429 or the restart: it is
    // sent again (a DELETE of a gone workspace is a no-op), up to five times a second apart.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.kcp.deleteWorkspace(t.path.split(':')[1]!);
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        this.log(`  workspace delete failed (attempt ${attempt}): ${(e as Error).message}; again`);
        await sleep(1000);
        await this.restarting;
      }
    }
    this.count('workspace deleted');
  }

  private async readStats(): Promise<void> {
    this.serverStats = await this.kcp.faultStats();
    for (const [k, v] of Object.entries(this.sum(this.serverStatsBase, this.serverStats))) this.counts[`server: ${k}`] = v;
  }

  private sum(a: Counts, b: Counts): Counts {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** After the faults: every replica running and every surviving tenant bound (retried until done or 2 min). */
  async restoreAll(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (const r of this.replicas) if (!r.alive) await r.start();
    for (const t of this.tenants.filter((x) => !x.bound && !x.deleted)) {
      for (;;) {
        try {
          await this.rebind(t);
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await sleep(500);
        }
      }
    }
  }
}

