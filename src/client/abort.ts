/** Waiting that an AbortSignal can cut short. */

/**
 * One real 'abort' listener per signal, fanned out to every subscriber. Long-lived signals (a
 * manager's, a test environment's) are shared by any number of concurrent requests and waits;
 * a listener each would trip Node's MaxListenersExceededWarning past ten.
 */
const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

function dispatch(this: AbortSignal): void {
  const subs = subscribers.get(this);
  subscribers.delete(this);
  if (!subs) return;
  for (const fn of subs) fn();
}

/**
 * Calls `fn` once when `signal` aborts; the returned function unsubscribes (idempotent). However
 * many subscribers a signal has, it carries a single listener, removed with the last of them. As
 * with `addEventListener`, a signal that has already aborted never calls `fn`: check it first.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let subs = subscribers.get(signal);
  if (!subs) {
    subs = new Set();
    subscribers.set(signal, subs);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  // A wrapper, so one function subscribed twice stays two subscriptions.
  const entry = (): void => fn();
  subs.add(entry);
  return () => {
    const current = subscribers.get(signal);
    if (!current?.delete(entry) || current.size > 0) return;
    subscribers.delete(signal);
    signal.removeEventListener('abort', dispatch);
  };
}

/** The signal's reason as an Error (an `AbortError` when the reason is not one). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** Resolves once `signal` aborts (at once when it has): for work that runs until it is stopped. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    onAbort(signal, resolve);
  });
}

/** Sleeps `ms`, rejecting with the abort reason when `signal` fires first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const off = signal
      ? onAbort(signal, () => {
          clearTimeout(t);
          reject(abortError(signal));
        })
      : undefined;
    const t = setTimeout(() => {
      off?.();
      resolve();
    }, ms);
  });
}
