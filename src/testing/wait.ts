/**
 * Waiting in tests: poll a condition until it holds or a deadline passes, and fail with a message
 * that says what was awaited and what was last seen, never a bare "timeout of 2000ms exceeded".
 */
import { abortError, isNotFound, sleep, type ClusterClient, type KubernetesObject, type ObjectKey, type ObjectType } from '../client/index.js';

/** The deadline of a wait when none is given: 30 s. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;
/** How often a wait polls when not told: every 25 ms. */
export const DEFAULT_POLL_INTERVAL_MS = 25;

/** Options of `waitFor`. */
export interface WaitOptions {
  /** What is awaited, in words: the timeout message reads `waiting for <what>`. */
  what?: string;
  /** Deadline in ms from the first check; default 30 s. */
  timeoutMs?: number;
  /** Pause between checks in ms; default 25. */
  intervalMs?: number;
  /** Ends the wait early with an `AbortError`. */
  signal?: AbortSignal;
  /** What was last observed, appended to the timeout message (called once, on timeout). */
  detail?: () => string | undefined;
}

/** A wait whose deadline passed; its message names what was awaited and what was last seen. */
export class WaitTimeoutError extends Error {
  /** What was awaited. */
  readonly what: string;
  /** The deadline that passed, in ms. */
  readonly timeoutMs: number;
  /** The last falsy value the check returned, if it returned one. */
  readonly lastValue: unknown;
  /** The last error the check threw, if it threw. */
  readonly lastError: unknown;

  constructor(what: string, timeoutMs: number, lastValue: unknown, lastError: unknown, detail: string | undefined) {
    const seen = detail ?? (lastError !== undefined ? `last error: ${errorText(lastError)}` : `last result: ${shortJSON(lastValue)}`);
    super(`timed out after ${timeoutMs} ms waiting for ${what}; ${seen}`);
    this.name = 'WaitTimeoutError';
    this.what = what;
    this.timeoutMs = timeoutMs;
    this.lastValue = lastValue;
    this.lastError = lastError;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function shortJSON(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

/**
 * Calls `check` until it returns a truthy value, and resolves with that value. A check that throws
 * counts as "not yet" (the error is kept for the message). Past the deadline it rejects with a
 * `WaitTimeoutError` naming `what` and the last result, the last error or `detail()`.
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const interval = opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  let lastValue: unknown;
  let lastError: unknown;
  for (;;) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      lastValue = v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(opts.what ?? 'a condition', timeoutMs, lastValue, lastError, opts.detail?.());
    await sleep(Math.min(interval, left), opts.signal);
  }
}

/** One entry of `status.conditions`, as Kubernetes and kcp write them. */
export interface Condition {
  /** The condition type, e.g. `Ready` or `InitialBindingCompleted`. */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: 'True' | 'False' | 'Unknown' | string;
  /** A CamelCase reason for the last transition. */
  reason?: string;
  /** A human-readable message. */
  message?: string;
  /** kcp's severity of a False condition: `Error`, `Warning` or `Info`. */
  severity?: string;
  /** When `status` last changed (RFC 3339). */
  lastTransitionTime?: string;
}

/** An object with `status.conditions`. */
export interface ObjectWithConditions extends KubernetesObject {
  /** The object's status. */
  status?: {
    /** Its conditions. */
    conditions?: Condition[];
    [field: string]: unknown;
  };
}

/** Options of `waitForCondition`. */
export interface WaitForConditionOptions extends Omit<WaitOptions, 'what' | 'detail'> {
  /** The status the condition must have; default `'True'`. */
  status?: 'True' | 'False' | 'Unknown';
}

/** `Ready=False (reason: message)` for each condition, for messages. */
export function formatConditions(conditions: readonly Condition[] | undefined): string {
  if (!conditions?.length) return 'no conditions';
  return conditions
    .map((c) => {
      const why = [c.reason, c.message].filter(Boolean).join(': ');
      return `${c.type}=${c.status}${why ? ` (${why})` : ''}`;
    })
    .join(', ');
}

/** The condition `type` of `obj`, if it has one. */
export function findCondition(obj: ObjectWithConditions | undefined, type: string): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/**
 * Reads `key` of `type` through `client` until its condition `conditionType` has `status` (default
 * `True`), and resolves with the object. On timeout the message names the object and its workspace
 * and lists the conditions last seen (or says the object was not found, or the last error).
 */
export async function waitForCondition<T extends ObjectWithConditions>(
  client: ClusterClient,
  type: ObjectType<T>,
  key: ObjectKey,
  conditionType: string,
  opts: WaitForConditionOptions = {},
): Promise<T> {
  const want = opts.status ?? 'True';
  const where = `${key.namespace ? `${key.namespace}/` : ''}${key.name}`;
  let seen = 'nothing read yet';
  return waitFor(
    async () => {
      let obj: T;
      try {
        obj = await client.get(type, key, { signal: opts.signal });
      } catch (e) {
        seen = isNotFound(e) ? 'the object was not found' : `last error: ${errorText(e)}`;
        return undefined;
      }
      seen = `last seen conditions: ${formatConditions(obj.status?.conditions)}`;
      return findCondition(obj, conditionType)?.status === want ? obj : undefined;
    },
    { ...opts, what: `${type.kind} ${where} in ${client.cluster} to be ${conditionType}=${want}`, detail: () => seen },
  );
}
