/**
 * Kind → resource mapping through legacy JSON discovery, cached per base URL. kcp workspaces can
 * serve different APIs, so a cache belongs to one base (a cluster URL, or a VW endpoint whose
 * discovery is the same for `/clusters/*` and every `/clusters/<name>`). A miss refreshes once:
 * an API bound a moment ago appears without restarting anything, and a typo costs two requests.
 */
import { ApiError, isNotFound } from './errors.js';
import type { Transport } from './transport.js';
import { joinURL } from './url.js';

/** A served resource, as discovery describes it. */
export interface ResourceInfo {
  /** API group; `''` for the core group. */
  group: string;
  /** API version, e.g. `v1`. */
  version: string;
  /** Plural resource name used in URLs, e.g. `configmaps`. */
  resource: string;
  /** Kind of its objects, e.g. `ConfigMap`. */
  kind: string;
  /** Whether objects live in namespaces. */
  namespaced: boolean;
  /** Verbs the server allows, e.g. `get`, `list`, `watch`. */
  verbs: string[];
  /** Subresources served, e.g. `status`, `scale`. */
  subresources: string[];
  /** Singular name, e.g. `configmap`; may be empty. */
  singularName: string;
  /** Short names, e.g. `cm`. */
  shortNames: string[];
  /** Categories, e.g. `kcp`, `all`. */
  categories: string[];
}

/** The kind is not served under this base URL (checked again against fresh discovery). */
export class UnknownKindError extends Error {
  /** The apiVersion looked up. */
  readonly apiVersion: string;
  /** The kind looked up. */
  readonly kind: string;

  constructor(apiVersion: string, kind: string, base: string) {
    super(`no resource of kind ${JSON.stringify(kind)} in ${JSON.stringify(apiVersion)} is served at ${base}`);
    this.name = 'UnknownKindError';
    this.apiVersion = apiVersion;
    this.kind = kind;
  }
}

/** No served resource matches the name (plural, singular, short name, kind, or `resource.group`). */
export class UnknownResourceError extends Error {
  /** The name looked up. */
  readonly resource: string;

  constructor(resource: string, base: string) {
    super(`the server doesn't have a resource type ${JSON.stringify(resource)} at ${base}`);
    this.name = 'UnknownResourceError';
    this.resource = resource;
  }
}

interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
}
interface APIResourceList {
  groupVersion?: string;
  resources?: APIResource[];
}
interface APIVersions {
  versions?: string[];
}
interface APIGroupList {
  groups?: { name: string; versions?: { groupVersion: string; version: string }[]; preferredVersion?: { version: string } }[];
}

