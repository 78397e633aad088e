/**
 * Events are one storage served as two APIs, as in kube: objects are stored in the core `v1` form,
 * and `events.k8s.io/v1` is a view converted on every read and write with kube's field mapping
 * (`note`↔`message`, `regarding`↔`involvedObject`, `reportingController`↔`reportingComponent`,
 * `deprecated*`↔the old core fields). Validation depends on the API a write came through, as in
 * kube's ValidateEventCreate / ValidateEventUpdate: core writes get the legacy checks only,
 * events.k8s.io writes the strict ones too. Messages and field paths are kube's, which names the
 * internal (core) fields even for an events.k8s.io request.
 */
import { cause } from '../http/errors.js';
import { deepEqual, isObject } from '../json.js';
import type { StatusCause } from '../http/errors.js';
import type { Json, JsonObject, KubeObject, PrinterColumn } from '../types.js';
import { qualifiedName, validateName } from './validation.js';

/** The storage key both Event APIs share. */
export const EVENTS = 'core/events';

/** core v1 field → events.k8s.io/v1 field, in core v1's Go field order. */
const CORE_TO_V1: readonly (readonly [string, string])[] = [
  ['involvedObject', 'regarding'],
  ['reason', 'reason'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['type', 'type'],
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['action', 'action'],
  ['related', 'related'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
];

/** events.k8s.io/v1 fields in its Go field order. */
const V1_ORDER = [
  'eventTime',
  'series',
  'reportingController',
  'reportingInstance',
  'action',
  'reason',
  'regarding',
  'related',
  'note',
  'type',
  'deprecatedSource',
  'deprecatedFirstTimestamp',
  'deprecatedLastTimestamp',
  'deprecatedCount',
];

const V1_TO_CORE = new Map(CORE_TO_V1.map(([c, v]) => [v, c]));
const CORE_OF_V1 = new Map(CORE_TO_V1.map(([c, v]) => [c, v]));

function renamed(src: KubeObject, apiVersion: string, order: readonly string[], rename: (k: string) => string | undefined): KubeObject {
  const out: KubeObject = { apiVersion, kind: 'Event', metadata: src.metadata };
  const byTarget = new Map<string, Json>();
  for (const [k, v] of Object.entries(src)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata' || v === undefined) continue;
    byTarget.set(rename(k) ?? k, v as Json);
  }
  for (const k of order) if (byTarget.has(k)) out[k] = byTarget.get(k)!;
  // Anything outside the mapping (never stored, since both schemas prune) keeps its name.
  for (const [k, v] of byTarget) if (!(k in out)) out[k] = v;
  return out;
}

/** A stored (core v1) Event as events.k8s.io/v1 serves it. */
export function eventToEventsV1(stored: KubeObject): KubeObject {
  return renamed(stored, 'events.k8s.io/v1', V1_ORDER, (k) => CORE_OF_V1.get(k));
}

/** An events.k8s.io/v1 Event in its stored (core v1) form. */
export function eventToCore(v1: KubeObject): KubeObject {
  return renamed(v1, 'v1', CORE_TO_V1.map(([c]) => c), (k) => V1_TO_CORE.get(k));
}

// ---------------------------------------------------------------------------------------------
// Validation (on the stored form; `strict` for writes through events.k8s.io/v1).

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

function s(o: KubeObject | JsonObject, k: string): string {
  const v = o[k];
  return typeof v === 'string' ? v : '';
}

function sub(o: KubeObject, k: string): JsonObject {
  const v = o[k];
  return isObject(v as Json) ? (v as JsonObject) : {};
}

/** A metav1.Time / MicroTime that is absent or null is Go's zero time. */
function zeroTime(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/** The value part of a field.Invalid message: strings quoted, numbers bare, objects as JSON. */
function shown(v: Json | undefined): string {
  if (v === undefined || v === null) return 'null';
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

const required = (field: string): StatusCause => cause('FieldValueRequired', field, 'Required value');
const invalidField = (field: string, value: Json | undefined, detail: string): StatusCause =>
  cause('FieldValueInvalid', field, `Invalid value: ${shown(value)}: ${detail}`);

function bytes(v: string): number {
  return Buffer.byteLength(v, 'utf8');
}

/** kube's legacyValidateEvent, which every write of either API passes. */
function legacyCauses(e: KubeObject, strict: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const ns = e.metadata.namespace ?? '';
  const ioNs = s(sub(e, 'involvedObject'), 'namespace');
  const mismatch = (): StatusCause => invalidField('involvedObject.namespace', ioNs, 'does not match event.namespace');
  if (zeroTime(e['eventTime'])) {
    // Old-style events: the namespace must agree with the involved object's.
    if (ioNs === '' ? ns !== '' && ns !== 'default' : ns !== ioNs) out.push(mismatch());
    return out;
  }
  const controllerField = strict ? 'reportingController' : 'reportingComponent';
  if (ioNs === '' && ns !== 'default' && ns !== 'kube-system') out.push(mismatch());
  const controller = s(e, 'reportingComponent');
  if (controller === '') out.push(required(controllerField));
  for (const m of qualifiedName(controller)) out.push(invalidField(controllerField, controller, m));
  const instance = s(e, 'reportingInstance');
  if (instance === '') out.push(required('reportingInstance'));
  if (bytes(instance) > REPORTING_INSTANCE_LIMIT) out.push(invalidField('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
  const action = s(e, 'action');
  if (action === '') out.push(required('action'));
  if (bytes(action) > ACTION_LIMIT) out.push(invalidField('action', '', `can have at most ${ACTION_LIMIT} characters`));
  const reason = s(e, 'reason');
  if (reason === '') out.push(required('reason'));
  if (bytes(reason) > REASON_LIMIT) out.push(invalidField('reason', '', `can have at most ${REASON_LIMIT} characters`));
  if (bytes(s(e, 'message')) > NOTE_LIMIT) out.push(invalidField('message', '', `can have at most ${NOTE_LIMIT} characters`));
  return out;
}

function seriesCauses(e: KubeObject): StatusCause[] {
  const series = e['series'];
  if (!isObject(series as Json)) return [];
  const sr = series as JsonObject;
  const out: StatusCause[] = [];
  const count = typeof sr['count'] === 'number' ? sr['count'] : 0;
  if (count < 2) out.push(invalidField('series.count', '', 'should be at least 2'));
  if (zeroTime(sr['lastObservedTime'])) out.push(required('series.lastObservedTime'));
  return out;
}

/** Problems kube reports for creating `e` (stored form) through core v1 or (strict) events.k8s.io/v1. */
export function validateEventCreate(e: KubeObject, strict: boolean): StatusCause[] {
  const out = legacyCauses(e, strict);
  if (!strict) return out;
  const name = e.metadata.name ?? '';
  const nameErr = validateName(name, 'dns1123-subdomain');
  if (nameErr) out.push(invalidField('metadata.name', name, nameErr));
  out.push(...seriesCauses(e));
  if (zeroTime(e['eventTime'])) out.push(required('eventTime'));
  const type = s(e, 'type');
  if (type !== 'Normal' && type !== 'Warning') out.push(invalidField('type', '', `has invalid value: ${type}`));
  if (!zeroTime(e['firstTimestamp'])) out.push(invalidField('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (!zeroTime(e['lastTimestamp'])) out.push(invalidField('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (typeof e['count'] === 'number' && e['count'] !== 0) out.push(invalidField('deprecatedCount', '', 'needs to be unset'));
  const source = sub(e, 'source');
  if (s(source, 'component') !== '' || s(source, 'host') !== '') out.push(invalidField('deprecatedSource', '', 'needs to be unset'));
  return out;
}

/** Go's zero values (absent, null, "", 0, false, empty objects) all read as absent. */
function zeroed(v: Json | undefined): Json | undefined {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return undefined;
  if (Array.isArray(v)) return v.length ? v : undefined;
  if (typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const z = zeroed(x);
      if (z !== undefined) out[k] = z;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

// kube checks these one by one after the series, in this order (reason twice, as it does).
const IMMUTABLE: readonly (readonly [string, string])[] = [
  ['involvedObject', 'involvedObject'],
  ['reason', 'reason'],
  ['message', 'message'],
  ['source', 'source'],
  ['firstTimestamp', 'firstTimestamp'],
  ['lastTimestamp', 'lastTimestamp'],
  ['count', 'count'],
  ['reason', 'reason'],
  ['type', 'type'],
  ['eventTime', 'eventTime'],
  ['action', 'action'],
  ['related', 'related'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
];

/** Problems kube reports for updating `old` to `next` (stored forms); events.k8s.io/v1 may change only the series. */
export function validateEventUpdate(next: KubeObject, old: KubeObject, strict: boolean): StatusCause[] {
  const out = legacyCauses(next, strict);
  if (!strict) return out;
  if (!deepEqual(zeroed(next['series'] as Json | undefined), zeroed(old['series'] as Json | undefined))) out.push(...seriesCauses(next));
  for (const [key, field] of IMMUTABLE) {
    const v = next[key] as Json | undefined;
    if (!deepEqual(zeroed(v), zeroed(old[key] as Json | undefined))) out.push(invalidField(field, v ?? '', 'field is immutable'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server-side printing: kube's Event columns (the same for both APIs, read from the core form).

function asCore(o: KubeObject): KubeObject {
  return o.apiVersion === 'events.k8s.io/v1' ? eventToCore(o) : o;
}

function firstSeen(e: KubeObject): Json | undefined {
  return zeroTime(e['firstTimestamp']) ? (e['eventTime'] as Json | undefined) : (e['firstTimestamp'] as Json);
}

function lastSeen(e: KubeObject): Json | undefined {
  const series = sub(e, 'series');
  if (Object.keys(series).length) return series['lastObservedTime'];
  return zeroTime(e['lastTimestamp']) ? firstSeen(e) : (e['lastTimestamp'] as Json);
}

function target(e: KubeObject): string {
  const ref = sub(e, 'involvedObject');
  const kind = s(ref, 'kind').toLowerCase();
  return s(ref, 'name') ? `${kind}/${s(ref, 'name')}` : kind;
}

function source(e: KubeObject): string {
  const src = sub(e, 'source');
  const component = s(src, 'component') || s(e, 'reportingComponent');
  const instance = s(src, 'host') || s(e, 'reportingInstance');
  if (!component) return '<unknown>';
  return instance ? `${component}, ${instance}` : component;
}

function count(e: KubeObject): number {
  const series = sub(e, 'series');
  if (Object.keys(series).length) return typeof series['count'] === 'number' ? series['count'] : 0;
  return typeof e['count'] === 'number' && e['count'] !== 0 ? e['count'] : 1;
}

/** kube's Event table (no leading Name and no Age: Name is a wide column at the end). */
export const EVENT_COLUMNS: readonly PrinterColumn[] = [
  { name: 'Last Seen', type: 'date', value: (o) => lastSeen(asCore(o)) },
  { name: 'Type', type: 'string', value: (o) => s(o, 'type') },
  { name: 'Reason', type: 'string', value: (o) => s(o, 'reason') },
  { name: 'Object', type: 'string', value: (o) => target(asCore(o)) },
  { name: 'Subobject', type: 'string', priority: 1, value: (o) => s(sub(asCore(o), 'involvedObject'), 'fieldPath') },
  { name: 'Source', type: 'string', priority: 1, value: (o) => source(asCore(o)) },
  { name: 'Message', type: 'string', value: (o) => s(asCore(o), 'message').trim() },
  { name: 'First Seen', type: 'date', priority: 1, value: (o) => firstSeen(asCore(o)) },
  { name: 'Count', type: 'integer', priority: 1, value: (o) => count(asCore(o)) },
  { name: 'Name', type: 'string', format: 'name', priority: 1, value: (o) => o.metadata.name ?? '' },
];
