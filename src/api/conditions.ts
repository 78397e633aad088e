/**
 * `status.conditions` as controller-runtime's (apimachinery's) `meta` package handles them:
 * set a condition, find one, test its status, remove one. The list is changed in place, as the Go
 * functions change `*[]metav1.Condition`; entries are replaced rather than edited, so a list built
 * from a cached (frozen) object's entries can be passed once copied (`[...cached.status.conditions]`).
 */
import { rfc3339 } from '../client/index.js';

/** The status of a condition. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** One entry of `status.conditions`, as `metav1.Condition` is on the wire. */
export interface Condition {
  /** CamelCase type, e.g. `Ready`; unique within the list. */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: ConditionStatus;
  /** `metadata.generation` of the object the condition was set for. */
  observedGeneration?: number;
  /** RFC 3339 time the status last changed. */
  lastTransitionTime: string;
  /** CamelCase reason of the last transition, e.g. `Reconciled`. */
  reason: string;
  /** Human-readable details; may be empty. */
  message: string;
}

/** What `setStatusCondition` takes: a condition whose message and transition time may be left out. */
export interface ConditionInput {
  /** CamelCase type, e.g. `Ready`. */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: ConditionStatus;
  /** CamelCase reason, e.g. `Reconciled`. */
  reason: string;
  /** Human-readable details; default empty. */
  message?: string | undefined;
  /** `metadata.generation` the condition describes (an object's, which may be absent). */
  observedGeneration?: number | undefined;
  /** Transition time to record when the status changes; default now. */
  lastTransitionTime?: string | undefined;
}

/** Conditions as a reader gets them: possibly absent, possibly read-only (from the cache). */
export type ConditionsInput = readonly Readonly<Condition>[] | undefined;

/**
 * Sets `cond` in `conditions` (in place) and says whether anything changed. A new type is
 * appended. For an existing type, `lastTransitionTime` changes only when `status` does (to the
 * given time, or now); `reason`, `message` and `observedGeneration` are taken from `cond`.
 */
export function setStatusCondition(conditions: Condition[], cond: ConditionInput): boolean {
  const i = conditions.findIndex((c) => c.type === cond.type);
  const existing = i >= 0 ? conditions[i] : undefined;
  const transition = !existing || existing.status !== cond.status;
  const next: Condition = {
    type: cond.type,
    status: cond.status,
    ...(cond.observedGeneration !== undefined ? { observedGeneration: cond.observedGeneration } : {}),
    lastTransitionTime: transition ? (cond.lastTransitionTime ?? rfc3339()) : existing.lastTransitionTime,
    reason: cond.reason,
    message: cond.message ?? '',
  };
  if (!existing) {
    conditions.push(next);
    return true;
  }
  const changed =
    transition ||
    existing.reason !== next.reason ||
    existing.message !== next.message ||
    existing.observedGeneration !== next.observedGeneration;
  if (changed) conditions[i] = next;
  return changed;
}

/** Removes the condition `type` from `conditions` (in place); true when there was one. */
export function removeStatusCondition(conditions: Condition[], type: string): boolean {
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) return false;
  conditions.splice(i, 1);
  return true;
}

/** The condition `type`, if `conditions` holds one. */
export function findStatusCondition<C extends Readonly<Condition>>(conditions: readonly C[] | undefined, type: string): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether the condition `type` is present with status `True`. */
export function isStatusConditionTrue(conditions: ConditionsInput, type: string): boolean {
  return isStatusConditionPresentAndEqual(conditions, type, 'True');
}

/** Whether the condition `type` is present with status `False`. */
export function isStatusConditionFalse(conditions: ConditionsInput, type: string): boolean {
  return isStatusConditionPresentAndEqual(conditions, type, 'False');
}

/** Whether the condition `type` is present with the given status. */
export function isStatusConditionPresentAndEqual(conditions: ConditionsInput, type: string, status: ConditionStatus): boolean {
  return findStatusCondition(conditions, type)?.status === status;
}
