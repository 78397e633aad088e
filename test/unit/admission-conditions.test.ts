import { expect } from 'chai';
import { decide, matchConditionCauses, parseMatchConditions } from '../../src/server/admission/conditions.js';
import { webhookConfigurationCauses } from '../../src/server/admission/configs.js';
import type { AuthorizeFn } from '../../src/server/cel/index.js';
import type { Json, JsonObject, KubeObject } from '../../src/server/types.js';

const messages = (raw: Json) => matchConditionCauses(raw, 'webhooks[0].matchConditions').map((c) => `${c.field}: ${c.message}`);

const request: JsonObject = {
  kind: { group: '', version: 'v1', kind: 'ConfigMap' },
  resource: { group: '', version: 'v1', resource: 'configmaps' },
  name: 'paint',
  namespace: 'default',
  operation: 'CREATE',
  userInfo: { username: 'system:serviceaccount:kube-system:builder', groups: ['system:serviceaccounts'] },
  dryRun: false,
  options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
};
const object: JsonObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'paint', labels: { tier: 'gold' } }, data: { color: 'red' } };
/** An authorizer that allows `get` of configmaps (and of the request's own resource) in `default` only. */
const authorize: AuthorizeFn = (subject, a) => ({
  allowed: !subject && 'resource' in a && a.verb === 'get' && a.resource === 'configmaps' && a.namespace === 'default',
  reason: 'test policy',
});
const vars = { object, oldObject: null, request, authorize };

function conditions(...exprs: string[]) {
  return parseMatchConditions(exprs.map((expression, i) => ({ name: `c${i}`, expression })));
}

describe('webhook matchConditions', () => {
  it('accepts conditions over object, oldObject, request and namespaceObject', () => {
    expect(
      messages([
        { name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" },
        { name: 'example.com/gold', expression: "has(object.metadata.labels) && object.metadata.labels['tier'] == 'gold'" },
        { name: 'update', expression: "oldObject == null || request.operation == 'UPDATE'" },
        { name: 'ns', expression: "namespaceObject.metadata.name == 'default'" },
      ]),
    ).to.deep.equal([]);
  });

  it('refuses what kube refuses, with kube\'s field errors', () => {
    expect(messages([{ name: '', expression: ' ' }])).to.deep.equal([
      'webhooks[0].matchConditions[0].expression: Required value',
      'webhooks[0].matchConditions[0].name: Required value',
    ]);
    expect(messages([{ name: 'a', expression: 'true' }, { name: 'a', expression: 'true' }])).to.deep.equal(['webhooks[0].matchConditions[1].name: Duplicate value: "a"']);
    expect(messages([{ name: 'bad name!', expression: 'true' }])).to.deep.equal([
      `webhooks[0].matchConditions[0].name: Invalid value: "bad name!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ]);
    expect(messages([{ name: 'n', expression: 'request.name' }])).to.deep.equal([
      'webhooks[0].matchConditions[0].expression: Invalid value: "request.name": must evaluate to bool but got string',
    ]);
    const [undeclared] = messages([{ name: 'n', expression: "  nope == 'x'  " }]);
    expect(undeclared).to.match(/^webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "nope == 'x'": compilation failed: ERROR: <input>:1:1: undeclared reference to 'nope'/);
    expect(messages([{ name: 'n', expression: 'request.nope == 1' }])[0]).to.include("undefined field 'nope'");
    const many = Array.from({ length: 65 }, (_, i) => ({ name: `c${i}`, expression: 'true' }));
    expect(messages(many)).to.deep.equal(['webhooks[0].matchConditions: Too many: 65: must have at most 64 items']);
  });

  it('checks the conditions of a configuration on create, and on update only when they change', () => {
    const hook = (expression: string) => ({ name: 'a.b.c', clientConfig: { url: 'https://h/v' }, sideEffects: 'None', admissionReviewVersions: ['v1'], matchConditions: [{ name: 'n', expression }] });
    const config = (expression: string) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'c' }, webhooks: [hook(expression)] }) as unknown as KubeObject;
    const stored = config('1');
    expect(webhookConfigurationCauses(stored, false).map((c) => c.field)).to.deep.equal(['webhooks[0].matchConditions[0].expression']);
    expect(webhookConfigurationCauses(config('1'), false, stored)).to.deep.equal([]);
    expect(webhookConfigurationCauses(config('2'), false, stored).map((c) => c.field)).to.deep.equal(['webhooks[0].matchConditions[0].expression']);
  });

  it('calls the webhook only when every condition is true', () => {
    expect(decide(conditions("object.data.color == 'red'", "request.operation == 'CREATE'"), vars, 'Fail')).to.deep.equal({ call: true });
    expect(decide(conditions("object.data.color == 'red'", "request.userInfo.username.startsWith('system:')"), vars, 'Fail')).to.deep.equal({ call: true });
    expect(decide(conditions("object.data.color == 'blue'", 'true'), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("'system:serviceaccounts' in request.userInfo.groups"), vars, 'Fail')).to.deep.equal({ call: true });
    expect(decide(conditions('request.dryRun'), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("oldObject == null && request.kind.kind == 'ConfigMap'"), vars, 'Fail')).to.deep.equal({ call: true });
  });

  it('asks the server\'s authorizer through `authorizer`, as the request\'s user or a service account', () => {
    expect(messages([{ name: 'n', expression: "authorizer.group('').resource('pods').check('get').allowed()" }])).to.deep.equal([]);
    expect(decide(conditions("authorizer.group('').resource('configmaps').namespace('default').check('get').allowed()"), vars, 'Fail')).to.deep.equal({ call: true });
    expect(decide(conditions("authorizer.group('').resource('configmaps').namespace('other').check('get').allowed()"), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("authorizer.group('').resource('configmaps').namespace('default').check('delete').allowed()"), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("authorizer.serviceAccount('default', 'sa').group('').resource('configmaps').namespace('default').check('get').allowed()"), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("authorizer.path('/healthz').check('get').allowed()"), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("authorizer.requestResource.check('get').reason() == 'test policy'"), vars, 'Fail')).to.deep.equal({ call: true });
    expect(decide(conditions("authorizer.requestResource.check('get').allowed() && !authorizer.requestResource.check('get').errored()"), vars, 'Fail')).to.deep.equal({ call: true });
  });

  it('follows failurePolicy on an evaluation error, but a false condition always skips', () => {
    const failing = conditions("object.data.size == '1'", 'true');
    expect(decide(failing, vars, 'Fail')).to.deep.equal({ error: "expression 'object.data.size == '1'' resulted in error: no such key: size" });
    expect(decide(failing, vars, 'Ignore')).to.deep.equal({ call: false });
    expect(decide(conditions("object.data.size == '1'", 'false'), vars, 'Fail')).to.deep.equal({ call: false });
    expect(decide(conditions("object.data.size == '1'", "object.data.shape == 'x'"), vars, 'Fail')).to.deep.equal({
      error: "[expression 'object.data.size == '1'' resulted in error: no such key: size, expression 'object.data.shape == 'x'' resulted in error: no such key: shape]",
    });
  });
});
