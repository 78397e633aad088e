/** The manager's webhook server over real HTTPS: reviews, refusals, metrics, readiness, certificate reload. */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { KubernetesObject } from '../../src/client/index.js';
import { Logger } from '../../src/log/index.js';
import { Manager } from '../../src/manager/index.js';
import { RuntimeMetrics } from '../../src/metrics/index.js';
import { CertWatcher, createWebhookCertificates, webhookPath, writeWebhookCertificates, WebhookDenied, type AdmissionResponse, type AdmissionReview } from '../../src/webhook/index.js';
import { FakeProvider } from '../support/fake-cluster.js';

interface Widget extends KubernetesObject {
  spec: { size?: number; color?: string };
}
const WIDGET = { apiVersion: 'example.dev/v1alpha1', kind: 'Widget' } as const;

interface Reply {
  status: number;
  body: string;
}

function post(url: string, body: string | Buffer, ca: string, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, agent: false, headers: { 'Content-Type': contentType } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function review(operation: string, object: unknown, oldObject?: unknown, uid = 'uid-1'): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'example.dev', version: 'v1alpha1', kind: 'Widget' },
      resource: { group: 'example.dev', version: 'v1alpha1', resource: 'widgets' },
      namespace: 'default',
      name: 'w',
      operation,
      userInfo: { username: 'alice' },
      object,
      oldObject,
      dryRun: false,
    },
  });
}

function widget(spec: Widget['spec'], cluster = 'tenant-a'): Widget {
  return { apiVersion: 'example.dev/v1alpha1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', annotations: { 'kcp.io/cluster': cluster } }, spec };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function metric(text: string, line: string): number | undefined {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
}

