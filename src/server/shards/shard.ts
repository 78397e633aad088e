/**
 * One shard: its own store and resourceVersion counter, object service, background controllers,
 * durability and HTTP listener. Logical clusters live on exactly one shard.
 */
import type { Server } from 'node:http';
import type { ApiView } from '../http/apiroot.js';
import { clusterAuthorizer, type ClusterAuthorizer } from '../auth/auth.js';
import { ServerControllers } from './controllers.js';
import { ApiError } from '../http/errors.js';
import type { WatchSettings } from '../storage/listwatch.js';
import { LOGICAL_CLUSTERS, ObjectService } from '../api/objects.js';
import { FileJournal } from '../storage/persistence.js';
import { Registry } from '../api/registry.js';
import { REVIEW_RESOURCES } from '../auth/reviews.js';
import { Store } from '../storage/store.js';
import type { ResourceDef } from '../types.js';

/** Preferred discovery versions where the highest version is not the preferred one. */
export const PREFERRED_VERSIONS: Record<string, string> = { 'apis.kcp.io': 'v1alpha2' };

/** A shard of the reference server. */
export class Shard {
  readonly store: Store;
  readonly svc: ObjectService;
  readonly controllers: ServerControllers;
  journal: FileJournal | undefined;
  /** `https://127.0.0.1:<port>` once listening. */
  url = '';
  server: Server | undefined;

  constructor(
    readonly name: string,
    builtins: readonly ResourceDef[],
    readonly watch: WatchSettings,
    opts: { historyWindow?: number; dataDir?: string; journalMaxBytes?: number },
  ) {
    this.store = new Store(opts.historyWindow ?? 20_000);
    if (opts.dataDir) this.journal = FileJournal.open(opts.dataDir, this.store, opts.journalMaxBytes);
    this.svc = new ObjectService(this.store, new Registry(builtins));
    this.controllers = new ServerControllers(this.svc);
  }

  /** Whether the logical cluster lives here. */
  hasCluster(name: string): boolean {
    return this.svc.clusterExists(name);
  }

  /** Names of the logical clusters on this shard. */
  clusters(): string[] {
    return this.store.clustersOf(LOGICAL_CLUSTERS);
  }

  /** The plain API root of one logical cluster (or `*`) on this shard. */
  clusterView(cluster: string): ApiView {
    const svc = this.svc;
    const authorizer = this.authorizer(cluster);
    return {
      svc,
      // Sources see '*' for the wildcard view: bound resources then carry their identity suffix.
      // Access reviews are answered per logical cluster, so the wildcard view has none.
      resources: () => (cluster === '*' ? svc.registry.resourcesFor(cluster) : [...svc.registry.resourcesFor(cluster), ...REVIEW_RESOURCES]),
      preferred: PREFERRED_VERSIONS,
      watch: this.watch,
      orphan: (c, uid) => this.controllers.orphan(c, uid),
      authorizer,
      authorize: (ctx, { verb, def, subresource, namespace, name }) => {
        if (cluster === '*' && verb !== 'list' && verb !== 'watch') {
          throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource in the `*` logical cluster');
        }
        const attrs = { verb, apiGroup: def.group, resource: def.resource, subresource, name, namespace: namespace || undefined };
        if (!authorizer.authorize(ctx.user, attrs).allowed) throw authorizer.denied(ctx.user, attrs);
      },
    };
  }

  /** The authorizer of one logical cluster (or `*`) on this shard: requests, reviews and impersonation ask it alike. */
  authorizer(cluster: string): ClusterAuthorizer {
    return clusterAuthorizer(this.store, cluster);
  }

  /** Stops background work and closes the journal (the listener is closed by the server). */
  close(): void {
    this.controllers.stop();
    this.journal?.close();
  }
}
