/**
 * The `system:apibindings` initializer: creates the default APIBindings of a workspace's type
 * closure (kcp's generated names, every claim of the export accepted), and reports done once each
 * is `InitialBindingCompleted` and, where it accepts claims, `PermissionClaimsApplied`.
 */
import { ApiError } from '../../http/errors.js';
import { isObject } from '../../json.js';
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { Json, JsonObject, KubeObject, ResourceDef } from '../../types.js';
import { isTrue } from './conditions.js';
import { TYPE_ANNOTATION, defaultAPIBindingName, splitLast } from './names.js';
import { specOf, type TypeResolver } from './wstypes.js';

/** A default binding a type asks for. */
interface Wanted {
  path: string;
  export: string;
}

function field(obj: Json | undefined, ...keys: string[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const k of keys) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

/** Runs the `system:apibindings` initializer for one logical cluster at a time. */
export class APIBindingsInitializer {
  constructor(
    private readonly topo: Topology,
    private readonly types: TypeResolver,
  ) {}

  /** The APIBinding resource of a cluster, preferring the storage version v1alpha2. */
  private bindingDef(shard: Shard, cluster: string): ResourceDef | undefined {
    return shard.svc.registry.find(cluster, 'apis.kcp.io', 'v1alpha2', 'apibindings') ?? shard.svc.registry.find(cluster, 'apis.kcp.io', 'v1alpha1', 'apibindings');
  }

  /** The export `path`/`name` as v1alpha2 serves it, or undefined when it does not exist (yet). */
  private exportOf(path: string, name: string): KubeObject | undefined {
    const cluster = this.topo.resolve(path);
    const shard = cluster ? this.topo.shardOf(cluster) : undefined;
    if (!cluster || !shard) return undefined;
    const def = shard.svc.registry.find(cluster, 'apis.kcp.io', 'v1alpha2', 'apiexports') ?? shard.svc.registry.find(cluster, 'apis.kcp.io', 'v1alpha1', 'apiexports');
    const obj = def ? shard.store.get(def.storage, cluster, '', name) : undefined;
    return def && obj ? shard.svc.present(def, obj) : undefined;
  }

  /** The default bindings of the cluster's type closure, deduplicated, in closure order. */
  private wanted(lc: KubeObject): Wanted[] | undefined {
    const [path, name] = splitLast(lc.metadata.annotations?.[TYPE_ANNOTATION] ?? '');
    const t = path ? this.types.get(path, name) : undefined;
    if (!t) return undefined;
    const out: Wanted[] = [];
    for (const c of this.types.closure(t)) {
      for (const b of specOf(c).defaultAPIBindings ?? []) {
        // A binding without a path refers to an export next to the type.
        const w = { path: b.path || c.path, export: b.export };
        if (!out.some((o) => o.path === w.path && o.export === w.export)) out.push(w);
      }
    }
    return out;
  }

  /** The accepted claims for a binding to `exp`, in the version of `def`. */
  private claims(def: ResourceDef, exp: KubeObject): JsonObject[] {
    const claims = field(exp as unknown as Json, 'spec', 'permissionClaims');
    if (!Array.isArray(claims)) return [];
    const out: JsonObject[] = [];
    for (const c of claims) {
      if (!isObject(c)) continue;
      const claim: JsonObject = { group: c['group'] ?? '', resource: c['resource'] ?? '' };
      if (typeof c['identityHash'] === 'string' && c['identityHash']) claim['identityHash'] = c['identityHash'];
      if (def.version === 'v1alpha2') {
        claim['verbs'] = Array.isArray(c['verbs']) ? c['verbs'] : ['*'];
        claim['selector'] = isObject(c['defaultSelector']) ? c['defaultSelector'] : { matchAll: true };
      } else {
        claim['all'] = true;
      }
      claim['state'] = 'Accepted';
      out.push(claim);
    }
    return out;
  }

  /** Creates what is missing; true once every default binding is bound (and its claims applied). */
  reconcile(shard: Shard, cluster: string, lc: KubeObject): boolean {
    const wanted = this.wanted(lc);
    const def = this.bindingDef(shard, cluster);
    if (!wanted || !def) return false;
    const existing = shard.store.list(def.storage, { cluster, namespace: '' }).map((b) => shard.svc.present(def, b));
    const refOf = (b: KubeObject) => {
      const ref = field(b as unknown as Json, 'spec', 'reference', 'export');
      return { path: String(field(ref, 'path') ?? ''), name: String(field(ref, 'name') ?? '') };
    };
    let complete = true;
    for (const w of wanted) {
      const name = defaultAPIBindingName(cluster, w.path, w.export);
      const binding = existing.find((b) => b.metadata.name === name) ?? existing.find((b) => refOf(b).path === w.path && refOf(b).name === w.export);
      if (!binding) {
        complete = false;
        const exp = this.exportOf(w.path, w.export);
        // kcp retries until the export shows up (it may be replicated later).
        if (!exp) continue;
        const body: JsonObject = {
          apiVersion: `${def.group}/${def.version}`,
          kind: def.kind,
          metadata: { name },
          spec: { reference: { export: { path: w.path, name: w.export } } },
        };
        const claims = this.claims(def, exp);
        if (claims.length) (body['spec'] as JsonObject)['permissionClaims'] = claims;
        try {
          shard.svc.create(this.topo.systemContext(cluster), def, '', body);
        } catch (e) {
          if (!(e instanceof ApiError) || e.code !== 409) throw e;
        }
        continue;
      }
      const status = isObject(binding['status']) ? binding['status'] : {};
      const claims = field(binding as unknown as Json, 'spec', 'permissionClaims');
      const accepts = Array.isArray(claims) && claims.some((c) => isObject(c) && c['state'] === 'Accepted');
      if (!isTrue(status, 'InitialBindingCompleted') || (accepts && !isTrue(status, 'PermissionClaimsApplied'))) complete = false;
    }
    return complete;
  }
}
