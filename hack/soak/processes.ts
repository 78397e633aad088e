/**
 * The soak's processes: `kcp-mc server` on a data directory (SIGKILLed and restarted on it), and the
 * `kcp-mc run --sharding` replicas of the soak controller (each SIGKILLed and restarted as a new
 * incarnation). Output is kept bounded; an exit nobody asked for is recorded as a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The CLI of this build. */
export const CLI = path.resolve(HERE, '../../src/cli/main.js');
/** The soak controller module of this build. */
export const MODULE = path.join(HERE, 'controller.js');
/** Output kept per process (its tail), so that hours of logs do not grow the driver. */
const KEEP = 256 * 1024;

/** A process that exited without being asked to. */
export interface Crash {
  /** `server`, or the replica incarnation. */
  who: string;
  code: number | null;
  signal: string | null;
  /** The tail of its stderr. */
  tail: string;
}

/** A free TCP port on 127.0.0.1 (for a server that must come back on the same port). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A child with its output tails, the exit awaited, and a crash recorded unless it was stopped on purpose. */
class Child {
  out = '';
  err = '';
  /** Log lines by their `event` field (informer relists, retries), counted as they stream. */
  readonly events = new Map<string, number>();
  private partial = '';
  readonly exited: Promise<void>;
  private stopping = false;

