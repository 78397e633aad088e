/**
 * One replica of a sharded controller group for the "sharding" section, in a process of its own
 * (this file, forked), as `kcp-mc run --sharding` replicas are: an APIExportProvider on the
 * reference server's export and a Manager with Lease sharding, one controller `for` ConfigMap whose
 * reconciler only reads the object from the cache. The section asks it over IPC how far it got
 * (peers, engaged clusters, whether every object of each engaged cluster was reconciled), its heap
 * after a full collection and its CPU time, and for the first reconcile of each cluster after a
 * mark (hand-off) and the reconciles that saw a given `data.touch` (throughput). SIGTERM stops it
 * gracefully (its clusters handed off, its Leases released), as it would stop `kcp-mc run`.
 *
 * Timestamps crossing processes are `Date.now()`: the figures are seconds-scale hand-offs and
 * throughput windows, where the wall clock of one machine is good enough.
 */
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import type { Controller } from '../../src/controller/controller.js';
import { Manager } from '../../src/manager/index.js';
import { APIExportProvider } from '../../src/provider/apiexport.js';
import { IpcChild } from './ipc.js';
import { EXPORT, memoryAfterGC, plainKubeConfigOf, quietLogger, type Started } from './runtime-light.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

/** How a replica is configured. */
export interface ReplicaConfig {
  server: Started;
  /** Shard id. */
  id: string;
  /** Replica group (Lease names). */
  group: string;
  peerLeaseMs: number;
  fenceLeaseMs: number;
  /** Rendezvous weight; default 1. */
  weight?: number;
}

/** What a replica reports about itself. */
export interface ReplicaStatus {
  /** Live peers it sees, itself included. */
  peers: number;
  /** Clusters its provider reports (owned or not). */
  reported: number;
  /** Clusters engaged here (owned, fenced, informers synced). */
  engaged: number;
  /** Engaged clusters not yet reconciled as many times as they have cached objects. */
  unreconciled: number;
  /** Keys in the controller's queue. */
  queued: number;
}

/** Memory of a replica after two full collections, bytes. */
export interface ReplicaHeap {
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
}

/** Reconciles that saw the current touch token. */
export interface TouchCount {
  count: number;
  /** Date.now() of the latest one; 0 when none. */
  lastAt: number;
}

type ReplicaRequest =
  | { op: 'start'; config: ReplicaConfig }
  | { op: 'status' }
  | { op: 'engaged' }
  | { op: 'heap' }
  | { op: 'snapshot'; file: string }
  | { op: 'cpu' }
  | { op: 'mark' }
  | { op: 'firstReconciles' }
  | { op: 'touchToken'; token: string }
  | { op: 'touched' }
  | { op: 'stop' };

// ---- the replica child ----

class ReplicaChild {
  private manager: Manager | undefined;
  private provider: APIExportProvider | undefined;
  private ctrl: Controller | undefined;
  private readonly stopCtl = new AbortController();
  private done: Promise<void> | undefined;
  /** Reconciles per cluster since start. */
  private readonly reconciles = new Map<string, number>();
  /** First reconcile per cluster since the last mark, Date.now(). */
  private readonly first = new Map<string, number>();
  private token = '';
  private readonly touch: TouchCount = { count: 0, lastAt: 0 };

