/**
 * `Manager`: a provider, controllers, and everything around them: the cluster lifecycle, metrics
 * at `/metrics`, `/healthz` and `/readyz`, leader election with a Lease, and a clean shutdown
 * (stop taking work, let reconciles finish up to a grace period, release the lease, close watches).
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { ClusterClient, Transport } from '../client/index.js';
import { Builder } from '../controller/builder.js';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { Controller, ControllerOptions } from '../controller/controller.js';
import { Logger } from '../log/index.js';
import { RuntimeMetrics } from '../metrics/index.js';
import { ClusterNotFoundError, type Cluster, type Provider } from '../provider/types.js';
import { ClusterNotOwnedError, LeaseCoordinator, type Coordinator, type ShardingOptions } from '../sharding/index.js';
import { WebhookBuilder, WebhookServer, type WebhookOptions, type WebhookRegistration } from '../webhook/index.js';
import { HealthChecks } from './health.js';
import { metricsHandler, parseBindAddress, startHttpServer } from './http.js';
import { LeaderElector } from './leader.js';
import { ClusterLifecycle, type ClusterRecord } from './lifecycle.js';
import { ShardRouter } from './sharding.js';

/** Leader election settings. */
export interface LeaderElectionConfig {
  /** The Lease name (controller-runtime's `LeaderElectionID`). */
  id: string;
  /** Namespace of the Lease in the kubeconfig's workspace; default `default` (kcp workspaces have no kube-system). */
  namespace?: string;
  /** How long a standby waits, from the last change it saw, before taking over; default 15 s, as controller-runtime. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before it steps down; default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between acquire and renew attempts; default 2 s. */
  retryPeriodMs?: number;
  /** Default `<hostname>_<uuid>`. */
  identity?: string;
}

/** Options of a `Manager`. */
export interface ManagerOptions {
  /** Where clusters come from. */
  provider: Provider;
  /** The provider's own workspace, for the leader-election Lease. */
  kubeconfig?: KubeConfigLike;
  /** Logger; default JSON lines on stderr at info. */
  log?: Logger;
  /** Defaults for every controller (multicluster-runtime #163/#177: they always apply). */
  controllerDefaults?: ControllerOptions;
  /** `/metrics` address (`:8080`, `127.0.0.1:8080`, `0` off); default off. */
  metricsBindAddress?: string;
  /** `/healthz` and `/readyz` address; default off. */
  healthProbeBindAddress?: string;
  /** Leader election; off by default. Exclusive with `sharding`. */
  leaderElection?: LeaderElectionConfig;
  /**
   * Shards clusters across the replicas of this controller group: each cluster is worked on by
   * exactly one replica at a time, fenced by a Lease. Off by default (every cluster is owned).
   * `coordinator` replaces the built-in Lease coordinator.
   */
  sharding?: ShardingOptions & {
    /** A coordinator of your own; default the Lease coordinator in the kubeconfig's workspace. */
    coordinator?: Coordinator;
  };
  /** How long reconciles in flight may run after shutdown begins; default 30 s. */
  gracefulShutdownMs?: number;
  /** Metric options: an opt-in, capped `cluster` label. */
  metrics?: {
    /** Adds a capped `cluster` label to the reconcile metrics; default false. */
    clusterLabel?: boolean;
    /** Registers the metrics here instead of a new `RuntimeMetrics` (then `clusterLabel` is the registry's own). */
    registry?: RuntimeMetrics;
  };
  /** Label of this manager's provider in metrics; default `kcp`. */
  providerName?: string;
  /** The webhook server, started when a webhook is registered. */
  webhook?: {
    /** Address (`:9443`, `127.0.0.1:0`, `0` off); default `:9443`. */
    bindAddress?: string;
    /** Folder of `tls.crt`/`tls.key`, reloaded when they change; default `<os tmp>/k8s-webhook-server/serving-certs`. */
    certDir?: string;
    /** Certificate file name; default `tls.crt`. */
    certName?: string;
    /** Key file name; default `tls.key`. */
    keyName?: string;
  };
}

/** Thrown by `start` when the lease was lost: the process should exit. */
export class LeaderElectionLostError extends Error {
  constructor() {
    super('leader election lost');
    this.name = 'LeaderElectionLostError';
  }
}

