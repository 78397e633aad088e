/** Which resources each logical cluster serves: the built-ins plus whatever later layers add. */
import type { ResourceDef } from '../types.js';

/** Supplies resources served in one logical cluster in addition to the built-ins. */
export type ResourceSource = (cluster: string) => readonly ResourceDef[];

/** The per-cluster resource registry. */
export class Registry {
  private readonly sources: ResourceSource[] = [];

  constructor(private readonly builtins: readonly ResourceDef[]) {}

  /** Adds a source of extra resources (bound APIs, kcp types). */
  addSource(source: ResourceSource): void {
    this.sources.push(source);
  }

  /** Every resource served in `cluster`, built-ins first. */
  resourcesFor(cluster: string): ResourceDef[] {
    const out = [...this.builtins];
    for (const s of this.sources) out.push(...s(cluster));
    return out;
  }

  /** One resource by group, version and plural name, or undefined when `cluster` does not serve it. */
  find(cluster: string, group: string, version: string, resource: string): ResourceDef | undefined {
    for (const d of this.builtins) if (d.group === group && d.version === version && d.resource === resource) return d;
    for (const s of this.sources) {
      for (const d of s(cluster)) if (d.group === group && d.version === version && d.resource === resource) return d;
    }
    return undefined;
  }

  /** A built-in by storage key (server-internal writes). */
  builtin(storage: string): ResourceDef {
    const d = this.builtins.find((b) => b.storage === storage);
    if (!d) throw new Error(`no built-in resource with storage ${storage}`);
    return d;
  }
}
