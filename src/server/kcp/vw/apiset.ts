/**
 * The API set of one APIExport as its virtual workspace serves it (kcp's apireconciler): the
 * exported resources over identity-keyed storage, the claimed resources behind their claim label,
 * and read-only `apibindings` filtered to this export. Sets are cached until an export or schema
 * changes anywhere; watches opened on a set end when the set they were opened on changes.
 */
import { createHash } from 'node:crypto';
import type { ObjectFilter } from '../../storage/listwatch.js';
import type { Topology } from '../../shards/topology.js';
import type { KubeObject, ResourceDef } from '../../types.js';
import {
  APIS_GROUP,
  BINDING_DEF,
  BINDING_V1_DEF,
  CLAIM_LABEL_PREFIX,
  EXPORTS,
  EXPORT_LABEL,
  SCHEMAS,
  claimHash,
  claimedResourceDefs,
  claimsOf,
  exportHash,
  findExport,
  identityOf,
  resourceDefsForExport,
  type Claim,
} from './kcp.js';

/** What one export's virtual workspace serves. */
export interface APISet {
  exportCluster: string;
  exportName: string;
  /** The export as stored (v1alpha2). */
  export: KubeObject;
  /** Resources in discovery order. */
  defs: ResourceDef[];
  /** The extra list/watch filter of a definition of this set (claim label, export label). */
  filters: Map<ResourceDef, ObjectFilter>;
  /** Changes whenever anything served changes; open watches compare against it. */
  fingerprint: string;
}

/** Built-in resources an export may claim without an identity (kcp's `schemas/builtin`). */
const CLAIMABLE = new Set([
  '/namespaces',
  '/configmaps',
  '/events',
  '/resourcequotas',
  '/secrets',
  '/serviceaccounts',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'rbac.authorization.k8s.io/roles',
  'rbac.authorization.k8s.io/rolebindings',
  'certificates.k8s.io/certificatesigningrequests',
  'coordination.k8s.io/leases',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'admissionregistration.k8s.io/mutatingadmissionpolicies',
  'admissionregistration.k8s.io/mutatingadmissionpolicybindings',
  'events.k8s.io/events',
  'apiextensions.k8s.io/customresourcedefinitions',
  'core.kcp.io/logicalclusters',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews',
  'authentication.k8s.io/tokenreviews',
]);

/** The group/resource pairs a claim makes servable: a claim on events covers both event groups. */
export function claimTargets(c: Pick<Claim, 'group' | 'resource'>): { group: string; resource: string }[] {
  if (c.resource === 'events' && (c.group === '' || c.group === 'events.k8s.io')) {
    return [
      { group: '', resource: 'events' },
      { group: 'events.k8s.io', resource: 'events' },
    ];
  }
  return [{ group: c.group, resource: c.resource }];
}

/** Whether a claim covers a request's group/resource (events normalised across their two groups). */
export function claimCovers(c: Pick<Claim, 'group' | 'resource'>, group: string, resource: string): boolean {
  return claimTargets(c).some((t) => t.group === group && t.resource === resource);
}

function fingerprintOf(defs: readonly ResourceDef[], labels: string[]): string {
  const shape = defs.map((d) => [d.group, d.version, d.resource, d.kind, d.namespaced, d.storage, d.discoveryVerbs ?? d.verbs, d.statusSubresource, d.schema]);
  return createHash('sha1').update(JSON.stringify([shape, labels])).digest('hex');
}

/** Computes and caches API sets, and ends the watches of sets that change. */
export class APISets {
  private readonly cache = new Map<string, APISet | null>();
  private readonly watches = new Map<string, Map<() => void, string>>();
  private checkScheduled = false;

  constructor(private readonly topo: Topology) {
    topo.onCommit(({ event }) => {
      if (event.storage !== EXPORTS && event.storage !== SCHEMAS) return;
      this.cache.clear();
      this.scheduleCheck();
    });
  }

