/**
 * An in-memory replica group for sharding tests without a server: peers, an ownership table the
 * test can steer, and fences that one replica at a time holds (the test can also take one away).
 */
import type { Coordinator, Fence, ShardPeer } from '../../src/index.js';

/** The shared state of the group's fake coordinators. */
export class FakeShardGroup {
  readonly members = new Map<string, number>();
  /** Explicit owners; clusters not listed go to a member by a stable hash of the name. */
  readonly assignments = new Map<string, string>();
  /** Fence holders by cluster. */
  readonly fences = new Map<string, { holder: string; ctl: AbortController }>();
  /** How often each replica released a fence, by cluster. */
  readonly releases: string[] = [];
  private readonly listeners = new Set<() => void>();

  /** The coordinator of replica `id`. */
  coordinator(id: string, weight = 1): FakeCoordinator {
    return new FakeCoordinator(this, id, weight);
  }

  owner(cluster: string): string {
    const a = this.assignments.get(cluster);
    if (a !== undefined && this.members.has(a)) return a;
    const ids = [...this.members.keys()].sort();
    let h = 0;
    for (const ch of cluster) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return ids[h % Math.max(1, ids.length)] ?? '';
  }

  /** Gives `cluster` to `to` (every coordinator re-evaluates). */
  move(cluster: string, to: string): void {
    this.assignments.set(cluster, to);
    this.changed();
  }

  /** Takes the fence of `cluster` from its holder, as another writer would (the holder's `lost` fires). */
  steal(cluster: string, by: string): void {
    const f = this.fences.get(cluster);
    f?.ctl.abort(new Error(`taken by ${by}`));
    this.fences.set(cluster, { holder: by, ctl: new AbortController() });
  }

  /** @internal */
  join(id: string, weight: number): void {
    this.members.set(id, weight);
    this.changed();
  }

  /** @internal */
  leave(id: string): void {
    this.members.delete(id);
    this.changed();
  }

  /** @internal */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** One replica's view of a FakeShardGroup. */
export class FakeCoordinator implements Coordinator {
  constructor(
    private readonly group: FakeShardGroup,
    readonly id: string,
    private readonly weight: number,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    this.group.join(this.id, this.weight);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.group.leave(this.id);
  }

  async ready(): Promise<void> {}

  peers(): readonly ShardPeer[] {
    return [...this.group.members].map(([id, weight]) => ({ id, weight }));
  }

  owner(cluster: string): string {
    return this.group.owner(cluster);
  }

  onPeersChanged(fn: () => void): () => void {
    return this.group.subscribe(fn);
  }

  async acquire(cluster: string): Promise<Fence | undefined> {
    const held = this.group.fences.get(cluster);
    if (held && held.holder !== this.id) return undefined;
    const ctl = held?.ctl ?? new AbortController();
    this.group.fences.set(cluster, { holder: this.id, ctl });
    const group = this.group;
    const id = this.id;
    return {
      cluster,
      lost: ctl.signal,
      async release() {
        const f = group.fences.get(cluster);
        if (f?.holder !== id || f.ctl !== ctl) return;
        group.fences.delete(cluster);
        group.releases.push(`${id}:${cluster}`);
      },
    };
  }
}
