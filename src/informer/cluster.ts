/**
 * Which logical cluster an object belongs to. On a wildcard endpoint (`/clusters/*`) only the
 * `kcp.io/cluster` annotation can say; on a `/clusters/<x>` URL the URL says it when the annotation
 * is missing (plain Kubernetes, or an older server).
 */
import type { Log } from './log.js';
import type { KubeObject } from './types.js';

/** The annotation kcp stamps on every object it serves: the object's logical cluster name. */
export const CLUSTER_ANNOTATION = 'kcp.io/cluster';

/** What a base URL says about clusters: wildcard, one cluster (name or path), or nothing. */
export interface URLCluster {
  /** True when the URL ends in `/clusters/*` (a wildcard across logical clusters). */
  wildcard: boolean;
  /** The `/clusters/<x>` segment, or '' when the URL has none (or is a wildcard). */
  cluster: string;
}

/** Reads the last `/clusters/<x>` segment of a base URL's path. */
export function urlCluster(baseURL: string): URLCluster {
  let path: string;
  try {
    path = new URL(baseURL).pathname;
  } catch {
    path = baseURL;
  }
  // Greedy: the last `/clusters/` wins (a VW URL carries other path segments before it).
  const m = /.*\/clusters\/([^/]+)/.exec(path);
  if (!m) return { wildcard: false, cluster: '' };
  const seg = decodeURIComponent(m[1]!);
  return seg === '*' ? { wildcard: true, cluster: '' } : { wildcard: false, cluster: seg };
}

/** What the report of a skipped object says about it. */
export interface ObjectAbout {
  /** Namespace of the object, when it has one. */
  namespace?: string;
  /** Name of the object, when it could be read. */
  name?: string;
  /** resourceVersion of the object, when it could be read. */
  resourceVersion?: string;
}

/** Bound on remembered unannotated objects, so that a hostile stream cannot grow memory. */
const REMEMBERED = 1000;

/**
 * Resolves the cluster of objects from one endpoint. Objects a wildcard endpoint serves without
 * the annotation are reported once each (by namespace/name) and skipped.
 */
export class ClusterResolver {
  private readonly reported = new Set<string>();
  private suppressedReported = false;
  /** Objects skipped for want of a cluster, since creation. */
  skipped = 0;

  constructor(
    private readonly url: URLCluster,
    private readonly log: Log,
    private readonly context: Record<string, unknown> = {},
  ) {}

  /** The object's cluster, or undefined when it must be skipped. */
  clusterOf(obj: KubeObject): string | undefined {
    const c = obj.metadata?.annotations?.[CLUSTER_ANNOTATION];
    if (typeof c === 'string' && c !== '') return c;
    // What the report needs is built only when there may be one.
    const m = obj.metadata;
    return this.clusterFor(undefined, { namespace: m?.namespace, name: m?.name, resourceVersion: m?.resourceVersion }, obj.kind);
  }

  /** As `clusterOf`, from the annotation's value and the object's key (for the report). */
  clusterFor(annotation: string | undefined, about: ObjectAbout, kind?: string): string | undefined {
    if (annotation !== undefined && annotation !== '') return annotation;
    if (!this.url.wildcard) return this.url.cluster;
    this.skipped++;
    this.report(about, kind);
    return undefined;
  }

  private report(about: ObjectAbout, kind: string | undefined): void {
    const key = `${about.namespace ?? ''}/${about.name ?? ''}`;
    if (this.reported.has(key)) return;
    if (this.reported.size >= REMEMBERED) {
      if (!this.suppressedReported) {
        this.suppressedReported = true;
        this.log({ level: 'warn', msg: `more than ${REMEMBERED} objects without ${CLUSTER_ANNOTATION}; no longer reporting each`, ...this.context });
      }
      return;
    }
    this.reported.add(key);
    this.log({
      level: 'warn',
      msg: `object without ${CLUSTER_ANNOTATION} annotation on a wildcard endpoint; skipped`,
      ...this.context,
      namespace: about.namespace || undefined,
      name: about.name,
      kind,
      resourceVersion: about.resourceVersion,
    });
  }
}
