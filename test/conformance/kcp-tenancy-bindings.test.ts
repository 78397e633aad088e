/**
 * WorkspaceType `defaultAPIBindings` and the `system:apibindings` initializer (kcp-wire items 55–56):
 * the default bindings get kcp's generated names and every claim accepted, and a workspace turns
 * Ready only after they are bound (and their claims applied); a missing export keeps it waiting.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { kubectlFor } from '../support/kubectl.js';
import { eventually, raw, start, WatchStream } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** kcp's default APIBinding name: `<export>-<5 lowercased chars of base62(SHA-224("<cluster>|<path>|<export>"))>`. */
function defaultBindingName(cluster: string, exportPath: string, exportName: string): string {
  let n = BigInt('0x' + createHash('sha224').update(`${cluster}|${exportPath}|${exportName}`).digest('hex'));
  let s = '';
  while (n > 0n) {
    s = BASE62[Number(n % 62n)]! + s;
    n /= 62n;
  }
  return `${exportName}-${s.slice(0, 5).toLowerCase()}`;
}

const schema = (group: string) => `apiVersion: apis.kcp.io/v1alpha1
kind: APIResourceSchema
metadata:
  name: v1.widgets.${group}
spec:
  group: ${group}
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}`;

const exportOf = (name: string, group: string) => `apiVersion: apis.kcp.io/v1alpha2
kind: APIExport
metadata:
  name: ${name}
spec:
  resources:
  - {name: widgets, group: ${group}, schema: v1.widgets.${group}, storage: {crd: {}}}
  permissionClaims:
  - {group: "", resource: configmaps, verbs: ["*"]}
  - {group: "", resource: events, verbs: [get, list, watch, create]}`;

describe('conformance: default APIBindings of workspace types (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;

  before(async function () {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-tenancy-bindings-'));
    const groups = (await raw(srv, 'GET', '/clusters/root/apis')).json['groups'] as Obj[];
    // Runs once the apis.kcp.io layer is installed in startServer.
    if (!groups.some((g) => g['name'] === 'apis.kcp.io')) this.skip();
    await kubectl(['create', '-f', '-'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: provider\n');
    await ready('provider');
    await kubectl(['--server', `${srv.url}/clusters/root:provider`, 'apply', '-f', '-'], `${schema('widgets.example.com')}\n---\n${exportOf('widgets', 'widgets.example.com')}`);
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  const { kubectl } = kubectlFor(() => ({ srv, cacheDir }));

  async function ready(name: string): Promise<Obj> {
    const ws = await eventually(async () => {
      const w = (await raw(srv, 'GET', `/clusters/root${WS}/${name}`)).json as Obj;
      return w['status']?.phase === 'Ready' ? w : undefined;
    }, `${name} Ready`, 20_000);
    return ws!;
  }

  it('binds the defaults of the type closure with generated names and accepted claims before the workspace is Ready', async () => {
    const lcs = new WatchStream(srv, `/clusters/*/apis/core.kcp.io/v1alpha1/logicalclusters?watch=1&resourceVersion=${srv.resourceVersion()}`);
    const bindings = new WatchStream(srv, `/clusters/*/apis/apis.kcp.io/v1alpha2/apibindings?watch=1&resourceVersion=${srv.resourceVersion()}`);
    try {
      await kubectl(
        ['apply', '-f', '-'],
        [
          'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: widgeted\nspec:\n  extend:\n    with:\n    - {name: universal, path: root}\n  defaultAPIBindings:\n  - {path: "root:provider", export: widgets}',
          ...['w1', 'w2', 'w3'].map((n) => `apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: ${n}\nspec:\n  type: {name: widgeted}`),
        ].join('\n---\n'),
      );
      for (const name of ['w1', 'w2', 'w3']) {
        const ws = await ready(name);
        const cluster = ws['spec'].cluster as string;
        const lc = (await raw(srv, 'GET', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`)).json as Obj;
        expect(lc['spec'].initializers).to.deep.equal(['root:universal', 'system:apibindings']);
        const list = JSON.parse(await kubectl(['--server', `${srv.url}/clusters/root:${name}`, 'get', 'apibindings.v1alpha2.apis.kcp.io', '-o', 'json'])) as { items: Obj[] };
        expect(list.items.map((b) => b['metadata'].name)).to.deep.equal([defaultBindingName(cluster, 'root:provider', 'widgets')]);
        const b = list.items[0]!;
        expect(b['spec'].reference).to.deep.equal({ export: { path: 'root:provider', name: 'widgets' } });
        expect(b['spec'].permissionClaims).to.deep.equal([
          { group: '', resource: 'configmaps', verbs: ['*'], selector: { matchAll: true }, state: 'Accepted' },
          { group: '', resource: 'events', verbs: ['get', 'list', 'watch', 'create'], selector: { matchAll: true }, state: 'Accepted' },
        ]);
        const conds = Object.fromEntries((b['status'].conditions as Obj[]).map((c) => [c['type'], c['status']]));
        expect(conds).to.include({ Ready: 'True', InitialBindingCompleted: 'True', PermissionClaimsApplied: 'True' });
        // The bound resource is served in the workspace.
        expect(await kubectl(['--server', `${srv.url}/clusters/root:${name}`, 'get', 'widgets', '-A', '-o', 'name'])).to.equal('');

        // Ready came after the binding was complete: compare resourceVersions on the shard.
        const boundAt = bindings.events.find(
          (e) => e.object['metadata'].annotations['kcp.io/cluster'] === cluster && (e.object['status']?.conditions as Obj[] | undefined)?.some((c) => c['type'] === 'PermissionClaimsApplied' && c['status'] === 'True'),
        );
        const readyAt = lcs.events.find((e) => e.object['metadata'].annotations['kcp.io/cluster'] === cluster && e.object['status']?.phase === 'Ready');
        expect(Number(readyAt!.object['metadata'].resourceVersion)).to.be.greaterThan(Number(boundAt!.object['metadata'].resourceVersion));
      }
    } finally {
      await Promise.all([lcs.close(), bindings.close()]);
    }
  });

  it('keeps the workspace Initializing while an export is missing, and completes once it appears', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: later\nspec:\n  defaultAPIBindings:\n  - {path: "root:provider", export: gadgets}\n---\napiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: patient\nspec:\n  type: {name: later}',
    );
    const ws = await eventually(async () => {
      const w = (await raw(srv, 'GET', `/clusters/root${WS}/patient`)).json as Obj;
      return w['status']?.phase === 'Initializing' && w['status'].initializers ? w : undefined;
    }, 'patient Initializing');
    expect(ws!['status'].initializers).to.deep.equal(['system:apibindings']);
    await new Promise((r) => setTimeout(r, 500));
    expect((await raw(srv, 'GET', `/clusters/root${WS}/patient`)).json['status']).to.include({ phase: 'Initializing' });
    await kubectl(['--server', `${srv.url}/clusters/root:provider`, 'apply', '-f', '-'], `${schema('gadgets.example.com')}\n---\n${exportOf('gadgets', 'gadgets.example.com')}`);
    const done = await ready('patient');
    const b = (await raw(srv, 'GET', `/clusters/root:patient/apis/apis.kcp.io/v1alpha2/apibindings/${defaultBindingName(done['spec'].cluster, 'root:provider', 'gadgets')}`)).json as Obj;
    expect(b['status'].phase).to.equal('Bound');
  });
});
