/**
 * The APIExport virtual workspace, `/services/apiexport/<export cluster NAME>/<export>/clusters/{*|<name>}/...`,
 * as each shard serves it for its own logical clusters: path resolution (403 when unresolved),
 * the content and binding authorizers, legacy discovery of the export's API set, wildcard
 * list/watch with claim filters, per-cluster CRUD with claim-selector admission, and watches that
 * end when the API set changes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveAPIRoot, type ApiView } from '../../http/apiroot.js';
import { noSuchPath } from '../../http/errors.js';
import type { ServiceHandler } from '../../http/front.js';
import type { AdmissionPlugin, RequestContext, UserInfo } from '../../api/objects.js';
import { PREFERRED_VERSIONS, type Shard } from '../../shards/shard.js';
import type { Topology } from '../../shards/topology.js';
import { APISets, type APISet } from './apiset.js';
import { authorizeBinding, selectorAdmission } from './authorizer.js';
import { shardOfRequest, trackedWatchSettings, unresolved, vwClusterSegment, withAdmission, type VirtualWorkspaceAuthorizers } from './common.js';
import { authzDenied, requestInfo } from './requestinfo.js';

/** Builds the `apiexport` service handler. */
export function apiExportVirtualWorkspace(topo: Topology, authorizers: () => VirtualWorkspaceAuthorizers): ServiceHandler {
  const sets = new APISets(topo);
  return async (req: IncomingMessage, res: ServerResponse, segs: string[], query: URLSearchParams, who: UserInfo): Promise<void> => {
    // <export cluster>/<export>/clusters/<x>/<rest>
    const [exportCluster, exportName, clustersWord, x] = segs;
    const target = vwClusterSegment(x);
    if (!exportCluster || !exportName || clustersWord !== 'clusters' || !target) throw unresolved(who, req);
    const rest = segs.slice(4);
    const method = req.method ?? 'GET';
    const info = requestInfo(method, rest, query);
    const path = (req.url ?? '').split('?')[0]!;
    if (!authorizers().content(who, info.verb, exportCluster, exportName)) {
      throw authzDenied(who, info, path, `access to the content of APIExport "${exportName}" in logical cluster "${exportCluster}" is not allowed`);
    }
    const set = sets.get(exportCluster, exportName);
    if (!set) throw noSuchPath();
    const shard = shardOfRequest(topo, req);
    const admission: AdmissionPlugin[] = [];
    if (target !== '*') {
      const grant = authorizeBinding(shard, target, set, info, who, path);
      const plugin = selectorAdmission(grant);
      if (plugin) admission.push(plugin);
    }
    const ctx: RequestContext = { cluster: target, user: who, warnings: [] };
    return serveAPIRoot(req, res, rest, query, ctx, viewOf(set, sets, shard, admission));
  };
}

/** The API root of one request: the export's API set over this shard's store, its filters and admission. */
function viewOf(set: APISet, sets: APISets, shard: Shard, admission: AdmissionPlugin[]): ApiView {
  return {
    svc: withAdmission(shard.svc, admission),
    resources: () => set.defs,
    preferred: PREFERRED_VERSIONS,
    filter: (def) => set.filters.get(def),
    watch: trackedWatchSettings(
      shard.watch,
      (close) => sets.track(set, close),
      (close) => sets.untrack(set, close),
    ),
    orphan: (c, uid) => shard.controllers.orphan(c, uid),
  };
}
