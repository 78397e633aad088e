/** The soak's knobs: `npm run soak -- --minutes 10 --workspaces 1000`, and the small variant `npm test` runs. */
import { parseArgs } from 'node:util';

/** Everything a soak run is bounded by. */
export interface SoakOptions {
  /** Seconds of faults and writes (then faults stop and the system settles). */
  faultSeconds: number;
  /** Tenant workspaces, each bound, with `itemsPerWorkspace` Items. */
  workspaces: number;
  itemsPerWorkspace: number;
  /** Replica processes (`kcp-mc run --sharding`). */
  replicas: number;
  /** Server shards. */
  shards: number;
  /** Spec writes per second across all workspaces. */
  writesPerSecond: number;
  /** A replica (never the first, whose heap is watched) is SIGKILLed and restarted this often. */
  killEverySeconds: number;
  /** The server is SIGKILLed and restarted on its data directory this often (0: never). */
  serverRestartEverySeconds: number;
  /** A binding is deleted and recreated this often. */
  bindingChurnEverySeconds: number;
  /** A workspace is deleted for good this often, up to 1 % of them (at least one). */
  workspaceDeleteEverySeconds: number;
  /** Reconciles that throw, and that wait out their timeout, on purpose (fractions). */
  failRate: number;
  timeoutRate: number;
  /** The reconcile timeout, ms. */
  timeoutMs: number;
  /** The replicas' peer and fence Lease durations (`kcp-mc run --shard-*-lease-duration`). */
  peerLease: string;
  fenceLease: string;
  /** Reconciles at once per replica. */
  concurrency: number;
  /** Bound of the settle after the faults stopped, seconds. */
  settleSeconds: number;
  /** Server faults (`/debug/faults`), when the server has them. */
  serverFaults: object;
  /** Seed of the driver's and the server's randomness. */
  seed: number;
  /** Where the JSON goes (undefined: not saved). */
  out?: string;
}

/** The server faults of a run: watch cuts every 1–5 s (also mid-frame), 1 % 500/429, compaction, slow lists, a 503 window. */
export function serverFaults(seed: number): object {
  return {
    seed,
    watchCuts: { minIntervalMs: 1000, maxIntervalMs: 5000, midFrame: true },
    errors: { rate: 0.01, codes: [500, 429], retryAfterSeconds: 1 },
    unavailable: { everyMs: 45_000, forMs: 3_000 },
    compaction: { everyMs: 20_000 },
    listLatency: { minMs: 0, maxMs: 300 },
  };
}

/** The defaults for `minutes` × `workspaces`. */
export function defaults(minutes: number, workspaces: number): SoakOptions {
  const seed = 20;
  return {
    faultSeconds: minutes * 60,
    workspaces,
    itemsPerWorkspace: 2,
    replicas: 3,
    shards: 2,
    writesPerSecond: Math.min(10, Math.max(5, workspaces / 100)),
    killEverySeconds: 60,
    serverRestartEverySeconds: minutes >= 3 ? 180 : 0,
    bindingChurnEverySeconds: 10,
    workspaceDeleteEverySeconds: Math.min(60, minutes * 30),
    failRate: 0.02,
    timeoutRate: 0.002,
    timeoutMs: 3000,
    // Short Leases hand clusters over within seconds of a kill; at a thousand clusters their
    // renewals alone are a large share of the server's writes, so larger runs take kcp-mc's defaults.
    peerLease: workspaces <= 100 ? '10s' : '30s',
    fenceLease: workspaces <= 100 ? '10s' : '20s',
    concurrency: 4,
    settleSeconds: Math.max(90, Math.ceil(workspaces / 4)),
    serverFaults: serverFaults(seed),
    seed,
  };
}

/** Parses `npm run soak` arguments. */
export function parse(argv: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string', default: '10' },
      workspaces: { type: 'string', default: '1000' },
      seconds: { type: 'string' },
      'kill-every': { type: 'string' },
      'server-restart-every': { type: 'string' },
      'writes-per-second': { type: 'string' },
      'settle-seconds': { type: 'string' },
      seed: { type: 'string' },
      'server-faults': { type: 'string' },
      'no-save': { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${v}"`);
    return n;
  };
  const minutes = num('minutes', values.minutes, 0.1)!;
  const workspaces = num('workspaces', values.workspaces, 1)!;
  if (workspaces > 20_000) throw new Error('--workspaces is bounded at 20000');
  if (minutes > 240) throw new Error('--minutes is bounded at 240');
  const o = defaults(minutes, Math.floor(workspaces));
  o.faultSeconds = num('seconds', values.seconds, 5) ?? o.faultSeconds;
  o.killEverySeconds = num('kill-every', values['kill-every'], 5) ?? o.killEverySeconds;
  o.serverRestartEverySeconds = num('server-restart-every', values['server-restart-every'], 0) ?? o.serverRestartEverySeconds;
  o.writesPerSecond = num('writes-per-second', values['writes-per-second'], 0.1) ?? o.writesPerSecond;
  o.settleSeconds = num('settle-seconds', values['settle-seconds'], 5) ?? o.settleSeconds;
  const seed = num('seed', values.seed, 0);
  if (seed !== undefined) {
    o.seed = seed;
    o.serverFaults = serverFaults(seed);
  }
  if (values['server-faults'] !== undefined) {
    try {
      o.serverFaults = { seed: o.seed, ...(JSON.parse(values['server-faults']) as object) };
    } catch (e) {
      throw new Error(`--server-faults must be a FaultConfig as JSON: ${(e as Error).message}`);
    }
  }
  if (!values['no-save']) o.out = 'bench/results';
  return o;
}
