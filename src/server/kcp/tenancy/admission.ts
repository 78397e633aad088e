/**
 * Tenancy admission, as kcp's plugins do it: Workspace type defaulting and validation, the owner
 * annotation, the system-only fields (403), the `kcp.io/path` annotation rules, WorkspaceType name
 * rules, and the LogicalCluster metadata that follows its status (phase and initializer labels).
 */
import { cause, forbidden, invalid } from '../../http/errors.js';
import { deepEqual, isObject } from '../../json.js';
import type { AdmissionPlugin, RequestContext } from '../../api/objects.js';
import { LOGICAL_CLUSTERS } from '../../api/objects.js';
import type { Topology } from '../../shards/topology.js';
import type { JsonObject, KubeObject } from '../../types.js';
import {
  INITIALIZER_LABEL_PREFIX,
  OWNER_ANNOTATION,
  TERMINATORS_FINALIZER,
  TERMINATOR_LABEL_PREFIX,
  PATH_ANNOTATION,
  PHASE_LABEL,
  TYPE_ANNOTATION,
  initializerLabel,
  ownerAnnotationValue,
  terminatorLabel,
  splitLast,
} from './names.js';
import { WORKSPACES, WORKSPACE_TYPES } from './schemas.js';
import { type ResolvedType, type TypeRef, type TypeResolver, qualifiedName, refString, specOf } from './wstypes.js';

/** kube's privileged group: kcp lets it set system-owned fields. */
const PRIVILEGED = 'system:masters';

function spec(obj: KubeObject | undefined): JsonObject {
  return obj && isObject(obj['spec']) ? obj['spec'] : {};
}

