/**
 * The Workspace controller (kcp's scheduling, phase and deletion reconcilers): picks a shard and a
 * logical cluster name, creates the LogicalCluster there, records `spec.cluster` and `spec.URL`,
 * follows the LogicalCluster through Initializing to Ready, and on deletion removes the logical
 * cluster before releasing the Workspace. Every step is its own write, so watchers see each one.
 */
import { isObject } from '../../json.js';
import { LOGICAL_CLUSTERS } from '../../api/objects.js';
import { labelSelectorFromMatch, matchesLabels, type LabelSelectorSpec } from '../../api/selectors.js';
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { JsonObject, KubeObject } from '../../types.js';
import { ReconcileLoop, splitClusterKey, type ReconcileResult } from '../loop.js';
import { conditionsOf, sameConditions, setCondition, type ConditionInput } from './conditions.js';
import {
  CLUSTER_NAME_ANNOTATION,
  LOGICAL_CLUSTER_FINALIZER,
  OWNER_ANNOTATION,
  PATH_ANNOTATION,
  SHARD_ANNOTATION,
  SHARD_HASH_ANNOTATION,
  TYPE_ANNOTATION,
  WORKSPACE_FINALIZER,
  newClusterName,
  shardNameHash,
} from './names.js';
import { SHARDS, WORKSPACES, WORKSPACE_DEF } from './schemas.js';
import type { TypeResolver } from './wstypes.js';

/** A Shard object of root paired with the running shard of the same name. */
export interface PlacedShard {
  obj: KubeObject;
  shard: Shard;
  /** `spec.externalURL`, the base of workspace and logical cluster URLs. */
  externalURL: string;
}

/** The Shard objects of root that name a running shard. */
export function placedShards(topo: Topology): PlacedShard[] {
  const out: PlacedShard[] = [];
  for (const obj of topo.root.store.list(SHARDS, { cluster: 'root', namespace: '' })) {
    const shard = topo.shards.find((s) => s.name === obj.metadata.name);
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    if (shard) out.push({ obj, shard, externalURL: String(spec['externalURL'] ?? spec['baseURL'] ?? shard.url) });
  }
  return out;
}

function specOf(obj: KubeObject): JsonObject {
  return isObject(obj['spec']) ? obj['spec'] : {};
}

function statusOf(obj: KubeObject): JsonObject {
  return isObject(obj['status']) ? obj['status'] : {};
}

/** Reconciles Workspaces; keys are `<parent cluster>|<workspace name>`. */
export class WorkspaceController {
  readonly loop: ReconcileLoop;

  constructor(
    private readonly topo: Topology,
    private readonly types: TypeResolver,
  ) {
    this.loop = new ReconcileLoop('workspaces', (key) => this.reconcile(key));
  }

  private reconcile(key: string): ReconcileResult {
    const [parent, name] = splitClusterKey(key);
    const shard = this.topo.shardOf(parent);
    const ws = shard?.store.get(WORKSPACES, parent, '', name);
    if (!shard || !ws) return;
    if (ws.metadata.deletionTimestamp) return this.deleting(shard, parent, ws);
    const phase = statusOf(ws)['phase'] ?? 'Scheduling';
    if (phase === 'Scheduling') return this.schedule(shard, parent, ws);
    return this.follow(shard, parent, ws);
  }

  private update(shard: Shard, parent: string, ws: KubeObject, next: KubeObject, subresource?: 'status'): KubeObject {
    return shard.svc.writeUpdate(this.topo.systemContext(parent), WORKSPACE_DEF, ws, next, subresource);
  }

  /** The canonical path the workspace will have. */
  private pathOf(parent: string, name: string): string {
    return `${this.topo.pathOf(parent) ?? parent}:${name}`;
  }

