/**
 * controller-runtime's Prometheus metrics (names, types, label sets and buckets as in CR v0.24),
 * plus the manager's cluster-engagement families. Every `RuntimeMetrics` owns a fresh registry so
 * that two managers in one process never collide on prom-client's global one.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueMetrics } from '../queue/types.js';
import type { ControllerMetrics, HandoffDirection, QueueProbe, ReconcileResultLabel, ShardMetrics } from './types.js';
import { registerWebhookMetrics, type WebhookMetrics } from './webhook.js';

/** The label value that stands in for every value beyond a cardinality cap (CR's spelling). */
export const EXCEEDED_CARDINALITY_LIMIT = 'exceeded_cardinality_limit';

/** Distinct `priority` values of `workqueue_depth` per queue before the rest share one series. */
export const MAX_PRIORITY_VALUES = 25;

/** controller-runtime's `controller_runtime_reconcile_time_seconds` buckets. */
export const RECONCILE_TIME_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/**
 * client-go's `ExponentialBuckets(10e-9, 10, 12)` for the workqueue duration histograms, computed by
 * the same repeated multiplication so the bounds are the same floats (9.999999999999999e-06...).
 */
export const WORKQUEUE_DURATION_BUCKETS: readonly number[] = exponentialBuckets(10e-9, 10, 12);

function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out = [start];
  for (let i = 1; i < count; i++) out.push(out[i - 1]! * factor);
  return out;
}

const RESULTS: readonly ReconcileResultLabel[] = ['success', 'error', 'requeue', 'requeue_after'];

/** Outcome label values of `kcp_mc_cluster_engagements_total`. */
export type EngagementOutcome = 'engaged' | 'failed' | 'disengaged';
const ENGAGEMENT_OUTCOMES: readonly EngagementOutcome[] = ['engaged', 'failed', 'disengaged'];

/** `kcp_mc_shard_fence_wait_seconds` buckets: from a free fence (milliseconds) to waiting out peer and fence leases (minutes). */
export const FENCE_WAIT_BUCKETS: readonly number[] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 300];
const HANDOFF_DIRECTIONS: readonly HandoffDirection[] = ['gained', 'lost'];

/** Options of `RuntimeMetrics`. */
export interface RuntimeMetricsOptions {
  /** Registry to register on; default a fresh one (never prom-client's global registry). */
  registry?: Registry;
  /** Adds a capped `cluster` label to reconcile_total, reconcile_errors_total and reconcile_time_seconds; default false. */
  clusterLabel?: boolean;
  /** Distinct `cluster` values before the rest are reported as `exceeded_cardinality_limit`; default 25. */
  maxClusterValues?: number;
  /** Registers prom-client's `process_*` and `nodejs_*` collectors; default true. */
  defaultMetrics?: boolean;
}

/** The manager's cluster-engagement hooks. */
export interface ClusterMetrics {
  /** Engaged clusters of `provider` changed by `delta` (kcp_mc_engaged_clusters). */
  engaged(provider: string, delta: number): void;
  /** An engagement attempt or a disengagement finished (kcp_mc_cluster_engagements_total). */
  engagement(outcome: EngagementOutcome): void;
}

type Labels = Partial<Record<string, string>>;

/** The shared metric families; controllers get children of these. */
interface Families {
  reconcileTotal: Counter<string>;
  reconcileErrors: Counter<string>;
  terminalErrors: Counter<string>;
  panics: Counter<string>;
  reconcileTime: Histogram<string>;
  maxConcurrent: Gauge<string>;
  activeWorkers: Gauge<string>;
  timeouts: Counter<string>;
  depth: Gauge<string>;
  adds: Counter<string>;
  queueDuration: Histogram<string>;
  workDuration: Histogram<string>;
  retries: Counter<string>;
}

/** Admits the first `max` distinct values of a label; every later one maps to EXCEEDED_CARDINALITY_LIMIT. */
class CardinalityCap {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return EXCEEDED_CARDINALITY_LIMIT;
    this.seen.add(v);
    return v;
  }
}

/** A counter series and the increments not yet handed to it. */
interface Pending {
  readonly series: Counter.Internal;
  n: number;
}

/** A gauge series and its current value, handed to it at scrape time. */
interface Level {
  readonly series: Gauge.Internal<string>;
  value: number;
}