/** Splits `apiVersion` into group and version (`v1` → core group). */
export function parseAPIVersion(apiVersion: string): {
  /** API group; `''` for the core group (`v1`). */
  group: string;
  /** Version, e.g. `v1alpha1`. */
  version: string;
} {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function toInfos(group: string, version: string, list: APIResourceList): ResourceInfo[] {
  const resources = list.resources ?? [];
  const subs = new Map<string, string[]>();
  for (const r of resources) {
    const i = r.name.indexOf('/');
    if (i < 0) continue;
    const parent = r.name.slice(0, i);
    subs.set(parent, [...(subs.get(parent) ?? []), r.name.slice(i + 1)]);
  }
  return resources
    .filter((r) => !r.name.includes('/'))
    .map((r) => ({
      group,
      version,
      resource: r.name,
      kind: r.kind,
      namespaced: r.namespaced,
      verbs: r.verbs ?? [],
      subresources: subs.get(r.name) ?? [],
      singularName: r.singularName ?? '',
      shortNames: r.shortNames ?? [],
      categories: r.categories ?? [],
    }));
}

/** What discovery needs from a transport (a `Transport`, or a fake in tests). */
export type JSONRequester = Pick<Transport, 'server' | 'requestJSON'>;

/** Discovery for one base URL, e.g. `https://host/clusters/root:org` or `<vw endpoint>/clusters/*`. */
export class Discovery {
  /** The base URL discovery documents are read under. */
  readonly base: string;
  // groupVersion → resources; undefined when the server does not serve that groupVersion.
  private readonly byGV = new Map<string, Promise<ResourceInfo[] | undefined>>();
  private all: Promise<{ infos: ResourceInfo[]; preferred: Map<string, string> }> | undefined;

  constructor(
    private readonly transport: JSONRequester,
    base: string = transport.server,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  /** The resource serving `kind` in `apiVersion`; throws `UnknownKindError` if not served even after a refresh. */
  async resourceFor(type: { apiVersion: string; kind: string }, opts: { signal?: AbortSignal } = {}): Promise<ResourceInfo> {
    const { group, version } = parseAPIVersion(type.apiVersion);
    const find = (infos: ResourceInfo[] | undefined): ResourceInfo | undefined => infos?.find((r) => r.kind === type.kind);
    const cached = this.byGV.get(type.apiVersion);
    const hit = find(await this.groupVersion(group, version, false, opts.signal));
    if (hit) return hit;
    // Only refetch what we had cached already; a fresh fetch that just missed is fresh enough.
    const fresh = cached ? find(await this.groupVersion(group, version, true, opts.signal)) : undefined;
    if (fresh) return fresh;
    throw new UnknownKindError(type.apiVersion, type.kind, this.base);
  }

  /**
   * Resolves a resource the way kubectl does: `configmaps`, `configmap`, `cm`, `ConfigMap`,
   * `cowboys.wildwest.dev`, `cowboys.v1alpha1.wildwest.dev`. Preferred versions win over others.
   */
  async resolveResource(name: string, opts: { signal?: AbortSignal } = {}): Promise<ResourceInfo> {
    const hadSnapshot = this.all !== undefined;
    const hit = this.match(name, await this.snapshot(false, opts.signal));
    if (hit) return hit;
    const fresh = hadSnapshot ? this.match(name, await this.snapshot(true, opts.signal)) : undefined;
    if (fresh) return fresh;
    throw new UnknownResourceError(name, this.base);
  }

  /** Every resource served (preferred and other versions), from a cached or fresh snapshot. */
  async resources(opts: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<ResourceInfo[]> {
    return (await this.snapshot(opts.refresh ?? false, opts.signal)).infos;
  }

  /** Forgets everything; the next lookup asks the server again. */
  invalidate(): void {
    this.byGV.clear();
    this.all = undefined;
  }

  private match(name: string, snap: { infos: ResourceInfo[]; preferred: Map<string, string> }): ResourceInfo | undefined {
    const lower = name.toLowerCase();
    const candidates: ResourceInfo[] = [];
    for (const r of snap.infos) {
      const names = [r.resource, r.singularName, ...r.shortNames, r.kind.toLowerCase()].filter((n) => n !== '');
      for (const n of names) {
        if (lower === n || lower === `${n}.${r.group}` || lower === `${n}.${r.version}.${r.group}`) candidates.push(r);
      }
    }
    if (candidates.length === 0) return undefined;
    // Prefer exact plural matches, then the group's preferred version, then the core group (as kubectl does for `events`).
    const score = (r: ResourceInfo): number =>
      (r.resource === lower || lower.startsWith(`${r.resource}.`) ? 4 : 0) +
      (snap.preferred.get(r.group) === r.version ? 2 : 0) +
      (r.group === '' ? 1 : 0);
    return candidates.reduce((best, r) => (score(r) > score(best) ? r : best));
  }

  private groupVersion(group: string, version: string, refresh: boolean, signal?: AbortSignal): Promise<ResourceInfo[] | undefined> {
    const key = group === '' ? version : `${group}/${version}`;
    let p = refresh ? undefined : this.byGV.get(key);
    if (!p) {
      p = this.fetchGV(group, version, signal);
      this.byGV.set(key, p);
      // A failed fetch (network, 403, abort) must not be cached: the next call asks again.
      p.catch(() => {
        if (this.byGV.get(key) === p) this.byGV.delete(key);
      });
    }
    return p;
  }

  private async fetchGV(group: string, version: string, signal?: AbortSignal): Promise<ResourceInfo[] | undefined> {
    try {
      const list = await this.transport.requestJSON<APIResourceList>({ url: joinURL(this.base, gvPath(group, version)), signal });
      return toInfos(group, version, list);
    } catch (e) {
      // Not served here. The APIExport VW answers 404 for `/api/v1` when it serves no core resource.
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private snapshot(refresh: boolean, signal?: AbortSignal): Promise<{ infos: ResourceInfo[]; preferred: Map<string, string> }> {
    if (refresh || !this.all) {
      const p = this.fetchAll(signal);
      this.all = p;
      p.catch(() => {
        if (this.all === p) this.all = undefined;
      });
    }
    return this.all!;
  }

  private async fetchAll(signal?: AbortSignal): Promise<{ infos: ResourceInfo[]; preferred: Map<string, string> }> {
    const getOptional = async <T>(path: string): Promise<T | undefined> => {
      try {
        return await this.transport.requestJSON<T>({ url: joinURL(this.base, path), signal });
      } catch (e) {
        if (e instanceof ApiError && isNotFound(e)) return undefined;
        throw e;
      }
    };
    const [core, groups] = await Promise.all([getOptional<APIVersions>('api'), getOptional<APIGroupList>('apis')]);
    const preferred = new Map<string, string>();
    const gvs: { group: string; version: string }[] = [];
    const coreVersions = core?.versions ?? [];
    if (coreVersions.length > 0) preferred.set('', coreVersions[0]!);
    for (const v of coreVersions) gvs.push({ group: '', version: v });
    for (const g of groups?.groups ?? []) {
      if (g.preferredVersion) preferred.set(g.name, g.preferredVersion.version);
      for (const v of g.versions ?? []) gvs.push({ group: g.name, version: v.version });
    }
    const lists = await Promise.all(gvs.map(({ group, version }) => this.groupVersion(group, version, true, signal)));
    return { infos: lists.flatMap((l) => l ?? []), preferred };
  }
}
