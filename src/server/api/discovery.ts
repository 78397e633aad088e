/** Legacy (JSON) discovery documents built from the resources a logical cluster serves. */
import type { JsonObject, ResourceDef } from '../types.js';

/** Kubernetes version priority: GA > beta > alpha, higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0, v] as const;
    const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [1, stage, Number(m[1]), Number(m[3] ?? 0)] as const;
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 4; i++) {
    if (pa[i] !== pb[i]) return pa[i]! > pb[i]! ? -1 : 1;
  }
  return 0;
}

/** group → sorted versions (preferred first). */
export function groupVersions(defs: readonly ResourceDef[]): Map<string, string[]> {
  const m = new Map<string, Set<string>>();
  for (const d of defs) {
    if (!d.group) continue;
    let s = m.get(d.group);
    if (!s) m.set(d.group, (s = new Set()));
    s.add(d.version);
  }
  const out = new Map<string, string[]>();
  for (const g of [...m.keys()].sort()) out.set(g, [...m.get(g)!].sort(compareVersions));
  return out;
}

/** `/api`. */
export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: string[], preferred?: string): JsonObject {
  const pref = preferred && versions.includes(preferred) ? preferred : versions[0]!;
  return {
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${pref}`, version: pref },
  };
}

/** `/apis`. `preferred` overrides the computed preferred version per group. */
export function apiGroupList(defs: readonly ResourceDef[], preferred: Record<string, string> = {}): JsonObject {
  const groups = [...groupVersions(defs)].map(([g, vs]) => groupDoc(g, vs, preferred[g]));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** `/apis/<group>`, or undefined when the group is not served. */
export function apiGroup(defs: readonly ResourceDef[], group: string, preferred: Record<string, string> = {}): JsonObject | undefined {
  const vs = groupVersions(defs).get(group);
  if (!vs) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, vs, preferred[group]) };
}

/** `/api/v1` or `/apis/<group>/<version>`, or undefined when nothing of that version is served. */
export function apiResourceList(defs: readonly ResourceDef[], group: string, version: string): JsonObject | undefined {
  const mine = defs.filter((d) => d.group === group && d.version === version);
  if (mine.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const d of mine) {
    const r: JsonObject = {
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: [...(d.discoveryVerbs ?? d.verbs)],
    };
    if (d.shortNames?.length) r['shortNames'] = [...d.shortNames];
    if (d.categories?.length) r['categories'] = [...d.categories];
    resources.push(r);
    if (d.statusSubresource) {
      resources.push({ name: `${d.resource}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: [...(d.statusDiscoveryVerbs ?? ['get', 'patch', 'update'])] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
