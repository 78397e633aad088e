/**
 * `kubectl describe` against the reference server: it lists the object's Events with a field
 * selector on `involvedObject.*`, so describe of a ConfigMap, a Workspace, an APIBinding and a
 * bound custom resource (through a workspace path) succeeds and shows Events recorded for them
 * through either Event API. kubectl's Namespace describer has no Events section, so for a
 * Namespace the same selector is run with `kubectl get events`. Plus kube's other built-in field
 * labels and a bound resource's selectableFields through `kubectl get --field-selector`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { createWorkspace, type Obj } from '../support/kcp.js';
import { bindingTo, cowboysExport, cowboysSchema, inCluster, kubectlFor } from '../support/kubectl.js';
import { raw, start } from '../support/server.js';

const PROVIDER = `${cowboysSchema(`  - {name: v1alpha1, served: true, storage: true, selectableFields: [{jsonPath: .spec.intent}], schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`)}---
${cowboysExport('wildwest')}`;

const T = '2026-12-02T17:00:00.000000Z';

describe('reference server: kubectl describe shows Events', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;

  const k = kubectlFor(() => ({ srv, cacheDir }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);
  const kubectlFails = (ws: string, args: string[]) => k.kubectlFails([...inCluster(srv, ws), ...args]);
  const getJSON = (ws: string, args: string[]) => k.kubectlJSON<Obj>([...inCluster(srv, ws), ...args]);

  /** Records an Event about `obj` in `ws` (namespace default for cluster-scoped objects) through `api`. */
  async function record(ws: string, api: 'v1' | 'events.k8s.io/v1', obj: Obj, reason: string, note: string): Promise<void> {
    const m = obj['metadata'] as Obj;
    const ref = { apiVersion: obj['apiVersion'], kind: obj['kind'], name: m['name'], uid: m['uid'], ...(m['namespace'] ? { namespace: m['namespace'] } : {}) };
    const namespace = (m['namespace'] as string | undefined) ?? 'default';
    const name = `${m['name']}.${reason.toLowerCase()}`;
    const body =
      api === 'v1'
        ? { apiVersion: 'v1', kind: 'Event', metadata: { name, namespace }, involvedObject: ref, reason, message: note, type: 'Warning', source: { component: 'core-recorder' }, firstTimestamp: '2026-12-02T17:00:00Z', lastTimestamp: '2026-12-02T17:00:00Z', count: 1 }
        : { apiVersion: api, kind: 'Event', metadata: { name, namespace }, eventTime: T, reportingController: 'example.com/widgets', reportingInstance: 'pod-1', action: reason, reason, regarding: ref, note, type: 'Normal' };
    const p = api === 'v1' ? `/clusters/${ws}/api/v1/namespaces/${namespace}/events` : `/clusters/${ws}/apis/events.k8s.io/v1/namespaces/${namespace}/events`;
    const r = await raw(srv, 'POST', p, body);
    expect(r.status, r.text).to.equal(201);
  }

  /** The Events section of a describe output. */
  function eventsOf(described: string): string {
    const at = described.indexOf('\nEvents:');
    expect(at, described).to.be.greaterThan(-1);
    return described.slice(at);
  }

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-describe-kubectl-'));
    srv.createLogicalCluster(undefined, { path: 'root:describe-provider' });
    await createWorkspace(srv, 'root', 'team');
    await kubectl('root:describe-provider', ['apply', '-f', '-'], PROVIDER);
    await kubectl('root:team', ['apply', '-f', '-'], bindingTo('root:describe-provider', 'wildwest'));
    await kubectl('root:team', ['wait', '--for=condition=Ready', 'apibinding/wildwest', '--timeout=20s']);
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('describes a ConfigMap with an Event recorded through events.k8s.io/v1', async () => {
    await kubectl('root', ['create', 'configmap', 'target', '-n', 'default', '--from-literal=a=b']);
    await record('root', 'events.k8s.io/v1', await getJSON('root', ['get', 'configmap', 'target', '-n', 'default']), 'Reconciled', 'target is in sync');
    const out = await kubectl('root', ['describe', 'cm', 'target', '-n', 'default']);
    expect(out).to.match(/^Name:\s+target$/m);
    expect(eventsOf(out)).to.match(/Normal\s+Reconciled\s+.*example\.com\/widgets\s+target is in sync/);
  });

  it('describes a Namespace; its Events (both APIs) are found by the selector describe uses for other kinds', async () => {
    await kubectl('root', ['create', 'namespace', 'described']);
    const ns = await getJSON('root', ['get', 'namespace', 'described']);
    await record('root', 'v1', ns, 'Labelled', 'namespace labelled');
    await record('root', 'events.k8s.io/v1', ns, 'Audited', 'namespace audited');
    const out = await kubectl('root', ['describe', 'namespace', 'described']);
    // kubectl's Namespace describer prints quotas and limit ranges, never an Events section.
    expect(out).to.match(/^Status:\s+Active$/m);
    const selector = `involvedObject.name=described,involvedObject.namespace=,involvedObject.kind=Namespace,involvedObject.uid=${ns['metadata'].uid}`;
    const listed = await kubectl('root', ['get', 'events', '-A', '--field-selector', selector]);
    expect(listed).to.contain('namespace labelled').and.to.contain('namespace audited');
  });

  it('describes a Workspace with an Event recorded through events.k8s.io/v1', async () => {
    await record('root', 'events.k8s.io/v1', await getJSON('root', ['get', 'workspace', 'team']), 'Scheduled', 'workspace placed');
    const out = await kubectl('root', ['describe', 'workspace', 'team']);
    expect(out).to.match(/^Name:\s+team$/m);
    expect(eventsOf(out)).to.match(/Normal\s+Scheduled\s+.*example\.com\/widgets\s+workspace placed/);
  });

  it('describes an APIBinding with an Event recorded through core v1', async () => {
    await record('root:team', 'v1', await getJSON('root:team', ['get', 'apibinding', 'wildwest']), 'Bound', 'binding bound');
    const out = await kubectl('root:team', ['describe', 'apibinding', 'wildwest']);
    expect(out).to.match(/^Name:\s+wildwest$/m);
    expect(eventsOf(out)).to.match(/Warning\s+Bound\s+.*core-recorder\s+binding bound/);
  });

  it('describes a bound custom resource through a workspace path, with Events of both APIs', async () => {
    await kubectl('root:team', ['apply', '-f', '-'], 'apiVersion: wildwest.dev/v1alpha1\nkind: Cowboy\nmetadata: {name: woody, namespace: default}\nspec: {intent: ride}\n');
    const cowboy = await getJSON('root:team', ['get', 'cowboy', 'woody', '-n', 'default']);
    await record('root:team', 'events.k8s.io/v1', cowboy, 'Saddled', 'horse ready');
    await record('root:team', 'v1', cowboy, 'Thrown', 'fell off');
    // An Event about another object of the same name and kind elsewhere is not listed.
    await record('root:team', 'v1', { ...cowboy, metadata: { ...cowboy['metadata'], uid: 'other-uid' } }, 'Other', 'not this one');
    const out = await kubectl('root:team', ['describe', 'cowboy', 'woody', '-n', 'default']);
    const events = eventsOf(out);
    expect(events).to.match(/Normal\s+Saddled\s+.*example\.com\/widgets\s+horse ready/);
    expect(events).to.match(/Warning\s+Thrown\s+.*core-recorder\s+fell off/);
    expect(events).not.to.contain('not this one');
  });

  it('describes an object without Events as "Events: <none>"', async () => {
    await kubectl('root', ['create', 'secret', 'generic', 'quiet', '-n', 'default', '--from-literal=k=v']);
    await kubectl('root', ['create', 'serviceaccount', 'quiet', '-n', 'default']);
    expect(await kubectl('root', ['describe', 'serviceaccount', 'quiet', '-n', 'default'])).to.match(/^Events:\s+<none>$/m);
  });

  it('selects Namespaces by status.phase and Secrets by type, and refuses labels kube does not support', async () => {
    const names = (out: string) => out.trim().split('\n').filter(Boolean);
    expect(names(await kubectl('root', ['get', 'namespaces', '--field-selector', 'status.phase=Active', '-o', 'name']))).to.include('namespace/described');
    expect(await kubectl('root', ['get', 'namespaces', '--field-selector', 'status.phase=Terminating', '-o', 'name'])).to.equal('');
    expect(names(await kubectl('root', ['get', 'secrets', '-n', 'default', '--field-selector', 'type=Opaque', '-o', 'name']))).to.deep.equal(['secret/quiet']);
    expect(await kubectlFails('root', ['get', 'namespaces', '--field-selector', 'metadata.namespace=x'])).to.contain('field label not supported: metadata.namespace');
    expect(await kubectlFails('root', ['get', 'configmaps', '-n', 'default', '--field-selector', 'type=x'])).to.contain('field label not supported: type');
    expect(await kubectlFails('root', ['get', 'workspaces', '--field-selector', 'status.phase=Ready'])).to.contain('field label not supported: status.phase');
  });

  it('selects bound custom resources by their schema\'s selectableFields', async () => {
    await kubectl('root:team', ['apply', '-f', '-'], 'apiVersion: wildwest.dev/v1alpha1\nkind: Cowboy\nmetadata: {name: buzz, namespace: default}\nspec: {intent: fly}\n');
    expect(await kubectl('root:team', ['get', 'cowboys', '-n', 'default', '--field-selector', 'spec.intent=ride', '-o', 'name'])).to.equal('cowboy.wildwest.dev/woody\n');
    expect(await kubectl('root:team', ['get', 'cowboys', '-n', 'default', '--field-selector', 'spec.intent!=ride,metadata.namespace=default', '-o', 'name'])).to.equal('cowboy.wildwest.dev/buzz\n');
    expect(await kubectlFails('root:team', ['get', 'cowboys', '-n', 'default', '--field-selector', 'spec.horse=x'])).to.contain('field label not supported: spec.horse');
  });
});
