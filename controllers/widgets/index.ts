/**
 * `widgets`: a complete service provider. `Widgets` (`example.dev/v1alpha1` `Widget`, `spec.size`
 * 1–10 that may only grow, `spec.color` default `blue`) is exported as `widgets.example.dev`,
 * claiming `configmaps` and `events`. Each Widget gets an owned ConfigMap `<name>-widget`,
 * `status.observedGeneration` and a `Ready` condition (False `InvalidColor` and one Warning Event
 * for a color it cannot paint, not retried); the finalizer deletes the ConfigMap first. Webhooks
 * default `spec.size` and refuse such a color at admission (`ENABLE_WEBHOOKS=false`: none).
 *
 *   kcp-mc certs --cert-dir certs --host 127.0.0.1
 *   kcp-mc run widgets --install --kubeconfig provider.kubeconfig --webhook-cert-dir certs --webhook-url https://127.0.0.1:9443
 */
import { CONFIG_MAP, Type, WebhookDenied, controllerOf, createOrUpdate, defineAPI, finalizer, findStatusCondition, isNotFound, setControllerReference, setStatusCondition } from 'kcp-multicluster-provider';
import type { Cached, ConfigMap, Manager, ObjectOf, ReconcileContext, Request } from 'kcp-multicluster-provider';

/** Colors the controller can paint. */
export const COLORS = ['red', 'green', 'blue', 'yellow'] as const;
/** The size the defaulting webhook gives a Widget without one. */
export const DEFAULT_SIZE = 1;

/** metav1.Condition, as `setStatusCondition` writes it. */
const Condition = Type.Object({
  type: Type.String(), status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]), reason: Type.String(),
  message: Type.String(), lastTransitionTime: Type.String({ format: 'date-time' }), observedGeneration: Type.Optional(Type.Integer()),
});