function flushCount(p: Pending): void {
  if (p.n === 0) return;
  p.series.inc(p.n);
  p.n = 0;
}

// prom-client validates and hashes the label set on every inc/set (~0.2-0.4 µs each). The counts
// that move several times per reconcile (reconcile results, active workers, queue adds and depth)
// are kept as plain numbers and handed to their series when the registry is read (`flush`).

/** One controller's hooks over the shared families, with its label children cached for the hot path. */
class ControllerHooks implements ControllerMetrics {
  readonly queue: QueueHooks;
  probe: QueueProbe | undefined;
  private readonly base: Labels;
  private readonly results = new Map<string, Pending>();
  private readonly errors = new Map<string, Counter.Internal>();
  private readonly times = new Map<string, Histogram.Internal<string>>();
  private readonly terminal: Counter.Internal;
  private readonly panics: Counter.Internal;
  private readonly timeouts: Counter.Internal;
  private readonly activeWorkers: Level;
  private readonly workers: Gauge.Internal<string>;

  constructor(
    readonly name: string,
    private readonly f: Families,
    /** The shared cap on `cluster` values, or undefined when the cluster label is off. */
    private readonly clusters: CardinalityCap | undefined,
    probe: QueueProbe | undefined,
  ) {
    this.probe = probe;
    this.base = { controller: name };
    this.terminal = f.terminalErrors.labels(this.base);
    this.panics = f.panics.labels(this.base);
    this.timeouts = f.timeouts.labels(this.base);
    this.activeWorkers = { series: f.activeWorkers.labels(this.base), value: 0 };
    this.workers = f.maxConcurrent.labels(this.base);
    // CR's initMetrics: every series a dashboard rates over exists at 0 from the start.
    this.terminal.inc(0);
    this.panics.inc(0);
    this.timeouts.inc(0);
    this.activeWorkers.series.set(0);
    this.workers.set(0);
    // Without the cluster label the reconcile series have one fixed key; with it they appear per cluster.
    if (!clusters) this.clusterKey('');
    this.queue = new QueueHooks(name, f);
  }

  reconciled(result: ReconcileResultLabel, seconds: number, cluster: string): void {
    const key = this.clusterKey(cluster);
    this.results.get(`${key}\0${result}`)!.n++;
    this.times.get(key)!.observe(seconds);
  }

  failed(terminal: boolean, cluster: string): void {
    this.errors.get(this.clusterKey(cluster))!.inc();
    if (terminal) this.terminal.inc();
  }

  panicked(): void {
    this.panics.inc();
  }

  timedOut(): void {
    this.timeouts.inc();
  }

  active(delta: number): void {
    this.activeWorkers.value += delta;
  }

  /** Hands the counts kept as numbers to their series. */
  flush(): void {
    for (const p of this.results.values()) flushCount(p);
    this.activeWorkers.series.set(this.activeWorkers.value);
    this.queue.flush();
  }

  maxConcurrent(n: number): void {
    this.workers.set(n);
  }

  /** The cluster label value for `cluster` (capped), creating its series at 0 the first time. */
  private clusterKey(cluster: string): string {
    const key = this.clusters ? this.clusters.value(cluster) : '';
    if (this.times.has(key)) return key;
    const labels: Labels = this.clusters ? { ...this.base, cluster: key } : this.base;
    for (const r of RESULTS) {
      const c = this.f.reconcileTotal.labels({ ...labels, result: r });
      c.inc(0);
      this.results.set(`${key}\0${r}`, { series: c, n: 0 });
    }
    const e = this.f.reconcileErrors.labels(labels);
    e.inc(0);
    this.errors.set(key, e);
    this.times.set(key, this.f.reconcileTime.labels(labels));
    return key;
  }
}

/** The `workqueue_*` hooks of one controller's queue. */
class QueueHooks implements QueueMetrics {
  private readonly labels: Labels;
  private readonly adds: Pending;
  private readonly retries: Counter.Internal;
  private readonly queueDuration: Histogram.Internal<string>;
  private readonly workDuration: Histogram.Internal<string>;
  private readonly priorities = new CardinalityCap(MAX_PRIORITY_VALUES);
  private readonly depths = new Map<string, Level>();

