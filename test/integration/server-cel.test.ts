/**
 * `x-kubernetes-validations` of an APIResourceSchema through real kubectl against the reference
 * server: a bound resource's rules refuse a create, an update (a transition rule) and a status
 * update with kube's (>= 1.35) wording; a rule that does not compile refuses the schema itself.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { createWorkspace } from '../support/kcp.js';
import { bindingTo, cowboysExport, cowboysSchema, inCluster, kubectlFor } from '../support/kubectl.js';
import { start } from '../support/server.js';

const VERSION = `  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      type: object
      x-kubernetes-validations:
      - {rule: "self.metadata.name != 'forbidden'", message: "this name is reserved"}
      properties:
        spec:
          type: object
          x-kubernetes-validations:
          - {rule: "!has(self.color) || !has(self.size) || self.color != 'gold' || self.size >= 5", fieldPath: .color, reason: FieldValueForbidden, message: "gold needs size 5 or more"}
          required: [size]
          properties:
            nick: {type: string, pattern: '^[a-z]+$'}
            size:
              type: integer
              x-kubernetes-validations:
              - {rule: "self >= oldSelf", message: "size may only grow"}
              - {rule: "self <= 10", messageExpression: "'size ' + string(self) + ' is over 10'"}
            color:
              type: string
              x-kubernetes-validations:
              - {rule: "self != 'red'", message: "cannot paint red"}
            memory:
              type: string
              maxLength: 20
              x-kubernetes-validations:
              - {rule: "isQuantity(self) && quantity(self).isLessThan(quantity('1Gi'))", message: "memory must be a quantity below 1Gi"}
        status:
          type: object
          properties:
            phase:
              type: string
              x-kubernetes-validations:
              - {rule: "self in ['Pending', 'Ready']", message: "unknown phase"}
`;

/** A version whose spec carries `rules`, which the server cannot accept. */
function brokenVersion(...rules: string[]): string {
  return `  - name: v1alpha1
    served: true
    storage: true
    schema:
      type: object
      properties:
        spec:
          type: object
          x-kubernetes-validations:
${rules.map((r) => `          - {rule: "${r}"}\n`).join('')}          properties:
            size: {type: integer}
`;
}

function cowboy(name: string, spec: string): string {
  return `apiVersion: wildwest.dev/v1alpha1
kind: Cowboy
metadata: {name: ${name}, namespace: default}
spec: ${spec}
`;
}

