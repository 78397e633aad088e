/**
 * Admission webhooks in the reference server, driven with kubectl against a small HTTPS webhook
 * written here: configurations served per workspace, kube's denial and failure messages, mutation
 * (then schema validation), failurePolicy with the webhook down, timeouts, selectors, dry run, and
 * kcp's dispatch: a bound resource is admitted by the APIExport workspace's configurations only,
 * and the reviewed object of a CREATE names the consumer cluster in `kcp.io/cluster`.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { createServingCert } from '../../src/server/http/index.js';
import type { Obj } from '../support/kcp.js';
import { bindingTo, cowboysProvider, inCluster, kubectlFor } from '../support/kubectl.js';
import { raw, start } from '../support/server.js';
import { patchResponse, startTestWebhook, webhookConfiguration, type TestWebhook } from '../support/webhook.js';

const PROVIDER = cowboysProvider();

/** A JSON patch that adds label `painted=yes` (and `spec.size: 1` to a Cowboy without one). */
function paint(object: Obj): Obj[] {
  const ops: Obj[] = object['metadata']['labels'] ? [{ op: 'add', path: '/metadata/labels/painted', value: 'yes' }] : [{ op: 'add', path: '/metadata/labels', value: { painted: 'yes' } }];
  if (object['kind'] === 'Cowboy' && object['spec']?.['size'] === undefined) ops.push({ op: 'add', path: '/spec/size', value: 1 });
  // Dropped by the server: writes of the main resource do not change the status.
  if (object['kind'] === 'Cowboy') ops.push({ op: 'add', path: '/status', value: { painted: true } });
  return ops;
}

/** A JSON patch that sets `labels` on `object`. */
function labelPatch(object: Obj, labels: Record<string, string>): Obj[] {
  if (!object['metadata']['labels']) return [{ op: 'add', path: '/metadata/labels', value: labels }];
  return Object.entries(labels).map(([k, v]) => ({ op: 'add', path: `/metadata/labels/${k}`, value: v }));
}

/** What the test webhook answers on each path. */
function answer(p: string, request: Obj): Obj | undefined {
  const object = (request['object'] ?? {}) as Obj;
  const color = object['data']?.['color'] ?? object['spec']?.['color'];
  const allow = { uid: request['uid'], allowed: true };
  const patched = (ops: Obj[]) => patchResponse(request, ops);
  switch (p) {
    case '/mirror-tier':
      return patched(labelPatch(object, { 'seen-tier': object['metadata']['labels']?.['tier'] ?? 'none' }));
    case '/set-tier':
      return patched(labelPatch(object, { tier: 'gold' }));
    case '/deny-status':
      return { uid: request['uid'], allowed: false, status: { code: 403, reason: 'Forbidden', message: 'status is written by the provider only' } };
    case '/deny-red':
      return color === 'red' ? { uid: request['uid'], allowed: false, status: { code: 403, reason: 'Forbidden', message: 'red is not allowed' } } : allow;
    case '/deny-all':
      return { uid: request['uid'], allowed: false, status: { code: 403, reason: 'Forbidden', message: 'consumer webhook' } };
    case '/mutate':
      return { ...patchResponse(request, paint(object)), warnings: ['painted'] };
    case '/slow':
      return undefined;
    case '/bad-uid':
      return { ...allow, uid: 'nope' };
    case '/patch-without-type':
      return { ...allow, patch: Buffer.from('[]').toString('base64') };
    default:
      return allow;
  }
}

