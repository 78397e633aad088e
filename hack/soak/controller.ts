/**
 * The soak's controller module, run by `kcp-mc run dist/hack/soak/controller.js --sharding`: for
 * each Item an owned ConfigMap equal to `desired(spec)` and `status.observedGeneration =
 * generation`. It fails on purpose at set rates (throws; or waits out its timeout), and appends a
 * start and an end line per reconcile to the ledger file, so that the driver can check the oracles
 * from outside: overlaps, reconciles after disengagement, and errors by cause.
 *
 * Environment: SOAK_LEDGER (file), SOAK_REPLICA (incarnation id), SOAK_FAIL_RATE and
 * SOAK_TIMEOUT_RATE (0..1), SOAK_TIMEOUT_MS (the reconcile timeout), SOAK_HEAP_FILE (where SIGUSR2
 * writes heapUsed after a full collection).
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  APIExportProvider,
  ClusterNotFoundError,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isNetworkError,
  isNotFound,
  setControllerReference,
  ApiError,
  type Aware,
  type Cluster,
  type KubernetesObject,
  type Manager,
  type Provider,
  type ProviderContext,
  type ReconcileContext,
  type Request,
} from '../../src/index.js';
import { CONFIGMAP, CONTROLLER, desired, EXPORT_NAME, ITEM, matches, outName, type Outcome, type RealError, type SoakMark } from './api.js';

/** The module's name under `kcp-mc run`. */
export const name = CONTROLLER;
/** The endpoint slice watched when no --endpointslice is given. */
export const endpointSlice = EXPORT_NAME;

const LEDGER = process.env['SOAK_LEDGER'];
const REPLICA = process.env['SOAK_REPLICA'] ?? String(process.pid);
const FAIL_RATE = Number(process.env['SOAK_FAIL_RATE'] ?? '0');
const TIMEOUT_RATE = Number(process.env['SOAK_TIMEOUT_RATE'] ?? '0');
const TIMEOUT_MS = Number(process.env['SOAK_TIMEOUT_MS'] ?? '5000');

/** Thrown by a reconcile that fails on purpose. */
export class InjectedFailure extends Error {
  constructor() {
    super('injected reconcile failure');
    this.name = 'InjectedFailure';
  }
}

// Each cluster handle the provider reported, with its engagement signal: a reconcile that starts on
// a handle whose signal already fired is a violation of the lifecycle's promise.
const engagements = new WeakMap<Cluster, AbortSignal>();

function write(m: SoakMark): void {
  // O_APPEND writes of one short line are atomic, so replicas share one file without locks.
  if (LEDGER) fs.appendFileSync(LEDGER, JSON.stringify(m) + '\n');
}

/** The category of a real reconcile error (see EXPLANATIONS in api.ts). */
export function classify(err: unknown, signal: AbortSignal, timedOut: boolean): RealError {
  if (timedOut) return 'timeout';
  if (signal.aborted) return 'aborted';
  // AlreadyExists: the cache lags the create of an earlier reconcile of this Item.
  if (isConflict(err) || isAlreadyExists(err)) return 'conflict';
  if (isNotFound(err) || isForbidden(err)) return 'cluster-leaving';
  if (err instanceof ApiError && (err.code >= 500 || err.code === 429)) return 'server-fault';
  if (isNetworkError(err)) return 'network';
  return 'unexplained';
}

/** The APIExportProvider, with every engagement's signal remembered by cluster handle. */
export function provider(kubeconfig: KubeConfig, ctx: ProviderContext): Provider {
  const inner = new APIExportProvider(kubeconfig, { endpointSlice: ctx.endpointSlice ?? EXPORT_NAME, log: ctx.log });
  const start = (aware: Aware, signal: AbortSignal): Promise<void> =>
    inner.start(
      {
        engage(clusterName: string, cluster: Cluster, engagement: AbortSignal): void {
          engagements.set(cluster, engagement);
          aware.engage(clusterName, cluster, engagement);
        },
      },
      signal,
    );
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'start') return start;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

async function converge(req: Request, ctx: ReconcileContext): Promise<void> {
  const { cluster, signal } = ctx;
  const item = cluster.cache.get(ITEM, req);
  if (!item || item.metadata?.deletionTimestamp) return;
  const key = { namespace: req.namespace, name: outName(req.name) };
  const want = desired(item.spec);
  const cm = cluster.cache.get(CONFIGMAP, key);
  if (!cm) {
    const obj: KubernetesObject & { data: Record<string, string> } = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...key }, data: want };
    obj.metadata!.ownerReferences = setControllerReference(item, obj);
    await cluster.client.create(obj, { signal });
  } else if (!matches(item.spec, cm.data)) {
    await cluster.client.update({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...key, resourceVersion: cm.metadata?.resourceVersion, ownerReferences: cm.metadata?.ownerReferences ? [...cm.metadata.ownerReferences] : undefined }, data: want }, { signal });
  }
  if (item.status?.observedGeneration !== item.metadata?.generation) {
    // The cached resourceVersion makes the status write fail (409) if the spec changed since: the
    // observedGeneration written always belongs to the spec the ConfigMap was made from.
    await cluster.client.updateStatus({ apiVersion: ITEM.apiVersion, kind: ITEM.kind, metadata: { name: req.name, namespace: req.namespace, resourceVersion: item.metadata?.resourceVersion }, spec: { ...item.spec }, status: { observedGeneration: item.metadata?.generation } }, { signal });
  }
}

async function reconcile(req: Request, ctx: ReconcileContext): Promise<void> {
  const id = ctx.reconcileID;
  const base = { r: REPLICA, c: req.cluster, n: req.name, id };
  const late = engagements.get(ctx.cluster)?.aborted === true;
  write({ ...base, e: 'start', t: Date.now(), ...(late ? { late } : {}) });
  let x: Outcome = 'ok';
  let m: string | undefined;
  let timedOut = false;
  const onAbort = (): void => {
    timedOut = /timed out/.test(String((ctx.signal.reason as Error | undefined)?.message));
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const roll = Math.random();
    if (roll < FAIL_RATE) {
      x = 'injected-throw';
      throw new InjectedFailure();
    }
    if (roll < FAIL_RATE + TIMEOUT_RATE) {
      x = 'injected-timeout';
      await untilAborted(ctx.signal);
    }
    await converge(req, ctx);
  } catch (e) {
    if (x === 'ok') x = e instanceof ClusterNotFoundError ? 'gone' : classify(e, ctx.signal, timedOut);
    m = (e as Error)?.message?.slice(0, 300);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    write({ ...base, e: 'end', t: Date.now(), x, ...(m ? { m } : {}), ...(timedOut ? { to: true } : {}) });
  }
}

/** Registers the soak controller. */
export default function setup(manager: Manager): void {
  manager
    .controller(CONTROLLER)
    .for(ITEM)
    .owns(CONFIGMAP)
    .withOptions({ reconcileTimeoutMs: TIMEOUT_MS })
    .reconcile(reconcile);
}

const HEAP_FILE = process.env['SOAK_HEAP_FILE'];
if (HEAP_FILE) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Heap is only comparable after full collections; the driver asks by signal (no port to open).
  process.on('SIGUSR2', () => {
    gc();
    gc();
    fs.writeFileSync(HEAP_FILE, JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, t: Date.now() }));
  });
}
