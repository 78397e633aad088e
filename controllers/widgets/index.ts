/**
 * `widgets`: a complete service provider. The APIExport `widgets.example.dev` serves namespaced
 * `Widget`s (`example.dev/v1alpha1`, `spec.size` 1–10, `spec.color` default `blue`) and claims
 * `configmaps` and `events`. For each Widget the controller keeps an owned ConfigMap
 * `<name>-widget` (data `size`, `color`) in sync, reports `status.observedGeneration` and a
 * `Ready` condition (False with `InvalidColor` and a Warning Event for a color it cannot paint,
 * without retrying), and deletes the ConfigMap under the finalizer `example.dev/widget-cleanup`
 * before the Widget goes.
 *
 *   kcp-mc run widgets --install --kubeconfig provider.kubeconfig
 *
 * `--install` applies the schema, the export and its endpoint slice in the kubeconfig's workspace
 * (idempotent). Tenants bind `{ path: <that workspace's path>, name: widgets.example.dev }` and
 * accept the claims.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ClusterClient,
  Transport,
  controllerOf,
  finalizer,
  isAlreadyExists,
  isNotFound,
  setControllerReference,
  type Cached,
  type KubernetesObject,
  type Logger,
  type Manager,
  type ObjectType,
  type ReconcileContext,
  type Request,
} from 'kcp-multicluster-provider';

/** The export's (and its endpoint slice's) name. */
export const EXPORT_NAME = 'widgets.example.dev';
/** The finalizer that deletes a Widget's ConfigMap first. */
export const FINALIZER = 'example.dev/widget-cleanup';
/** Colors the controller can paint. */
export const COLORS = ['red', 'green', 'blue', 'yellow'] as const;
const FIELD_MANAGER = 'kcp-mc-widgets';

/** A condition as kube's metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** `example.dev/v1alpha1` Widget. */
export interface Widget extends KubernetesObject {
  spec: { size: number; color?: string };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

/** The Widget type. */
export const WIDGET: ObjectType<Widget> = { apiVersion: 'example.dev/v1alpha1', kind: 'Widget' };
/** ConfigMaps, owned by Widgets. */
export const CONFIGMAP: ObjectType<KubernetesObject & { data?: Record<string, string> }> = { apiVersion: 'v1', kind: 'ConfigMap' };

/** The endpoint slice `kcp-mc run` watches when none is given. */
export const endpointSlice = EXPORT_NAME;

/** The module's name under `kcp-mc run`: its Events' reportingController and Lease `kcp-mc-widgets`. */
export const name = 'widgets';

/** An object of the service's manifests. */
export type Manifest = KubernetesObject & Record<string, unknown>;

/** APIResourceSchema, APIExport and APIExportEndpointSlice of the service, in apply order. */
export function manifests(): Manifest[] {
  return [
    {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIResourceSchema',
      metadata: { name: `v1alpha1.${EXPORT_NAME}` },
      spec: {
        group: 'example.dev',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            subresources: { status: {} },
            additionalPrinterColumns: [
              { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
              { name: 'Color', type: 'string', jsonPath: '.spec.color' },
              { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            ],
            // kcp's APIResourceSchema holds the OpenAPI v3 schema itself (a CRD nests it under openAPIV3Schema).
            schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  properties: {
                    size: { type: 'integer', minimum: 1, maximum: 10 },
                    color: { type: 'string', default: 'blue' },
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    observedGeneration: { type: 'integer' },
                    conditions: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['type'],
                      items: {
                        type: 'object',
                        required: ['type', 'status'],
                        properties: {
                          type: { type: 'string' },
                          status: { type: 'string' },
                          reason: { type: 'string' },
                          message: { type: 'string' },
                          lastTransitionTime: { type: 'string', format: 'date-time' },
                          observedGeneration: { type: 'integer' },
                        },
                      },
                    },
                  },
                },
              },
              required: ['spec'],
            },
          },
        ],
      },
    },
    {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: EXPORT_NAME },
      spec: {
        resources: [{ group: 'example.dev', name: 'widgets', schema: `v1alpha1.${EXPORT_NAME}`, storage: { crd: {} } }],
        permissionClaims: [
          { group: '', resource: 'configmaps', verbs: ['*'] },
          { group: '', resource: 'events', verbs: ['*'] },
        ],
      },
    },
    {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIExportEndpointSlice',
      metadata: { name: EXPORT_NAME },
      spec: { export: { path: '', name: EXPORT_NAME } },
    },
  ];
}

/**
 * Applies the service into the kubeconfig's workspace: schema and export by server-side apply;
 * the endpoint slice only when missing (kcp may have made it already). Safe to run again.
 */
