/**
 * Admission webhooks in the reference server: Validating/MutatingWebhookConfiguration served in
 * every logical cluster, and their dispatch on client writes as kcp does it.
 */
import { NAMESPACES, type AdmissionPlugin } from '../api/objects.js';
import type { Topology } from '../shards/topology.js';
import { MUTATING_CONFIGURATIONS, VALIDATING_CONFIGURATIONS, WEBHOOK_CONFIGURATION_DEFS, admitWebhookConfiguration } from './configs.js';
import { WebhookDispatcher } from './dispatch.js';
import { Webhooks } from './round.js';

export { WEBHOOK_CONFIGURATION_DEFS, MUTATING_CONFIGURATIONS, VALIDATING_CONFIGURATIONS, webhooksOf } from './configs.js';
export type { Webhook, WebhookRule } from './configs.js';
export { WebhookDispatcher, CLUSTER_ANNOTATION } from './dispatch.js';
export type { WebhookSources, Admission } from './dispatch.js';
export { Webhooks, validateAdmitted } from './round.js';

/** What `installWebhooks` started. */
export interface WebhookLayer {
  readonly dispatcher: WebhookDispatcher;
  /** Ends the commit subscription. */
  stop(): void;
}

/** Defaults and validates webhook configurations on their way to storage (kube's 422s). */
const configurationAdmission: AdmissionPlugin = (op, _ctx, def, obj, old) => {
  if (op === 'DELETE') return;
  if (def.storage === MUTATING_CONFIGURATIONS) admitWebhookConfiguration(obj, true, old);
  else if (def.storage === VALIDATING_CONFIGURATIONS) admitWebhookConfiguration(obj, false, old);
};

/**
 * Serves the webhook configurations in every logical cluster of `topo` and admits client writes
 * through them; `configurationCluster` picks whose configurations apply (kcp: the APIExport's
 * workspace for a bound resource).
 */
export function installWebhooks(topo: Topology, configurationCluster: (cluster: string, group: string, resource: string) => string): WebhookLayer {
  topo.addResourceSource(() => WEBHOOK_CONFIGURATION_DEFS);
  topo.addAdmission(configurationAdmission);
  const dispatcher = new WebhookDispatcher({
    configurationCluster,
    list: (cluster, storage) => topo.shardOf(cluster)?.store.list(storage, { cluster, namespace: '' }) ?? [],
    namespace: (cluster, name) => topo.shardOf(cluster)?.store.get(NAMESPACES, cluster, '', name),
    resources: (cluster) => topo.shardOf(cluster)?.svc.registry.resourcesFor(cluster) ?? [],
    authorizer: (cluster) => topo.shardOf(cluster)?.authorizer(cluster),
  });
  // Writes skip admission entirely while no configuration exists anywhere (the common case).
  const isConfiguration = (storage: string) => storage === MUTATING_CONFIGURATIONS || storage === VALIDATING_CONFIGURATIONS;
  let configurations = 0;
  for (const shard of topo.shards) for (const e of shard.store.entries()) if (isConfiguration(e.storage)) configurations++;
  const unsubscribe = topo.onCommit(({ event }) => {
    if (!isConfiguration(event.storage)) return;
    if (event.type === 'ADDED') configurations++;
    else if (event.type === 'DELETED') configurations--;
  });
  const webhooks = new Webhooks(dispatcher, () => configurations > 0);
  for (const shard of topo.shards) shard.svc.webhooks = webhooks;
  return { dispatcher, stop: unsubscribe };
}