describe('reference server: CEL validation rules through kubectl', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;

  const k = kubectlFor(() => ({ srv, cacheDir }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);
  const kubectlFails = (ws: string, args: string[], stdin?: string) => k.kubectlFails([...inCluster(srv, ws), ...args], stdin);

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-cel-kubectl-'));
    srv.createLogicalCluster(undefined, { path: 'root:cel-provider' });
    await createWorkspace(srv, 'root', 'cel-team');
    await kubectl('root:cel-provider', ['apply', '-f', '-'], `${cowboysSchema(VERSION)}---\n${cowboysExport('wildwest')}`);
    await kubectl('root:cel-team', ['apply', '-f', '-'], bindingTo('root:cel-provider', 'wildwest'));
    await kubectl('root:cel-team', ['wait', '--for=condition=Ready', 'apibinding/wildwest', '--timeout=20s']);
  });
  after(async () => {
    await srv.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('refuses a create with the rule message, the field and the value as kube prints them', async () => {
    const err = await kubectlFails('root:cel-team', ['create', '-f', '-'], cowboy('painted', '{size: 3, color: red}'));
    expect(err.trim()).to.equal(
      'The Cowboy "painted" is invalid: spec.color: Invalid value: "red": cannot paint red',
    );
  });

  it('lists every failing rule, with reason, fieldPath, messageExpression and a root rule', async () => {
    const err = await kubectlFails('root:cel-team', ['create', '-f', '-'], cowboy('forbidden', '{size: 4, color: gold, memory: 2Gi}'));
    expect(err.trim()).to.equal(
      [
        'The Cowboy "forbidden" is invalid: ',
        '* <nil>: Invalid value: this name is reserved',
        '* spec.color: Forbidden: gold needs size 5 or more',
        '* spec.memory: Invalid value: "2Gi": memory must be a quantity below 1Gi',
      ].join('\n'),
    );
    const big = await kubectlFails('root:cel-team', ['create', '-f', '-'], cowboy('big', '{size: 11}'));
    expect(big.trim()).to.equal('The Cowboy "big" is invalid: spec.size: Invalid value: 11: size 11 is over 10');
  });

  it('reports schema errors with the rules’ errors, and skips the rules after a blocking one', async () => {
    const mixed = await kubectlFails('root:cel-team', ['create', '-f', '-'], cowboy('mixed', '{size: 3, color: red, nick: Bad1}'));
    expect(mixed.trim()).to.equal(
      [
        'The Cowboy "mixed" is invalid: ',
        `* spec.nick: Invalid value: "Bad1": spec.nick in body should match '^[a-z]+$'`,
        '* spec.color: Invalid value: "red": cannot paint red',
      ].join('\n'),
    );
    const missing = await kubectlFails('root:cel-team', ['create', '-f', '-'], cowboy('missing', '{color: red}'));
    expect(missing.trim()).to.equal(
      [
        'The Cowboy "missing" is invalid: ',
        '* spec.size: Required value',
        '* <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ].join('\n'),
    );
  });

  it('runs a transition rule on update only: size may grow but not shrink', async () => {
    await kubectl('root:cel-team', ['create', '-f', '-'], cowboy('grower', '{size: 3, color: blue}'));
    await kubectl('root:cel-team', ['patch', 'cowboy', 'grower', '-n', 'default', '--type=merge', '-p', '{"spec":{"size":4}}']);
    const err = await kubectlFails('root:cel-team', ['patch', 'cowboy', 'grower', '-n', 'default', '--type=merge', '-p', '{"spec":{"size":2}}']);
    expect(err.trim()).to.equal('The Cowboy "grower" is invalid: spec.size: Invalid value: 2: size may only grow');
    const replaced = await kubectlFails('root:cel-team', ['replace', '-f', '-'], cowboy('grower', '{size: 1, color: blue}'));
    expect(replaced).to.include('The Cowboy "grower" is invalid: spec.size: Invalid value: 1: size may only grow');
  });

  it('validates a status update against the rules of status', async () => {
    await kubectl('root:cel-team', ['create', '-f', '-'], cowboy('status-check', '{size: 1}'));
    await kubectl('root:cel-team', ['patch', 'cowboy', 'status-check', '-n', 'default', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Ready"}}']);
    const err = await kubectlFails('root:cel-team', ['patch', 'cowboy', 'status-check', '-n', 'default', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Gone"}}']);
    expect(err.trim()).to.equal('The Cowboy "status-check" is invalid: status.phase: Invalid value: "Gone": unknown phase');
  });

  it('refuses an APIResourceSchema whose rule does not compile, as kcp admission does', async () => {
    srv.createLogicalCluster(undefined, { path: 'root:cel-broken' });
    const err = await kubectlFails('root:cel-broken', ['create', '-f', '-'], cowboysSchema(brokenVersion('self.nope > 1')));
    expect(err).to.include(
      'Error from server (Forbidden): error when creating "STDIN": apiresourceschemas.apis.kcp.io "v1.cowboys.wildwest.dev" is forbidden: ' +
        '[spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: ' +
        '{"Rule":"self.nope \\u003e 1","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: ' +
        "compilation failed: ERROR: <input>:1:5: undefined field 'nope'",
    );
    expect(await kubectl('root:cel-broken', ['get', 'apiresourceschemas', '-o', 'name'])).to.equal('');
  });

  it('lists several refusals of an APIResourceSchema as kcp prints a Go slice: space-separated', async () => {
    srv.createLogicalCluster(undefined, { path: 'root:cel-broken-twice' });
    const err = (await kubectlFails('root:cel-broken-twice', ['create', '-f', '-'], cowboysSchema(brokenVersion('self.nope > 1', 'self.size')))).trim();
    const at = 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations';
    expect(err).to.include(`is forbidden: [${at}[0].rule: Invalid value: `);
    expect(err).to.include(` | ....^ ${at}[1].rule: Invalid value: {"Rule":"self.size",`);
    expect(err).to.match(/: cel expression must evaluate to a bool\]$/);
  });
});