describe('reference server: admission webhooks (kubectl)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;
  let hook: TestWebhook;
  let hookURL: string;

  const k = kubectlFor(() => ({ srv, cacheDir }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);
  const kubectlFails = (ws: string, args: string[], stdin?: string) => k.kubectlFails([...inCluster(srv, ws), ...args], stdin);
  const getJSON = (ws: string, args: string[]) => k.kubectlJSON<Obj>([...inCluster(srv, ws), ...args]);

  /** A webhook configuration of one webhook `name` at `url`, for `rules`, with extra fields. */
  const configuration = (kind: 'Validating' | 'Mutating', name: string, url: string, rules: Obj[], extra: Obj = {}) => webhookConfiguration(kind, name, url, hook.caBundle, rules, extra);
  const configMapRules = [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }];
  const cowboyRules = [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['wildwest.dev'], apiVersions: ['*'], resources: ['cowboys'] }];
  const configMap = (name: string, color: string, labels: Obj = {}) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels }, data: { color } });
  const cowboy = (name: string, spec: Obj) => JSON.stringify({ apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy', metadata: { name, namespace: 'default' }, spec });
  const reviews = (p: string) => hook.reviews(p);

  /** A fresh workspace with `configs` (webhook configurations) created. */
  async function workspace(name: string, ...configs: string[]): Promise<string> {
    const cluster = srv.createLogicalCluster(undefined, { path: `root:${name}` });
    for (const c of configs) {
      const kind = (JSON.parse(c) as Obj)['kind'] as string;
      const r = await raw(srv, 'POST', `/clusters/${cluster}/apis/admissionregistration.k8s.io/v1/${kind.toLowerCase()}s`, c);
      expect(r.status, r.text).to.equal(201);
    }
    return cluster;
  }

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-webhooks-kubectl-'));
    hook = await startTestWebhook(answer);
    hookURL = hook.url;
  });
  beforeEach(() => {
    hook.received = [];
  });
  after(async () => {
    await hook.close();
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('serves both configurations per workspace: discovery, apply, get, and kube\'s 422 for a bad one', async () => {
    srv.createLogicalCluster(undefined, { path: 'root:wh-served' });
    const resources = await kubectl('root:wh-served', ['api-resources', '--api-group=admissionregistration.k8s.io', '-o', 'name']);
    expect(resources.split('\n').filter(Boolean).sort()).to.deep.equal([
      'mutatingwebhookconfigurations.admissionregistration.k8s.io',
      'validatingwebhookconfigurations.admissionregistration.k8s.io',
    ]);
    await kubectl('root:wh-served', ['apply', '-f', '-'], configuration('Validating', 'served.colors.example.com', `${hookURL}/allow`, configMapRules));
    const got = await getJSON('root:wh-served', ['get', 'validatingwebhookconfiguration', 'served']);
    // kube's v1 defaults.
    expect(got['webhooks'][0]).to.include({ failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10 });
    expect(got['webhooks'][0]['rules'][0]['scope']).to.equal('*');
    expect(await kubectl('root:wh-served', ['get', 'validatingwebhookconfigurations'])).to.match(/^served\s+1\s+/m);
    const bad = JSON.parse(configuration('Mutating', 'foo', 'http://127.0.0.1/x', configMapRules, { timeoutSeconds: 31 })) as Obj;
    const stderr = await kubectlFails('root:wh-served', ['create', '-f', '-'], JSON.stringify(bad));
    expect(stderr).to.contain('The MutatingWebhookConfiguration "foo" is invalid: \n');
    expect(stderr).to.contain('* webhooks[0].name: Invalid value: "foo": should be a domain with at least three segments separated by dots');
    expect(stderr).to.contain('* webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds');
    expect(stderr).to.contain(`* webhooks[0].clientConfig.url: Invalid value: "http://127.0.0.1/x": 'https' is the only allowed URL scheme; desired format: https://host[/path]`);
  });

  it('denies with kube\'s message and admits what the webhook allows; the reviewed object carries kcp.io/cluster', async () => {
    const cluster = await workspace('wh-deny', configuration('Validating', 'deny.colors.example.com', `${hookURL}/deny-red`, configMapRules));
    const stderr = await kubectlFails('root:wh-deny', ['create', '-f', '-'], configMap('paint', 'red'));
    expect(stderr.trim()).to.equal('Error from server (Forbidden): error when creating "STDIN": admission webhook "deny.colors.example.com" denied the request: red is not allowed');
    await kubectl('root:wh-deny', ['create', '-f', '-'], configMap('paint', 'blue'));
    const [denied, allowed] = reviews('/deny-red');
    expect(denied!['operation']).to.equal('CREATE');
    expect(denied!['object']['metadata']['annotations']).to.deep.equal({ 'kcp.io/cluster': cluster });
    expect(allowed!['query']).to.equal('timeout=10s');
    expect(allowed!).to.deep.include({ namespace: 'default', name: 'paint', dryRun: false, requestResource: { group: '', version: 'v1', resource: 'configmaps' } });
    // An update is reviewed with the stored object as oldObject; kcp adds no annotation of its own.
    const updated = await kubectlFails('root:wh-deny', ['patch', 'configmap', 'paint', '-n', 'default', '--type=merge', '-p', '{"data":{"color":"red"}}']);
    expect(updated.trim()).to.equal('Error from server (Forbidden): admission webhook "deny.colors.example.com" denied the request: red is not allowed');
    const update = reviews('/deny-red')[2]!;
    expect(update['operation']).to.equal('UPDATE');
    expect(update['oldObject']['data']).to.deep.equal({ color: 'blue' });
  });

  it('reviews a DELETE with the stored object as oldObject and no object', async () => {
    const cluster = await workspace('wh-delete', configuration('Validating', 'record.colors.example.com', `${hookURL}/record`, [{ ...configMapRules[0]!, operations: ['DELETE'] }]));
    await kubectl('root:wh-delete', ['create', '-f', '-'], configMap('gone', 'blue'));
    expect(reviews('/record')).to.have.length(0);
    await kubectl('root:wh-delete', ['delete', 'configmap', 'gone', '-n', 'default']);
    const [review] = reviews('/record');
    expect(review).to.deep.include({ operation: 'DELETE', name: 'gone', object: null });
    expect(review!['oldObject']['metadata']['annotations']).to.deep.equal({ 'kcp.io/cluster': cluster });
    expect(review!['options']).to.deep.equal({ kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' });
  });

  it('calls an IfNeeded mutating webhook again when a later webhook changed the object, and a Never one not', async () => {
    const chain = (policy: string) => [
      configuration('Mutating', 'a-mirror.tiers.example.com', `${hookURL}/mirror-tier`, configMapRules, { reinvocationPolicy: policy }),
      configuration('Mutating', 'b-set.tiers.example.com', `${hookURL}/set-tier`, configMapRules),
    ];
    await workspace('wh-reinvoke', ...chain('IfNeeded'));
    await kubectl('root:wh-reinvoke', ['create', 'configmap', 'tiered', '-n', 'default']);
    expect((await getJSON('root:wh-reinvoke', ['get', 'configmap', 'tiered', '-n', 'default']))['metadata']['labels']).to.deep.equal({ 'seen-tier': 'gold', tier: 'gold' });
    expect(reviews('/mirror-tier')).to.have.length(2);
    await workspace('wh-never', ...chain('Never'));
    await kubectl('root:wh-never', ['create', 'configmap', 'tiered', '-n', 'default']);
    expect((await getJSON('root:wh-never', ['get', 'configmap', 'tiered', '-n', 'default']))['metadata']['labels']).to.deep.equal({ 'seen-tier': 'none', tier: 'gold' });
  });

  it('applies a mutating webhook\'s patch, with its warning, before validating webhooks see the object', async () => {
    await workspace(
      'wh-mutate',
      configuration('Mutating', 'paint.colors.example.com', `${hookURL}/mutate`, configMapRules),
      configuration('Validating', 'record.colors.example.com', `${hookURL}/record`, configMapRules),
    );
    const out = await k.kubectlSettled([...inCluster(srv, 'root:wh-mutate'), 'create', '-f', '-'], configMap('mutated', 'green', { keep: 'me' }));
    expect(out.ok, out.stderr).to.equal(true);
    expect(out.stderr).to.contain('Warning: painted');
    const got = await getJSON('root:wh-mutate', ['get', 'configmap', 'mutated', '-n', 'default']);
    expect(got['metadata']['labels']).to.deep.equal({ keep: 'me', painted: 'yes' });
    // Mutating webhooks see the object before the server fills in uid and creationTimestamp; validating ones after.
    expect(reviews('/mutate')[0]!['object']['metadata']['uid']).to.equal(undefined);
    const validated = reviews('/record')[0]!['object'];
    expect(validated['metadata']['labels']).to.deep.equal({ keep: 'me', painted: 'yes' });
    expect(validated['metadata']['uid']).to.equal(got['metadata']['uid']);

    // generateName: mutating webhooks see no name yet; validating ones see the name and uid that are stored.
    const generated = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', namespace: 'default' }, data: { color: 'green' } });
    const created = JSON.parse(await kubectl('root:wh-mutate', ['create', '-f', '-', '-o', 'json'], generated)) as Obj;
    const mutating = reviews('/mutate')[1]!;
    expect([mutating['name'], mutating['object']['metadata']['name']]).to.deep.equal(['', undefined]);
    const validating = reviews('/record')[1]!;
    expect([validating['name'], validating['object']['metadata']['uid']]).to.deep.equal([created['metadata']['name'], created['metadata']['uid']]);
    expect(created['metadata']['name']).to.match(/^gen-[a-z0-9]{5}$/);
  });

  it('with the webhook down, failurePolicy Fail refuses with kube\'s message and Ignore admits', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = `https://127.0.0.1:${port}/validate`;
    await workspace('wh-down-fail', configuration('Validating', 'down.colors.example.com', down, configMapRules));
    const stderr = await kubectlFails('root:wh-down-fail', ['create', '-f', '-'], configMap('x', 'blue'));
    expect(stderr.trim()).to.equal(
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "down.colors.example.com": failed to call webhook: Post "${down}?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    await workspace('wh-down-ignore', configuration('Validating', 'down.colors.example.com', down, configMapRules, { failurePolicy: 'Ignore' }));
    await kubectl('root:wh-down-ignore', ['create', '-f', '-'], configMap('x', 'blue'));
    expect((await getJSON('root:wh-down-ignore', ['get', 'configmap', 'x', '-n', 'default']))['data']).to.deep.equal({ color: 'blue' });
  });

  it('treats an answer kube would not accept as a failed call', async () => {
    const cases: [string, 'Validating' | 'Mutating', string][] = [
      ['/bad-uid', 'Validating', 'received invalid webhook response: expected response.uid="<uid>", got "nope"'],
      ['/no-envelope', 'Validating', 'received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got /, Kind='],
      ['/patch-without-type', 'Validating', 'received invalid webhook response: validating webhook may not return response.patch'],
      ['/patch-without-type', 'Mutating', 'received invalid webhook response: webhook returned response.patch but not response.patchType'],
    ];
    for (const [i, [p, kind, why]] of cases.entries()) {
      const cluster = await workspace(`wh-invalid-${i}`, configuration(kind, 'odd.colors.example.com', `${hookURL}${p}`, configMapRules));
      const r = await raw(srv, 'POST', `/clusters/${cluster}/api/v1/namespaces/default/configmaps`, configMap('x', 'blue'));
      const uid = reviews(p).at(-1)!['uid'] as string;
      const expected = `failed calling webhook "odd.colors.example.com": ${why.replace('<uid>', uid)}`;
      expect([r.status, r.json['reason'], r.json['message']], p).to.deep.equal([500, 'InternalError', `Internal error occurred: ${expected}`]);
      expect((r.json['details'] as Obj)['causes']).to.deep.equal([{ message: expected }]);
    }
  });

  it('refuses a certificate its caBundle does not trust', async () => {
    const other = Buffer.from(createServingCert(['127.0.0.1']).cert).toString('base64');
    const config = JSON.parse(configuration('Validating', 'untrusted.colors.example.com', `${hookURL}/allow`, configMapRules)) as Obj;
    config['webhooks'][0]['clientConfig']['caBundle'] = other;
    await workspace('wh-untrusted', JSON.stringify(config));
    const stderr = await kubectlFails('root:wh-untrusted', ['create', '-f', '-'], configMap('x', 'blue'));
    expect(stderr).to.contain(`failed calling webhook "untrusted.colors.example.com": failed to call webhook: Post "${hookURL}/allow?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
    expect(reviews('/allow')).to.have.length(0);
  });

  it('gives up on a webhook after timeoutSeconds: Fail refuses, Ignore admits', async () => {
    await workspace('wh-slow-fail', configuration('Validating', 'slow.colors.example.com', `${hookURL}/slow`, configMapRules, { timeoutSeconds: 1 }));
    let started = Date.now();
    const stderr = await kubectlFails('root:wh-slow-fail', ['create', '-f', '-'], configMap('x', 'blue'));
    expect(stderr.trim()).to.equal(
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "slow.colors.example.com": failed to call webhook: Post "${hookURL}/slow?timeout=1s": context deadline exceeded`,
    );
    expect(Date.now() - started).to.be.below(5_000);
    await workspace('wh-slow-ignore', configuration('Validating', 'slow.colors.example.com', `${hookURL}/slow`, configMapRules, { timeoutSeconds: 1, failurePolicy: 'Ignore' }));
    started = Date.now();
    await kubectl('root:wh-slow-ignore', ['create', '-f', '-'], configMap('x', 'blue'));
    expect(Date.now() - started).to.be.within(900, 5_000);
  });

  it('calls a webhook only where its namespaceSelector and objectSelector match', async () => {
    await workspace(
      'wh-selectors',
      configuration('Validating', 'deny.colors.example.com', `${hookURL}/deny-all`, configMapRules, {
        namespaceSelector: { matchLabels: { guarded: 'true' } },
        objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
      }),
    );
    await kubectl('root:wh-selectors', ['create', 'namespace', 'open']);
    await kubectl('root:wh-selectors', ['create', 'namespace', 'guarded']);
    await kubectl('root:wh-selectors', ['label', 'namespace', 'guarded', 'guarded=true']);
    await kubectl('root:wh-selectors', ['create', 'configmap', 'a', '-n', 'open']);
    const stderr = await kubectlFails('root:wh-selectors', ['create', 'configmap', 'a', '-n', 'guarded']);
    expect(stderr.trim()).to.equal('error: failed to create configmap: admission webhook "deny.colors.example.com" denied the request: consumer webhook');
    const skipped = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'guarded', labels: { skip: 'yes' } } });
    await kubectl('root:wh-selectors', ['create', '-f', '-'], skipped);
    expect(reviews('/deny-all')).to.have.length(1);
  });

  it('sends dryRun to a NoneOnDryRun webhook and stores nothing', async () => {
    await workspace('wh-dryrun', configuration('Validating', 'record.colors.example.com', `${hookURL}/record`, configMapRules, { sideEffects: 'NoneOnDryRun' }));
    await kubectl('root:wh-dryrun', ['create', '--dry-run=server', '-f', '-'], configMap('dry', 'blue'));
    expect(reviews('/record').map((r) => [r['dryRun'], r['options']['dryRun']])).to.deep.equal([[true, ['All']]]);
    expect(await kubectlFails('root:wh-dryrun', ['get', 'configmap', 'dry', '-n', 'default'])).to.contain('NotFound');
  });

  it('admits a bound resource with the APIExport workspace\'s webhooks only, mutating before schema validation', async () => {
    const provider = 'root:wh-provider';
    const providerCluster = await workspace(
      'wh-provider',
      configuration('Mutating', 'paint.cowboys.example.com', `${hookURL}/mutate`, cowboyRules),
      configuration('Validating', 'deny.cowboys.example.com', `${hookURL}/deny-red`, cowboyRules),
      configuration('Validating', 'status.cowboys.example.com', `${hookURL}/deny-status`, [{ ...cowboyRules[0]!, resources: ['cowboys/status'] }]),
    );
    await kubectl(provider, ['apply', '-f', '-'], PROVIDER);
    // The consumer's own configuration covers cowboys and configmaps: it applies to its configmaps only.
    const consumer = await workspace(
      'wh-consumer',
      configuration('Validating', 'consumer.all.example.com', `${hookURL}/deny-all`, [
        { operations: ['*'], apiGroups: ['', 'wildwest.dev'], apiVersions: ['*'], resources: ['cowboys', 'configmaps'] },
      ]),
    );
    await kubectl('root:wh-consumer', ['apply', '-f', '-'], bindingTo(provider, 'wildwest'));
    await kubectl('root:wh-consumer', ['wait', '--for=condition=Ready', 'apibinding/wildwest', '--timeout=20s']);

    // spec.size is required: the provider's mutating webhook sets it before the schema is checked.
    await kubectl('root:wh-consumer', ['create', '-f', '-'], cowboy('lucky', { color: 'blue' }));
    const got = await getJSON('root:wh-consumer', ['get', 'cowboys', 'lucky', '-n', 'default']);
    expect(got['spec']).to.deep.equal({ color: 'blue', size: 1 });
    expect(got['metadata']['labels']).to.deep.equal({ painted: 'yes' });
    expect(got['status']).to.equal(undefined);
    expect(reviews('/mutate')[0]!['object']['metadata']['annotations']['kcp.io/cluster']).to.equal(consumer);
    expect(reviews('/deny-red')[0]!['object']['metadata']['annotations']['kcp.io/cluster']).to.equal(consumer);

    const stderr = await kubectlFails('root:wh-consumer', ['create', '-f', '-'], cowboy('red', { color: 'red', size: 2 }));
    expect(stderr.trim()).to.equal('Error from server (Forbidden): error when creating "STDIN": admission webhook "deny.cowboys.example.com" denied the request: red is not allowed');
    expect(reviews('/deny-all')).to.have.length(0);

    const local = await kubectlFails('root:wh-consumer', ['create', 'configmap', 'c', '-n', 'default']);
    expect(local).to.contain('admission webhook "consumer.all.example.com" denied the request: consumer webhook');

    // A rule on cowboys/status reaches status writes only.
    const status = await kubectlFails('root:wh-consumer', ['patch', 'cowboy', 'lucky', '-n', 'default', '--subresource=status', '--type=merge', '-p', '{"status":{"ok":true}}']);
    expect(status.trim()).to.equal('Error from server (Forbidden): admission webhook "status.cowboys.example.com" denied the request: status is written by the provider only');
    expect(reviews('/deny-status')[0]).to.deep.include({ subResource: 'status', requestSubResource: 'status', operation: 'UPDATE' });
    // The provider's own writes through the APIExport virtual workspace are admitted in the consumer cluster, by its webhooks.
    const vw = ['--server', `${srv.url}/services/apiexport/${providerCluster}/wildwest/clusters/${consumer}`];
    const viaVW = await k.kubectlFails([...vw, 'patch', 'cowboy', 'lucky', '-n', 'default', '--subresource=status', '--type=merge', '-p', '{"status":{"ok":true}}']);
    expect(viaVW.trim()).to.equal('Error from server (Forbidden): admission webhook "status.cowboys.example.com" denied the request: status is written by the provider only');
    expect(reviews('/deny-status')[1]!['object']['metadata']['annotations']['kcp.io/cluster']).to.equal(consumer);
    await kubectl('root:wh-consumer', ['label', 'cowboy', 'lucky', '-n', 'default', 'spec=patched']);
    expect(reviews('/deny-status')).to.have.length(2);
    const relabelled = await getJSON('root:wh-consumer', ['get', 'cowboys', 'lucky', '-n', 'default']);
    expect([relabelled['metadata']['labels'], relabelled['status']]).to.deep.equal([{ painted: 'yes', spec: 'patched' }, undefined]);
  });
});
