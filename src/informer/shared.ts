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

  /** Distinct texts held now. */
  get size(): number {
    return this.byText.size;
  }
}
