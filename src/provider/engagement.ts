/**
 * The end of one cluster's engagement, for providers that engage many clusters. An AbortController
 * and its signal cost about 770 B of heap, more with a listener: at 100,000 clusters that is most
 * of what an engaged cluster costs. An `Engagement` is a small object with a list of callbacks; its
 * `AbortSignal` exists only once something asks for it, and still aborts when the engagement ends.
 * The manager takes engagements through `Aware.engageWith` and never asks for the signal.
 */
import type { Aware, Cluster } from './types.js';

/**
 * Told when an engagement ends: a function, or an object whose `engagementEnded` runs. An object
 * the caller keeps per cluster anyway costs nothing more, where a closure costs about 0.1 KB.
 */
export type EngagementListener =
  | (() => void)
  | {
      /** Runs once, when the engagement ends. */
      engagementEnded(): void;
    };

/** One cluster's engagement: ends once, when the provider lets the cluster go. */
export class Engagement {
  private ctl: AbortController | undefined = undefined;
  /** Callbacks still to run; one is kept without an array, as it almost always is one. */
  private callbacks: EngagementListener | EngagementListener[] | undefined = undefined;
  private over = false;

  /** Whether the engagement has ended. */
  get ended(): boolean {
    return this.over;
  }

  /** An `AbortSignal` that aborts when the engagement ends, made on first use (aborted already if it has ended). */
  get signal(): AbortSignal {
    if (this.ctl === undefined) {
      this.ctl = new AbortController();
      if (this.over) this.ctl.abort();
    }
    return this.ctl.signal;
  }

  /** Runs `fn` (or `fn.engagementEnded()`) once when the engagement ends; at once if it has ended already. */
  onEnd(fn: EngagementListener): void {
    if (this.over) return tell(fn);
    const cbs = this.callbacks;
    if (cbs === undefined) this.callbacks = fn;
    else if (Array.isArray(cbs)) cbs.push(fn);
    else this.callbacks = [cbs, fn];
  }

  /**
   * Ends the engagement: the signal (if made) aborts, then every `onEnd` callback runs, in the
   * order added. A callback that throws keeps neither the others from running nor the provider
   * from going on: its error is rethrown on the next tick, as an AbortSignal listener's would be.
   */
  end(): void {
    if (this.over) return;
    this.over = true;
    this.ctl?.abort();
    const cbs = this.callbacks;
    this.callbacks = undefined;
    if (cbs === undefined) return;
    for (const fn of Array.isArray(cbs) ? cbs : [cbs]) {
      try {
        tell(fn);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }
}

function tell(fn: EngagementListener): void {
  if (typeof fn === 'function') fn();
  else fn.engagementEnded();
}

/** Reports `cluster` to `aware`: through `engageWith` when it takes engagements, else with the engagement's signal. */
export function reportEngagement(aware: Aware, name: string, cluster: Cluster, engagement: Engagement): void {
  if (aware.engageWith) aware.engageWith(name, cluster, engagement);
  else aware.engage(name, cluster, engagement.signal);
}
