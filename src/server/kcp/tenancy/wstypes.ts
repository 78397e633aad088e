/**
 * WorkspaceType lookups across shards: by (path or cluster name, type name), relative references
 * resolved up the workspace tree as kcp's admission does, the transitive `extend.with` closure, and
 * the initializers a type implies.
 */
import { isObject } from '../../json.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject } from '../../types.js';
import { APIBINDINGS_INITIALIZER, PATH_ANNOTATION } from './names.js';
import { WORKSPACE_TYPES } from './schemas.js';

/** A `{name, path}` reference to a WorkspaceType. */
export interface TypeRef {
  name: string;
  path?: string;
}

/** A WorkspaceType found in some logical cluster. */
export interface ResolvedType {
  obj: KubeObject;
  /** Name of the logical cluster holding it. */
  cluster: string;
  /** Canonical path of that cluster (the type's `kcp.io/path`). */
  path: string;
  name: string;
}

/** The `spec` of a WorkspaceType as the tenancy code reads it. */
export interface TypeSpec {
  initializer?: boolean;
  terminator?: boolean;
  extend?: { with?: TypeRef[] };
  defaultChildWorkspaceType?: TypeRef;
  limitAllowedChildren?: { none?: boolean; types?: TypeRef[] };
  limitAllowedParents?: { none?: boolean; types?: TypeRef[] };
  defaultAPIBindings?: { path?: string; export: string }[];
  additionalWorkspaceLabels?: Record<string, string>;
}

/** The spec of a resolved type. */
export function specOf(t: ResolvedType): TypeSpec {
  return (isObject(t.obj['spec']) ? t.obj['spec'] : {}) as unknown as TypeSpec;
}

/** `<path>:<name>`, how kcp prints a type and what `internal.tenancy.kcp.io/type` holds. */
export function qualifiedName(t: ResolvedType): string {
  return `${t.path}:${t.name}`;
}

/** `<reference path>:<name>` (or just the name) for messages. */
export function refString(r: TypeRef): string {
  return r.path ? `${r.path}:${r.name}` : r.name;
}

/** The initializer (and terminator) name of a type: `<logical cluster NAME>:<type name>`. */
export function initializerFor(t: ResolvedType): string {
  return `${t.cluster}:${t.name}`;
}

/** Finds WorkspaceTypes in any logical cluster of the topology. */
export class TypeResolver {
  constructor(private readonly topo: Topology) {}

  /** The type `name` in the workspace addressed by `pathOrName`, or undefined. */
  get(pathOrName: string, name: string): ResolvedType | undefined {
    const cluster = this.topo.resolve(pathOrName);
    const shard = cluster ? this.topo.shardOf(cluster) : undefined;
    const obj = cluster && shard ? shard.store.get(WORKSPACE_TYPES, cluster, '', name) : undefined;
    if (!obj || !cluster) return undefined;
    const path = obj.metadata.annotations?.[PATH_ANNOTATION] ?? this.topo.pathOf(cluster) ?? cluster;
    return { obj, cluster, path, name };
  }

  /**
   * A reference as written in a Workspace: with a path it is looked up there; without one, in the
   * workspace `from` and then each ancestor, root last. Throws when nothing is found.
   */
  resolveRef(from: string, ref: TypeRef): ResolvedType {
    if (ref.path) {
      const t = this.get(ref.path, ref.name);
      if (!t) throw new Error(`workspace type ${refString(ref)} cannot be resolved`);
      return t;
    }
    let path = from;
    for (;;) {
      const t = this.get(path, ref.name);
      if (t) return t;
      const i = path.lastIndexOf(':');
      if (i > 0) path = path.slice(0, i);
      else if (path !== 'root') path = 'root';
      else throw new Error(`workspace type "${ref.name}" cannot be resolved`);
    }
  }

  /** Every type `t` extends, transitively (bases first, depth first), then `t` itself. */
  closure(t: ResolvedType): ResolvedType[] {
    const out: ResolvedType[] = [];
    const seen = new Set<string>([qualifiedName(t)]);
    const walk = (cur: ResolvedType, trail: string[]): void => {
      for (const base of specOf(cur).extend?.with ?? []) {
        const q = refString(base);
        if (trail.includes(q)) throw new Error(`circular dependency detected in workspace type ${q}: ${[...trail.slice(trail.indexOf(q)), q].join(' -> ')}`);
        if (seen.has(q)) continue;
        seen.add(q);
        const found = base.path ? this.get(base.path, base.name) : undefined;
        if (!found) throw new Error(`unable to find inherited workspace type ${q}`);
        out.push(found);
        walk(found, [...trail, q]);
      }
    };
    walk(t, [qualifiedName(t)]);
    out.push(t);
    return out;
  }

  /**
   * `LogicalCluster.spec.terminators` for a workspace of type `t`: the terminator of every type of
   * the closure that sets `terminator: true`, in closure order (bases first, `t` last).
   */
  terminatorsFor(t: ResolvedType): string[] {
    const out: string[] = [];
    for (const c of this.closure(t)) if (specOf(c).terminator && !out.includes(initializerFor(c))) out.push(initializerFor(c));
    return out;
  }

  /**
   * `LogicalCluster.spec.initializers` for a workspace of type `t`: every initializer type of the
   * closure, then `system:apibindings` when any of them has default APIBindings.
   */
  initializersFor(t: ResolvedType): string[] {
    const out: string[] = [];
    let bindings = false;
    for (const c of this.closure(t)) {
      const spec = specOf(c);
      if (spec.initializer && !out.includes(initializerFor(c))) out.push(initializerFor(c));
      if ((spec.defaultAPIBindings ?? []).length > 0) bindings = true;
    }
    if (bindings) out.push(APIBINDINGS_INITIALIZER);
    return out;
  }
}
