/**
 * The field labels kube-apiserver accepts in `fieldSelector` for each built-in kind, and how each
 * is read from a stored object. Getters read the stored form, so a view served with conversion
 * (events.k8s.io/v1 over core Events) maps its labels onto stored fields instead of converting
 * every object it filters, as kube's field label conversion functions do.
 */
import type { FieldLabels, KubeObject } from '../types.js';

type Getter = (o: KubeObject) => string;

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  return v === undefined || v === null ? '' : String(v);
}

/** A string-valued field one object level down (`involvedObject.name`). */
function nested(field: string, key: string): Getter {
  return (o) => {
    const v = o[field];
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? text((v as Record<string, unknown>)[key]) : '';
  };
}

const top = (field: string): Getter => (o) => text(o[field]);
const name: Getter = (o) => o.metadata.name ?? '';
const namespace: Getter = (o) => o.metadata.namespace ?? '';

/** What every kind accepts (apimachinery's DefaultMetaV1FieldSelectorConversion). */
export const OBJECT_META_FIELDS: FieldLabels = Object.freeze({ 'metadata.name': name, 'metadata.namespace': namespace });

const REFERENCE_KEYS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

function referenceFields(label: string): Record<string, Getter> {
  return Object.fromEntries(REFERENCE_KEYS.map((k) => [`${label}.${k}`, nested('involvedObject', k)]));
}

/** core v1 Events; `source` falls back to the reporting controller, as kube's selectable fields do. */
export const CORE_EVENT_FIELDS: FieldLabels = Object.freeze({
  ...referenceFields('involvedObject'),
  reason: top('reason'),
  reportingComponent: top('reportingComponent'),
  source: (o: KubeObject) => nested('source', 'component')(o) || text(o['reportingComponent']),
  type: top('type'),
  ...OBJECT_META_FIELDS,
});

/** events.k8s.io/v1 Events: kube maps these names onto the core ones (no `source` here). */
export const EVENTS_V1_EVENT_FIELDS: FieldLabels = Object.freeze({
  reason: top('reason'),
  ...referenceFields('regarding'),
  reportingController: top('reportingComponent'),
  type: top('type'),
  ...OBJECT_META_FIELDS,
});

/** Namespaces: kube's conversion accepts only these two (not metadata.namespace). */
export const NAMESPACE_FIELDS: FieldLabels = Object.freeze({ 'status.phase': nested('status', 'phase'), 'metadata.name': name });

/** Secrets: their type besides ObjectMeta. */
export const SECRET_FIELDS: FieldLabels = Object.freeze({ type: top('type'), ...OBJECT_META_FIELDS });

/**
 * The labels of a custom resource version: ObjectMeta plus its `selectableFields` (`.spec.color`
 * selected as `spec.color`), whose string, integer and boolean values are compared as text.
 */
export function selectableFieldLabels(jsonPaths: readonly string[]): FieldLabels {
  if (jsonPaths.length === 0) return OBJECT_META_FIELDS;
  const out: Record<string, Getter> = { ...OBJECT_META_FIELDS };
  for (const p of jsonPaths) {
    const steps = p.replace(/^\./, '').split('.');
    out[steps.join('.')] = (o) => {
      let cur: unknown = o;
      for (const s of steps) {
        if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return '';
        cur = (cur as Record<string, unknown>)[s];
      }
      return typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean' ? String(cur) : '';
    };
  }
  return Object.freeze(out);
}
