/**
 * Workspace admission refusals as kcp answers them (kcp-wire fact 20, item 48): 403 Forbidden for
 * unknown or disallowed types, `spec.type` changes, `spec.cluster` / `spec.URL` writes by users
 * outside system:masters, and a forged `kcp.io/path`; the owner annotation is the caller's own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { kubectlFor } from '../support/kubectl.js';
import { eventually, raw, start } from '../support/server.js';

// Tests read arbitrary object shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
const ALICE = 'alice-token-0123456789';

describe('conformance: workspace admission refusals (reference server)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-tenancy-admission-'));
    const tokens = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokens, `${ALICE},alice,alice-uid,"team-a"\n`);
    srv = await start({ tokenFile: tokens });
    // alice may manage workspaces in root, nothing more.
    await kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: workspace-editor\nrules:\n- apiGroups: [tenancy.kcp.io]\n  resources: [workspaces, workspacetypes]\n  verbs: ["*"]',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: alice-workspaces\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: workspace-editor\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: alice',
      ].join('\n---\n'),
    );
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const { kubectl, kubectlFails } = kubectlFor(() => ({ srv, cacheDir: path.join(dir, 'cache') }));

  /** kubectl's stderr without its final newline, so that whole messages can be compared. */
  async function refused(args: string[], stdin?: string): Promise<string> {
    return (await kubectlFails(args, stdin)).trim();
  }

  const manifest = (name: string, spec = '') => `apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: ${name}\n${spec}`;

  async function ready(name: string, parent = 'root'): Promise<Obj> {
    const ws = await eventually(async () => {
      const w = (await raw(srv, 'GET', `/clusters/${parent}${WS}/${name}`)).json as Obj;
      return w['status']?.phase === 'Ready' ? w : undefined;
    }, `${name} Ready`);
    return ws!;
  }

  it('refuses an unknown type with 403', async () => {
    expect(await refused(['create', '-f', '-'], manifest('bad-type', 'spec:\n  type:\n    name: nope\n'))).to.equal(
      'Error from server (Forbidden): error when creating "STDIN": workspaces.tenancy.kcp.io "bad-type" is forbidden: workspace type "nope" cannot be resolved',
    );
    expect(await refused(['create', '-f', '-'], manifest('bad-path', 'spec:\n  type:\n    name: universal\n    path: root:nowhere\n'))).to.contain(
      'workspaces.tenancy.kcp.io "bad-path" is forbidden: workspace type root:nowhere:universal cannot be resolved',
    );
  });

  it('refuses types whose parent or child limits do not allow the pair', async () => {
    expect(await refused(['create', '-f', '-'], manifest('bad-team', 'spec:\n  type:\n    name: team\n    path: root\n'))).to.contain(
      'is forbidden: workspace type root:team only allows [root:organization root:team] parent workspaces, but parent type root:root only implements [root:root root:universal]',
    );
    await kubectl(['create', '-f', '-'], manifest('org-a'));
    await ready('org-a');
    const err = await refused(['--server', `${srv.url}/clusters/root:org-a`, 'create', '-f', '-'], manifest('nested-org', 'spec:\n  type:\n    name: organization\n'));
    expect(err).to.contain('workspaces.tenancy.kcp.io "nested-org" is forbidden:').and.contain('only allows [root:root] parent workspaces');
  });

  it('refuses a spec.type change, also for admins', async () => {
    await kubectl(['create', '-f', '-'], manifest('typed'));
    await ready('typed');
    expect(await refused(['patch', 'workspace', 'typed', '--type=merge', '-p', '{"spec":{"type":{"name":"universal","path":"root"}}}'])).to.equal(
      'Error from server (Forbidden): workspaces.tenancy.kcp.io "typed" is forbidden: spec.type is immutable',
    );
  });

  it('lets only system:masters set or change spec.cluster and spec.URL', async () => {
    const alice = ['--token', ALICE];
    expect(await refused([...alice, 'create', '-f', '-'], manifest('forged', 'spec:\n  cluster: abcdefghijklmnop\n'))).to.contain(
      'workspaces.tenancy.kcp.io "forged" is forbidden: spec.Cluster can only be set by system privileged users',
    );
    expect(await refused([...alice, 'create', '-f', '-'], manifest('forged', 'spec:\n  URL: https://example.com/clusters/x\n'))).to.contain(
      'is forbidden: spec.URL can only be set by system privileged users',
    );
    // A forged owner is replaced with the caller's own user info.
    const created = JSON.parse(
      await kubectl([...alice, 'create', '-f', '-', '-o', 'json'], manifest('alices', 'metadata:\n  annotations:\n    experimental.tenancy.kcp.io/owner: \'{"username":"mallory"}\'\n').replace('metadata:\n  name: alices\nmetadata:\n  annotations:', 'metadata:\n  name: alices\n  annotations:')),
    ) as Obj;
    expect(JSON.parse(created['metadata'].annotations['experimental.tenancy.kcp.io/owner'])).to.deep.equal({
      username: 'alice',
      uid: 'alice-uid',
      groups: ['team-a', 'system:authenticated'],
    });
    await ready('alices');
    expect(await refused([...alice, 'patch', 'workspace', 'alices', '--type=merge', '-p', '{"spec":{"cluster":"abcdefghijklmnop"}}'])).to.equal(
      'Error from server (Forbidden): workspaces.tenancy.kcp.io "alices" is forbidden: spec.cluster can only be changed by system privileged users',
    );
    expect(await refused([...alice, 'patch', 'workspace', 'alices', '--type=merge', '-p', '{"spec":{"URL":"https://example.com"}}'])).to.contain(
      'is forbidden: spec.URL can only be changed by system privileged users',
    );
    expect(await refused(['patch', 'workspace', 'alices', '--type=json', '-p', '[{"op":"remove","path":"/spec/cluster"}]'])).to.contain(
      'is forbidden: spec.cluster cannot be unset',
    );
    // The creator owns the new workspace (kcp makes the owner its admin).
    const r = await raw(srv, 'GET', '/clusters/root:alices/api/v1/namespaces', undefined, { Authorization: `Bearer ${ALICE}` });
    expect(r.status, r.text).to.equal(200);
  });

  it('refuses a kcp.io/path that is not the canonical path, and writes it on WorkspaceTypes', async () => {
    const wt = JSON.parse(await kubectl(['create', '-f', '-', '-o', 'json'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: pathed\n')) as Obj;
    expect(wt['metadata'].annotations['kcp.io/path']).to.equal('root');
    expect(await refused(['annotate', 'workspacetype', 'pathed', '--overwrite', 'kcp.io/path=root:elsewhere'])).to.contain(
      'workspacetypes.tenancy.kcp.io "pathed" is forbidden: annotation "kcp.io/path" must match canonical path "root"',
    );
    expect(
      await refused(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pathed\n  namespace: default\n  annotations:\n    kcp.io/path: root:elsewhere\n'),
    ).to.contain('configmaps "pathed" is forbidden: annotation "kcp.io/path" must match canonical path "root"');
    expect(await refused(['create', '-f', '-'], 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: WorkspaceType\nmetadata:\n  name: any\n')).to.contain(
      'The WorkspaceType "any" is invalid: metadata.name: Invalid value: "any": name must not be "any" or "system"',
    );
  });

  it('refuses Workspace names that are not DNS labels with 422', async () => {
    const r = await raw(srv, 'POST', `/clusters/root${WS}`, { metadata: { name: 'has.dot' } });
    expect(r.status).to.equal(422);
    expect(r.json['reason']).to.equal('Invalid');
  });
});
