/**
 * What the soak's driver and its controller module share: the `Item` API (schema, export, endpoint
 * slice), the pure function an Item's owned ConfigMap must equal, and the ledger line every
 * reconcile appends.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject, ObjectType } from '../../src/index.js';

/** The export's, its endpoint slice's and the API group's name. */
export const EXPORT_NAME = 'soak.example.dev';
/** The controller's name (metric label, Lease group `kcp-mc-soak`). */
export const CONTROLLER = 'soak';
/** The workspace holding the export. */
export const PROVIDER_PATH = 'root:soak-provider';
/** The namespace every Item lives in. */
export const NAMESPACE = 'default';

/** `soak.example.dev/v1` Item: the writer owns `spec`, the controller `status` and the owned ConfigMap. */
export interface Item extends KubernetesObject {
  spec: { seq: number; value: string };
  status?: { observedGeneration?: number };
}

/** The Item type. */
export const ITEM: ObjectType<Item> = { apiVersion: `${EXPORT_NAME}/v1`, kind: 'Item' };
/** ConfigMaps, owned by Items. */
export const CONFIGMAP: ObjectType<KubernetesObject & { data?: Record<string, string> }> = { apiVersion: 'v1', kind: 'ConfigMap' };

/** The owned ConfigMap's name for Item `name`. */
export function outName(name: string): string {
  return `${name}-out`;
}

/** The data the owned ConfigMap must hold: a pure function of the Item's spec. */
export function desired(spec: Item['spec']): Record<string, string> {
  const digest = createHash('sha256').update(`${spec.seq}/${spec.value}`).digest('hex').slice(0, 16);
  return { seq: String(spec.seq), value: spec.value, digest };
}

/** Whether `data` equals `desired(spec)` key for key. */
export function matches(spec: Item['spec'], data: Readonly<Record<string, string>> | undefined): boolean {
  const want = desired(spec);
  const keys = Object.keys(data ?? {});
  return keys.length === Object.keys(want).length && keys.every((k) => data![k] === want[k]);
}

/**
 * How a reconcile ended, as its ledger line says: `ok`, an injected failure (`injected-throw`,
 * `injected-timeout`), or the category of a real error (see `classify` in controller.ts); `gone`
 * is a ClusterNotFoundError, which the runtime does not count as a failure.
 */
export type Outcome = 'ok' | 'injected-throw' | 'injected-timeout' | 'gone' | RealError;

/** Categories of real reconcile errors, each with its explanation in the soak's report. */
export type RealError = 'conflict' | 'server-fault' | 'network' | 'aborted' | 'cluster-leaving' | 'timeout' | 'unexplained';

/** The explanation of each real error category. */
export const EXPLANATIONS: Record<RealError, string> = {
  conflict: '409: the writer changed the Item (or a peer wrote) after the cache was read; retried',
  'server-fault': '5xx/429 answered by the server (injected fault, restart or shard unavailable)',
  network: 'connection refused/reset (server restarted or watch/request cut)',
  aborted: "the reconcile's signal aborted: cluster left, ownership handed off, or shutdown",
  'cluster-leaving': '403/404 while the binding or workspace was being deleted',
  timeout: 'the reconcile exceeded its timeout under slow responses',
  unexplained: 'none: a violation',
};

/**
 * One ledger line. `r` is the replica incarnation (`r1#2`: replica r1's second process), `c`/`n` the
 * cluster and Item, `id` the reconcile's ID pairing start and end, `t` ms since the epoch; a start
 * carries `late` when its cluster's engagement signal had already fired, an end its `x` outcome,
 * for an error `m` (message), and `to` when the reconcile timeout fired.
 */
export interface SoakMark {
  r: string;
  c: string;
  n: string;
  e: 'start' | 'end';
  t: number;
  id: string;
  late?: boolean;
  x?: Outcome;
  m?: string;
  to?: boolean;
}

/** APIResourceSchema, APIExport (claiming configmaps) and APIExportEndpointSlice, in apply order. */
export function manifests(): KubernetesObject[] {
  return [
    {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIResourceSchema',
      metadata: { name: `v1.items.${EXPORT_NAME}` },
      spec: {
        group: EXPORT_NAME,
        names: { plural: 'items', singular: 'item', kind: 'Item', listKind: 'ItemList' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', required: ['seq', 'value'], properties: { seq: { type: 'integer' }, value: { type: 'string' } } },
                status: { type: 'object', properties: { observedGeneration: { type: 'integer' } } },
              },
              required: ['spec'],
            },
          },
        ],
      },
    } as KubernetesObject,
    {
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: EXPORT_NAME },
      spec: {
        resources: [{ group: EXPORT_NAME, name: 'items', schema: `v1.items.${EXPORT_NAME}`, storage: { crd: {} } }],
        permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }],
      },
    } as KubernetesObject,
    {
      apiVersion: 'apis.kcp.io/v1alpha1',
      kind: 'APIExportEndpointSlice',
      metadata: { name: EXPORT_NAME },
      spec: { export: { path: PROVIDER_PATH, name: EXPORT_NAME } },
    } as KubernetesObject,
  ];
}