  private schedule(shard: Shard, parent: string, ws: KubeObject): ReconcileResult {
    const ann = ws.metadata.annotations ?? {};
    // First write: the placement (shard, cluster name) and the finalizer, as kcp's two-phase commit.
    if (!ann[CLUSTER_NAME_ANNOTATION] || !ann[SHARD_HASH_ANNOTATION] || !(ws.metadata.finalizers ?? []).includes(WORKSPACE_FINALIZER)) {
      const target = ann[SHARD_HASH_ANNOTATION] ? undefined : this.chooseShard(ws);
      if (target === null) return this.unschedulable(shard, parent, ws);
      let cluster = ann[CLUSTER_NAME_ANNOTATION];
      while (!cluster || this.topo.shardOf(cluster)) cluster = newClusterName();
      const annotations: Record<string, string> = { ...ann, [CLUSTER_NAME_ANNOTATION]: cluster };
      if (target) {
        annotations[SHARD_HASH_ANNOTATION] = shardNameHash(target.shard.name);
        annotations[SHARD_ANNOTATION] = target.shard.name;
      }
      const finalizers = [...(ws.metadata.finalizers ?? [])];
      if (!finalizers.includes(WORKSPACE_FINALIZER)) finalizers.push(WORKSPACE_FINALIZER);
      ws = this.update(shard, parent, ws, { ...ws, metadata: { ...ws.metadata, annotations, finalizers } });
    }
    const cluster = ws.metadata.annotations![CLUSTER_NAME_ANNOTATION]!;
    const target = placedShards(this.topo).find((p) => shardNameHash(p.shard.name) === ws.metadata.annotations![SHARD_HASH_ANNOTATION]);
    if (!target) return this.unschedulable(shard, parent, ws, 'chosen shard does not exist anymore');
    const lc = this.ensureLogicalCluster(target, parent, ws, cluster);
    if (!lc) return { requeueAfterMs: 1000 };
    const spec = specOf(ws);
    const url = `${target.externalURL}/clusters/${this.pathOf(parent, ws.metadata.name ?? '')}`;
    if (spec['cluster'] !== cluster || spec['URL'] !== url) {
      ws = this.update(shard, parent, ws, { ...ws, spec: { ...spec, cluster, URL: url } });
    }
    const st = statusOf(ws);
    const conditions = setCondition(conditionsOf(st), { type: 'WorkspaceScheduled', status: 'True' });
    this.update(shard, parent, ws, { ...ws, status: { ...st, phase: 'Initializing', conditions } }, 'status');
  }

  private unschedulable(shard: Shard, parent: string, ws: KubeObject, why = 'No available shards to schedule the workspace.'): ReconcileResult {
    const st = statusOf(ws);
    const conditions = setCondition(conditionsOf(st), { type: 'WorkspaceScheduled', status: 'False', severity: 'Error', reason: 'Unschedulable', message: why });
    if (!sameConditions(st['conditions'], conditions)) this.update(shard, parent, ws, { ...ws, status: { ...st, conditions } }, 'status');
    // New or relabelled shards may make room later.
    return { requeueAfterMs: 2000 };
  }

  /** A random Shard matching `spec.location.selector`; null when none does. */
  private chooseShard(ws: KubeObject): PlacedShard | null {
    const loc = specOf(ws)['location'];
    const raw = isObject(loc) && isObject(loc['selector']) ? (loc['selector'] as unknown as LabelSelectorSpec) : undefined;
    let candidates = placedShards(this.topo);
    if (raw) {
      try {
        const sel = labelSelectorFromMatch(raw);
        candidates = candidates.filter((p) => matchesLabels(sel, p.obj.metadata.labels));
      } catch {
        return null;
      }
    }
    if (candidates.length === 0) return null;
    return candidates[Math.floor(Math.random() * candidates.length)]!;
  }

