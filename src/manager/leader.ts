/**
 * Leader election on a `coordination.k8s.io/v1` Lease, following client-go's leaderelection
 * algorithm: a lease counts as held while `leaseDurationSeconds` have not passed since this
 * process last *saw the record change* (local monotonic time, so clock skew between replicas does
 * not matter); takeovers and renewals are updates carrying the resourceVersion, so of two racing
 * writers exactly one wins.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { abortError, isConflict, isNotFound, microTime, sleep, type ClusterClient } from '../client/index.js';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { Logger } from '../log/index.js';

/** Options of `LeaderElector`. */
export interface LeaderElectionOptions {
  /** A client for the workspace that holds the Lease (kcp workspaces have no kube-system). */
  client: ClusterClient;
  /** The Lease name (controller-runtime's leader-election-id). */
  name: string;
  /** The Lease namespace; default `default`. */
  namespace?: string;
  /** This replica's identity; default `<hostname>_<uuid>`. */
  identity?: string;
  /** How long a standby waits, from the last change it saw, before taking over; default 15000 ms. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before giving up; default 10000 ms. */
  renewDeadlineMs?: number;
  /** Interval between attempts (jittered while acquiring); default 2000 ms. */
  retryPeriodMs?: number;
  /** Logger; default silent. */
  log?: Logger;
  /** Called with true on becoming leader and false on losing, stopping or releasing leadership. */
  onChange?: (leader: boolean) => void;
}

/** `coordination.k8s.io/v1` LeaseSpec, as JSON. */
export interface LeaseSpec {
  /** Identity of the current holder (the manager's `identity`). */
  holderIdentity?: string;
  /** How long others wait after the last renewal before taking the lease over. */
  leaseDurationSeconds?: number;
  /** When the current holder acquired it (RFC 3339 with microseconds). */
  acquireTime?: string;
  /** When the current holder last renewed it (RFC 3339 with microseconds). */
  renewTime?: string;
  /** How many times the lease changed hands. */
  leaseTransitions?: number;
}

/** A `coordination.k8s.io/v1` Lease. */
export interface Lease extends KubernetesObject {
  /** The holder and its timing. */
  spec?: LeaseSpec;
}

/** The Lease type, for `ClusterClient` calls. */
export const LEASE: ObjectType<Lease> = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };

/** client-go's `JitterFactor`: an acquire retry waits between 1× and 2.2× the retry period. */
const JITTER_FACTOR = 1.2;

// The record's identity for change detection, like client-go's comparison of raw record bytes.
function recordKey(s: LeaseSpec): string {
  return JSON.stringify([s.holderIdentity ?? '', s.leaseDurationSeconds ?? 0, s.acquireTime ?? '', s.renewTime ?? '', s.leaseTransitions ?? 0]);
}

type State = 'idle' | 'acquiring' | 'leading' | 'stopped';

/** One replica's participation in a Lease election; one-shot: after losing, stopping or releasing, make a new one. */
export class LeaderElector {
  /** This replica's holder identity. */
  readonly identity: string;
  /** Aborts when leadership is lost: renewals failed for renewDeadline, or another holder took the Lease. */
  readonly lost: AbortSignal;

  private readonly client: ClusterClient;
  private readonly key: { namespace: string; name: string };
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger | undefined;
  private readonly onChange: ((leader: boolean) => void) | undefined;
  private readonly lostCtrl = new AbortController();
  private readonly stopCtrl = new AbortController();
  private state: State = 'idle';
  private renewing: Promise<void> = Promise.resolve();
  /** The Lease as last read or written: updates carry its resourceVersion. */
  private lease: Lease | undefined;
  /** The record last observed (read, or written by us) and the local time it was observed. */
  private observed: LeaseSpec = {};
  private observedAt = 0;
  private observedKey = '';

