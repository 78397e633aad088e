/**
 * Membership of a replica group: each replica keeps its own Lease (holder = shard id, weight in an
 * annotation) renewed every third of its duration, and lists the group's Leases to learn the live
 * peers. A peer is live while renewTime + leaseDurationSeconds + the skew margin is in the future
 * on this replica's clock; this replica always counts itself, whatever its Lease says.
 */
import { isConflict, isNotFound, sleep, type ClusterClient } from '../client/index.js';
import type { Logger } from '../log/index.js';
import { LEASE, type Lease, type LeaseSpec } from '../manager/leader.js';
import { parseStamp, stamp, wireSeconds, type WallClock } from './clock.js';
import { SHARD_GROUP_LABEL, groupLabelValue, peerLeaseName, SHARD_ROLE_LABEL, SHARD_WEIGHT_ANNOTATION } from './names.js';
import type { ShardPeer } from './types.js';

/** Options of `PeerMembership`. */
export interface PeerMembershipOptions {
  /** Client of the workspace that holds the Leases. */
  client: ClusterClient;
  /** Namespace of the Leases. */
  namespace: string;
  /** The replica group. */
  group: string;
  /** This replica's shard id. */
  id: string;
  /** This replica's weight. */
  weight: number;
  /** Duration of the peer Leases. */
  durationMs: number;
  /** Clock skew allowed when judging another replica's renewTime. */
  skewMs: number;
  /** Interval between reads of the group's Leases. */
  refreshMs: number;
  /** Wall clock for renewTime. */
  clock: WallClock;
  /** Logger. */
  log?: Logger;
  /** Called with the live peers whenever the set (or a weight) changes. */
  onChange(peers: readonly ShardPeer[]): void;
}

/** Peers sorted by id: the order every replica computes, so equal views compare equal. */
function signature(peers: readonly ShardPeer[]): string {
  return peers.map((p) => `${p.id}=${p.weight}`).join(',');
}

/** One replica's membership Lease and its view of the others'. */
export class PeerMembership {
  private readonly o: PeerMembershipOptions;
  private readonly key: { namespace: string; name: string };
  private readonly selector: string;
  private readonly self: ShardPeer;
  private view: readonly ShardPeer[];
  private viewSig: string;
  private own: Lease | undefined;
  private nextRenew = 0;
  private readonly warnedWeights = new Set<string>();
  private readonly readyCtrl = new AbortController();
  /** Successful reads of the group's Leases so far. */
  private reads = 0;

  constructor(opts: PeerMembershipOptions) {
    this.o = opts;
    this.key = { namespace: opts.namespace, name: peerLeaseName(opts.group, opts.id) };
    this.selector = `${SHARD_GROUP_LABEL}=${groupLabelValue(opts.group)},${SHARD_ROLE_LABEL}=peer`;
    this.self = { id: opts.id, weight: opts.weight };
    this.view = [this.self];
    this.viewSig = signature(this.view);
  }

  /** The name of this replica's Lease. */
  get leaseName(): string {
    return this.key.name;
  }

  /** The live peers as last read, this replica among them. */
  peers(): readonly ShardPeer[] {
    return this.view;
  }