  constructor(name: string, private readonly f: Families) {
    this.labels = { name, controller: name };
    this.adds = { series: f.adds.labels(this.labels), n: 0 };
    this.retries = f.retries.labels(this.labels);
    this.queueDuration = f.queueDuration.labels(this.labels);
    this.workDuration = f.workDuration.labels(this.labels);
    // client-go creates these series with the queue; depth series appear per priority as used.
    this.adds.series.inc(0);
    this.retries.inc(0);
    f.queueDuration.zero(this.labels);
    f.workDuration.zero(this.labels);
  }

  added(): void {
    this.adds.n++;
  }

  depth(priority: number, delta: number): void {
    const p = this.priorities.value(String(priority));
    let g = this.depths.get(p);
    if (!g) {
      g = { series: this.f.depth.labels({ ...this.labels, priority: p }), value: 0 };
      g.series.set(0);
      this.depths.set(p, g);
    }
    g.value += delta;
  }

  /** Hands the counts kept as numbers to their series. */
  flush(): void {
    flushCount(this.adds);
    for (const g of this.depths.values()) g.series.set(g.value);
  }

  retried(): void {
    this.retries.inc();
  }

  queued(seconds: number): void {
    this.queueDuration.observe(seconds);
  }

  worked(seconds: number): void {
    this.workDuration.observe(seconds);
  }
}

/** controller-runtime's metrics and the manager's, on one registry, served by `metrics()`. */
export class RuntimeMetrics {
  /** The registry every family here is registered on. */
  readonly registry: Registry;
  /** The manager's cluster-engagement hooks. */
  readonly clusters: ClusterMetrics;
  private readonly families: Families;
  private readonly controllers = new Map<string, ControllerHooks>();
  private readonly clusterCap: CardinalityCap | undefined;
  private readonly leaderStatus: Gauge<string>;
  private shardHooks: ShardMetrics | undefined;
  private webhookHooks: WebhookMetrics | undefined;

