/** kcp's third-party conditions (type, status, severity, reason, message, lastTransitionTime), as the tenancy controllers set them. */
import { isObject } from '../../json.js';
import { now } from '../../api/objects.js';
import type { Json, JsonObject } from '../../types.js';

/** A condition to set; severity and reason only accompany False, as kcp writes them. */
export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  severity?: 'Error' | 'Warning' | 'Info';
  message?: string;
}

/** The conditions list of a status, or an empty one. */
export function conditionsOf(status: JsonObject): JsonObject[] {
  const c = status['conditions'];
  return Array.isArray(c) ? c.filter(isObject) : [];
}

/** Whether a condition of the type has status True. */
export function isTrue(status: JsonObject, type: string): boolean {
  return conditionsOf(status).some((c) => c['type'] === type && c['status'] === 'True');
}

/**
 * `conditions` with `c` set: the transition time is kept when the status does not change, and the
 * list stays sorted with Ready first, then by type.
 */
export function setCondition(list: JsonObject[], c: ConditionInput): JsonObject[] {
  const prev = list.find((x) => x['type'] === c.type);
  const next: JsonObject = { type: c.type, status: c.status };
  if (c.severity) next['severity'] = c.severity;
  next['lastTransitionTime'] = prev && prev['status'] === c.status && typeof prev['lastTransitionTime'] === 'string' ? prev['lastTransitionTime'] : now();
  if (c.reason) next['reason'] = c.reason;
  if (c.message) next['message'] = c.message;
  const out = [...list.filter((x) => x['type'] !== c.type), next];
  return out.sort((a, b) => rank(a) - rank(b) || String(a['type']).localeCompare(String(b['type'])));
}

function rank(c: JsonObject): number {
  return c['type'] === 'Ready' ? 0 : 1;
}

/** Compares two condition lists ignoring transition times. */
export function sameConditions(a: Json | undefined, b: Json | undefined): boolean {
  const strip = (v: Json | undefined) => (Array.isArray(v) ? v.filter(isObject).map(({ lastTransitionTime: _t, ...rest }) => rest) : []);
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}
