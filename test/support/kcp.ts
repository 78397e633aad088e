/**
 * kcp setups for runtime tests, over plain HTTP against the reference server: a provider workspace
 * with an APIExport (claims on configmaps and events by default), consumer workspaces bound to it
 * (claims accepted), and the endpoint slice URL.
 */
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { RunningServer } from '../../src/server/index.js';
import { eventually, kubeConfigFor, raw } from './server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';

/** A permission claim of an APIExport. */
export interface Claim {
  group: string;
  resource: string;
}

/** The default claims: configmaps and events. */
export const DEFAULT_CLAIMS: Claim[] = [
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'events' },
];

/** Creates workspace `name` under `parent` (a path) and waits until Ready; returns its logical cluster name. */
export async function createWorkspace(srv: RunningServer, parent: string, name: string, spec: Obj = {}): Promise<string> {
  const r = await raw(srv, 'POST', `/clusters/${parent}${WS}`, { apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec });
  expect(r.status, r.text).to.be.oneOf([201, 409]);
  const ws = await eventually(async () => {
    const g = await raw(srv, 'GET', `/clusters/${parent}${WS}/${name}`);
    return (g.json['status'] as Obj | undefined)?.['phase'] === 'Ready' ? (g.json as Obj) : undefined;
  }, `${parent}:${name} Ready`, 30_000);
  return ws!['spec'].cluster as string;
}

/** An APIExport with claims in workspace `path`; returns the provider kubeconfig. */
export async function createExport(srv: RunningServer, path: string, name: string, claims: Claim[] = DEFAULT_CLAIMS): Promise<KubeConfig> {
  const r = await raw(srv, 'POST', `/clusters/${path}/apis/apis.kcp.io/v1alpha2/apiexports`, {
    apiVersion: 'apis.kcp.io/v1alpha2',
    kind: 'APIExport',
    metadata: { name },
    spec: { permissionClaims: claims.map((c) => ({ ...c, verbs: ['*'] })) },
  });
  expect(r.status, r.text).to.equal(201);
  return kubeConfigFor(srv, path);
}

/** Binds export `exportPath:exportName` into workspace `path` with every claim accepted; resolves once Ready. */
export async function bind(srv: RunningServer, path: string, exportPath: string, exportName: string, opts: { name?: string; claims?: Claim[] } = {}): Promise<void> {
  const name = opts.name ?? exportName;
  const r = await raw(srv, 'POST', `/clusters/${path}/apis/apis.kcp.io/v1alpha2/apibindings`, {
    apiVersion: 'apis.kcp.io/v1alpha2',
    kind: 'APIBinding',
    metadata: { name },
    spec: {
      reference: { export: { path: exportPath, name: exportName } },
      permissionClaims: (opts.claims ?? DEFAULT_CLAIMS).map((c) => ({ ...c, verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' })),
    },
  });
  expect(r.status, r.text).to.equal(201);
  await eventually(async () => {
    const g = (await raw(srv, 'GET', `/clusters/${path}/apis/apis.kcp.io/v1alpha2/apibindings/${name}`)).json as Obj;
    return (g['status']?.conditions as Obj[] | undefined)?.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
  }, `binding ${name} in ${path} Ready`, 30_000);
}

/** Deletes a binding. */
export async function unbind(srv: RunningServer, path: string, name: string): Promise<void> {
  const r = await raw(srv, 'DELETE', `/clusters/${path}/apis/apis.kcp.io/v1alpha2/apibindings/${name}`);
  expect(r.status, r.text).to.be.oneOf([200, 202]);
}

/** The endpoint URLs of slice `name` in workspace `path`. */
export async function sliceURLs(srv: RunningServer, path: string, name: string): Promise<string[]> {
  const s = (await raw(srv, 'GET', `/clusters/${path}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${name}`)).json as Obj;
  return ((s['status']?.endpoints as Obj[] | undefined) ?? []).map((e) => e['url'] as string);
}

/** Creates a ConfigMap in a workspace (path or name). */
export async function createConfigMap(srv: RunningServer, cluster: string, name: string, data: Record<string, string> = {}, namespace = 'default'): Promise<Obj> {
  const r = await raw(srv, 'POST', `/clusters/${cluster}/api/v1/namespaces/${namespace}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  expect(r.status, r.text).to.equal(201);
  return r.json as Obj;
}

/** Replaces a ConfigMap's data. */
export async function updateConfigMap(srv: RunningServer, cluster: string, name: string, data: Record<string, string>, namespace = 'default'): Promise<Obj> {
  const r = await raw(srv, 'PATCH', `/clusters/${cluster}/api/v1/namespaces/${namespace}/configmaps/${name}`, { data }, { 'Content-Type': 'application/merge-patch+json' });
  expect(r.status, r.text).to.equal(200);
  return r.json as Obj;
}
