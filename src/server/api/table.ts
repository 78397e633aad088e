/**
 * Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` answers get, list and
 * watch with `meta.k8s.io/v1` Tables, so kubectl shows each kind's columns (Workspace TYPE, PHASE,
 * URL; APIBinding READY; ConfigMap DATA) instead of NAME and AGE only.
 */
import type { Json, JsonObject, KubeObject, PrinterColumn, ResourceDef } from '../types.js';

/** Whether the Accept header asks for a Table (kubectl lists it first, then plain JSON). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0]!.toLowerCase().replace(/\s+/g, '');
  return first.startsWith('application/json') && first.includes('as=table') && first.includes('g=meta.k8s.io');
}

/** Kubernetes' short human duration (`45s`, `12m`, `3h4m`, `5d`, `2y`). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

/** Reads a simple JSONPath (`.status.phase`, `.spec.type.name`, `.status.conditions[?(@.type=="Ready")].status`). */
export function readPath(obj: unknown, jsonPath: string): Json | undefined {
  let cur: unknown = obj;
  const re = /\.([A-Za-z0-9_-]+)|\[\?\(@\.([A-Za-z0-9_-]+)=="([^"]*)"\)\]|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(jsonPath)) !== null) {
    if (m.index !== consumed) return undefined;
    consumed = re.lastIndex;
    if (cur === null || typeof cur !== 'object') return undefined;
    if (m[1] !== undefined) cur = (cur as Record<string, unknown>)[m[1]];
    else if (m[2] !== undefined) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.find((e) => typeof e === 'object' && e !== null && String((e as Record<string, unknown>)[m![2]!]) === m![3]);
    } else cur = Array.isArray(cur) ? cur[Number(m[4])] : undefined;
  }
  return consumed === jsonPath.length ? (cur as Json | undefined) : undefined;
}

const NAME: PrinterColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function cell(col: PrinterColumn, obj: KubeObject, now: number): Json {
  if (col === NAME) return obj.metadata.name ?? '';
  const v = col.value ? col.value(obj) : col.jsonPath ? readPath(obj, col.jsonPath) : undefined;
  if (v === undefined || v === null) return col.type === 'date' ? '<unknown>' : '<none>';
  if (col.type === 'date' && typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? v : humanDuration(now - t);
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

function columnsOf(def: ResourceDef): PrinterColumn[] {
  const cols = def.printerColumns ?? [];
  // A kind that places its own name column (Events) lays out the whole table itself.
  if (def.builtin && cols.some((c) => c.format === 'name')) return cols;
  // Custom resources name their own Age column (kube appends one when missing).
  return [NAME, ...cols, ...(cols.some((c) => c.name === 'Age') ? [] : [AGE])];
}

function rowObject(obj: KubeObject, include: string): Json {
  if (include === 'None') return null;
  if (include === 'Object') return obj as unknown as Json;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata as unknown as Json };
}

/** A Table of objects of one resource. */
export function toTable(def: ResourceDef, objects: readonly KubeObject[], listMeta: JsonObject, includeObject = 'Metadata'): JsonObject {
  const cols = columnsOf(def);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type === 'date' ? 'string' : c.type,
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({ cells: cols.map((c) => cell(c, o, now)), object: rowObject(o, includeObject) })),
  };
}
