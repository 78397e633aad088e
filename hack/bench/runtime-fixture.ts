/**
 * What the runtime sections share: the reference server child (see runtime-server.ts) driven over
 * IPC, the provider's kubeconfig, the clock offset between the two processes, memory after a full
 * collection, and the count of this process's TCP sockets to the server.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { IpcChild } from './ipc.js';
import { PROVIDER_PATH, type Created, type LoadResult, type Request, type Started, type Stream, type Touched } from './runtime-server.js';
import { median, round } from './stats.js';
import type { BenchRow } from './types.js';

export { memoryAfterGC, quietLogger } from './runtime-light.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runtime-server.js');

/** Absolute ms (`timeOrigin + now`), comparable across processes once corrected by the offset. */
export function absNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The reference server in a child process. */
export class ServerProcess {
  private readonly child: IpcChild<Request>;
  /** Set by `start`. */
  info!: Started;
  /** child clock − this clock, ms (see `calibrate`). */
  offsetMs = 0;

  /**
   * `heapMiB`: the child's V8 heap limit, for servers holding more than the default (~4 GiB) allows
   * (100,000 bound workspaces take ~25 KiB of server heap each, beyond its watch history).
   */
  constructor(opts: { heapMiB?: number } = {}) {
    this.child = new IpcChild<Request>(CHILD, 'server process', undefined, opts.heapMiB ? [`--max-old-space-size=${opts.heapMiB}`] : []);
  }

  /** One request, bounded by `maxMs`. */
  call<T>(req: Request, maxMs = 60_000): Promise<T> {
    return this.child.call<T>(req, maxMs);
  }

  /** Starts the server with the export and the WorkspaceType; measures the clock offset. */
  async start(tls: boolean): Promise<Started> {
    this.info = await this.call<Started>({ op: 'start', tls });
    await this.calibrate();
    return this.info;
  }

  /** Creates bound workspaces (with one load ConfigMap each when asked). */
  workspaces(count: number, opts: { prefix: string; loadConfigMap?: boolean; concurrency?: number; maxMs?: number }): Promise<Created> {
    const maxMs = opts.maxMs ?? 600_000;
    return this.call<Created>({ op: 'workspaces', count, prefix: opts.prefix, loadConfigMap: opts.loadConfigMap ?? false, concurrency: opts.concurrency ?? 32, maxMs }, maxMs + 120_000);
  }

  /** Open watch streams on the server. */
  watches(): Promise<number> {
    return this.call<number>({ op: 'watches' });
  }

  /** Paced writes; see the server child. */
  load(streams: Stream[], seconds: number, maxInFlight = 128): Promise<LoadResult> {
    return this.call<LoadResult>({ op: 'load', streams, seconds, maxInFlight }, seconds * 1000 + 60_000);
  }

  /** Creates ConfigMaps in one cluster. */
  createConfigMaps(cluster: string, names: string[]): Promise<number> {
    return this.call<number>({ op: 'createConfigMaps', cluster, names }, 120_000);
  }

  /** Creates `perCluster` ConfigMaps (`fillName(i)`) in each of `clusters`. */
  fill(clusters: string[], perCluster: number, maxMs: number): Promise<Touched> {
    return this.call<Touched>({ op: 'fill', clusters, perCluster, concurrency: 64, maxMs }, maxMs + 60_000);
  }

  /** Replaces each ConfigMap `fill` created once, with `data.touch` = `token`. */
  touch(clusters: string[], perCluster: number, token: string, maxMs: number): Promise<Touched> {
    return this.call<Touched>({ op: 'touch', clusters, perCluster, token, concurrency: 64, maxMs }, maxMs + 60_000);
  }

  /** CPU seconds (user + system) the server process used so far. */
  cpuSeconds(): Promise<number> {
    return this.call<number>({ op: 'cpu' });
  }

  /** The child clock's offset, from the IPC ping with the shortest round trip of 20. */
  async calibrate(): Promise<void> {
    let best = Infinity;
    for (let i = 0; i < 20; i++) {
      const t0 = absNow();
      const child = await this.call<number>({ op: 'now' });
      const t1 = absNow();
      if (t1 - t0 < best) {
        best = t1 - t0;
        this.offsetMs = child - (t0 + t1) / 2;
      }
    }
  }

  /** A child timestamp on this process's clock. */
  local(childMs: number): number {
    return childMs - this.offsetMs;
  }

  /** Stops the server and the child. */
  stop(): Promise<void> {
    return this.child.stop({ op: 'stop' });
  }
}

/** A kubeconfig for `cluster` (a path or name) of the server; default the provider workspace. */
export function kubeConfigOf(info: Started, server = `${info.url}/clusters/${PROVIDER_PATH}`): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses a token over plain HTTP unless TLS verification is off (which means nothing there).
    clusters: [{ name: 'c', server, caData: info.ca ? Buffer.from(info.ca).toString('base64') : undefined, skipTLSVerify: !info.ca }],
    users: [{ name: 'u', token: info.token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}


/**
 * Established TCP sockets of this process to `port` (from /proc: the socket inodes among this
 * process's file descriptors, matched against /proc/self/net/tcp{,6}). NaN where /proc is missing.
 */
export function socketsTo(port: number): number {
  try {
    const inodes = new Set<string>();
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    let n = 0;
    for (const f of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
      if (!fs.existsSync(f)) continue;
      for (const line of fs.readFileSync(f, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        // rem_address ends in :PORT; state 01 is ESTABLISHED; column 9 is the inode.
        if (cols[2]!.endsWith(`:${hex}`) && cols[3] === '01' && inodes.has(cols[9]!)) n++;
      }
    }
    return n;
  } catch {
    return NaN;
  }
}

/** A row of a runtime section: the median of `runs`, rounded. */
export function row(section: string, name: string, unit: string, runs: number[], extra: Partial<BenchRow> = {}): BenchRow {
  return { section, name, unit, median: round(median(runs)), runs: runs.map(round), ...extra };
}

/** The problems of several runs, joined. */
export function problemOf(runs: readonly { problem?: string }[]): { problem?: string } {
  const p = runs.map((r) => r.problem).filter(Boolean).join(' | ');
  return p ? { problem: p } : {};
}

/** Sleeps `ms` (for pacing and settling, never for correctness). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
