/**
 * Serving bound resources in a consumer workspace without any CRD there: the resource source
 * returns, per logical cluster, the definitions of every `status.boundResources[]` entry of its
 * APIBindings, built from the export's APIResourceSchema and stored under the export's identity.
 * Definitions are memoised per cluster and dropped when a binding of that cluster commits.
 */
import type { ResourceSource } from '../../api/registry.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject, ResourceDef } from '../../types.js';
import { bindingsFor, defsFromSchema, findSchema } from './lookup.js';
import { BINDINGS, SCHEMAS, boundResourceStorage, obj, objs, statusOf, str } from './names.js';

const deletingDefs = new WeakMap<ResourceDef, ResourceDef>();

/**
 * The definition while its APIBinding is being deleted: `create` leaves discovery, but creates are
 * still routed so that admission answers them with kcp's 403.
 */
function whileDeleting(d: ResourceDef): ResourceDef {
  let out = deletingDefs.get(d);
  if (!out) {
    out = Object.freeze({ ...d, discoveryVerbs: d.verbs.filter((v) => v !== 'create') });
    deletingDefs.set(d, out);
  }
  return out;
}

/** One `status.boundResources[]` entry. */
export interface BoundResource {
  group: string;
  resource: string;
  schemaName: string;
  schemaUID: string;
  identityHash: string;
  storageVersions: string[];
}

/** `status.boundResources[]` of a binding. */
export function boundResourcesOf(b: KubeObject): BoundResource[] {
  return objs(statusOf(b)['boundResources']).map((r) => {
    const s = obj(r['schema']);
    const sv = r['storageVersions'];
    return {
      group: str(r['group']),
      resource: str(r['resource']),
      schemaName: str(s['name']),
      schemaUID: str(s['UID']),
      identityHash: str(s['identityHash']),
      storageVersions: Array.isArray(sv) ? sv.filter((x): x is string => typeof x === 'string') : [],
    };
  });
}

/** The per-cluster source of bound resource definitions. */
export class BoundServing {
  private readonly memo = new Map<string, readonly ResourceDef[]>();
  /** Schemas by UID, kept after the schema object goes (kcp keeps the bound CRD). */
  private readonly schemas = new Map<string, KubeObject>();
  private readonly unsubscribe: () => void;

  constructor(private readonly topo: Topology) {
    this.unsubscribe = topo.onCommit(({ event }) => {
      if (event.storage === BINDINGS) {
        this.memo.delete(event.cluster);
        this.memo.delete('*');
      }
      else if (event.storage === SCHEMAS) {
        if (event.type !== 'DELETED' && event.object.metadata.uid) this.schemas.set(event.object.metadata.uid, event.object);
        this.memo.clear();
      }
    });
  }

  /** Stops following commits. */
  stop(): void {
    this.unsubscribe();
  }

  /** The resource source to install on every shard. */
  readonly source: ResourceSource = (cluster) => {
    let defs = this.memo.get(cluster);
    if (!defs) {
      defs = this.compute(cluster);
      this.memo.set(cluster, defs);
    }
    return defs;
  };

  /** The definitions one binding contributes (regardless of deletion). */
  defsOfBinding(b: KubeObject): ResourceDef[] {
    const exportCluster = str(statusOf(b)['apiExportClusterName']);
    const out: ResourceDef[] = [];
    for (const r of boundResourcesOf(b)) {
      let schema = findSchema(this.topo, exportCluster, r.schemaName);
      if (schema && schema.metadata.uid === r.schemaUID) this.schemas.set(r.schemaUID, schema);
      else schema = this.schemas.get(r.schemaUID);
      if (!schema) continue;
      out.push(...defsFromSchema(schema, boundResourceStorage(r.group, r.resource, r.identityHash)));
    }
    return out;
  }

  private compute(cluster: string): readonly ResourceDef[] {
    if (cluster === '*') return this.computeWildcard();
    const out: ResourceDef[] = [];
    const taken = new Set<string>();
    for (const b of bindingsFor(this.topo, cluster)) {
      const deleting = b.metadata.deletionTimestamp !== undefined;
      for (const d of this.defsOfBinding(b)) {
        const key = `${d.group}/${d.version}/${d.resource}`;
        if (taken.has(key)) continue;
        taken.add(key);
        out.push(deleting ? whileDeleting(d) : d);
      }
    }
    return Object.freeze(out);
  }

  /**
   * For a `/clusters/*` view: every bound resource of every binding, addressed as kcp addresses
   * them on a shard, `<resource>:<identityHash>`, so that identities never mix.
   */
  private computeWildcard(): readonly ResourceDef[] {
    const out = new Map<string, ResourceDef>();
    for (const shard of this.topo.shards) {
      for (const b of shard.store.list(BINDINGS, { cluster: '*', namespace: '' })) {
        for (const d of this.defsOfBinding(b)) {
          const identity = d.storage.slice(d.storage.lastIndexOf(':') + 1);
          const key = `${d.group}/${d.version}/${d.resource}:${identity}`;
          if (!out.has(key)) out.set(key, Object.freeze({ ...d, resource: `${d.resource}:${identity}` }));
        }
      }
    }
    return Object.freeze([...out.values()]);
  }
}

/**
 * The logical cluster whose webhook configurations admit `group/resource` requests in `cluster`, as
 * kcp's webhook plugins choose it: the APIExport's workspace (`status.apiExportClusterName`) of the
 * first APIBinding that binds the resource, else `cluster` itself (local and claimed resources).
 */
export function webhookConfigurationCluster(topo: Topology, cluster: string, group: string, resource: string): string {
  for (const b of bindingsFor(topo, cluster)) {
    if (boundResourcesOf(b).some((r) => r.group === group && r.resource === resource)) {
      const exportCluster = str(statusOf(b)['apiExportClusterName']);
      if (exportCluster) return exportCluster;
    }
  }
  return cluster;
}