describe('webhook server', function () {
  this.timeout(30_000);
  let dir: string;
  let ca: string;
  let manager: Manager;
  let provider: FakeProvider;
  let stop: () => Promise<void>;
  const lines: Record<string, unknown>[] = [];
  const seen: { cluster: string; engaged: boolean }[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-server-'));
    ca = (await writeWebhookCertificates(dir, { hosts: ['127.0.0.1', 'localhost'] })).ca.cert;
    provider = new FakeProvider();
    provider.add('tenant-a');
    const log = new Logger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    manager = new Manager({ provider, log, metrics: { registry: new RuntimeMetrics({ defaultMetrics: false }) }, webhook: { bindAddress: '127.0.0.1:0', certDir: dir } });
    manager
      .webhook<Widget>(WIDGET)
      .default((w) => {
        w.spec.color ??= 'blue';
      })
      .validate({
        create: (w, ctx) => {
          seen.push({ cluster: ctx.cluster, engaged: ctx.engaged?.name === ctx.cluster });
          if (w.spec.color === 'pink') throw new WebhookDenied('cannot paint pink', { causes: [{ field: 'spec.color', reason: 'FieldValueNotSupported', message: 'Unsupported value: "pink"' }] });
          if (w.spec.color === 'boom') throw new TypeError('the handler has a bug');
          return w.spec.size === 1 ? ['size 1 is tiny'] : undefined;
        },
      });
    const before = await manager.health.run('readyz');
    expect(before.statuses.find((s) => s.name === 'webhook')).to.deep.include({ healthy: false, reason: 'webhook server has not been started yet' });
    const ctl = new AbortController();
    const done = manager.start({ signal: ctl.signal });
    stop = async () => {
      ctl.abort();
      await done;
    };
    await until('the webhook server', async () => manager.addresses.webhook);
  });

  after(async () => {
    await stop?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const url = (p: string): string => manager.addresses.webhook + p;
  const parse = (r: Reply): AdmissionResponse => (JSON.parse(r.body) as AdmissionReview).response!;

  it('serves controller-runtime paths and is ready once serving', async () => {
    expect(webhookPath('mutating', WIDGET)).to.equal('/mutate-example-dev-v1alpha1-widget');
    expect(webhookPath('validating', { apiVersion: 'v1', kind: 'ConfigMap' })).to.equal('/validate--v1-configmap');
    const ready = await manager.health.run('readyz');
    expect(ready.statuses.find((s) => s.name === 'webhook')).to.deep.include({ healthy: true });
  });

  it('answers a defaulting review with a JSON patch, over TLS trusted through the CA', async () => {
    const r = await post(url('/mutate-example-dev-v1alpha1-widget'), review('CREATE', widget({ size: 3 })), ca);
    expect(r.status).to.equal(200);
    const body = JSON.parse(r.body) as AdmissionReview;
    expect(body.apiVersion).to.equal('admission.k8s.io/v1');
    expect(body.kind).to.equal('AdmissionReview');
    const res = body.response!;
    expect(res).to.include({ uid: 'uid-1', allowed: true, patchType: 'JSONPatch' });
    expect(JSON.parse(Buffer.from(res.patch!, 'base64').toString())).to.deep.equal([{ op: 'add', path: '/spec/color', value: 'blue' }]);
  });

  it('answers validation with warnings, and a denial with its reason and field causes, seeing the tenant cluster', async () => {
    const warned = parse(await post(url('/validate-example-dev-v1alpha1-widget'), review('CREATE', widget({ size: 1 })), ca));
    expect(warned).to.deep.equal({ uid: 'uid-1', allowed: true, status: { code: 200 }, warnings: ['size 1 is tiny'] });
    const denied = parse(await post(url('/validate-example-dev-v1alpha1-widget'), review('CREATE', widget({ color: 'pink' }), undefined, 'uid-2'), ca));
    expect(denied.uid).to.equal('uid-2');
    expect(denied.allowed).to.equal(false);
    expect(denied.status).to.deep.include({ code: 422, reason: 'Invalid', message: 'cannot paint pink' });
    expect(denied.status!.details!.causes).to.deep.equal([{ field: 'spec.color', reason: 'FieldValueNotSupported', message: 'Unsupported value: "pink"' }]);
    expect(seen.at(-1)).to.deep.equal({ cluster: 'tenant-a', engaged: true });
    await post(url('/validate-example-dev-v1alpha1-widget'), review('CREATE', widget({ size: 2 }, 'not-engaged')), ca);
    expect(seen.at(-1)).to.deep.equal({ cluster: 'not-engaged', engaged: false });
  });

  it('answers a handler that throws unexpectedly with a 500 denial, counts it as a panic and logs it', async () => {
    const res = parse(await post(url('/validate-example-dev-v1alpha1-widget'), review('CREATE', widget({ color: 'boom' }), undefined, 'uid-3'), ca));
    expect(res).to.deep.equal({
      uid: 'uid-3',
      allowed: false,
      status: { code: 500, message: 'internal error in webhook /validate-example-dev-v1alpha1-widget: TypeError: the handler has a bug' },
    });
    const text = await manager.metrics.metrics();
    expect(metric(text, 'controller_runtime_webhook_panics_total')).to.equal(1);
    expect(lines.some((l) => l.msg === 'webhook handler failed' && l.level === 'error' && l.uid === 'uid-3')).to.equal(true);
  });

  it('refuses malformed requests as controller-runtime does: no uid, over HTTP 200; unknown paths are 404', async () => {
    const p = url('/validate-example-dev-v1alpha1-widget');
    expect(parse(await post(p, '', ca))).to.deep.equal({ uid: '', allowed: false, status: { code: 400, message: 'request body is empty' } });
    const wrongType = await post(p, review('CREATE', widget({})), ca, 'application/json; charset=utf-8');
    expect(wrongType.status).to.equal(200);
    expect(parse(wrongType).status).to.deep.equal({ code: 400, message: 'contentType=application/json; charset=utf-8, expected application/json' });
    expect(parse(await post(p, Buffer.alloc(7 * 1024 * 1024 + 1, 0x20), ca)).status).to.deep.equal({ code: 413, message: 'request entity is too large; limit is 7340032 bytes' });
    expect((await post(url('/validate-nothing'), review('CREATE', widget({})), ca)).status).to.equal(404);
  });

  it("exposes controller-runtime's webhook metrics", async () => {
    const text = await manager.metrics.metrics();
    const w = 'webhook="/validate-example-dev-v1alpha1-widget"';
    expect(metric(text, `controller_runtime_webhook_requests_total{${w},code="200"}`)).to.be.greaterThan(3);
    expect(metric(text, `controller_runtime_webhook_requests_total{${w},code="500"}`)).to.equal(0);
    expect(metric(text, `controller_runtime_webhook_requests_in_flight{${w}}`)).to.equal(0);
    expect(metric(text, `controller_runtime_webhook_latency_seconds_count{${w}}`)).to.be.greaterThan(3);
    expect(metric(text, 'certwatcher_read_certificate_total')).to.be.greaterThan(0);
    expect(metric(text, 'certwatcher_read_certificate_errors_total')).to.equal(0);
  });

  it('refuses a first webhook registered once the manager runs, as its server starts with the manager', async () => {
    const m = new Manager({ provider: new FakeProvider(), log: new Logger({ write: () => undefined }), metrics: { registry: new RuntimeMetrics({ defaultMetrics: false }) } });
    const ctl = new AbortController();
    const done = m.start({ signal: ctl.signal });
    try {
      expect(() => m.webhook<Widget>(WIDGET).default(() => undefined)).to.throw('register the first webhook before manager.start(): the webhook server starts with the manager');
    } finally {
      ctl.abort();
      await done;
    }
  });

  it('refuses a second registration of a path', () => {
    expect(() => manager.webhook<Widget>(WIDGET).default(() => undefined)).to.throw("can't register duplicate path: /mutate-example-dev-v1alpha1-widget");
  });

  it('serves a new certificate written into the folder, without a restart', async () => {
    // A new CA: only the reloaded certificate verifies against it.
    const fresh = await createWebhookCertificates({ hosts: ['127.0.0.1'] });
    fs.writeFileSync(path.join(dir, 'tls.key'), fresh.serving.key);
    fs.writeFileSync(path.join(dir, 'tls.crt'), fresh.serving.cert);
    const r = await until('the reloaded certificate', async () => {
      const reply = await post(url('/mutate-example-dev-v1alpha1-widget'), review('CREATE', widget({ color: 'red' })), fresh.ca.cert);
      return reply.status === 200 ? reply : undefined;
    });
    expect(parse(r).allowed).to.equal(true);
    let old: unknown;
    await post(url('/mutate-example-dev-v1alpha1-widget'), review('CREATE', widget({})), ca).catch((e: unknown) => (old = e));
    expect(String(old)).to.match(/certificate/);
  });
});

describe('webhook certificate watcher', () => {
  it('keeps the current pair when the files on disk do not match, and counts the error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certwatcher-'));
    try {
      const a = await writeWebhookCertificates(dir, { hosts: ['localhost'] });
      const reads: boolean[] = [];
      const w = new CertWatcher({ dir, onRead: (ok) => reads.push(ok) });
      const other = await createWebhookCertificates({ hosts: ['localhost'], ca: a.ca });
      fs.writeFileSync(path.join(dir, 'tls.key'), other.serving.key);
      expect(w.reload()).to.equal(false);
      expect(w.pair.cert).to.equal(a.serving.cert);
      fs.writeFileSync(path.join(dir, 'tls.crt'), other.serving.cert);
      expect(w.reload()).to.equal(true);
      expect(w.pair).to.deep.equal(other.serving);
      expect(reads).to.deep.equal([true, false, true]);
      expect(() => new CertWatcher({ dir: path.join(dir, 'absent') })).to.throw(/cannot load the webhook serving certificate from .*absent/);
      // Writing again keeps the CA in the folder, so configurations trusting it stay valid.
      const again = await writeWebhookCertificates(dir, { hosts: ['localhost'] });
      expect(again.ca).to.deep.equal(a.ca);
      expect(new X509Certificate(again.serving.cert).verify(new X509Certificate(a.ca.cert).publicKey)).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
