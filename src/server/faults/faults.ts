/**
 * Fault injection for tests (off unless set): watch connections cut at random, requests answered
 * 500 or 429, virtual workspaces answering 503 for a while, compaction of the watch history, slow
 * lists, and endpoints withdrawn from APIExportEndpointSlices. Every fault is injected before a
 * handler runs (or delays a read), so no write is ever applied and then answered with a failure.
 */
import { ApiError, cause } from '../http/errors.js';
import type { ListWatchHooks } from '../storage/listwatch.js';
import type { Store } from '../storage/store.js';

/** Watch connections cut at random. */
export interface WatchCutFaults {
  /** Shortest time from a watch's start (or the faults being set) to its cut, in ms. Default 1000. */
  minIntervalMs?: number;
  /** Longest such time, in ms. Default 5000 (or minIntervalMs when larger). */
  maxIntervalMs?: number;
  /** Cut inside a JSON line, so that the client's last line is truncated. Default false. */
  midFrame?: boolean;
}

/** Requests answered with a failure instead of being served. */
export interface ErrorFaults {
  /** Fraction of requests that fail, in [0, 1]. Default 0.01. */
  rate?: number;
  /** Codes to pick from at random: 500 InternalError, 429 TooManyRequests. Default both. */
  codes?: Array<500 | 429>;
  /** The `Retry-After` of a 429, in seconds. Default 1. */
  retryAfterSeconds?: number;
}

/** Windows in which virtual-workspace URLs answer 503. */
export interface UnavailableFaults {
  /** Period between the starts of two windows, in ms. */
  everyMs: number;
  /** Length of a window, in ms (shorter than everyMs). */
  forMs: number;
}

/** Periodic compaction of every shard's watch history. */
export interface CompactionFaults {
  /** Period between two compactions, in ms. */
  everyMs: number;
}

/** Latency added to list responses. */
export interface ListLatencyFaults {
  /** Shortest delay, in ms. */
  minMs: number;
  /** Longest delay, in ms (at most 60,000). */
  maxMs: number;
}

/** What to inject; every part is optional and off when absent. */
export interface FaultConfig {
  /** Seed of the fault randomness: the same seed gives the same sequence of decisions. */
  seed?: number;
  /** Cuts each open watch connection once, at a random time in [min, max] ms after it opened or the faults were set. */
  watchCuts?: WatchCutFaults;
  /** Answers a fraction of API requests with 500 or 429 + Retry-After (before any handler runs). */
  errors?: ErrorFaults;
  /** Virtual-workspace URLs answer 503 for `forMs` every `everyMs`, as during a LogicalClusterMigration. */
  unavailable?: UnavailableFaults;
  /** Drops the watch history of every shard every `everyMs`: older resourceVersions answer 410 Expired. */
  compaction?: CompactionFaults;
  /** Delays every list response by a random time in [minMs, maxMs]. */
  listLatency?: ListLatencyFaults;
}

/** Counts of injected faults by kind (`watchCut`, `error500`, `error429`, `unavailable503`, `compaction`, `expired410`, `listDelayed`, ...). */
export interface FaultStats {
  [kind: string]: number;
}

/** Fault injection of a running reference server (`server.faults`). */
export interface ServerFaults {
  /** Replaces the active faults (throws on an invalid config); counts are kept. */
  set(cfg: FaultConfig): void;
  /** Stops every fault and its timers; the server is then fully healthy. Counts are kept. */
  clear(): void;
  /** Counts of injected faults since the server started. */
  stats(): FaultStats;
  /** The active faults, or undefined when none are set. */
  config(): FaultConfig | undefined;
  /** Removes a shard's URL (`root`, `shard-1`, ...) from the endpoints of every APIExportEndpointSlice. */
  withdrawEndpoint(shardName: string): void;
  /** Puts a withdrawn shard's URL back into the endpoint slices that should list it. */
  republishEndpoint(shardName: string): void;
  /**
   * Moves a logical cluster (name or workspace path) to another shard, as a finished kcp
   * LogicalClusterMigration: same objects and uids there, new resource versions, URLs and endpoint
   * slices following; resume points from before the move answer 410 on the target shard.
   */
  migrateCluster(cluster: string, shardName: string): void;
}

/** What fault injection needs from the server around it. */
export interface FaultTargets {
  /** The stores of every shard. */
  stores(): Store[];
  /** Shard names, for validating withdraw/republish. */
  shardNames(): string[];
  /** Withdraws or republishes a shard's endpoint URL in every slice. */
  setEndpointWithdrawn(shardName: string, withdrawn: boolean): void;
  /** Moves a logical cluster to another shard. */
  migrateCluster(cluster: string, shardName: string): void;
}

