/**
 * The order of admission in the reference server, through kubectl on a bound resource: mutating
 * webhooks, then the APIResourceSchema's schema and CEL rules (a 422 stops there), then validating
 * webhooks, which see the mutated object. The webhooks are the APIExport workspace's, and their
 * matchConditions (CEL, `authorizer` included) pick the objects they are called for, with
 * failurePolicy on a condition error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { createWorkspace, type Obj } from '../support/kcp.js';
import { bindingTo, cowboysExport, cowboysSchema, inCluster, kubectlFor } from '../support/kubectl.js';
import { start } from '../support/server.js';
import { patchResponse, startTestWebhook, webhookConfiguration, type TestWebhook } from '../support/webhook.js';

const VERSION = `  - name: v1alpha1
    served: true
    storage: true
    schema:
      type: object
      properties:
        spec:
          type: object
          required: [size]
          x-kubernetes-validations:
          - {rule: "!has(self.color) || self.color != 'red' || self.size >= 5", fieldPath: .size, reason: FieldValueForbidden, message: "red needs size 5 or more"}
          properties:
            color: {type: string}
            nick: {type: string}
            size:
              type: integer
              x-kubernetes-validations:
              - {rule: "self >= 1", message: "size must be positive"}
`;

function cowboy(name: string, spec: string): string {
  return `apiVersion: wildwest.dev/v1alpha1
kind: Cowboy
metadata: {name: ${name}, namespace: default}
spec: ${spec}
`;
}

/** What the test webhook answers on each path. */
function answer(p: string, request: Obj): Obj {
  switch (p) {
    case '/grow':
      return patchResponse(request, [{ op: 'replace', path: '/spec/size', value: 5 }]);
    case '/shrink':
      return patchResponse(request, [{ op: 'replace', path: '/spec/size', value: 0 }]);
    case '/deny':
      return { uid: request['uid'], allowed: false, status: { code: 403, reason: 'Forbidden', message: 'not this one' } };
    default:
      return { uid: request['uid'], allowed: true };
  }
}