  /** Creates the LogicalCluster of a scheduled workspace and moves it to Initializing. */
  private ensureLogicalCluster(target: PlacedShard, parent: string, ws: KubeObject, cluster: string): KubeObject | undefined {
    const svc = target.shard.svc;
    const def = svc.registry.builtin(LOGICAL_CLUSTERS);
    const ctx = this.topo.systemContext(cluster);
    let lc = target.shard.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
    if (!lc) {
      const ref = isObject(specOf(ws)['type']) ? (specOf(ws)['type'] as JsonObject) : {};
      const t = this.types.get(String(ref['path'] ?? ''), String(ref['name'] ?? ''));
      // The type vanished between admission and scheduling: wait for it, as kcp does.
      if (!t) return undefined;
      const owner = ws.metadata.annotations?.[OWNER_ANNOTATION];
      const createdBy = parseOwner(owner);
      const terminators = this.types.terminatorsFor(t);
      lc = svc.create(ctx, def, '', {
        apiVersion: 'core.kcp.io/v1alpha1',
        kind: 'LogicalCluster',
        metadata: {
          name: 'cluster',
          finalizers: [LOGICAL_CLUSTER_FINALIZER],
          annotations: {
            [PATH_ANNOTATION]: this.pathOf(parent, ws.metadata.name ?? ''),
            [TYPE_ANNOTATION]: `${t.path}:${t.name}`,
            [SHARD_ANNOTATION]: target.shard.name,
            ...(owner ? { [OWNER_ANNOTATION]: owner } : {}),
          },
        },
        spec: {
          owner: { apiVersion: 'tenancy.kcp.io/v1alpha1', resource: 'workspaces', name: ws.metadata.name ?? '', cluster: parent, uid: ws.metadata.uid ?? '' },
          ...(createdBy ? { createdBy } : {}),
          initializers: this.types.initializersFor(t),
          ...(terminators.length ? { terminators } : {}),
        },
      });
    }
    if (statusOf(lc)['phase'] === undefined) {
      // Admission copies spec.initializers into the status on this transition.
      lc = svc.writeUpdate(ctx, def, lc, { ...lc, status: { URL: `${target.externalURL}/clusters/${cluster}`, phase: 'Initializing' } }, 'status');
    }
    return lc;
  }

  /** Initializing and later: mirror the LogicalCluster's initializers and phase; keep the URL current. */
  private follow(shard: Shard, parent: string, ws: KubeObject): ReconcileResult {
    const spec = specOf(ws);
    const cluster = String(spec['cluster'] ?? ws.metadata.annotations?.[CLUSTER_NAME_ANNOTATION] ?? '');
    const owner = this.topo.shardOf(cluster);
    const lc = owner?.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
    // A Ready workspace whose logical cluster went away stays as it is; one still initializing waits.
    if (!owner || !lc) return statusOf(ws)['phase'] === 'Initializing' ? { requeueAfterMs: 1000 } : undefined;
    const placed = placedShards(this.topo).find((p) => p.shard === owner);
    const url = placed ? `${placed.externalURL}/clusters/${lc.metadata.annotations?.[PATH_ANNOTATION] ?? this.pathOf(parent, ws.metadata.name ?? '')}` : spec['URL'];
    // Shard ports can change across restarts of this server; kcp's external URLs do not.
    if (url !== spec['URL']) ws = this.update(shard, parent, ws, { ...ws, spec: { ...spec, URL: url ?? '' } });
    const st = statusOf(ws);
    const lcs = statusOf(lc);
    const inits = Array.isArray(lcs['initializers']) ? lcs['initializers'] : [];
    const next: JsonObject = { ...st };
    delete next['initializers'];
    if (inits.length) next['initializers'] = inits;
    mirrorTerminators(next, lc);
    if (st['phase'] === 'Initializing' && lcs['phase'] === 'Ready') {
      next['phase'] = 'Ready';
      next['conditions'] = setCondition(conditionsOf(st), { type: 'WorkspaceInitialized', status: 'True' });
    } else if (st['phase'] === 'Initializing') {
      next['conditions'] = setCondition(conditionsOf(st), {
        type: 'WorkspaceInitialized',
        status: 'False',
        severity: 'Info',
        reason: 'InitializerExists',
        message: `Initializers still exist: [${inits.join(' ')}]`,
      });
    }
    this.writeStatusIfChanged(shard, parent, ws, next);
  }

  private writeStatusIfChanged(shard: Shard, parent: string, ws: KubeObject, next: JsonObject): KubeObject {
    const st = statusOf(ws);
    const same = (k: string) => JSON.stringify(next[k]) === JSON.stringify(st[k]);
    if (same('phase') && sameConditions(next['conditions'], st['conditions']) && same('initializers') && same('terminators')) return ws;
    return this.update(shard, parent, ws, { ...ws, status: next }, 'status');
  }