/** mulberry32: a small seeded PRNG, so that a sequence of random decisions replays. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fail(msg: string): never {
  throw new Error(`invalid fault config: ${msg}`);
}

function checkMs(v: unknown, what: string, min: number): number {
  // An hour bounds every delay and period: faults are for tests, and Node timers stay in range.
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > 3_600_000) fail(`${what} must be a number of milliseconds in [${min}, 3600000]`);
  return v;
}

function checkObject(v: unknown, what: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be an object`);
  return v as Record<string, unknown>;
}

const KNOWN = ['seed', 'watchCuts', 'errors', 'unavailable', 'compaction', 'listLatency'];

/** Validates a config (from code or JSON) and returns it with defaults filled in; throws a clear error otherwise. */
export function normalizeFaultConfig(input: unknown): FaultConfig {
  const o = checkObject(input, 'the config') ?? fail('the config must be an object');
  for (const k of Object.keys(o)) if (!KNOWN.includes(k)) fail(`unknown field "${k}" (known: ${KNOWN.join(', ')})`);
  const out: FaultConfig = {};
  if (o['seed'] !== undefined) {
    if (!Number.isSafeInteger(o['seed'])) fail('seed must be an integer');
    out.seed = o['seed'] as number;
  }
  const wc = checkObject(o['watchCuts'], 'watchCuts');
  if (wc) {
    const min = checkMs(wc['minIntervalMs'] ?? 1000, 'watchCuts.minIntervalMs', 10);
    const max = checkMs(wc['maxIntervalMs'] ?? Math.max(5000, min), 'watchCuts.maxIntervalMs', min);
    if (wc['midFrame'] !== undefined && typeof wc['midFrame'] !== 'boolean') fail('watchCuts.midFrame must be a boolean');
    out.watchCuts = { minIntervalMs: min, maxIntervalMs: max, midFrame: wc['midFrame'] === true };
  }
  const er = checkObject(o['errors'], 'errors');
  if (er) {
    const rate = er['rate'] ?? 0.01;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) fail('errors.rate must be a number in [0, 1]');
    const codes = er['codes'] ?? [500, 429];
    if (!Array.isArray(codes) || codes.length === 0 || codes.some((c) => c !== 500 && c !== 429)) fail('errors.codes must be a non-empty list of 500 and 429');
    const retry = er['retryAfterSeconds'] ?? 1;
    if (!Number.isInteger(retry) || (retry as number) < 0 || (retry as number) > 3600) fail('errors.retryAfterSeconds must be an integer in [0, 3600]');
    out.errors = { rate, codes: [...new Set(codes as Array<500 | 429>)], retryAfterSeconds: retry as number };
  }
  const un = checkObject(o['unavailable'], 'unavailable');
  if (un) {
    const everyMs = checkMs(un['everyMs'], 'unavailable.everyMs', 10);
    const forMs = checkMs(un['forMs'], 'unavailable.forMs', 1);
    // A window as long as its period would make the virtual workspaces unavailable for good.
    if (forMs >= everyMs) fail('unavailable.forMs must be shorter than unavailable.everyMs');
    out.unavailable = { everyMs, forMs };
  }
  const co = checkObject(o['compaction'], 'compaction');
  if (co) out.compaction = { everyMs: checkMs(co['everyMs'], 'compaction.everyMs', 10) };
  const ll = checkObject(o['listLatency'], 'listLatency');
  if (ll) {
    const minMs = checkMs(ll['minMs'], 'listLatency.minMs', 0);
    // A list delayed past a minute would run into client timeouts rather than test slowness.
    const maxMs = checkMs(ll['maxMs'], 'listLatency.maxMs', minMs);
    if (maxMs > 60_000) fail('listLatency.maxMs must be at most 60000');
    out.listLatency = { minMs, maxMs };
  }
  return out;
}

/** A request as fault injection sees it. */
export interface FaultRequest {
  /** The raw path, without the query. */
  path: string;
}

/** The fault injector behind `server.faults`. */
export class FaultInjector implements ServerFaults {
  private cfg: FaultConfig | undefined;
  private rand: () => number = Math.random;
  private readonly counts = new Map<string, number>();
  private readonly intervals = new Set<NodeJS.Timeout>();
  /** Open watches → their pending cut timer (undefined while watch cuts are off). */
  private readonly watches = new Map<(midFrame: boolean) => void, NodeJS.Timeout | undefined>();
  /** Delayed lists: cleared faults release them at once. */
  private readonly delays = new Map<NodeJS.Timeout, () => void>();
  private unavailableUntil = 0;
  private readonly withdrawn = new Set<string>();

  constructor(private readonly targets: FaultTargets) {
    for (const s of targets.stores()) {
      s.onExpired = () => {
        if (this.cfg) this.count('expired410');
      };
    }
  }

