/**
 * The APIExport controller (kcp's pkg/reconciler/apis/apiexport): generates the identity secret
 * `kcp-system/<export>` and defaults `spec.identity.secretRef` (a spec change, so the generation
 * moves), records `status.identityHash` (SHA-256 of the key) with condition `IdentityValid`, and
 * creates the default APIExportEndpointSlice unless the skip annotation is present.
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../http/errors.js';
import { NAMESPACES } from '../../api/objects.js';
import type { Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import type { Json, JsonObject, KubeObject } from '../../types.js';
import { isServing } from './tracking.js';
import { ReconcileLoop, splitClusterKey } from '../loop.js';
import { markFalse, markTrue, readConditions, removeCondition } from './conditions.js';
import {
  EXPORTS,
  IDENTITY_NAMESPACE,
  PATH_ANNOTATION,
  SKIP_SLICE_ANNOTATION,
  SLICES,
  clone,
  identityHashOfKey,
  obj,
  specOf,
  statusOf,
  str,
} from './names.js';
import { EXPORT_DEF, SLICE_DEF } from './resources.js';

const SECRETS = 'core/secrets';

/** Ignores AlreadyExists: a retry or a racing client created the object first. */
function createIgnoringExists(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 409) throw e;
  }
}

/** Reconciles APIExports, keyed `<cluster>|<name>`. */
export class ExportController {
  readonly loop: ReconcileLoop;

  constructor(private readonly topo: Topology) {
    this.loop = new ReconcileLoop('apiexports', (key) => this.reconcile(key));
  }

  private reconcile(key: string): void {
    if (!isServing(this.topo)) return;
    const [cluster, name] = splitClusterKey(key);
    const shard = this.topo.shardOf(cluster);
    const exp = shard?.store.get(EXPORTS, cluster, '', name);
    if (!shard || !exp || exp.metadata.deletionTimestamp) return;
    if (!this.ensureIdentity(shard, cluster, exp)) return;
    this.updateStatus(shard, cluster, exp);
    this.ensureDefaultSlice(shard, cluster, exp);
  }

  /** Creates the identity secret and points the export at it; false when the export was rewritten. */
  private ensureIdentity(shard: Shard, cluster: string, exp: KubeObject): boolean {
    const identity = obj(specOf(exp)['identity']);
    if (str(obj(identity['secretRef'])['name'])) return true;
    const name = exp.metadata.name ?? '';
    const svc = shard.svc;
    const ctx = this.topo.systemContext(cluster);
    if (!shard.store.get(NAMESPACES, cluster, '', IDENTITY_NAMESPACE)) {
      createIgnoringExists(() => svc.create(ctx, svc.registry.builtin(NAMESPACES), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: IDENTITY_NAMESPACE } }));
    }
    if (!shard.store.get(SECRETS, cluster, IDENTITY_NAMESPACE, name)) {
      // kcp's key is 256 random bytes, base64-encoded; the Secret's `data` carries that text.
      const keyText = randomBytes(256).toString('base64');
      createIgnoringExists(() =>
        svc.create(ctx, svc.registry.builtin(SECRETS), IDENTITY_NAMESPACE, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace: IDENTITY_NAMESPACE },
          data: { key: Buffer.from(keyText).toString('base64') },
        }),
      );
    }
    const next = clone(exp);
    const spec = obj(next['spec'] as Json);
    spec['identity'] = { ...identity, secretRef: { namespace: IDENTITY_NAMESPACE, name } };
    next['spec'] = spec;
    svc.writeUpdate(ctx, EXPORT_DEF, exp, next);
    return false;
  }

  private updateStatus(shard: Shard, cluster: string, exp: KubeObject): void {
    const ref = obj(obj(specOf(exp)['identity'])['secretRef']);
    const status: JsonObject = { ...statusOf(exp) };
    const conditions = readConditions(status);
    const secret = shard.store.get(SECRETS, cluster, str(ref['namespace']), str(ref['name']));
    const keyB64 = secret ? obj(secret['data'] as Json)['key'] : undefined;
    if (!secret) {
      markFalse(conditions, 'IdentityValid', 'IdentityVerificationFailed', 'Error', `secrets "${str(ref['name'])}" not found`);
    } else if (typeof keyB64 !== 'string') {
      markFalse(conditions, 'IdentityValid', 'IdentityVerificationFailed', 'Error', `secret ${str(ref['namespace'])}/${str(ref['name'])} is missing data.key`);
    } else {
      const hash = identityHashOfKey(Buffer.from(keyB64, 'base64'));
      const recorded = str(status['identityHash']) || hash;
      status['identityHash'] = recorded;
      if (recorded !== hash) {
        markFalse(conditions, 'IdentityValid', 'IdentityVerificationFailed', 'Error', `hash mismatch: identity secret hash "${hash}" must match status.identityHash "${recorded}"`);
      } else markTrue(conditions, 'IdentityValid');
    }
    // The deprecated URL list stays empty without kcp's EnableDeprecatedAPIExportVirtualWorkspacesUrls gate.
    removeCondition(conditions, 'VirtualWorkspaceURLsReady');
    delete status['virtualWorkspaces'];
    if (conditions.length) status['conditions'] = conditions;
    shard.svc.writeUpdate(this.topo.systemContext(cluster), EXPORT_DEF, exp, { ...exp, status }, 'status');
  }

  private ensureDefaultSlice(shard: Shard, cluster: string, exp: KubeObject): void {
    const name = exp.metadata.name ?? '';
    if (exp.metadata.annotations?.[SKIP_SLICE_ANNOTATION] !== undefined) return;
    if (shard.store.get(SLICES, cluster, '', name)) return;
    const path = exp.metadata.annotations?.[PATH_ANNOTATION] ?? this.topo.pathOf(cluster) ?? cluster;
    createIgnoringExists(() =>
      shard.svc.create(this.topo.systemContext(cluster), SLICE_DEF, '', {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIExportEndpointSlice',
        metadata: {
          name,
          ownerReferences: [{ apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExport', name, uid: exp.metadata.uid ?? '' }],
        },
        spec: { export: { name, path } },
      }),
    );
  }
}