  /** The API set of `<exportCluster>/<exportName>`, or undefined for an unknown export or one without identity. */
  get(exportCluster: string, exportName: string): APISet | undefined {
    const key = `${exportCluster}/${exportName}`;
    let set = this.cache.get(key);
    if (set === undefined) {
      set = this.compute(exportCluster, exportName) ?? null;
      this.cache.set(key, set);
    }
    return set ?? undefined;
  }

  /** Registers an open watch on a set; `close` is called when the set's API definitions change. */
  track(set: APISet, close: () => void): void {
    const key = `${set.exportCluster}/${set.exportName}`;
    let m = this.watches.get(key);
    if (!m) this.watches.set(key, (m = new Map()));
    m.set(close, set.fingerprint);
  }

  /** Forgets a watch that ended. */
  untrack(set: APISet, close: () => void): void {
    const key = `${set.exportCluster}/${set.exportName}`;
    const m = this.watches.get(key);
    m?.delete(close);
    if (m && m.size === 0) this.watches.delete(key);
  }

  private scheduleCheck(): void {
    if (this.checkScheduled || this.watches.size === 0) return;
    this.checkScheduled = true;
    // Commits are never acted on from inside the commit: watchers must see it first.
    setImmediate(() => {
      this.checkScheduled = false;
      for (const [key, m] of [...this.watches]) {
        const [cluster, name] = key.split('/') as [string, string];
        const now = this.get(cluster, name)?.fingerprint;
        for (const [close, fp] of [...m]) if (fp !== now) close();
      }
    });
  }

  private compute(exportCluster: string, exportName: string): APISet | undefined {
    const exp = findExport(this.topo, exportCluster, exportName);
    if (!exp || !identityOf(exp)) return undefined;
    const defs: ResourceDef[] = [];
    const filters = new Map<ResourceDef, ObjectFilter>();
    const labels: string[] = [];
    const served = new Set<string>();
    for (const d of resourceDefsForExport(this.topo, exp)) {
      defs.push(d);
      served.add(`${d.group}/${d.resource}`);
    }
    const exported = new Set(served);
    const hash = exportHash(exportCluster, exportName);
    const labelKey = CLAIM_LABEL_PREFIX + hash;
    for (const c of claimsOf(exp)) {
      // An exported resource of the same group/resource shadows the claim.
      if (exported.has(`${c.group}/${c.resource}`)) continue;
      const value = claimHash(c);
      const filter: ObjectFilter = (o) => o.metadata.labels?.[labelKey] === value;
      for (const d of this.claimedDefs(c)) {
        if (served.has(`${d.group}/${d.resource}/${d.version}`)) continue;
        served.add(`${d.group}/${d.resource}/${d.version}`);
        served.add(`${d.group}/${d.resource}`);
        const copy: ResourceDef = { ...d };
        defs.push(copy);
        filters.set(copy, filter);
      }
      labels.push(`${c.group}/${c.resource}/${c.identityHash}=${value}`);
    }
    if (!served.has(`${APIS_GROUP}/apibindings`)) {
      const filter: ObjectFilter = (o) => o.metadata.labels?.[EXPORT_LABEL] === hash;
      for (const d of [BINDING_DEF, BINDING_V1_DEF]) {
        // Read-only, whatever the workspace serves: writes through a VW were a privilege escalation.
        const ro: ResourceDef = { ...d, verbs: ['get', 'list', 'watch'], statusSubresource: false };
        defs.push(ro);
        filters.set(ro, filter);
      }
    }
    return { exportCluster, exportName, export: exp, defs, filters, fingerprint: fingerprintOf(defs, labels) };
  }

  /** What a claim serves: a resource of another export by identity, or a claimable built-in or kcp type. */
  private claimedDefs(c: Claim): ResourceDef[] {
    const defs = claimedResourceDefs(this.topo, c);
    if (c.identityHash) return defs;
    return defs.filter((d) => d.group === APIS_GROUP || CLAIMABLE.has(`${d.group}/${d.resource}`));
  }
}