  /**
   * A deleted workspace's status: the LogicalCluster's terminators, the phase derived from them
   * (Terminating while any is listed, then Deleting; never back), and its `WorkspaceContentDeleted`
   * (True once the LogicalCluster is gone). A workspace deleted while initializing keeps its phase.
   */
  private deletionStatus(shard: Shard, parent: string, ws: KubeObject, lc: KubeObject | undefined): KubeObject {
    const st = statusOf(ws);
    const phase = String(st['phase'] ?? '');
    if (!['Ready', 'Unavailable', 'Inactive', 'Terminating', 'Deleting'].includes(phase)) return ws;
    const next: JsonObject = { ...st };
    if (lc) mirrorTerminators(next, lc);
    else delete next['terminators'];
    const listed = Array.isArray(next['terminators']) && next['terminators'].length > 0;
    next['phase'] = listed && phase !== 'Deleting' ? 'Terminating' : 'Deleting';
    const copied = lc ? conditionsOf(statusOf(lc)).find((c) => c['type'] === 'WorkspaceContentDeleted') : { type: 'WorkspaceContentDeleted', status: 'True' };
    if (copied) {
      const rest = conditionsOf(st).filter((c) => c['type'] !== 'WorkspaceContentDeleted');
      next['conditions'] = setCondition(rest, copied as unknown as ConditionInput);
    }
    return this.writeStatusIfChanged(shard, parent, ws, next);
  }

  /** Follows the deletion in the status, deletes the logical cluster, then releases the Workspace. */
  private deleting(shard: Shard, parent: string, ws: KubeObject): ReconcileResult {
    const held = ws.metadata.finalizers ?? [];
    // kcp removes its finalizer last: other finalizers' owners go first.
    if (!held.includes(WORKSPACE_FINALIZER) || held.length > 1) return;
    const cluster = String(specOf(ws)['cluster'] || ws.metadata.annotations?.[CLUSTER_NAME_ANNOTATION] || '');
    const owner = cluster ? this.topo.shardOf(cluster) : undefined;
    let lc = owner?.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
    const lcOwner = lc ? specOf(lc)['owner'] : undefined;
    // A logical cluster of the same name owned by another workspace is not ours to delete.
    if (isObject(lcOwner) && lcOwner['uid'] !== ws.metadata.uid) lc = undefined;
    if (owner && lc) {
      if (!lc.metadata.deletionTimestamp) {
        owner.svc.delete(this.topo.systemContext(cluster), owner.svc.registry.builtin(LOGICAL_CLUSTERS), '', 'cluster');
        lc = owner.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
      }
      if (lc) {
        this.deletionStatus(shard, parent, ws, lc);
        // The LogicalCluster's commits requeue this workspace (its spec.owner names it).
        return { requeueAfterMs: 5000 };
      }
    }
    ws = this.deletionStatus(shard, parent, ws, undefined);
    const finalizers = (ws.metadata.finalizers ?? []).filter((f) => f !== WORKSPACE_FINALIZER);
    this.update(shard, parent, ws, { ...ws, metadata: { ...ws.metadata, finalizers } });
  }
}

/** Copies `status.terminators` of the LogicalCluster into a Workspace status (removed when none). */
function mirrorTerminators(next: JsonObject, lc: KubeObject): void {
  const terms = statusOf(lc)['terminators'];
  delete next['terminators'];
  if (Array.isArray(terms) && terms.length) next['terminators'] = terms;
}

/** `spec.createdBy` from the owner annotation (authentication/v1 UserInfo JSON). */
function parseOwner(owner: string | undefined): JsonObject | undefined {
  if (!owner) return undefined;
  try {
    const u = JSON.parse(owner) as { username?: string; uid?: string; groups?: string[] };
    const out: JsonObject = { username: u.username ?? '' };
    if (u.uid) out['uid'] = u.uid;
    if (Array.isArray(u.groups)) out['groups'] = u.groups;
    return out;
  } catch {
    return undefined;
  }
}