function status(obj: KubeObject | undefined): JsonObject {
  return obj && isObject(obj['status']) ? obj['status'] : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function typeRef(v: unknown): TypeRef | undefined {
  if (!isObject(v) || typeof v['name'] !== 'string' || v['name'] === '') return undefined;
  return typeof v['path'] === 'string' && v['path'] ? { name: v['name'], path: v['path'] } : { name: v['name'] };
}

/** Go's `%v` of a sorted []string. */
function goList(xs: Iterable<string>): string {
  return `[${[...new Set(xs)].sort().join(' ')}]`;
}

/** kcp's check that some alias of `others` is listed in `allowed` (an "any of" check). */
function anyAllowed(others: ResolvedType[], allowed: TypeRef[]): boolean {
  const set = new Set(allowed.map(refString));
  return others.some((o) => set.has(qualifiedName(o)));
}

function checkParentsAndChildren(parentAliases: ResolvedType[], childAliases: ResolvedType[], parentType: string, childType: string): string | undefined {
  const errs: string[] = [];
  for (const c of childAliases) {
    const types = specOf(c).limitAllowedParents?.types ?? [];
    if (types.length === 0 || anyAllowed(parentAliases, types)) continue;
    const q = qualifiedName(c);
    const ext = q !== childType ? ` extends ${q}, which` : '';
    errs.push(
      `workspace type ${childType}${ext} only allows ${goList(types.map(refString))} parent workspaces, but parent type ${parentType} only implements ${goList(parentAliases.map(qualifiedName))}`,
    );
  }
  for (const p of parentAliases) {
    const limit = specOf(p).limitAllowedChildren;
    if (limit?.none) return `workspace type ${parentType} cannot have any children`;
    const types = limit?.types ?? [];
    if (types.length === 0 || anyAllowed(childAliases, types)) continue;
    const q = qualifiedName(p);
    const ext = q !== parentType ? ` extends ${q}, which` : '';
    errs.push(
      `workspace type ${parentType}${ext} only allows ${goList(types.map(refString))} child workspaces, but child type ${childType} only implements ${goList(childAliases.map(qualifiedName))}`,
    );
  }
  // apimachinery's aggregate error prints one error bare and several as a bracketed list.
  if (errs.length === 0) return undefined;
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

/** The admission plugins of the tenancy layer. */
export class TenancyAdmission {
  constructor(
    private readonly topo: Topology,
    private readonly types: TypeResolver,
  ) {}

  /** The plugins, in the order they run. */
  plugins(): AdmissionPlugin[] {
    return [this.workspace, this.workspaceType, this.pathAnnotation, this.logicalCluster];
  }

  /** The canonical path of the cluster a request writes into. */
  private pathOf(cluster: string): string {
    return this.topo.pathOf(cluster) ?? cluster;
  }

  /** The type of a logical cluster, from its LogicalCluster's `internal.tenancy.kcp.io/type`. */
  private typeOfCluster(cluster: string): string {
    const lc = this.topo.shardOf(cluster)?.store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
    // Clusters made by the server's test hook carry no type; they behave like universal ones.
    return lc?.metadata.annotations?.[TYPE_ANNOTATION] ?? (cluster === 'root' ? 'root:root' : 'root:universal');
  }

  private readonly workspace: AdmissionPlugin = (op, ctx, def, obj, old) => {
    if (def.storage !== WORKSPACES || op === 'DELETE') return;
    const name = obj.metadata.name ?? '';
    const deny = (why: string) => forbidden(def.resource, def.group, name, why);
    const privileged = ctx.user.groups.includes(PRIVILEGED);
    const s = spec(obj);
    if (op === 'CREATE') {
      if (str(s['cluster']) && !privileged) throw deny('spec.Cluster can only be set by system privileged users');
      if (str(s['URL']) && !privileged) throw deny('spec.URL can only be set by system privileged users');
      const next: KubeObject = { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}) } }, spec: { ...s } };
      const ann = next.metadata.annotations!;
      // kcp records the creator for everyone but kube's privileged group; this server's admin is in
      // that group where kcp's is not, so privileged callers keep a value they set and get theirs otherwise.
      if (!privileged || !ann[OWNER_ANNOTATION]) ann[OWNER_ANNOTATION] = ownerAnnotationValue(ctx.user);
      this.admitType(ctx, next, deny);
      next['status'] = { phase: 'Scheduling' };
      return next;
    }
    const os = spec(old);
    if (str(os['cluster']) && !str(s['cluster'])) throw deny('spec.cluster cannot be unset');
    if (str(os['cluster']) !== str(s['cluster']) && !privileged) throw deny('spec.cluster can only be changed by system privileged users');
    if (str(os['URL']) !== str(s['URL']) && !privileged) throw deny('spec.URL can only be changed by system privileged users');
    if (!deepEqual(typeRef(os['type']), typeRef(s['type']))) throw deny('spec.type is immutable');
    const phase = str(status(obj)['phase']);
    if (phase === 'Ready' && str(status(old)['phase']) !== 'Ready') {
      if (!str(s['cluster'])) throw deny(`spec.cluster must be set for phase ${phase}`);
      if (!str(s['URL'])) throw deny(`spec.URL must be set for phase ${phase}`);
    }
    return withPhaseLabel(obj, phase);
  };

  /** Defaults and validates `spec.type` of a new Workspace (kcp's WorkspaceTypeExists plugin). */
  private admitType(ctx: RequestContext, ws: KubeObject, deny: (why: string) => Error): void {
    const s = ws['spec'] as JsonObject;
    const [parentPath, parentName] = splitLast(this.typeOfCluster(ctx.cluster));
    const parentType = this.types.get(parentPath, parentName);
    let ref = typeRef(s['type']);
    if (!ref) {
      if (!parentType) throw deny(`parent type cannot be resolved: workspacetypes.tenancy.kcp.io "${parentName}" not found`);
      ref = typeRef(specOf(parentType).defaultChildWorkspaceType);
      if (!ref) throw deny(`spec.defaultChildWorkspaceType of workspace type ${qualifiedName(parentType)} must be set`);
    }
    let t: ResolvedType;
    let childAliases: ResolvedType[];
    try {
      t = this.types.resolveRef(this.pathOf(ctx.cluster), ref);
      childAliases = this.types.closure(t);
    } catch (e) {
      throw deny((e as Error).message);
    }
    const typePath = ref.path ?? t.path;
    s['type'] = { name: ref.name, path: typePath };
    if (!parentType) throw deny(`workspace type cannot be resolved: workspacetypes.tenancy.kcp.io "${parentName}" not found`);
    let parentAliases: ResolvedType[];
    try {
      parentAliases = this.types.closure(parentType);
    } catch (e) {
      throw deny((e as Error).message);
    }
    const why = checkParentsAndChildren(parentAliases, childAliases, `${parentPath}:${parentName}`, `${typePath}:${ref.name}`);
    if (why) throw deny(why);
    const extra = specOf(t).additionalWorkspaceLabels;
    if (extra && Object.keys(extra).length) ws.metadata.labels = { ...extra, ...(ws.metadata.labels ?? {}) };
  }

  private readonly workspaceType: AdmissionPlugin = (op, _ctx, def, obj) => {
    if (def.storage !== WORKSPACE_TYPES || op !== 'CREATE') return;
    const name = obj.metadata.name ?? '';
    if (name === 'any' || name === 'system') {
      throw invalid(def.kind, def.group, name, [cause('FieldValueInvalid', 'metadata.name', `Invalid value: "${name}": name must not be "any" or "system"`)]);
    }
  };

  /**
   * `kcp.io/path`: written on WorkspaceTypes, and refused (403) on any resource when a client sends
   * a value other than the workspace's canonical path. LogicalClusters carry their own path and
   * APIBindings are exempt, as in kcp.
   */
  private readonly pathAnnotation: AdmissionPlugin = (op, ctx, def, obj) => {
    if (op === 'DELETE' || def.storage === LOGICAL_CLUSTERS || def.resource === 'apibindings') return;
    const value = obj.metadata.annotations?.[PATH_ANNOTATION];
    const own = def.storage === WORKSPACE_TYPES;
    if (value === undefined && !own) return;
    const canonical = this.pathOf(ctx.cluster);
    if (value !== undefined && value !== canonical) {
      throw forbidden(def.resource, def.group, obj.metadata.name ?? '', `annotation "${PATH_ANNOTATION}" must match canonical path "${canonical}"`);
    }
    if (value === canonical) return;
    return { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [PATH_ANNOTATION]: canonical } } };
  };

  /**
   * LogicalCluster metadata follows its status in the same write: `status.initializers` and
   * `status.terminators` are seeded from the spec on the move to Initializing, the phase and hashed
   * initializer and terminator labels mirror the status (so the virtual workspaces' label filters
   * are exact), `kcp.io/has-terminators` is added while terminators are listed (the LogicalCluster
   * controller removes it, in a later write than the labels), and the owner annotation is trimmed to
   * the username once Ready.
   */
  private readonly logicalCluster: AdmissionPlugin = (op, _ctx, def, obj, old) => {
    if (def.storage !== LOGICAL_CLUSTERS || op === 'DELETE') return;
    let next = obj;
    const st = status(obj);
    if (op === 'UPDATE' && st['phase'] === 'Initializing' && status(old)['phase'] !== 'Initializing') {
      const seeded: JsonObject = { ...st };
      for (const key of ['initializers', 'terminators']) {
        const fromSpec = spec(obj)[key];
        if (st[key] === undefined && Array.isArray(fromSpec) && fromSpec.length) seeded[key] = [...fromSpec];
      }
      next = { ...next, status: seeded };
    }
    const phase = str(status(next)['phase']);
    next = withPhaseLabel(next, phase);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(next.metadata.labels ?? {})) {
      if (!k.startsWith(INITIALIZER_LABEL_PREFIX) && !k.startsWith(TERMINATOR_LABEL_PREFIX)) labels[k] = v;
    }
    for (const [key, label] of [['initializers', initializerLabel], ['terminators', terminatorLabel]] as const) {
      const hooks = status(next)[key];
      if (!Array.isArray(hooks)) continue;
      for (const h of hooks) {
        if (typeof h !== 'string') continue;
        const [k, v] = label(h);
        labels[k] = v;
      }
    }
    const annotations = { ...(next.metadata.annotations ?? {}) };
    const owner = annotations[OWNER_ANNOTATION];
    if (phase === 'Ready' && owner) {
      try {
        const parsed = JSON.parse(owner) as { username?: string };
        annotations[OWNER_ANNOTATION] = JSON.stringify({ username: parsed.username ?? '' });
      } catch {
        // Not ours to repair: a malformed value is left as it is.
      }
    }
    const meta = { ...next.metadata, annotations };
    if (Object.keys(labels).length) meta.labels = labels;
    else delete meta.labels;
    const terminators = status(next)['terminators'];
    const finalizers = meta.finalizers ?? [];
    // No finalizer can be added once deletion started; kcp adds it long before (at Initializing).
    if (Array.isArray(terminators) && terminators.length && !finalizers.includes(TERMINATORS_FINALIZER) && !meta.deletionTimestamp) {
      meta.finalizers = [...finalizers, TERMINATORS_FINALIZER];
    }
    return { ...next, metadata: meta };
  };
}

/** The object with `tenancy.kcp.io/phase` set to `phase` (removed when there is none). */
function withPhaseLabel(obj: KubeObject, phase: string): KubeObject {
  const cur = obj.metadata.labels?.[PHASE_LABEL];
  if ((cur ?? '') === phase) return obj;
  const labels = { ...(obj.metadata.labels ?? {}) };
  if (phase) labels[PHASE_LABEL] = phase;
  else delete labels[PHASE_LABEL];
  const meta: KubeObject['metadata'] = { ...obj.metadata, labels };
  if (Object.keys(labels).length === 0) delete meta.labels;
  return { ...obj, metadata: meta };
}