  handle(r: ReplicaRequest): unknown {
    switch (r.op) {
      case 'start':
        return this.start(r.config);
      case 'status':
        return this.status();
      case 'engaged':
        return this.engagedNames();
      case 'heap': {
        memoryAfterGC();
        const m = process.memoryUsage();
        return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss } satisfies ReplicaHeap;
      }
      case 'snapshot':
        memoryAfterGC();
        return writeHeapSnapshot(r.file);
      case 'cpu': {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      }
      case 'mark':
        this.first.clear();
        return null;
      case 'firstReconciles':
        return [...this.first];
      case 'touchToken':
        this.token = r.token;
        this.touch.count = 0;
        this.touch.lastAt = 0;
        return null;
      case 'touched':
        return this.touch;
      case 'stop':
        return this.stop();
    }
  }

  private start(c: ReplicaConfig): null {
    const log = quietLogger();
    const kubeconfig = plainKubeConfigOf(c.server);
    const provider = (this.provider = new APIExportProvider(kubeconfig, { endpointSlice: EXPORT, log }));
    const manager = (this.manager = new Manager({
      provider,
      kubeconfig,
      log,
      gracefulShutdownMs: 5_000,
      sharding: { id: c.id, group: c.group, peerLeaseDuration: c.peerLeaseMs, fenceLeaseDuration: c.fenceLeaseMs, weight: c.weight },
    }));
    this.ctrl = manager
      .controller('bench-read')
      .for(CM)
      .reconcile((req, ctx) => {
        this.reconciles.set(req.cluster, (this.reconciles.get(req.cluster) ?? 0) + 1);
        if (!this.first.has(req.cluster)) this.first.set(req.cluster, Date.now());
        const obj = ctx.cluster.cache.get(CM, { namespace: req.namespace, name: req.name }) as { data?: Record<string, string> } | undefined;
        if (this.token && obj?.data?.['touch'] === this.token) {
          this.touch.count++;
          this.touch.lastAt = Date.now();
        }
      });
    this.done = manager.start({ signal: this.stopCtl.signal });
    return null;
  }

  private engagedNames(): string[] {
    return (this.manager?.clusters() ?? []).filter((c) => c.state === 'engaged').map((c) => c.name);
  }

  private status(): ReplicaStatus {
    const names = this.engagedNames();
    let unreconciled = 0;
    for (const name of names) {
      let cached = 0;
      try {
        cached = this.provider!.get(name).cache.list(CM).length;
      } catch {
        // left meanwhile: not engaged any more
      }
      if ((this.reconciles.get(name) ?? 0) < cached) unreconciled++;
    }
    return {
      peers: this.manager?.sharding?.peers().length ?? 0,
      reported: this.provider?.clusterNames().length ?? 0,
      engaged: names.length,
      unreconciled,
      queued: this.ctrl?.queue.len() ?? 0,
    };
  }

  async stop(): Promise<null> {
    this.stopCtl.abort();
    await this.done;
    return null;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const child = new ReplicaChild();
  process.on('message', (m: { id: number; req: ReplicaRequest }) => {
    Promise.resolve()
      .then(() => child.handle(m.req))
      .then(
        (result) => process.send!({ id: m.id, ok: true, result }),
        (e: unknown) => process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
      );
  });
  const exit = () => void child.stop().finally(() => process.exit(0));
  process.once('SIGTERM', exit);
  process.on('disconnect', exit);
}

// ---- the section's side ----

/** A replica process driven over IPC. */
export class ReplicaProcess {
  private readonly child: IpcChild<ReplicaRequest>;

  constructor(readonly id: string) {
    this.child = new IpcChild<ReplicaRequest>(fileURLToPath(import.meta.url), `replica ${id}`);
  }

  /** Resolves with the exit code or signal once the process is gone. */
  get exited(): Promise<number | string> {
    return this.child.exited;
  }

  /** Starts the manager (returns at once; see `status`). */
  start(config: Omit<ReplicaConfig, 'id'>): Promise<null> {
    return this.child.call({ op: 'start', config: { ...config, id: this.id } }, 30_000);
  }

  status(): Promise<ReplicaStatus> {
    return this.child.call({ op: 'status' }, 60_000);
  }

  /** Names of the clusters engaged here now. */
  engaged(): Promise<string[]> {
    return this.child.call({ op: 'engaged' }, 60_000);
  }

  heap(): Promise<ReplicaHeap> {
    return this.child.call({ op: 'heap' }, 60_000);
  }

  /** Writes a heap snapshot after a full collection (for analysis; not used by the section). */
  snapshot(file: string): Promise<string> {
    return this.child.call({ op: 'snapshot', file }, 300_000);
  }

  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): Promise<number> {
    return this.child.call({ op: 'cpu' }, 60_000);
  }

  /** Forgets the first reconciles seen so far. */
  mark(): Promise<null> {
    return this.child.call({ op: 'mark' }, 60_000);
  }

  /** The first reconcile of each cluster since the last mark, Date.now() ms. */
  async firstReconciles(): Promise<Map<string, number>> {
    return new Map(await this.child.call<[string, number][]>({ op: 'firstReconciles' }, 60_000));
  }

  /** Counts reconciles that see `data.touch` = `token` from now on. */
  touchToken(token: string): Promise<null> {
    return this.child.call({ op: 'touchToken', token }, 60_000);
  }

  touched(): Promise<TouchCount> {
    return this.child.call({ op: 'touched' }, 60_000);
  }

  /** SIGTERM (graceful: hands its clusters off) or SIGKILL (gone at once). */
  signal(sig: 'SIGTERM' | 'SIGKILL'): void {
    this.child.kill(sig);
  }

  /** Stops gracefully (its clusters handed off, its fences released), or kills after `timeoutMs` (default 20 s). */
  stop(timeoutMs?: number): Promise<void> {
    return this.child.stop({ op: 'stop' }, timeoutMs);
  }
}