  constructor(opts: RuntimeMetricsOptions = {}) {
    const registry = opts.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    const maxClusters = opts.maxClusterValues ?? 25;
    if (!Number.isInteger(maxClusters) || maxClusters < 0) throw new Error(`maxClusterValues must be a non-negative integer, got ${maxClusters}`);
    this.clusterCap = opts.clusterLabel ? new CardinalityCap(maxClusters) : undefined;
    const cl = opts.clusterLabel ? ['cluster'] : [];

    const controllers = this.controllers;
    const flush = (): void => {
      for (const c of controllers.values()) c.flush();
    };
    const counter = (name: string, help: string, labelNames: string[], collect?: () => void): Counter<string> => new Counter({ name, help, labelNames, registers, collect });
    const gauge = (name: string, help: string, labelNames: string[], collect?: (this: Gauge<string>) => void): Gauge<string> =>
      new Gauge({ name, help, labelNames, registers, collect });
    const histogram = (name: string, help: string, labelNames: string[], buckets: readonly number[]): Histogram<string> =>
      new Histogram({ name, help, labelNames, registers, buckets: [...buckets] });
    const wq = ['name', 'controller'];

    // Help texts are CR's and client-go's, so `# HELP` lines match what existing tooling expects.
    this.families = {
      reconcileTotal: counter('controller_runtime_reconcile_total', 'Total number of reconciliations per controller', ['controller', 'result', ...cl], flush),
      reconcileErrors: counter('controller_runtime_reconcile_errors_total', 'Total number of reconciliation errors per controller', ['controller', ...cl]),
      terminalErrors: counter('controller_runtime_terminal_reconcile_errors_total', 'Total number of terminal reconciliation errors per controller', ['controller']),
      panics: counter('controller_runtime_reconcile_panics_total', 'Total number of reconciliation panics per controller', ['controller']),
      reconcileTime: histogram('controller_runtime_reconcile_time_seconds', 'Length of time per reconciliation per controller', ['controller', ...cl], RECONCILE_TIME_BUCKETS),
      maxConcurrent: gauge('controller_runtime_max_concurrent_reconciles', 'Maximum number of concurrent reconciles per controller', ['controller']),
      activeWorkers: gauge('controller_runtime_active_workers', 'Number of currently used workers per controller', ['controller'], flush),
      timeouts: counter('controller_runtime_reconcile_timeouts_total', 'Total number of reconciliation timeouts per controller', ['controller']),
      depth: gauge('workqueue_depth', 'Current depth of workqueue by workqueue and priority', [...wq, 'priority'], flush),
      adds: counter('workqueue_adds_total', 'Total number of adds handled by workqueue', wq, flush),
      queueDuration: histogram('workqueue_queue_duration_seconds', 'How long in seconds an item stays in workqueue before being requested', wq, WORKQUEUE_DURATION_BUCKETS),
      workDuration: histogram('workqueue_work_duration_seconds', 'How long in seconds processing an item from workqueue takes.', wq, WORKQUEUE_DURATION_BUCKETS),
      retries: counter('workqueue_retries_total', 'Total number of retries handled by workqueue', wq),
    };

    // The probe gauges are read at scrape time: the queue knows these values, nothing pushes them.
    gauge(
      'workqueue_unfinished_work_seconds',
      'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
      wq,
      function () {
        for (const c of controllers.values()) this.set({ name: c.name, controller: c.name }, c.probe?.unfinishedSeconds() ?? 0);
      },
    );
    gauge(
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      wq,
      function () {
        for (const c of controllers.values()) this.set({ name: c.name, controller: c.name }, c.probe?.longestRunningSeconds() ?? 0);
      },
    );

    this.leaderStatus = gauge(
      'leader_election_master_status',
      "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
      ['name'],
    );

    const engagedClusters = gauge('kcp_mc_engaged_clusters', 'Number of clusters currently engaged per provider', ['provider']);
    const engagements = counter('kcp_mc_cluster_engagements_total', 'Total number of cluster engagements by outcome', ['outcome']);
    for (const outcome of ENGAGEMENT_OUTCOMES) engagements.inc({ outcome }, 0);
    this.clusters = {
      engaged: (provider, delta) => engagedClusters.inc({ provider }, delta),
      engagement: (outcome) => engagements.inc({ outcome }),
    };

    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** The metrics of controller `name` (one object per name); a `probe` given later replaces the earlier one. */
  controller(name: string, probe?: QueueProbe): ControllerMetrics {
    let c = this.controllers.get(name);
    if (!c) {
      c = new ControllerHooks(name, this.families, this.clusterCap, probe);
      this.controllers.set(name, c);
    } else if (probe) {
      c.probe = probe;
    }
    return c;
  }

  /**
   * The sharding hooks. The `kcp_mc_shard_*` families are registered on first use, so a manager
   * without sharding does not expose them.
   */
  get shard(): ShardMetrics {
    if (this.shardHooks) return this.shardHooks;
    const registers = [this.registry];
    const peers = new Gauge({ name: 'kcp_mc_shard_peers', help: 'Number of live replicas in the shard group, this one included', registers });
    const owned = new Gauge({ name: 'kcp_mc_shard_owned_clusters', help: 'Number of clusters this replica owns and holds the fence of', registers });
    const handoffs = new Counter({ name: 'kcp_mc_shard_handoffs_total', help: 'Total number of clusters handed to or away from this replica by direction', labelNames: ['direction'], registers });
    const dropped = new Counter({ name: 'kcp_mc_shard_not_owned_dropped_total', help: 'Total number of queued requests dropped because their cluster is owned by another replica', registers });
    const wait = new Histogram({
      name: 'kcp_mc_shard_fence_wait_seconds',
      help: 'Time from wanting the fence of a cluster to holding it',
      buckets: [...FENCE_WAIT_BUCKETS],
      registers,
    });
    for (const direction of HANDOFF_DIRECTIONS) handoffs.inc({ direction }, 0);
    peers.set(1);
    this.shardHooks = {
      peers: (n) => peers.set(n),
      fenceWait: (seconds) => wait.observe(seconds),
      ownedClusters: (n) => owned.set(n),
      handoff: (direction) => handoffs.inc({ direction }),
      notOwnedDropped: () => dropped.inc(),
    };
    return this.shardHooks;
  }

  /** The webhook server's hooks; its families are registered on first use, as a manager without webhooks does not expose them. */
  get webhook(): WebhookMetrics {
    this.webhookHooks ??= registerWebhookMetrics(this.registry);
    return this.webhookHooks;
  }

  /** Sets `leader_election_master_status{name}` to 1 (leader) or 0 (standby). */
  leader(name: string, isLeader: boolean): void {
    this.leaderStatus.set({ name }, isLeader ? 1 : 0);
  }

  /** The Content-Type of `metrics()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every family on the registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
