/**
 * The permission claim label controller (kcp's permissionclaimlabel reconciler): when a binding
 * starts or stops accepting a claim, every object of the claimed resource in that workspace is
 * touched with an empty update so that admission relabels it (watchers see a MODIFIED), and the
 * binding's `appliedPermissionClaims`, `PermissionClaimsApplied` and `PermissionClaimsValid` are
 * brought up to date. A deleted binding's claims are relabelled away the same way.
 */
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { Json, JsonObject, KubeObject } from '../../types.js';
import { isServing } from './tracking.js';
import { ReconcileLoop } from '../loop.js';
import { acceptedClaimsOf, claimCovers, claimKeyOf, exportOfBinding, sameClaim } from './claims.js';
import { claimV2Json } from './convert.js';
import { markFalse, markTrue, readConditions } from './conditions.js';
import { BINDINGS, clone, objs, specOf, statusOf, type ClaimKey } from './names.js';
import { BINDING_DEF } from './resources.js';

function keyOf(c: ClaimKey): string {
  return `${c.resource}/${c.group}/${c.identityHash ?? ''}`;
}

/** Keeps claim labels and a binding's applied claims in step with its accepted claims. */
export class ClaimController {
  readonly loop: ReconcileLoop;

  constructor(private readonly topo: Topology) {
    this.loop = new ReconcileLoop('permissionclaims', (key) => this.reconcile(key));
  }

  /** Queues a binding, `<cluster>|<name>`. */
  enqueueBinding(key: string): void {
    this.loop.enqueue(`b|${key}`);
  }

  /** Queues a relabel of every object of the claimed resources (a binding with these claims went away). */
  enqueueRelabel(cluster: string, claims: ClaimKey[]): void {
    for (const c of claims) this.loop.enqueue(`r|${cluster}|${c.group}|${c.resource}|${c.identityHash ?? ''}`);
  }

  private reconcile(key: string): void {
    if (!isServing(this.topo)) return;
    const parts = key.split('|');
    if (parts[0] === 'r') {
      const shard = this.topo.shardOf(parts[1]!);
      if (shard) this.relabel(shard, parts[1]!, { group: parts[2]!, resource: parts[3]!, identityHash: parts[4]! }, undefined);
      return;
    }
    const [cluster, name] = [parts[1]!, parts[2]!];
    const shard = this.topo.shardOf(cluster);
    const b = shard?.store.get(BINDINGS, cluster, '', name);
    if (!shard || !b) return;
    const target = exportOfBinding(this.topo, b);
    // Without its export nothing can be decided; the export's arrival requeues the binding.
    if (!target) return;
    const exported = objs(specOf(target.export)['permissionClaims']).map(claimKeyOf);
    const acceptedList = acceptedClaimsOf(b);
    const accepted = acceptedList.map(claimKeyOf);
    const applied = objs(statusOf(b)['appliedPermissionClaims']).map(claimKeyOf);
    const expected = accepted.filter((a) => exported.some((e) => sameClaim(a, e)));
    const unexpected = accepted.filter((a) => !expected.some((e) => sameClaim(a, e)));
    const toApply = expected.filter((e) => !applied.some((a) => sameClaim(a, e)));
    const toRemove = applied.filter((a) => !accepted.some((e) => sameClaim(a, e)));
    for (const c of [...toApply, ...toRemove]) this.relabel(shard, cluster, c, b);

    const current = shard.store.get(BINDINGS, cluster, '', name) ?? b;
    const status: JsonObject = { ...statusOf(current) };
    const conditions = readConditions(status);
    if (unexpected.length) {
      const shown = unexpected.slice(0, 10).map((c) => `unexpected/invalid claim for ${c.resource}.${c.group} (identity "${c.identityHash ?? ''}")`);
      markFalse(
        conditions,
        'PermissionClaimsValid',
        'InvalidPermissionClaims',
        'Error',
        `${unexpected.length} unexpected and/or invalid permission claims (showing first ${shown.length}): [${shown.join(', ')}]`,
      );
    } else markTrue(conditions, 'PermissionClaimsValid');
    const appliedClaims = expected
      .sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : 1))
      .map((e) => acceptedList.find((a) => sameClaim(claimKeyOf(a), e))!)
      .map((a) => claimV2Json(a, { selector: true }));
    if (appliedClaims.length) status['appliedPermissionClaims'] = appliedClaims as Json[];
    else delete status['appliedPermissionClaims'];
    markTrue(conditions, 'PermissionClaimsApplied');
    status['conditions'] = conditions;
    shard.svc.writeUpdate(this.topo.systemContext(cluster), BINDING_DEF, current, { ...current, status }, 'status');
  }

  /** Touches every object the claim covers so that admission puts or removes its label. */
  private relabel(shard: Shard, cluster: string, claim: ClaimKey, self: KubeObject | undefined): void {
    const ctx = this.topo.systemContext(cluster);
    const seen = new Set<string>();
    for (const def of shard.svc.registry.resourcesFor(cluster)) {
      if (seen.has(def.storage) || def.conversion || !claimCovers(claim, def)) continue;
      seen.add(def.storage);
      for (const o of shard.store.list(def.storage, { cluster, namespace: '' })) {
        // The binding under reconcile is relabelled by its own status write's admission.
        if (self && def.storage === BINDINGS && o.metadata.name === self.metadata.name) continue;
        const live = shard.store.get(def.storage, cluster, o.metadata.namespace ?? '', o.metadata.name ?? '');
        if (live) shard.svc.writeUpdate(ctx, def, live, clone(live));
      }
    }
  }
}