export async function install(kubeconfig: KubeConfig, log: Logger): Promise<void> {
  const transport = Transport.fromKubeConfig(kubeconfig);
  const client = new ClusterClient(transport);
  try {
    const [schema, exp, slice] = manifests();
    for (const o of [schema!, exp!]) {
      await client.apply(o, { fieldManager: FIELD_MANAGER, force: true });
      log.info('installed', { kind: o.kind, name: o.metadata?.name });
    }
    // The slice points at the export in this same workspace: its path is the workspace's own.
    const path = decodeURIComponent(/\/clusters\/([^/]+)/.exec(transport.server)?.[1] ?? '');
    const want: Manifest = { ...slice!, spec: { export: { path, name: EXPORT_NAME } } };
    try {
      await client.get({ apiVersion: want.apiVersion!, kind: want.kind! }, { name: EXPORT_NAME });
      log.info('endpoint slice present', { name: EXPORT_NAME });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await client.create(want);
        log.info('installed', { kind: want.kind, name: EXPORT_NAME });
      } catch (err) {
        // kcp makes one for a new export too; whoever was first, it is there.
        if (!isAlreadyExists(err)) throw err;
        log.info('endpoint slice present', { name: EXPORT_NAME });
      }
    }
  } finally {
    transport.close();
  }
}

function readyCondition(w: Cached<Widget>, status: 'True' | 'False', reason: string, message: string): Condition {
  const previous = w.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    type: 'Ready',
    status,
    reason,
    message,
    // Kept while the status does not change, as kube's meta.SetStatusCondition does.
    lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    observedGeneration: w.metadata?.generation,
  };
}

async function writeStatus(ctx: ReconcileContext, w: Cached<Widget>, ready: Condition): Promise<void> {
  const current = w.status?.conditions?.find((c) => c.type === 'Ready');
  if (
    w.status?.observedGeneration === w.metadata?.generation &&
    current?.status === ready.status &&
    current.reason === ready.reason &&
    current.message === ready.message
  ) {
    return;
  }
  const others = (w.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  await ctx.cluster.client.patchStatus(WIDGET, { namespace: w.metadata?.namespace, name: w.metadata?.name ?? '' }, {
    status: { observedGeneration: w.metadata?.generation, conditions: [...others, ready] },
  }, { signal: ctx.signal });
}

/** The ConfigMap a Widget owns. */
export function configMapName(widget: string): string {
  return `${widget}-widget`;
}

async function reconcileWidget(req: Request, ctx: ReconcileContext): Promise<void> {
  const w = ctx.cluster.cache.get(WIDGET, req);
  if (!w) return;
  await finalizer(ctx.cluster.client, FINALIZER, w, async (ev) => {
    const cmKey = { namespace: req.namespace, name: configMapName(req.name) };
    if (ev.kind === 'cleanup') {
      try {
        await ctx.cluster.client.delete(CONFIGMAP, cmKey, { signal: ctx.signal });
        ctx.log.info('deleted configmap', { configMap: cmKey.name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    const color = w.spec?.color ?? 'blue';
    const size = w.spec?.size;
    if (!(COLORS as readonly string[]).includes(color)) {
      const message = `color ${JSON.stringify(color)} is not one of ${COLORS.join(', ')}`;
      const before = w.status?.conditions?.find((c) => c.type === 'Ready');
      await writeStatus(ctx, w, readyCondition(w, 'False', 'InvalidColor', message));
      // One Warning per generation that asks for it; a spec that cannot be served is not retried.
      if (!(before?.reason === 'InvalidColor' && before.observedGeneration === w.metadata?.generation)) {
        await ctx.cluster.events.publish(w, { type: 'Warning', reason: 'InvalidColor', action: 'Reconcile', note: message });
      }
      ctx.log.info('widget refused', { reason: 'InvalidColor', color });
      return;
    }
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 10) {
      await writeStatus(ctx, w, readyCondition(w, 'False', 'InvalidSize', `size ${JSON.stringify(size)} is not an integer from 1 to 10`));
      return;
    }
    const cm: KubernetesObject & { data: Record<string, string> } = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: cmKey.name, namespace: req.namespace },
      data: { size: String(size), color },
    };
    const existing = ctx.cluster.cache.get(CONFIGMAP, cmKey);
    if (existing && controllerOf(existing) && controllerOf(existing)!.uid !== w.metadata?.uid) {
      await writeStatus(ctx, w, readyCondition(w, 'False', 'ConfigMapOwnedElsewhere', `ConfigMap ${cmKey.name} belongs to another object`));
      return;
    }
    cm.metadata!.ownerReferences = setControllerReference(w, cm);
    if (!existing || existing.data?.['size'] !== cm.data['size'] || existing.data?.['color'] !== cm.data['color'] || !controllerOf(existing)) {
      await ctx.cluster.client.apply(cm, { fieldManager: FIELD_MANAGER, force: true, signal: ctx.signal });
      ctx.log.info('configmap in sync', { configMap: cmKey.name, size, color });
    }
    await writeStatus(ctx, w, readyCondition(w, 'True', 'Reconciled', `ConfigMap ${cmKey.name} holds size ${size} and color ${color}`));
  });
}

/** Registers the widgets controller. */
export default function setup(manager: Manager): void {
  manager
    .controller('widgets')
    .for(WIDGET)
    .owns(CONFIGMAP)
    .reconcile(reconcileWidget);
}