/** Runs controllers across the provider's clusters. */
export class Manager {
  /** The provider. */
  readonly provider: Provider;
  /** The manager's logger. */
  readonly log: Logger;
  /** Metrics (controller-runtime's names). */
  readonly metrics: RuntimeMetrics;
  /** Named health and readiness checks. */
  readonly health = new HealthChecks();
  private readonly controllers = new Map<string, Controller>();
  private readonly lifecycle: ClusterLifecycle;
  private readonly opts: ManagerOptions;
  private running: { signal: AbortSignal } | undefined;
  /** Controllers whose workers run (all of them once leading; before that those that need no leadership). */
  private readonly started = new Set<Controller>();
  private urls: { metrics?: string; health?: string; webhook?: string } = {};
  private elector: LeaderElector | undefined;
  private leader = false;
  private providerStopped: Promise<void> | undefined;
  /** The provider runs until the controllers have stopped, so reconciles in their grace period still read caches. */
  private providerCtl: AbortController | undefined;
  /** Sharding: the coordinator, the ownership gate in front of the lifecycle, and the coordinator's run. */
  private coordinator: Coordinator | undefined;
  private router: ShardRouter | undefined;
  private coordinatorRun: { ctl: AbortController; done: Promise<void> } | undefined;
  private webhookServer: WebhookServer | undefined;
  private readonly webhookRegs: WebhookRegistration[] = [];

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.provider = opts.provider;
    this.log = opts.log ?? new Logger();
    this.metrics = opts.metrics?.registry ?? new RuntimeMetrics({ clusterLabel: opts.metrics?.clusterLabel });
    const providerLabel = opts.providerName ?? 'kcp';
    this.lifecycle = new ClusterLifecycle(this.log, {
      engaged: (rec) => {
        this.metrics.clusters.engaged(providerLabel, 1);
        this.metrics.clusters.engagement('engaged');
        this.log.info('cluster engaged', { cluster: rec.name, path: rec.cluster.path });
      },
      failed: () => this.metrics.clusters.engagement('failed'),
      disengaged: (rec) => {
        this.metrics.clusters.engaged(providerLabel, -1);
        this.metrics.clusters.engagement('disengaged');
        this.log.info('cluster disengaged', { cluster: rec.name });
      },
    });
    if (opts.sharding && opts.leaderElection) {
      throw new Error('sharding and leader election are exclusive: with sharding every replica works, each on its own clusters');
    }
    if (opts.sharding && !opts.sharding.coordinator && !opts.kubeconfig) throw new Error('sharding needs the kubeconfig of the provider workspace (for its Leases) or a coordinator');
    this.health.addReadyzCheck('provider', () => {
      // A standby is ready: it is healthy and waits to take over; its provider runs only once it leads.
      if (this.opts.leaderElection && !this.leader) return;
      const r = this.provider.ready?.() ?? { ready: true };
      if (!r.ready) throw new Error(r.reason ?? 'provider not synced');
    });
    this.health.addReadyzCheck('clusters', () => {
      const why = this.lifecycle.notReady();
      if (why !== undefined) throw new Error(why);
    });
  }

  /** Starts building a controller; `reconcile(fn)` completes it. */
  controller(name: string): Builder {
    if (this.controllers.has(name)) throw new Error(`a controller named ${JSON.stringify(name)} already exists`);
    return new Builder(name, {
      defaults: () => ({ ...this.opts.controllerDefaults }),
      metrics: (n) => this.metrics.controller(n),
      add: (c) => this.add(c),
    });
  }

  /**
   * Starts building the admission webhooks of `type`: `.default(fn)` and `.validate({ create,
   * update, delete })` each register a path on the manager's HTTPS webhook server.
   */
  webhook<T extends KubernetesObject>(type: ObjectType<T>, opts: WebhookOptions = {}): WebhookBuilder<T> {
    return new WebhookBuilder(type, {
      log: this.log,
      engaged: (name) => this.lifecycle.get(name)?.cluster ?? this.lifecycle.list().find((r) => r.cluster.informerCluster === name)?.cluster,
      register: (reg, handler) => {
        if (!this.webhookServer) {
          if (this.running) throw new Error('register the first webhook before manager.start(): the webhook server starts with the manager');
          const o = this.opts.webhook ?? {};
          this.webhookServer = new WebhookServer({ certDir: o.certDir, certName: o.certName, keyName: o.keyName, log: this.log, metrics: this.metrics.webhook });
          if (parseBindAddress(o.bindAddress ?? ':9443')) this.health.addReadyzCheck('webhook', this.webhookServer.readyCheck());
        }
        this.webhookServer.register(reg.path, handler);
        this.webhookRegs.push(reg);
      },
    });
  }

  /** The registered webhooks (what `kcp-mc run --install` writes configurations for). */
  webhooks(): readonly WebhookRegistration[] {
    return [...this.webhookRegs];
  }

  /** The controllers, by name. */
  getControllers(): Controller[] {
    return [...this.controllers.values()];
  }

  /**
   * A cluster the provider engaged (throws `ClusterNotFoundError` for any other name). Clusters
   * still syncing or retrying count: a controller that synced first already reconciles there.
   */
  getCluster(
    name: string,
    opts: {
      /** Also answer for a cluster another replica owns (sharding); default false: that throws `ClusterNotOwnedError`. */
      anyOwner?: boolean;
    } = {},
  ): Cluster {
    const engaged = this.lifecycle.get(name)?.cluster;
    if (engaged) return engaged;
    const c = this.provider.get(name);
    // Ownership is by logical cluster name, whatever `name` was (a path-aware provider takes paths too).
    if (this.router && !opts.anyOwner && !c.unsharded && !this.router.owns(c.name)) throw new ClusterNotOwnedError(name, this.router.ownerOf(c.name));
    return c;
  }

  /** The coordinator when sharding (this replica's id, the live peers, who owns what). */
  get sharding(): Coordinator | undefined {
    return this.coordinator;
  }

  /** Clusters the manager engaged, with their state (syncing, retrying, engaged). */
  clusters(): Pick<ClusterRecord, 'name' | 'state' | 'failures' | 'lastError'>[] {
    return this.lifecycle.list().map((r) => ({ name: r.name, state: r.state, failures: r.failures, lastError: r.lastError }));
  }

  /** Addresses of the HTTP servers once started. */
  get addresses(): {
    /** Base URL of the metrics server, e.g. `http://127.0.0.1:8080` (serves `/metrics`). */
    metrics?: string;
    /** Base URL of the probe server (serves `/healthz` and `/readyz`). */
    health?: string;
    /** Base URL of the webhook server, e.g. `https://127.0.0.1:9443`. */
    webhook?: string;
  } {
    return { ...this.urls };
  }

  /** Whether this process holds leadership (always true without leader election). */
  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Runs until `signal` aborts (resolves after a clean shutdown) or leadership is lost (rejects
   * with `LeaderElectionLostError`).
   */
  async start(o: { signal: AbortSignal }): Promise<void> {
    if (this.running) throw new Error('manager already started');
    const stop = new AbortController();
    const signal = AbortSignal.any([o.signal, stop.signal]);
    this.running = { signal };
    const servers: { close(): Promise<void> }[] = [];
    let lost = false;
    try {
      const m = parseBindAddress(this.opts.metricsBindAddress ?? '0');
      if (m) {
        const s = await startHttpServer(m, metricsHandler(this.metrics));
        servers.push(s);
        this.urls.metrics = s.url;
        this.log.info('serving metrics', { url: `${s.url}/metrics` });
      }
      const h = parseBindAddress(this.opts.healthProbeBindAddress ?? '0');
      if (h) {
        const s = await startHttpServer(h, this.health.handler());
        servers.push(s);
        this.urls.health = s.url;
        this.log.info('serving health probes', { url: s.url });
      }
      const ws = this.webhookServer;
      const w = ws && parseBindAddress(this.opts.webhook?.bindAddress ?? ':9443');
      if (ws && w) {
        // Webhooks serve on standbys too: the API server calls any replica.
        await ws.start(w);
        servers.push(ws);
        this.urls.webhook = ws.url;
      }
      if (this.opts.leaderElection) {
        const le = this.opts.leaderElection;
        if (!this.opts.kubeconfig) throw new Error('leader election needs the kubeconfig of the provider workspace');
        const client = new ClusterClient(Transport.fromKubeConfig(this.opts.kubeconfig));
        this.elector = new LeaderElector({
          client,
          name: le.id,
          namespace: le.namespace,
          identity: le.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          log: this.log.with({ component: 'leader-election' }),
          onChange: (l) => this.metrics.leader(le.id, l),
        });
        // Controllers that need no leadership run on every replica, standbys included.
        const early = [...this.controllers.values()].filter((c) => !c.needLeaderElection);
        if (early.length > 0) {
          this.runProvider(stop);
          for (const c of early) this.startController(c);
        }
        this.log.info('waiting for leadership', { lease: `${le.namespace ?? 'default'}/${le.id}`, identity: this.elector.identity });
        try {
          await this.elector.acquire(signal);
        } catch (e) {
          if (signal.aborted) return;
          throw e;
        }
        this.log.info('became leader', { identity: this.elector.identity });
        this.elector.lost.addEventListener('abort', () => {
          lost = true;
          this.log.error('leadership lost; stopping');
          stop.abort(new LeaderElectionLostError());
        }, { once: true });
      }
      if (this.opts.sharding) {
        // Built at start: the group name may be settled after construction (kcp-mc run names it after setup).
        const coordinator = this.opts.sharding.coordinator ?? this.leaseCoordinator(this.opts.sharding);
        this.coordinator = coordinator;
        this.router = new ShardRouter(coordinator, this.lifecycle, {
          log: this.log.with({ component: 'sharding', shard: coordinator.id }),
          controllers: () => [...this.started],
          settleMs: this.opts.gracefulShutdownMs ?? 30_000,
          // A fence held elsewhere is asked for again well within its duration (the coordinator
          // forgets what it saw of a fence nobody asks about).
          retryMs: Math.min(1_000, (this.opts.sharding.fenceLeaseDuration ?? 20_000) / 3),
          hooks: this.metrics.shard,
        });
        const ctl = new AbortController();
        const done = coordinator.start(ctl.signal).catch((e: unknown) => {
          this.log.error('sharding coordinator stopped with an error', { err: e });
          stop.abort(e);
        });
        this.coordinatorRun = { ctl, done };
        // Ownership is decided on a view of the peers, not on "only me" at start.
        try {
          await coordinator.ready(signal);
        } catch (e) {
          if (signal.aborted) return;
          throw e;
        }
        this.log.info('sharding', { shard: coordinator.id, peers: coordinator.peers().map((p) => p.id) });
        // Before the provider runs: a replica that owns nothing yet must not cache everything meanwhile.
        this.provider.restrictCaches?.();
      }
      this.leader = true;
      for (const c of this.controllers.values()) this.startController(c);
      this.runProvider(stop);
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await this.shutdown(lost);
      for (const s of servers) await s.close().catch(() => undefined);
      this.running = undefined;
    }
    if (lost) throw new LeaderElectionLostError();
    const reason: unknown = stop.signal.reason;
    if (stop.signal.aborted && reason instanceof Error && !(reason instanceof LeaderElectionLostError)) throw reason;
  }

  private add(c: Controller): void {
    if (this.controllers.has(c.name)) throw new Error(`a controller named ${JSON.stringify(c.name)} already exists`);
    this.controllers.set(c.name, c);
    // Added while running: it starts now if it may (the provider runs already in that case), else at leadership.
    if (this.running && this.providerCtl && (this.leader || !c.needLeaderElection)) this.startController(c);
  }

  private startController(c: Controller): void {
    if (this.started.has(c) || !this.running) return;
    this.started.add(c);
    const router = this.router;
    c.start({
      log: this.log.with({ controller: c.name }),
      signal: this.running.signal,
      ...(router ? { owns: (cluster: string) => router.owns(cluster), notOwnedDropped: () => this.metrics.shard.notOwnedDropped() } : {}),
    });
    this.lifecycle.addController(c);
  }

  /** Starts the provider once; engagement starts with it. */
  private runProvider(stop: AbortController): void {
    if (this.providerCtl) return;
    this.lifecycle.activate();
    this.providerCtl = new AbortController();
    this.providerStopped = this.provider.start(this.router ?? this.lifecycle, this.providerCtl.signal).catch((e: unknown) => {
      this.log.error('provider stopped with an error', { err: e });
      stop.abort(e);
    });
  }

  /** The built-in coordinator: Leases in the provider's workspace (sharding excludes leader election, so the group is `o.group` or the coordinator's default). */
  private leaseCoordinator(o: ShardingOptions): Coordinator {
    const client = new ClusterClient(Transport.fromKubeConfig(this.opts.kubeconfig!));
    return new LeaseCoordinator({ ...o, client, log: this.log, metrics: this.metrics.shard });
  }

  private async shutdown(lost: boolean): Promise<void> {
    const grace = lost ? 0 : (this.opts.gracefulShutdownMs ?? 30_000);
    // Sharded: leave the group first, so that the others take each cluster over as soon as its
    // fence is released below, instead of after the last one (the fences keep them apart).
    if (this.coordinatorRun && this.coordinator?.leave) {
      await this.coordinator.leave().catch((e: unknown) => this.log.warn('leaving the shard group failed', { err: e }));
    }
    if (this.started.size > 0) {
      this.log.info('shutting down', { graceMs: grace });
      await Promise.all([...this.started].map((c) => c.stop(grace)));
    }
    this.started.clear();
    this.lifecycle.deactivate();
    // Reconciles have settled: the fences go now, so the other replicas take over at once.
    await this.router?.stop();
    this.providerCtl?.abort();
    await this.providerStopped;
    if (this.coordinatorRun) {
      this.coordinatorRun.ctl.abort();
      await this.coordinatorRun.done;
      this.coordinatorRun = undefined;
    }
    this.router = undefined;
    this.providerCtl = undefined;
    this.providerStopped = undefined;
    if (this.elector && this.leader && !lost) await this.elector.release().catch((e: unknown) => this.log.warn('releasing the lease failed', { err: e }));
    this.leader = false;
  }
}