  /** The hooks the list and watch code calls. */
  readonly hooks: ListWatchHooks = {
    listDelay: () => this.listDelay(),
    watchOpened: (cut) => {
      this.watches.set(cut, this.cfg?.watchCuts ? this.scheduleCut(cut) : undefined);
      return () => {
        clearTimeout(this.watches.get(cut));
        this.watches.delete(cut);
      };
    },
  };

  set(input: FaultConfig): void {
    const cfg = normalizeFaultConfig(input);
    this.stopTimers();
    this.cfg = cfg;
    this.rand = cfg.seed !== undefined ? seededRandom(cfg.seed) : Math.random;
    if (cfg.watchCuts) for (const cut of this.watches.keys()) this.watches.set(cut, this.scheduleCut(cut));
    if (cfg.unavailable) {
      const { everyMs, forMs } = cfg.unavailable;
      // A window ends by the clock, checked per request: no timer of its own.
      this.every(everyMs, () => (this.unavailableUntil = Date.now() + forMs));
    }
    if (cfg.compaction) {
      this.every(cfg.compaction.everyMs, () => {
        for (const s of this.targets.stores()) s.compact();
        this.count('compaction');
      });
    }
  }

  clear(): void {
    this.stopTimers();
    this.cfg = undefined;
    this.rand = Math.random;
  }

  stats(): FaultStats {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  config(): FaultConfig | undefined {
    return this.cfg ? structuredClone(this.cfg) : undefined;
  }

  withdrawEndpoint(shardName: string): void {
    this.checkShard(shardName);
    if (this.withdrawn.has(shardName)) return;
    this.withdrawn.add(shardName);
    this.count('endpointWithdrawn');
    this.targets.setEndpointWithdrawn(shardName, true);
  }

  republishEndpoint(shardName: string): void {
    this.checkShard(shardName);
    if (!this.withdrawn.delete(shardName)) return;
    this.count('endpointRepublished');
    this.targets.setEndpointWithdrawn(shardName, false);
  }

  migrateCluster(cluster: string, shardName: string): void {
    this.targets.migrateCluster(cluster, shardName);
    this.count('clusterMigrated');
  }

  /**
   * The failure to answer instead of running the request, if any. Only paths that reach an API
   * (after authentication) are asked; a virtual workspace's 503 window comes first.
   */
  intercept(req: FaultRequest): ApiError | undefined {
    const cfg = this.cfg;
    if (!cfg) return undefined;
    if (cfg.unavailable && this.unavailableUntil > Date.now() && req.path.startsWith('/services/')) {
      this.count('unavailable503');
      return new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', { retryAfterSeconds: 1 }, { 'Retry-After': '1' });
    }
    const er = cfg.errors;
    if (!er || this.rand() >= er.rate!) return undefined;
    const codes = er.codes!;
    const code = codes[Math.floor(this.rand() * codes.length)] ?? codes[0]!;
    if (code === 429) {
      this.count('error429');
      const secs = er.retryAfterSeconds!;
      return new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: secs }, { 'Retry-After': String(secs) });
    }
    this.count('error500');
    const msg = 'injected fault: the request was not processed';
    return new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [cause('', '', msg)] });
  }

  /** Stops the timers of the active faults and releases delayed lists and pending cuts. */
  private stopTimers(): void {
    for (const t of this.intervals) clearInterval(t);
    this.intervals.clear();
    this.unavailableUntil = 0;
    for (const [cut, t] of this.watches) {
      clearTimeout(t);
      this.watches.set(cut, undefined);
    }
    for (const [t, release] of this.delays) {
      clearTimeout(t);
      release();
    }
    this.delays.clear();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.intervals.add(t);
  }

  private between(min: number, max: number): number {
    return min + this.rand() * (max - min);
  }

  private scheduleCut(cut: (midFrame: boolean) => void): NodeJS.Timeout {
    const wc = this.cfg!.watchCuts!;
    return setTimeout(() => {
      this.watches.set(cut, undefined);
      this.count('watchCut');
      if (wc.midFrame) this.count('watchCutMidFrame');
      cut(wc.midFrame === true);
    }, this.between(wc.minIntervalMs!, wc.maxIntervalMs!));
  }

  private listDelay(): Promise<void> | undefined {
    const ll = this.cfg?.listLatency;
    if (!ll) return undefined;
    const ms = this.between(ll.minMs, ll.maxMs);
    if (ms <= 0) return undefined;
    this.count('listDelayed');
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.delays.delete(t);
        resolve();
      }, ms);
      this.delays.set(t, resolve);
    });
  }

  private checkShard(name: string): void {
    const names = this.targets.shardNames();
    if (!names.includes(name)) throw new Error(`unknown shard "${name}" (shards: ${names.join(', ')})`);
  }

  private count(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }
}
