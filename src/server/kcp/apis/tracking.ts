/**
 * Which APIBindings point at which export, across shards, kept current from commits: bindings by
 * the export hash of their `internal.apis.kcp.io/export` label, and how many each shard holds (what
 * endpoint slices publish). Built from the stores at start, so it survives a restart.
 */
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject } from '../../types.js';
import { clusterKey } from '../loop.js';
import { BINDINGS, EXPORT_LABEL } from './names.js';

/** Bindings grouped by the export they point at. */
export class BindingTracker {
  /** export hash → binding key → shard */
  private readonly byExport = new Map<string, Map<string, Shard>>();
  private readonly hashOf = new Map<string, string>();
  private readonly listeners: ((hash: string, key: string) => void)[] = [];
  private readonly unsubscribe: () => void;

  constructor(topo: Topology) {
    for (const shard of topo.shards) {
      for (const e of shard.store.entries()) if (e.storage === BINDINGS) this.track(shard, e.cluster, e.object);
    }
    this.unsubscribe = topo.onCommit(({ shard, event }) => {
      if (event.storage !== BINDINGS) return;
      const key = clusterKey(event.cluster, event.object.metadata.name ?? '');
      const before = this.hashOf.get(key);
      if (event.type === 'DELETED') this.untrack(key);
      else this.track(shard, event.cluster, event.object);
      const after = this.hashOf.get(key);
      for (const h of new Set([before, after])) if (h !== undefined) for (const l of this.listeners) l(h, key);
    });
  }

  private track(shard: Shard, cluster: string, b: KubeObject): void {
    const key = clusterKey(cluster, b.metadata.name ?? '');
    const hash = b.metadata.labels?.[EXPORT_LABEL];
    if (this.hashOf.get(key) === hash) return;
    this.untrack(key);
    if (hash === undefined) return;
    this.hashOf.set(key, hash);
    let m = this.byExport.get(hash);
    if (!m) this.byExport.set(hash, (m = new Map()));
    m.set(key, shard);
  }

  private untrack(key: string): void {
    const hash = this.hashOf.get(key);
    if (hash === undefined) return;
    this.hashOf.delete(key);
    const m = this.byExport.get(hash);
    m?.delete(key);
    if (m && m.size === 0) this.byExport.delete(hash);
  }

  /** Called (inside the commit: only queue work) with the export hash and binding key of every change. */
  onChange(l: (hash: string, key: string) => void): void {
    this.listeners.push(l);
  }

  /** Keys of the bindings pointing at an export. */
  bindings(hash: string): string[] {
    return [...(this.byExport.get(hash)?.keys() ?? [])];
  }

  /** Whether a shard holds at least one binding pointing at the export. */
  shardHasBinding(hash: string, shard: Shard): boolean {
    for (const s of this.byExport.get(hash)?.values() ?? []) if (s === shard) return true;
    return false;
  }

  /** Stops following commits. */
  stop(): void {
    this.unsubscribe();
  }
}

/**
 * Whether the server is still up: false once a shard's listener has closed. Controllers check it
 * before writing, because a stopped shard's journal is closed and its file descriptor may already
 * belong to another file.
 */
export function isServing(topo: Topology): boolean {
  return topo.shards.every((s) => s.server === undefined || s.server.listening);
}
