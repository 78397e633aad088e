/**
 * The terminating-workspaces example, shared by `main.ts` and the bundled
 * `kcp-mc run terminating-workspaces-example`. A service provider often keeps something of its own
 * per tenant workspace *outside* that workspace; kcp deletes a workspace's content itself, but
 * only the provider can clean up what it keeps elsewhere. Here that is one ConfigMap record per
 * tenant in the provider's own workspace (the kubeconfig's), and the WorkspaceType has
 * `terminator: true` so that a deleted workspace waits for the provider before it goes:
 *
 * - `records` (on the provider's own workspace): for each Workspace of the type that has a logical
 *   cluster, applies `default/tenant-<workspace>` labelled with that cluster;
 * - `terminator` (on each workspace being deleted that still lists our terminator): deletes the
 *   records labelled with its cluster, then removes exactly our terminator; once no terminator is
 *   left the workspace goes away.
 *
 * One CompositeProvider runs both sources in one manager: `tenants#<cluster>` (the terminating
 * virtual workspace) and `self#local` (the provider workspace).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  CompositeProvider,
  LOGICAL_CLUSTER,
  LocalClusterProvider,
  PATH_ANNOTATION,
  TerminatingWorkspacesProvider,
  hasTerminator,
  isNotFound,
  removeTerminator,
  type KubernetesObject,
  type Manager,
  type ObjectType,
  type StaticResource,
} from 'kcp-multicluster-provider';
import type { ProviderInput } from '../support/provider-input.js';

/** The WorkspaceType of `manifests/bundle.yaml`, in the kubeconfig's workspace. */
export const WORKSPACE_TYPE = 'examples-terminatingworkspaces-multicluster';

/** The controllers' name prefix. */
export const CONTROLLER = 'terminating-workspaces-example';

/** The label on each record naming the tenant's logical cluster. */
export const TENANT_LABEL = 'examples.kcp.io/tenant-cluster';

/** The record's namespace in the provider workspace. */
export const RECORD_NAMESPACE = 'default';

/** The cluster name of the provider's own workspace in the manager. */
export const SELF = CompositeProvider.qualify('self', 'local');

const TENANTS = 'tenants';

/** `tenancy.kcp.io/v1alpha1` Workspace, as far as the example reads it. */
export interface Workspace extends KubernetesObject {
  spec?: { type?: { name?: string; path?: string }; cluster?: string; URL?: string };
  status?: { phase?: string };
}

/** The Workspace type. */
export const WORKSPACE: ObjectType<Workspace> = { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace' };

const CONFIGMAP: ObjectType<KubernetesObject & { data?: Record<string, string> }> = { apiVersion: 'v1', kind: 'ConfigMap' };

// The terminating VW answers no per-cluster discovery: the `records` controller watches
// Workspaces on every cluster of the manager, so the tenants need that mapping too.
const WORKSPACES: StaticResource = { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', resource: 'workspaces', namespaced: false };

/** Each provider built here, with its terminating part and type, for `setup`. */
const built = new WeakMap<object, { tenants: TerminatingWorkspacesProvider; workspaceType: string }>();

/** The provider: terminating workspaces of the type, plus the provider's own workspace. */
export function provider(kubeconfig: KubeConfig, o: ProviderInput & { workspaceType?: string }): CompositeProvider {
  const workspaceType = o.workspaceType ?? WORKSPACE_TYPE;
  const tenants = new TerminatingWorkspacesProvider(kubeconfig, { workspaceType, resources: [WORKSPACES], log: o.log, eventSource: o.eventSource });
  const p = new CompositeProvider({ [TENANTS]: tenants, self: new LocalClusterProvider(kubeconfig, { log: o.log, eventSource: o.eventSource }) });
  built.set(p, { tenants, workspaceType });
  return p;
}

/** Registers both controllers; the manager's provider must come from `provider()`. */
export default function setup(manager: Manager): void {
  const own = built.get(manager.provider);
  if (!own) throw new Error(`${CONTROLLER} needs the provider its module builds (provider())`);

  // The manager engages a cluster's controllers independently: the cleanup never waits for the
  // records controller's informer in a terminating workspace.
  manager
    .controller(`${CONTROLLER}-terminator`)
    .for(LOGICAL_CLUSTER)
    .reconcile(async (req, ctx) => {
      if (!req.cluster.startsWith(`${TENANTS}#`)) return undefined;
      const terminator = own.tenants.terminator();
      const lc = ctx.cluster.cache.get(LOGICAL_CLUSTER, req);
      if (!terminator || !lc?.metadata?.deletionTimestamp || !hasTerminator(lc, terminator)) return undefined;
      const tenant = req.cluster.slice(TENANTS.length + 1);
      const self = manager.getCluster(SELF);
      const records = await self.client.list(CONFIGMAP, { namespace: RECORD_NAMESPACE, labelSelector: `${TENANT_LABEL}=${tenant}` });
      for (const r of records.items) {
        const name = r.metadata?.name ?? '';
        await self.client.delete(CONFIGMAP, { namespace: RECORD_NAMESPACE, name }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
        ctx.log.info('deleted tenant record', { record: `${RECORD_NAMESPACE}/${name}`, tenant });
      }
      const result = await removeTerminator(ctx.cluster.client, terminator);
      ctx.log.info('removed terminator', { workspace: lc.metadata?.annotations?.[PATH_ANNOTATION] ?? tenant, terminator, result });
      return undefined;
    });

  manager
    .controller(`${CONTROLLER}-records`)
    .for(WORKSPACE)
    .reconcile(async (req, ctx) => {
      if (req.cluster !== SELF) return undefined;
      const ws = ctx.cluster.cache.get(WORKSPACE, req);
      // Deleting: the terminator owns the record now; a new record would outlive the workspace.
      if (!ws || ws.metadata?.deletionTimestamp || ws.spec?.type?.name !== own.workspaceType) return undefined;
      const cluster = ws.spec?.cluster;
      if (!cluster) return undefined; // not scheduled yet; its next update brings the cluster
      // The URL ends in the workspace's path (…/clusters/root:tenant1).
      const path = /\/clusters\/([^/]+)$/.exec(ws.spec?.URL ?? '')?.[1] ?? `${ctx.cluster.path ?? 'root'}:${req.name}`;
      await ctx.cluster.client.apply(
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `tenant-${req.name}`, namespace: RECORD_NAMESPACE, labels: { [TENANT_LABEL]: cluster } },
          data: { workspace: req.name, cluster, path },
        },
        { fieldManager: CONTROLLER, force: true },
      );
      ctx.log.info('recorded tenant', { record: `${RECORD_NAMESPACE}/tenant-${req.name}`, tenant: cluster });
      return undefined;
    });
}