  constructor(opts: LeaderElectionOptions) {
    this.client = opts.client;
    if (!opts.name) throw new Error('leader election needs a Lease name');
    this.key = { namespace: opts.namespace ?? 'default', name: opts.name };
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    if (!this.identity) throw new Error('leader election needs a non-empty identity');
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    // client-go's NewLeaderElector checks, so a renewal gives up before a standby may take over.
    if (!(this.retryPeriodMs > 0)) throw new Error(`retryPeriod must be positive, got ${this.retryPeriodMs} ms`);
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) {
      throw new Error(`leaseDuration (${this.leaseDurationMs} ms) must be greater than renewDeadline (${this.renewDeadlineMs} ms)`);
    }
    if (!(this.renewDeadlineMs > JITTER_FACTOR * this.retryPeriodMs)) {
      throw new Error(`renewDeadline (${this.renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} × retryPeriod (${this.retryPeriodMs} ms)`);
    }
    this.log = opts.log?.with({ lease: `${this.key.namespace}/${this.key.name}`, identity: this.identity });
    this.onChange = opts.onChange;
    this.lost = this.lostCtrl.signal;
  }

  /** Whether this replica holds the Lease and is renewing it. */
  isLeader(): boolean {
    return this.state === 'leading';
  }

  /**
   * Resolves once this process holds the Lease, then keeps renewing it until `release()`, `stop()`
   * or loss; rejects if `signal` aborts first (the signal bounds the acquisition only).
   */
  async acquire(signal: AbortSignal): Promise<void> {
    if (this.state !== 'idle') throw new Error(`leader elector is ${this.state}; acquire runs once (again only after an aborted attempt)`);
    this.state = 'acquiring';
    this.log?.info('attempting to acquire leader lease');
    const attempt = AbortSignal.any([signal, this.stopCtrl.signal]);
    try {
      for (;;) {
        if (attempt.aborted) throw abortError(attempt);
        if (await this.tryAcquireOrRenew(attempt)) break;
        await sleep(this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR), attempt);
      }
      if (attempt.aborted) throw abortError(attempt);
    } catch (e) {
      if (this.state === 'acquiring') this.state = 'idle';
      throw e;
    }
    this.state = 'leading';
    this.log?.info('successfully acquired lease');
    this.notify(true);
    // The loop handles its own failures; a bug in it must still end leadership, not float away unhandled.
    this.renewing = this.renewLoop().catch((e: unknown) => this.lose(`renewing failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Stops renewing without giving the Lease up, so a standby takes over once it expires (as a crash would). */
  async stop(): Promise<void> {
    const was = this.state;
    this.state = 'stopped';
    this.stopCtrl.abort();
    await this.renewing;
    if (was === 'leading') this.notify(false);
  }

  /**
   * Stops renewing and gives the Lease up (empty holderIdentity, leaseDurationSeconds 1, as
   * client-go's ReleaseOnCancel does) so a standby takes over at once. Rejects if the write fails.
   */
  async release(): Promise<void> {
    const was = this.state;
    await this.stop();
    if (was !== 'leading' || !this.holding()) return;
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    const now = microTime();
    const record: LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: this.observed.leaseTransitions ?? 0,
    };
    try {
      this.lease = await this.client.update({ ...this.lease!, spec: record }, { signal });
    } catch (e) {
      // A renewal cut short by stop() may still have landed and moved the resourceVersion on.
      this.log?.debug('releasing with the cached lease failed; rereading it', { err: e });
      const current = await this.client.get(LEASE, this.key, { signal });
      if (current.spec?.holderIdentity !== this.identity) return;
      this.lease = await this.client.update({ ...current, spec: record }, { signal });
    }
    this.setObserved(record);
    this.log?.info('released lease');
  }

  private holding(): boolean {
    return this.observed.holderIdentity === this.identity;
  }

  private leaseValid(now: number): boolean {
    return this.observedAt + (this.observed.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  private setObserved(spec: LeaseSpec): void {
    this.observed = { ...spec };
    this.observedAt = performance.now();
  }

  private notify(leader: boolean): void {
    try {
      this.onChange?.(leader);
    } catch (e) {
      this.log?.error('leader election onChange callback threw', { err: e });
    }
  }

  private lose(reason: string): void {
    if (this.state !== 'leading') return;
    this.state = 'stopped';
    this.log?.info('leader election lost', { reason });
    this.notify(false);
    this.lostCtrl.abort(new Error(`leader election lost: ${reason}`));
  }

  /** Renews every retryPeriod; a run of failures lasting renewDeadline, or another holder, loses the lease. */
  private async renewLoop(): Promise<void> {
    const stop = this.stopCtrl.signal;
    let failingSince: number | undefined;
    while (this.state === 'leading') {
      try {
        await sleep(this.retryPeriodMs, stop);
      } catch {
        return;
      }
      const start = performance.now();
      const deadline = (failingSince ?? start) + this.renewDeadlineMs;
      // As client-go's PollUntilContextTimeout: no single request outlives the renew deadline.
      const signal = AbortSignal.any([stop, AbortSignal.timeout(Math.max(1, Math.ceil(deadline - start)))]);
      const ok = await this.tryAcquireOrRenew(signal);
      if (stop.aborted) return;
      if (ok) {
        failingSince = undefined;
        continue;
      }
      const holder = this.observed.holderIdentity;
      if (holder && holder !== this.identity) return this.lose(`the lease is held by ${holder}`);
      failingSince ??= start;
      if (performance.now() >= failingSince + this.renewDeadlineMs) return this.lose(`failed to renew the lease within ${this.renewDeadlineMs} ms`);
    }
  }

  /** One round of client-go's tryAcquireOrRenew: true when this replica holds the Lease afterwards. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = performance.now();
    const stamp = microTime();
    const record: LeaseSpec = {
      holderIdentity: this.identity,
      // Whole seconds on the wire; rounding up keeps a standby waiting at least the configured time.
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };

    // 1. Fast path: the leader updates optimistically, assuming the record it saw last is current.
    if (this.holding() && this.leaseValid(now) && this.lease) {
      record.acquireTime = this.observed.acquireTime;
      record.leaseTransitions = this.observed.leaseTransitions ?? 0;
      try {
        this.lease = await this.client.update({ ...this.lease, spec: record }, { signal });
        this.setObserved(record);
        return true;
      } catch (e) {
        if (signal.aborted) return false;
        this.log?.debug('optimistic lease update failed; falling back to the slow path', { err: e });
      }
    }

    // 2. Read the record, creating it when absent.
    let current: Lease;
    try {
      current = await this.client.get(LEASE, this.key, { signal });
    } catch (e) {
      if (!isNotFound(e)) {
        if (!signal.aborted) this.log?.warn('error retrieving the lease', { err: e });
        return false;
      }
      try {
        this.lease = await this.client.create({ ...LEASE, metadata: { ...this.key }, spec: record }, { signal });
        this.setObserved(record);
        return true;
      } catch (e2) {
        if (!signal.aborted) this.log?.warn('error creating the lease', { err: e2 });
        return false;
      }
    }
    this.lease = current;

    // 3. The clock of a record starts when this replica sees it change, not at its renewTime.
    const spec = current.spec ?? {};
    const key = recordKey(spec);
    if (key !== this.observedKey) {
      this.setObserved(spec);
      this.observedKey = key;
    }
    if (spec.holderIdentity && this.leaseValid(now) && !this.holding()) {
      this.log?.debug('the lease is held by another holder and has not expired', { holder: spec.holderIdentity });
      return false;
    }

    // 4. Take over (an expired or released record) or renew (our own, via the slow path).
    if (this.holding()) {
      record.acquireTime = spec.acquireTime;
      record.leaseTransitions = spec.leaseTransitions ?? 0;
    } else {
      record.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      this.lease = await this.client.update({ ...current, spec: record }, { signal });
      this.setObserved(record);
      return true;
    } catch (e) {
      // A 409 here means another replica wrote first; the next round reads what it wrote.
      if (!signal.aborted) this.log?.[isConflict(e) ? 'debug' : 'warn']('failed to update the lease', { err: e });
      return false;
    }
  }
}