  constructor(
    readonly who: string,
    readonly proc: ChildProcess,
    crashes: Crash[],
  ) {
    proc.stdout!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-KEEP)));
    proc.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.err = (this.err + text).slice(-KEEP);
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop()!.slice(-KEEP);
      for (const l of lines) {
        const ev = /"event":"([a-z-]+)"/.exec(l)?.[1];
        if (ev) this.events.set(ev, (this.events.get(ev) ?? 0) + 1);
      }
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        if (!this.stopping) crashes.push({ who, code, signal, tail: this.err.slice(-4000) });
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `sig` and waits for the exit; a process still running after 30 s is SIGKILLed (and `hung` says so). */
  async stop(sig: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    if (this.alive) this.proc.kill(sig);
    const timer = setTimeout(() => {
      this.hung = true;
      this.proc.kill('SIGKILL');
    }, 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** It did not exit within 30 s of a stop signal. */
  hung = false;

  /** Waits until `pred` matches a line of `stream`; fails if the process exits first or after `ms`. */
  async waitLine(stream: 'out' | 'err', pred: (line: string) => boolean, ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this[stream].split('\n').find(pred);
      if (hit) return hit;
      if (!this.alive) throw new Error(`${this.who} exited (${this.proc.exitCode ?? this.proc.signalCode}):\n${this.err.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${this.who}: no such line within ${ms} ms:\n${this.err.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `kcp-mc server --shards N --data-dir D` on a fixed port, restartable. */
export class ServerProcess {
  private child: Child | undefined;
  readonly rootDir: string;
  readonly dataDir: string;
  /** How many times it was started. */
  starts = 0;

  constructor(
    dir: string,
    readonly port: number,
    readonly shards: number,
    private readonly crashes: Crash[],
    private readonly extraArgs: string[] = [],
  ) {
    this.rootDir = path.join(dir, 'root');
    this.dataDir = path.join(dir, 'data');
  }

  /** The admin kubeconfig the server writes. */
  get kubeconfig(): string {
    return path.join(this.rootDir, 'admin.kubeconfig');
  }

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts) the server and waits until it serves. */
  async start(): Promise<void> {
    const args = [CLI, 'server', '--port', String(this.port), '--root-dir', this.rootDir, '--data-dir', this.dataDir, '--shards', String(this.shards), ...this.extraArgs];
    this.child = new Child('server', spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }), this.crashes);
    this.starts++;
    await this.child.waitLine('out', (l) => l.includes('kcp reference server ready'), 60_000);
  }

  /** SIGKILL, then wait for the exit. */
  async kill(): Promise<void> {
    await this.child?.stop('SIGKILL');
  }

  /** SIGTERM, then wait for the exit. */
  async stop(): Promise<void> {
    await this.child?.stop('SIGTERM');
  }
}

/** What a replica is started with. */
export interface ReplicaConfig {
  kubeconfig: string;
  ledger: string;
  dir: string;
  failRate: number;
  timeoutRate: number;
  timeoutMs: number;
  concurrency: number;
  peerLease: string;
  fenceLease: string;
}

/** One `kcp-mc run --sharding` replica; each start is a new incarnation `<id>#<n>`. */
export class ReplicaProcess {
  private child: Child | undefined;
  private gen = 0;
  /** The metrics URL of the current incarnation. */
  metricsURL = '';
  /** Every incarnation with when it started and (if it did) stopped or was killed. */
  readonly incarnations: { id: string; from: number; to?: number; killed: boolean }[] = [];

  constructor(
    readonly id: string,
    private readonly cfg: ReplicaConfig,
    private readonly crashes: Crash[],
  ) {}

  /** The current incarnation's id. */
  get incarnation(): string {
    return `${this.id}#${this.gen}`;
  }

  get alive(): boolean {
    return this.child?.alive ?? false;
  }

  private get heapFile(): string {
    return path.join(this.cfg.dir, `heap-${this.id}.json`);
  }

  /** Starts a new incarnation and waits until it serves metrics. */
  async start(): Promise<void> {
    this.gen++;
    const c = this.cfg;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KCP_MC_') && !k.startsWith('SOAK_')) env[k] = v;
    Object.assign(env, {
      KCP_MC_SHARD_ID: this.id,
      SOAK_LEDGER: c.ledger,
      SOAK_REPLICA: this.incarnation,
      SOAK_FAIL_RATE: String(c.failRate),
      SOAK_TIMEOUT_RATE: String(c.timeoutRate),
      SOAK_TIMEOUT_MS: String(c.timeoutMs),
      SOAK_HEAP_FILE: this.heapFile,
    });
    const args = [
      CLI, 'run', MODULE,
      '--kubeconfig', c.kubeconfig,
      '--sharding',
      '--shard-peer-lease-duration', c.peerLease,
      '--shard-fence-lease-duration', c.fenceLease,
      '--concurrency', String(c.concurrency),
      '--metrics-bind-address', '127.0.0.1:0',
      '--health-probe-bind-address', '127.0.0.1:0',
      '--graceful-shutdown', '10s',
    ];
    this.child = new Child(this.incarnation, spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env }), this.crashes);
    this.incarnations.push({ id: this.incarnation, from: Date.now(), killed: false });
    const line = await this.child.waitLine('err', (l) => l.includes('"serving metrics"'), 60_000);
    this.metricsURL = (JSON.parse(line) as { url: string }).url;
  }

  private ended(killed: boolean): void {
    const inc = this.incarnations.at(-1);
    if (inc && inc.to === undefined) Object.assign(inc, { to: Date.now(), killed });
  }

  /** SIGKILL the current incarnation. */
  async kill(): Promise<void> {
    this.ended(true);
    await this.child?.stop('SIGKILL');
  }

  /** SIGTERM the current incarnation and wait for its graceful exit; its exit code. */
  async stop(): Promise<number | null> {
    await this.child?.stop('SIGTERM');
    this.ended(false);
    return this.child?.hung ? null : (this.child?.proc.exitCode ?? null);
  }

  /** Informer log events (`expired`, `retry`…) of the current incarnation so far. */
  get events(): ReadonlyMap<string, number> {
    return this.child?.events ?? new Map();
  }

  /** The current incarnation's /metrics text. */
  async metrics(): Promise<string> {
    const res = await fetch(this.metricsURL, { signal: AbortSignal.timeout(10_000) });
    return res.text();
  }

  /** heapUsed after two full collections in the current incarnation, bytes. */
  async heap(): Promise<number> {
    const before = Date.now();
    this.child!.proc.kill('SIGUSR2');
    const deadline = before + 20_000;
    while (Date.now() < deadline) {
      try {
        const h = JSON.parse(fs.readFileSync(this.heapFile, 'utf8')) as { heapUsed: number; t: number };
        if (h.t >= before) return h.heapUsed;
      } catch {
        // not written yet, or half written
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.incarnation} did not report its heap within 20 s`);
  }
}

/** The value of a counter/gauge sample `name{controller="<controller>"}` (0 when absent). */
export function sample(text: string, name: string, controller: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!line.includes(`controller="${controller}"`)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
