/**
 * The runtime's webhooks called by the reference server as kcp calls them: the configurations the
 * installer writes into the provider workspace apply to the bound resource in a consumer
 * workspace; a default appears, a denial reads as kube's, and the handler sees the consumer's
 * cluster (from kcp.io/cluster on CREATE, from the stored object on UPDATE) and its engaged handle.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { ClusterClient, Transport, type KubernetesObject } from '../../src/client/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { installWebhookConfigurations, WebhookDenied, writeWebhookCertificates } from '../../src/webhook/index.js';
import { bindingTo, cowboysProvider, inCluster, kubectlFor } from '../support/kubectl.js';
import type { Obj } from '../support/kcp.js';
import { runManager } from '../support/runtime.js';
import { eventually, kubeConfigFor, start } from '../support/server.js';

interface Cowboy extends KubernetesObject {
  spec: { size?: number; color?: string };
}
const COWBOY = { apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy' } as const;

const PROVIDER = cowboysProvider();

const cowboy = (name: string, spec: Obj) => JSON.stringify({ apiVersion: 'wildwest.dev/v1alpha1', kind: 'Cowboy', metadata: { name, namespace: 'default' }, spec });

describe('runtime webhooks called by the reference server', function () {
  this.timeout(60_000);
  let srv: RunningServer;
  let cacheDir: string;
  let certDir: string;
  let run: Awaited<ReturnType<typeof runManager>>;
  const seen: { op: string; cluster: string; engaged: boolean; oldSize?: number }[] = [];

  const k = kubectlFor(() => ({ srv, cacheDir }));
  const kubectl = (ws: string, args: string[], stdin?: string) => k.kubectl([...inCluster(srv, ws), ...args], stdin);
  const kubectlFails = (ws: string, args: string[], stdin?: string) => k.kubectlFails([...inCluster(srv, ws), ...args], stdin);

  before(async () => {
    srv = await start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-runtime-kubectl-'));
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-runtime-certs-'));
    const { ca } = await writeWebhookCertificates(certDir, { hosts: ['127.0.0.1'] });
    srv.createLogicalCluster(undefined, { path: 'root:hooks-provider' });
    await kubectl('root:hooks-provider', ['apply', '-f', '-'], PROVIDER);
    const kc = kubeConfigFor(srv, 'root:hooks-provider');
    run = await runManager(kc, 'wildwest', (m) => {
      m.webhook<Cowboy>(COWBOY)
        .default((c) => {
          c.spec.color ??= 'blue';
        })
        .validate({
          create: (c, ctx) => {
            seen.push({ op: ctx.operation, cluster: ctx.cluster, engaged: ctx.engaged?.name === ctx.cluster });
            if (c.spec.color === 'pink') throw new WebhookDenied('cannot paint pink');
            return c.spec.size === 1 ? ['size 1 is tiny'] : undefined;
          },
          update: (old, c, ctx) => {
            seen.push({ op: ctx.operation, cluster: ctx.cluster, engaged: ctx.engaged?.name === ctx.cluster, oldSize: old.spec.size });
            if ((c.spec.size ?? 0) < (old.spec.size ?? 0)) {
              throw new WebhookDenied('spec.size: may only grow', { causes: [{ field: 'spec.size', reason: 'FieldValueInvalid', message: 'Invalid value: 1: may only grow' }] });
            }
          },
        });
    }, { webhook: { bindAddress: '127.0.0.1:0', certDir } });
    const url = await eventually(() => run.manager.addresses.webhook, 'the webhook server');
    const transport = Transport.fromKubeConfig(kc);
    try {
      const configs = await installWebhookConfigurations(new ClusterClient(transport), run.manager.webhooks(), { name: 'kcp-mc-cowboys', url: url!, caBundle: ca.cert });
      expect(configs.map((c) => c.kind)).to.deep.equal(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    } finally {
      transport.close();
    }
  });

  after(async () => {
    await run?.stop();
    await srv?.stop();
    for (const d of [cacheDir, certDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('defaults, warns, denies with kube\'s message, and sees the consumer cluster and its engaged handle', async () => {
    const consumer = srv.createLogicalCluster(undefined, { path: 'root:hooks-consumer' });
    await kubectl('root:hooks-consumer', ['apply', '-f', '-'], bindingTo('root:hooks-provider', 'wildwest'));
    await kubectl('root:hooks-consumer', ['wait', '--for=condition=Ready', 'apibinding/wildwest', '--timeout=20s']);
    await eventually(() => run.manager.clusters().some((c) => c.name === consumer && c.state === 'engaged') || undefined, 'the consumer engaged');

    await kubectl('root:hooks-consumer', ['create', '-f', '-'], cowboy('lucky', { size: 2 }));
    const created = await k.kubectlJSON<Obj>([...inCluster(srv, 'root:hooks-consumer'), 'get', 'cowboy', 'lucky', '-n', 'default']);
    expect(created['spec']).to.deep.equal({ size: 2, color: 'blue' });
    expect(seen.at(-1)).to.deep.equal({ op: 'CREATE', cluster: consumer, engaged: true });

    const denied = await kubectlFails('root:hooks-consumer', ['create', '-f', '-'], cowboy('pinky', { size: 2, color: 'pink' }));
    expect(denied.trim()).to.equal('Error from server (Forbidden): error when creating "STDIN": admission webhook "vcowboy.wildwest.dev" denied the request: cannot paint pink');

    const warned = await k.kubectlSettled([...inCluster(srv, 'root:hooks-consumer'), 'create', '-f', '-'], cowboy('tiny', { size: 1 }));
    expect(warned.stderr).to.contain('Warning: size 1 is tiny');

    await kubectl('root:hooks-consumer', ['patch', 'cowboy', 'lucky', '-n', 'default', '--type=merge', '-p', '{"spec":{"size":3}}']);
    expect(seen.at(-1)).to.deep.equal({ op: 'UPDATE', cluster: consumer, engaged: true, oldSize: 2 });
    const shrink = await kubectlFails('root:hooks-consumer', ['patch', 'cowboy', 'lucky', '-n', 'default', '--type=merge', '-p', '{"spec":{"size":1}}']);
    // Reason Invalid with causes: kubectl shows the causes, as for a schema error.
    expect(shrink.trim()).to.equal('The Cowboy "lucky" is invalid: spec.size: Invalid value: 1: may only grow');
  });
});
