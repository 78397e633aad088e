/** What a reconciler receives and returns. */
import type { Cluster } from '../provider/types.js';
import type { Logger } from '../log/index.js';

/** Which object to reconcile: its cluster, namespace (absent for cluster-scoped) and name. */
export interface Request {
  /** Logical cluster name (e.g. `2x8k7c1a0wq3v9mn`), as the provider engaged it. */
  readonly cluster: string;
  /** Namespace of the object; absent for cluster-scoped objects. */
  readonly namespace?: string;
  /** Name of the object. */
  readonly name: string;
}

/** What a reconcile asks for next; returning nothing means done. */
export interface Result {
  /** Requeue with the item's backoff (rate limited). */
  requeue?: boolean;
  /** Requeue after this many ms (backoff reset). */
  requeueAfter?: number;
  /** Priority of the requeue; the item keeps its priority when absent. */
  priority?: number;
}

/** The retry state of the request being reconciled (kopf's `retry`/`started`). */
export interface RetryInfo {
  /** Failures so far in a row (0 on a first attempt). */
  readonly attempt: number;
}

/** Everything a reconcile has at hand. */
export interface ReconcileContext {
  /** The request's cluster: client, cache, events. */
  readonly cluster: Cluster;
  /** Logger with `controller`, `cluster`, `namespace`, `name` and `reconcileID` bound. */
  readonly log: Logger;
  /** Aborts on shutdown, when the cluster leaves, and on the reconcile timeout. */
  readonly signal: AbortSignal;
  /** A fresh id per reconcile (a UUID), as in the log lines. */
  readonly reconcileID: string;
  /** The controller's name. */
  readonly controller: string;
  /** Retry state. */
  readonly retry: RetryInfo;
}

/** A user's reconcile function. */
export type Reconciler = (req: Request, ctx: ReconcileContext) => Promise<Result | void | undefined> | Result | void | undefined;

/**
 * An error after which the request is not retried (counted in the terminal error metric). Made
 * from a message (with an optional cause), or from the Error that makes retrying pointless, which
 * becomes its cause: `throw new TerminalError(err)`.
 */
export class TerminalError extends Error {
  constructor(reason: string | Error, options?: { cause?: unknown }) {
    const cause = typeof reason === 'string' ? options?.cause : reason;
    super(`terminal error: ${typeof reason === 'string' ? reason : reason.message}`, cause === undefined ? undefined : { cause });
    this.name = 'TerminalError';
  }
}

/** True for a `TerminalError`, also one wrapped as another error's `cause`. */
export function isTerminalError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof TerminalError || e.name === 'TerminalError') return true;
  }
  return false;
}

/** What an error policy may decide for a failed reconcile. */
export type ErrorDecision =
  | 'backoff'
  | 'drop'
  | {
      /** Milliseconds until the request is retried (the backoff is not advanced). */
      requeueAfter: number;
      /** Queue priority of the retry; the item keeps its priority when absent. */
      priority?: number;
    };

/** Chooses what to do after a reconcile threw (default: `backoff`; terminal errors never reach it). */
export type ErrorPolicy = (req: Request, err: unknown, ctx: { attempt: number }) => ErrorDecision;

/** The queue key of a request: `cluster/namespace/name` (names cannot contain `/`). */
export function requestKey(req: Request): string {
  return `${req.cluster}/${req.namespace ?? ''}/${req.name}`;
}