describe('reference server: mutating webhooks, then schema and CEL rules, then validating webhooks (kubectl)', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;
  let hook: TestWebhook;

  const k = kubectlFor(() => ({ srv, cacheDir }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);
  const kubectlFails = (ws: string, args: string[], stdin?: string) => k.kubectlFails([...inCluster(srv, ws), ...args], stdin);
  const names = (p: string) => hook.reviews(p).map((r) => r['object']['metadata']['name'] as string);

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-admission-order-'));
    hook = await startTestWebhook(answer);
    const rules = [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['wildwest.dev'], apiVersions: ['*'], resources: ['cowboys'] }];
    const when = (expression: string) => ({ matchConditions: [{ name: 'selected', expression }] });
    const config = (kind: 'Validating' | 'Mutating', name: string, p: string, extra: Obj = {}) => webhookConfiguration(kind, name, `${hook.url}${p}`, hook.caBundle, rules, extra);
    srv.createLogicalCluster(undefined, { path: 'root:order-provider' });
    await createWorkspace(srv, 'root', 'order-team');
    const manifests = [
      `${cowboysSchema(VERSION)}---\n${cowboysExport('wildwest')}`,
      config('Mutating', 'grow.order.example.com', '/grow', when("object.metadata.name.startsWith('grow-')")),
      config('Mutating', 'shrink.order.example.com', '/shrink', when("object.metadata.name.startsWith('shrink-')")),
      config('Validating', 'record.order.example.com', '/record'),
      // `nick` is unset on every object here: these conditions fail to evaluate for their names.
      config('Validating', 'strict.order.example.com', '/deny', when("object.metadata.name.startsWith('strict-') && object.spec.nick == 'x'")),
      config('Validating', 'lenient.order.example.com', '/deny', { ...when("object.metadata.name.startsWith('lenient-') && object.spec.nick == 'x'"), failurePolicy: 'Ignore' }),
      // The caller (the server's admin) may create cowboys; a service account without bindings may not.
      config('Validating', 'authz.order.example.com', '/deny', when(
        "object.metadata.name.startsWith('authz-') && authorizer.requestResource.check('create').allowed() && " +
          "!authorizer.serviceAccount('default', 'nobody').group('wildwest.dev').resource('cowboys').namespace('default').check('create').allowed()",
      )),
    ];
    for (const m of manifests) await kubectl('root:order-provider', ['create', '-f', '-'], m);
    await kubectl('root:order-team', ['apply', '-f', '-'], bindingTo('root:order-provider', 'wildwest'));
    await kubectl('root:order-team', ['wait', '--for=condition=Ready', 'apibinding/wildwest', '--timeout=20s']);
  });
  beforeEach(() => {
    hook.received = [];
  });
  after(async () => {
    await hook.close();
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('admits an object that passes the CEL rules only once a mutating webhook has changed it', async () => {
    const plain = await kubectlFails('root:order-team', ['create', '-f', '-'], cowboy('plain-red', '{size: 1, color: red}'));
    expect(plain.trim()).to.equal('The Cowboy "plain-red" is invalid: spec.size: Forbidden: red needs size 5 or more');
    await kubectl('root:order-team', ['create', '-f', '-'], cowboy('grow-red', '{size: 1, color: red}'));
    expect(await kubectl('root:order-team', ['get', 'cowboy', 'grow-red', '-n', 'default', '-o', 'jsonpath={.spec.size}'])).to.equal('5');
    // The validating webhook saw the mutated object; the refused one never reached it.
    const recorded = hook.reviews('/record');
    expect(recorded.map((r) => r['object']['metadata']['name'])).to.deep.equal(['grow-red']);
    expect(recorded[0]!['object']['spec']).to.deep.equal({ size: 5, color: 'red' });
    // matchConditions: only the webhook whose condition holds was called.
    expect(names('/grow')).to.deep.equal(['grow-red']);
    expect(names('/shrink')).to.deep.equal([]);
  });

  it('refuses with the CEL rule\'s message an object a mutating webhook made invalid, before validating webhooks run', async () => {
    const err = await kubectlFails('root:order-team', ['create', '-f', '-'], cowboy('shrink-blue', '{size: 3, color: blue}'));
    expect(err.trim()).to.equal('The Cowboy "shrink-blue" is invalid: spec.size: Invalid value: 0: size must be positive');
    expect(names('/shrink')).to.deep.equal(['shrink-blue']);
    expect(hook.reviews('/record')).to.deep.equal([]);
    expect(await kubectl('root:order-team', ['get', 'cowboys', '-n', 'default', '-o', 'name'])).to.not.contain('shrink-blue');
  });

  it('refuses with kube\'s 403 when a condition fails to evaluate under Fail, and skips the webhook under Ignore', async () => {
    const strict = await kubectlFails('root:order-team', ['create', '-f', '-'], cowboy('strict-one', '{size: 2}'));
    expect(strict.trim()).to.equal(
      `Error from server (Forbidden): error when creating "STDIN": cowboys.wildwest.dev "strict-one" is forbidden: expression 'object.metadata.name.startsWith('strict-') && object.spec.nick == 'x'' resulted in error: no such key: nick`,
    );
    await kubectl('root:order-team', ['create', '-f', '-'], cowboy('lenient-one', '{size: 2}'));
    expect(hook.reviews('/deny')).to.deep.equal([]);
    // The condition error refused the request before any validating webhook was called.
    expect(names('/record')).to.deep.equal(['lenient-one']);
  });

  it('evaluates `authorizer` checks against the logical cluster\'s authorization, for the caller or a service account', async () => {
    const err = await kubectlFails('root:order-team', ['create', '-f', '-'], cowboy('authz-one', '{size: 2}'));
    expect(err.trim()).to.equal('Error from server (Forbidden): error when creating "STDIN": admission webhook "authz.order.example.com" denied the request: not this one');
  });

  it('refuses a configuration whose condition does not compile, with kube\'s field error', async () => {
    const bad = webhookConfiguration('Validating', 'bad.order.example.com', `${hook.url}/record`, hook.caBundle, [], {
      matchConditions: [{ name: 'typo', expression: "object.metadata.name == 'x' && reqest.dryRun" }],
    });
    const err = await kubectlFails('root:order-provider', ['create', '-f', '-'], bad);
    expect(err).to.contain(
      `The ValidatingWebhookConfiguration "bad" is invalid: webhooks[0].matchConditions[0].expression: Invalid value: "object.metadata.name == 'x' && reqest.dryRun": compilation failed: ERROR: <input>:1:32: undeclared reference to 'reqest'`,
    );
  });
});
