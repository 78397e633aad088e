/**
 * kcp's condition type (the Cluster API "conditions" kcp vendors): `type`, `status`, `severity` (only
 * when False), `lastTransitionTime`, `reason`, `message`; sorted with `Ready` first, then by type.
 * The transition time moves only when the state changes, so unchanged reconciles write nothing.
 */
import { now } from '../../api/objects.js';
import type { JsonObject } from '../../types.js';
import { objs, str } from './names.js';

/** Severity of a False condition. */
export type Severity = 'Error' | 'Warning' | 'Info';

/** One condition as stored. */
export interface Condition extends JsonObject {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
}

/** Reads `status.conditions` (a copy). */
export function readConditions(status: JsonObject): Condition[] {
  return objs(status['conditions']).map((c) => ({ ...c }) as Condition);
}

/** The condition of a type, if present. */
export function getCondition(list: readonly Condition[], type: string): Condition | undefined {
  return list.find((c) => c.type === type);
}

/** Whether the condition is present and True. */
export function isTrue(list: readonly Condition[], type: string): boolean {
  return getCondition(list, type)?.status === 'True';
}

/** Whether the condition is absent or False (Cluster API's IsFalse treats absence as not-True). */
export function isFalse(list: readonly Condition[], type: string): boolean {
  return getCondition(list, type)?.status === 'False';
}

function sameState(a: JsonObject, b: JsonObject): boolean {
  return (
    str(a['type']) === str(b['type']) &&
    str(a['status']) === str(b['status']) &&
    str(a['reason']) === str(b['reason']) &&
    str(a['severity']) === str(b['severity']) &&
    str(a['message']) === str(b['message'])
  );
}

function order(a: Condition, b: Condition): number {
  if (a.type === b.type) return 0;
  if (a.type === 'Ready') return -1;
  if (b.type === 'Ready') return 1;
  return a.type < b.type ? -1 : 1;
}

function set(list: Condition[], next: Omit<Condition, 'lastTransitionTime'>): void {
  const i = list.findIndex((c) => c.type === next.type);
  const cur = i >= 0 ? list[i] : undefined;
  const cond = { ...next, lastTransitionTime: cur && sameState(cur, next) ? cur.lastTransitionTime : now() } as Condition;
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  list.sort(order);
}

/** Sets a condition True (no reason, message or severity, as kcp's MarkTrue). */
export function markTrue(list: Condition[], type: string): void {
  set(list, { type, status: 'True' });
}

/** Sets a condition False with a reason, severity and message. */
export function markFalse(list: Condition[], type: string, reason: string, severity: Severity, message: string): void {
  set(list, { type, status: 'False', severity, reason, message });
}

/** Removes a condition. */
export function removeCondition(list: Condition[], type: string): void {
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) list.splice(i, 1);
}

/** Sets `Ready` as the summary of one condition (kcp's SetSummary WithConditions(<one>)). */
export function mirrorReady(list: Condition[], from: string): void {
  const src = getCondition(list, from);
  if (!src) return;
  if (src.status === 'True') return markTrue(list, 'Ready');
  const { type: _t, lastTransitionTime: _l, ...state } = src;
  set(list, { ...state, type: 'Ready', status: src.status });
}