  /**
   * Resolves once two reads of the group's Leases in a row gave the same peers (one refresh
   * interval after the first at the least); rejects if `signal` aborts first. Replicas started
   * together each write their Lease a moment apart: deciding ownership on the first read, one of
   * them would see itself alone, take fences for every cluster and hand half of them over a
   * moment later.
   */
  ready(signal?: AbortSignal): Promise<void> {
    const done = this.readyCtrl.signal;
    if (done.aborted) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        done.removeEventListener('abort', onReady);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('waiting for the peers was aborted'));
      };
      if (signal?.aborted) return onAbort();
      done.addEventListener('abort', onReady, { once: true });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Renews this replica's Lease and reads the others' until `signal` aborts, then deletes its Lease. */
  async run(signal: AbortSignal): Promise<void> {
    const renewEvery = this.o.durationMs / 3;
    while (!signal.aborted) {
      const now = performance.now();
      if (now >= this.nextRenew) {
        // The next renewal is due a third of the duration after this one started, success or not:
        // a failure is retried at the next tick, well inside the Lease's lifetime.
        this.nextRenew = now + renewEvery;
        await this.renew(signal);
      }
      await this.refresh(signal);
      await sleep(Math.min(this.o.refreshMs, Math.max(0, this.nextRenew - performance.now())), signal).catch(() => undefined);
    }
    await this.leave();
  }

  /** Creates or renews this replica's Lease. Failures are logged: the Lease simply ages. */
  private async renew(signal: AbortSignal): Promise<void> {
    const now = stamp(this.o.clock);
    const spec: LeaseSpec = { holderIdentity: this.o.id, leaseDurationSeconds: wireSeconds(this.o.durationMs), renewTime: now };
    const metadata = {
      ...this.key,
      labels: { [SHARD_GROUP_LABEL]: groupLabelValue(this.o.group), [SHARD_ROLE_LABEL]: 'peer' },
      annotations: { [SHARD_WEIGHT_ANNOTATION]: String(this.o.weight) },
    };
    try {
      if (this.own) {
        try {
          this.own = await this.o.client.update({ ...this.own, metadata: { ...this.own.metadata, ...metadata }, spec: { ...this.own.spec, ...spec } }, { signal });
          return;
        } catch (e) {
          // Someone else wrote it (or deleted it): read it afresh below.
          if (!isConflict(e) && !isNotFound(e)) throw e;
        }
      }
      let current: Lease | undefined;
      try {
        current = await this.o.client.get(LEASE, this.key, { signal });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      this.own = current
        ? await this.o.client.update({ ...current, metadata: { ...current.metadata, ...metadata }, spec: { ...current.spec, ...spec } }, { signal })
        : await this.o.client.create({ ...LEASE, metadata, spec: { ...spec, acquireTime: now } }, { signal });
    } catch (e) {
      if (!signal.aborted) this.o.log?.warn('renewing the peer lease failed', { lease: this.key.name, err: e });
    }
  }

  /** Reads the group's Leases and recomputes the live peers. */
  private async refresh(signal: AbortSignal): Promise<void> {
    let items: Lease[];
    try {
      items = (await this.o.client.list(LEASE, { namespace: this.o.namespace, labelSelector: this.selector, signal })).items;
    } catch (e) {
      if (!signal.aborted) this.o.log?.warn('listing the peer leases failed', { err: e });
      return;
    }
    const now = this.o.clock();
    const live = new Map<string, number>();
    for (const l of items) {
      const id = l.spec?.holderIdentity;
      const renewed = parseStamp(l.spec?.renewTime);
      const seconds = l.spec?.leaseDurationSeconds;
      if (!id || renewed === undefined || !seconds || seconds <= 0) continue;
      if (renewed + seconds * 1000 + this.o.skewMs <= now) continue;
      live.set(id, Math.max(live.get(id) ?? 0, this.weightOf(l, id)));
    }
    live.set(this.self.id, this.self.weight);
    const peers = [...live].map(([id, weight]) => ({ id, weight })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const sig = signature(peers);
    if (this.reads++ > 0 && sig === this.viewSig) this.readyCtrl.abort();
    if (sig === this.viewSig) return;
    this.o.log?.info('shard peers changed', { peers: peers.map((p) => (p.weight === 1 ? p.id : `${p.id}=${p.weight}`)) });
    this.view = peers;
    this.viewSig = sig;
    this.o.onChange(peers);
  }

  /** A peer's weight from its annotation; an unreadable one counts as 1 (logged once per peer). */
  private weightOf(l: Lease, id: string): number {
    const raw = l.metadata?.annotations?.[SHARD_WEIGHT_ANNOTATION];
    if (raw === undefined) return 1;
    const w = Number(raw);
    if (raw.trim() !== '' && Number.isFinite(w) && w > 0) return w;
    if (!this.warnedWeights.has(id)) {
      this.warnedWeights.add(id);
      this.o.log?.warn('a peer lease has an invalid weight; counting it as 1', { peer: id, weight: raw });
    }
    return 1;
  }

  /** Deletes this replica's Lease so the others re-balance at their next read, not after it expires. */
  private async leave(): Promise<void> {
    const signal = AbortSignal.timeout(Math.ceil(Math.min(this.o.durationMs / 3, 5000)));
    try {
      await this.o.client.delete(LEASE, this.key, { signal, preconditions: this.own?.metadata?.uid ? { uid: this.own.metadata.uid } : undefined });
      this.o.log?.info('left the shard group', { lease: this.key.name });
    } catch (e) {
      if (isNotFound(e)) return;
      // It expires on its own after the peer duration.
      this.o.log?.warn('deleting the peer lease failed', { lease: this.key.name, err: e });
    }
  }
}