/** The Widget API: its type, APIResourceSchema and APIExport (`kcp-mc run --install` applies them). */
export const Widgets = defineAPI({
  group: 'example.dev',
  kind: 'Widget',
  scope: 'Namespaced',
  claims: [{ group: '', resource: 'configmaps', verbs: ['*'] }, { group: '', resource: 'events', verbs: ['*'] }],
  versions: {
    v1alpha1: {
      spec: Type.Object({
        size: Type.Integer({ minimum: 1, maximum: 10, 'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'size may only grow' }] }),
        color: Type.Optional(Type.String({ default: 'blue' })),
      }),
      status: Type.Object({
        observedGeneration: Type.Optional(Type.Integer()),
        conditions: Type.Optional(Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })),
      }),
      printerColumns: [
        { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
        { name: 'Color', type: 'string', jsonPath: '.spec.color' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      ],
    },
  },
});
/** The APIs `kcp-mc run --install` and `kcp-mc apigen` read. */
export const apis = [Widgets];
/** `example.dev/v1alpha1` Widget, typed from its schema. */
export type Widget = ObjectOf<typeof Widgets>;
/** The Widget type, for `for`, caches and clients. */
export const WIDGET = Widgets.type;
/** The export's (and its endpoint slice's) name. */
export const EXPORT_NAME = Widgets.exportName;
/** The finalizer that deletes a Widget's ConfigMap first. */
export const FINALIZER = 'example.dev/widget-cleanup';
/** The module's name under `kcp-mc run`: its Events' reportingController, Lease and webhook configurations. */
export const name = 'widgets';

/** The ConfigMap a Widget owns. */
export const configMapName = (widget: string): string => `${widget}-widget`;
/** Whether the controller can paint `color`. */
export const paintable = (color: string): boolean => (COLORS as readonly string[]).includes(color);

/** Writes observedGeneration and the Ready condition, only when either changes. */
async function setReady(ctx: ReconcileContext, w: Cached<Widget>, status: 'True' | 'False', reason: string, message: string): Promise<void> {
  const conditions = [...(w.status?.conditions ?? [])];
  const generation = w.metadata?.generation;
  const changed = setStatusCondition(conditions, { type: 'Ready', status, reason, message, observedGeneration: generation });
  if (!changed && w.status?.observedGeneration === generation) return;
  const key = { namespace: w.metadata?.namespace, name: w.metadata?.name ?? '' };
  await ctx.cluster.client.patchStatus(WIDGET, key, { status: { observedGeneration: generation, conditions } }, { signal: ctx.signal });
}

async function reconcileWidget(req: Request, ctx: ReconcileContext): Promise<void> {
  const w = ctx.cluster.cache.get(WIDGET, req);
  if (!w) return;
  await finalizer(ctx.cluster.client, FINALIZER, w, async (ev) => {
    const key = { namespace: req.namespace, name: configMapName(req.name) };
    if (ev.kind === 'cleanup') {
      const gone = await ctx.cluster.client.delete(CONFIG_MAP, key, { signal: ctx.signal }).then(() => true, (e: unknown) => {
        if (!isNotFound(e)) throw e;
        return false;
      });
      if (gone) ctx.log.info('deleted configmap', { configMap: key.name });
      return;
    }
    // The webhooks may be down under failurePolicy Ignore, or off: the controller checks again.
    const { size, color = 'blue' } = w.spec;
    if (!paintable(color)) {
      const problem = `color ${JSON.stringify(color)} is not one of ${COLORS.join(', ')}`;
      const before = findStatusCondition(w.status?.conditions, 'Ready');
      await setReady(ctx, w, 'False', 'InvalidColor', problem);
      // One Warning per generation that asks for it; a spec that cannot be served is not retried.
      if (!(before?.reason === 'InvalidColor' && before.observedGeneration === w.metadata?.generation)) {
        await ctx.cluster.events.publish(w, { type: 'Warning', reason: 'InvalidColor', action: 'Reconcile', note: problem });
      }
      ctx.log.info('widget refused', { reason: 'InvalidColor', color });
      return;
    }
    const existing = ctx.cluster.cache.get(CONFIG_MAP, key);
    const owner = existing && controllerOf(existing);
    if (owner && owner.uid !== w.metadata?.uid) {
      return setReady(ctx, w, 'False', 'ConfigMapOwnedElsewhere', `ConfigMap ${key.name} belongs to another object`);
    }
    const result = await createOrUpdate<ConfigMap>(ctx.cluster, { ...CONFIG_MAP, metadata: key }, (cm) => {
      cm.data = { size: String(size), color };
      cm.metadata.ownerReferences = setControllerReference(w, cm);
    }, { signal: ctx.signal });
    if (result !== 'unchanged') ctx.log.info('configmap in sync', { configMap: key.name, size, color, result });
    await setReady(ctx, w, 'True', 'Reconciled', `ConfigMap ${key.name} holds size ${size} and color ${color}`);
  });
}

/** Registers the widgets controller. */
export function setupController(manager: Manager): void {
  manager.controller('widgets').for(WIDGET).owns(CONFIG_MAP).reconcile(reconcileWidget);
}

/** Registers the defaulting (`spec.size`) and validating (`spec.color`) webhooks; kcp calls them for every tenant. */
export function setupWebhooks(manager: Manager): void {
  const refuse = ({ spec: { color = 'blue' } }: Readonly<Widget>): void => {
    // Worded as kube words an enum violation, which is what a user knows.
    if (!paintable(color)) throw new WebhookDenied(`spec.color: Unsupported value: ${JSON.stringify(color)}: supported values: ${COLORS.map((c) => `"${c}"`).join(', ')}`);
  };
  manager.webhook(WIDGET, { resource: Widgets.plural })
    .default((w, ctx) => {
      // The schema requires a size: a mutating webhook runs before schema validation, so it may fill it.
      if (w.spec.size !== undefined) return;
      w.spec.size = DEFAULT_SIZE;
      ctx.log.info('defaulted size', { size: DEFAULT_SIZE });
    })
    .validate({
      create: (w) => refuse(w),
      // Only a changed color is checked: an object admitted while the webhook was down can still lose its finalizer.
      update: (old, w) => (old.spec.color === w.spec.color ? undefined : refuse(w)),
    });
}

/** Registers the controller and, unless `ENABLE_WEBHOOKS=false` (kubebuilder's switch), the webhooks. */
export default function setup(manager: Manager): void {
  setupController(manager);
  if (process.env['ENABLE_WEBHOOKS'] !== 'false') setupWebhooks(manager);
}
