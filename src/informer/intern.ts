/**
 * Interning of the string values in decoded objects. `JSON.parse` gives every string value its own
 * copy: thousands of APIBindings each hold their own "Ready", "True", export path, finalizer and
 * condition timestamps. A cache that keeps such objects for every workspace (a provider's view of
 * which clusters exist) shares equal values instead.
 *
 * The table is bounded: two generations of at most `capacity` strings each; a value seen again
 * while in either generation is shared, and a value nobody repeats (a uid) falls out after two
 * turnovers, so the table never holds more than 2 × capacity strings whatever flows through.
 */
export class StringInterner {
  private young = new Map<string, string>();
  private old = new Map<string, string>();

  constructor(private readonly capacity = 4096) {}

  /** The shared copy of `s`. */
  intern(s: string): string {
    const y = this.young.get(s);
    if (y !== undefined) return y;
    const shared = this.old.get(s) ?? s;
    this.young.set(shared, shared);
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    return shared;
  }

  /**
   * Replaces every string value in `value` (objects and arrays, in place) by its shared copy;
   * returns `value`. Frozen objects and arrays (shared read-only parts) are left as they are.
   */
  internAll<T>(value: T): T {
    if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === 'string') value[i] = this.intern(v);
        else if (v !== null && typeof v === 'object') this.internAll(v);
      }
    } else {
      const o = value as Record<string, unknown>;
      for (const k in o) {
        const v = o[k];
        if (typeof v === 'string') o[k] = this.intern(v);
        else if (v !== null && typeof v === 'object') this.internAll(v);
      }
    }
    return value;
  }
}
