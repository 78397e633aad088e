/** The webhook configurations `kcp-mc run --install` writes: names, rules, URL client config and caBundle. */
import { expect } from 'chai';
import { webhookConfigurations, webhookName, webhookURLProblem, type WebhookRegistration } from '../../src/webhook/index.js';

const WIDGET = { apiVersion: 'example.dev/v1alpha1', kind: 'Widget' };
const CONFIGMAP = { apiVersion: 'v1', kind: 'ConfigMap' };

const regs: WebhookRegistration[] = [
  { kind: 'mutating', type: WIDGET, path: '/mutate-example-dev-v1alpha1-widget', operations: ['CREATE', 'UPDATE'], options: {} },
  { kind: 'validating', type: WIDGET, path: '/validate-example-dev-v1alpha1-widget', operations: ['CREATE', 'DELETE'], options: { failurePolicy: 'Ignore', timeoutSeconds: 5 } },
  { kind: 'validating', type: CONFIGMAP, path: '/validate--v1-configmap', operations: ['UPDATE'], options: {} },
];

describe('webhook configurations', () => {
  it('has one entry per webhook, calling the URL plus its path and trusting the CA', () => {
    const resources = new Map([
      ['/mutate-example-dev-v1alpha1-widget', 'widgets'],
      ['/validate-example-dev-v1alpha1-widget', 'widgets'],
      ['/validate--v1-configmap', 'configmaps'],
    ]);
    const [m, v] = webhookConfigurations(regs, resources, { name: 'kcp-mc-widgets', url: 'https://127.0.0.1:9443/', caBundle: 'PEM' });
    expect(m).to.deep.equal({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'kcp-mc-widgets' },
      webhooks: [
        {
          name: 'mwidget.example.dev',
          clientConfig: { url: 'https://127.0.0.1:9443/mutate-example-dev-v1alpha1-widget', caBundle: Buffer.from('PEM').toString('base64') },
          rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['example.dev'], apiVersions: ['v1alpha1'], resources: ['widgets'], scope: '*' }],
          failurePolicy: 'Fail',
          sideEffects: 'None',
          timeoutSeconds: 10,
          admissionReviewVersions: ['v1'],
        },
      ],
    });
    expect(v!.kind).to.equal('ValidatingWebhookConfiguration');
    expect(v!.webhooks.map((w) => [w.name, w.failurePolicy, w.timeoutSeconds])).to.deep.equal([
      ['vwidget.example.dev', 'Ignore', 5],
      ['vconfigmap.core.kcp-mc.dev', 'Fail', 10],
    ]);
    expect((v!.webhooks[1]!.rules as { apiGroups: string[] }[])[0]!.apiGroups).to.deep.equal(['']);
  });

  it('names entries as kube requires (at least three segments) and honours a given name', () => {
    expect(webhookName(regs[0]!)).to.equal('mwidget.example.dev');
    expect(webhookName({ ...regs[0]!, options: { name: 'widgets.acme.io' } })).to.equal('mwidgets.acme.io');
    expect(webhookName({ ...regs[0]!, type: { apiVersion: 'dev/v1', kind: 'Widget' } })).to.equal('mwidget.dev.kcp-mc.dev');
  });

  it("checks the URL as kube checks clientConfig.url", () => {
    expect(webhookURLProblem('https://10.0.0.1:9443')).to.equal(undefined);
    expect(webhookURLProblem('http://h:9443')).to.equal("'https' is the only allowed URL scheme; desired format: https://host[/path]");
    expect(webhookURLProblem('https://h:9443/?a=b')).to.equal('query parameters are not permitted in the URL');
    expect(webhookURLProblem('https://u:p@h')).to.equal('user information is not permitted in the URL');
    expect(webhookURLProblem('https://h/#x')).to.equal('fragments are not permitted in the URL');
  });
});
