import { expect } from 'chai';
import { admitWebhookConfiguration, webhookConfigurationCauses } from '../../src/server/admission/configs.js';
import type { Json, KubeObject } from '../../src/server/types.js';
import { apiErrorWith } from '../support/api-error.js';

function config(...webhooks: Record<string, Json>[]): KubeObject {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'c' }, webhooks } as unknown as KubeObject;
}

const good = { name: 'a.b.c', clientConfig: { url: 'https://hook.example.com/validate' }, sideEffects: 'None', admissionReviewVersions: ['v1'] };
const messages = (c: KubeObject, mutating = false) => webhookConfigurationCauses(c, mutating).map((x) => `${x.field}: ${x.message}`);

describe('webhook configurations', () => {
  it('accepts a minimal webhook and fills in kube\'s v1 defaults', () => {
    const c = config({ ...good, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }] });
    admitWebhookConfiguration(c, true);
    expect((c['webhooks'] as Json[])[0]).to.deep.include({
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      namespaceSelector: {},
      objectSelector: {},
      timeoutSeconds: 10,
      reinvocationPolicy: 'Never',
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: '*' }],
    });
  });

  it('refuses what kube refuses, with kube\'s field errors', () => {
    expect(messages(config({ ...good }, { ...good }))).to.deep.equal(['webhooks[1].name: Duplicate value: "a.b.c"']);
    expect(messages(config({ ...good, name: 'foo' }))).to.deep.equal(['webhooks[0].name: Invalid value: "foo": should be a domain with at least three segments separated by dots']);
    expect(messages(config({ ...good, sideEffects: undefined as unknown as Json }))).to.deep.equal(['webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun']);
    expect(messages(config({ ...good, sideEffects: 'Some' }))).to.deep.equal(['webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"']);
    expect(messages(config({ ...good, timeoutSeconds: 0 }))).to.deep.equal(['webhooks[0].timeoutSeconds: Invalid value: 0: the timeout value must be between 1 and 30 seconds']);
    expect(messages(config({ ...good, admissionReviewVersions: ['v2'] }))).to.deep.equal(['webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1']);
    expect(messages(config({ ...good, clientConfig: {} }))).to.deep.equal(['webhooks[0].clientConfig: Required value: exactly one of url or service is required']);
    expect(messages(config({ ...good, clientConfig: { url: 'https://h/p?x=1' } }))).to.deep.equal(['webhooks[0].clientConfig.url: Invalid value: "https://h/p?x=1": query parameters are not permitted in the URL']);
    expect(messages(config({ ...good, clientConfig: { service: { namespace: 'n', name: 's' } } }))).to.deep.equal([
      'webhooks[0].clientConfig.service: Forbidden: logical clusters have no Services; use clientConfig.url',
    ]);
    expect(messages(config({ ...good, reinvocationPolicy: 'Always' }), true)).to.deep.equal([
      'webhooks[0].reinvocationPolicy: Unsupported value: "Always": supported values: "IfNeeded", "Never"',
    ]);
    expect(messages(config({ ...good, objectSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }))).to.have.length(1);
  });

  it('answers 422 Invalid on the configuration kind', () => {
    const err = apiErrorWith(() => admitWebhookConfiguration(config({ ...good, name: 'x' }), false), 422, 'Invalid');
    expect(err.message).to.equal('ValidatingWebhookConfiguration.admissionregistration.k8s.io "c" is invalid: webhooks[0].name: Invalid value: "x": should be a domain with at least three segments separated by dots');
  });
});
