/**
 * Values shared between cached objects. `metadata.managedFields[].fieldsV1` (the set of fields one
 * manager owns) is a tree of many small objects, often the larger part of an object's metadata, and
 * it is the same for every object a controller writes the same way. Decoded once per distinct text
 * and shared, each costs neither a parse nor memory again. Shared values are always frozen, even
 * where cached objects are not, so that no reader can change another object through one.
 */
import { deepFreeze } from './freeze.js';

/** Distinct texts remembered; past this the table starts over (sharing is a saving, not a promise). */
const DEFAULT_MAX_TEXTS = 4096;

/** A table of decoded `fieldsV1` values by their JSON text. */
export class SharedFields {
  private readonly byText = new Map<string, unknown>();
  /** The latest value shared per managedFields entry identity (manager, operation, apiVersion, subresource). */
  private readonly byManager = new Map<string, unknown>();
  /** The manager entry shared last, and its value (what `byManager` holds under `key`). */
  private last: { manager: unknown; operation: unknown; apiVersion: unknown; subresource: unknown; key: string; value: unknown } | undefined;

  constructor(private readonly maxTexts = DEFAULT_MAX_TEXTS) {}

  /** The frozen value of `text`, decoded on first sight; throws if `text` is not JSON. */
  get(text: string): unknown {
    let v = this.byText.get(text);
    if (v === undefined) {
      v = deepFreeze(JSON.parse(text) as unknown);
      if (this.byText.size >= this.maxTexts) this.byText.clear();
      this.byText.set(text, v);
    }
    return v;
  }

  /**
   * For objects decoded whole (when every object is read anyway): replaces each
   * `metadata.managedFields[].fieldsV1` of `obj` by the shared value last seen for the same manager
   * entry when the two are equal, and shares it otherwise. Objects written the same way by the same
   * manager then hold one frozen tree instead of one each: less to keep, less for the collector to
   * copy. Compared, not re-encoded: the parsed value is all there is.
   */
  shareManaged(obj: { metadata?: unknown }): void {
    const meta = obj.metadata as { managedFields?: unknown } | undefined;
    const managed = meta?.managedFields;
    if (!Array.isArray(managed)) return;
    for (let i = 0; i < managed.length; i++) {
      const m = managed[i] as { manager?: unknown; operation?: unknown; apiVersion?: unknown; subresource?: unknown; fieldsV1?: unknown } | null;
      if (m === null || typeof m !== 'object' || Object.isFrozen(m)) continue;
      const v = m.fieldsV1;
      if (v === null || typeof v !== 'object') continue;
      // Objects mostly come from one manager at a time: its entry is compared without building a key.
      const last = this.last;
      const sub = m.subresource ?? '';
      const hit = last !== undefined && last.manager === m.manager && last.operation === m.operation && last.apiVersion === m.apiVersion && last.subresource === sub;
      const key = hit ? last.key : `${String(m.manager)}\n${String(m.operation)}\n${String(m.apiVersion)}\n${String(sub)}`;
      const shared = hit ? last.value : this.byManager.get(key);
      if (shared !== undefined && sameJSON(shared, v)) {
        m.fieldsV1 = shared;
        if (!hit) this.last = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, subresource: sub, key, value: shared };
      } else {
        if (this.byManager.size >= this.maxTexts) this.byManager.clear();
        const value = deepFreeze(v);
        this.byManager.set(key, value);
        this.last = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, subresource: sub, key, value };
      }
    }
  }

  /** Distinct texts held now. */
  get size(): number {
    return this.byText.size;
  }
}

/** Equality of two values decoded from JSON (no undefined members), without allocating. */
function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJSON(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in bo) {
    if (!Object.hasOwn(ao, k) || !sameJSON(ao[k], bo[k])) return false;
    n++;
  }
  for (const k in ao) if (Object.hasOwn(ao, k)) n--;
  return n === 0;
}
