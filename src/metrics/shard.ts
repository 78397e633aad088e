/** The `kcp_mc_shard_*` metrics of a sharded manager. */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Hooks a sharded manager reports ownership through. */
export class ShardMetrics {
  private readonly ownedClusters: Gauge<string>;
  private readonly handoffs: Counter<string>;
  private readonly dropped: Counter<string>;

  constructor(registers: Registry[]) {
    this.ownedClusters = new Gauge({ name: 'kcp_mc_shard_owned_clusters', help: 'Number of clusters this replica owns (fence held, engaged)', registers });
    this.handoffs = new Counter({ name: 'kcp_mc_shard_handoffs_total', help: 'Total number of cluster hand-offs by direction', labelNames: ['direction'], registers });
    for (const direction of ['gained', 'lost']) this.handoffs.inc({ direction }, 0);
    this.dropped = new Counter({
      name: 'kcp_mc_shard_not_owned_dropped_total',
      help: 'Total number of requests dropped at dequeue because another replica owns their cluster',
      registers,
    });
  }

  /** Owned clusters changed by `delta`. */
  owned(delta: number): void {
    this.ownedClusters.inc(delta);
  }

  /** A cluster was gained or lost. */
  handoff(direction: 'gained' | 'lost'): void {
    this.handoffs.inc({ direction });
  }

  /** A request was dropped at dequeue: its cluster is not owned here. */
  notOwnedDropped(): void {
    this.dropped.inc();
  }
}
