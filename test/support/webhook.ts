/**
 * A small HTTPS admission webhook for tests: it records every AdmissionReview request it receives
 * and answers with what the test's function returns (or hangs, to exercise timeouts). Plus the
 * builders of webhook configurations and JSON patch answers that several tests share.
 */
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServingCert } from '../../src/server/http/index.js';
import type { Obj } from './kcp.js';

/** A review the webhook received: the path it was sent to and its `request` (with the URL `query`). */
export interface Received {
  path: string;
  request: Obj;
}

/** A running test webhook. */
export interface TestWebhook {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** Base64 PEM of the CA that signed its certificate, for `clientConfig.caBundle`. */
  caBundle: string;
  /** Every review received so far; tests may reset it. */
  received: Received[];
  /** The requests received on one path, in order. */
  reviews(path: string): Obj[];
  /** Ends hanging answers and closes the server. */
  close(): Promise<void>;
}

/** What the webhook answers: the `response`, or undefined to hang until the caller gives up. */
export type Answer = (path: string, request: Obj) => Obj | undefined;

/** Paths answered without the AdmissionReview envelope, as controller-runtime answers a request it cannot read. */
const BARE_PATHS = new Set(['/no-envelope']);

/** Starts a webhook on 127.0.0.1 with a fresh serving certificate. */
export async function startTestWebhook(answer: Answer): Promise<TestWebhook> {
  const cert = createServingCert(['127.0.0.1']);
  const hanging = new Set<() => void>();
  const hook: TestWebhook = {
    url: '',
    caBundle: Buffer.from(cert.cert).toString('base64'),
    received: [],
    reviews: (p) => hook.received.filter((r) => r.path === p).map((r) => r.request),
    close: async () => {
      for (const end of hanging) end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = (req.url ?? '').split('?')[0]!;
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj;
      hook.received.push({ path: p, request: { ...review['request'], query: (req.url ?? '').split('?')[1] } });
      const response = answer(p, review['request']);
      if (!response) {
        const end = () => res.destroy();
        hanging.add(end);
        res.on('close', () => hanging.delete(end));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const envelope = BARE_PATHS.has(p) ? {} : { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' };
      res.end(JSON.stringify({ ...envelope, response }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hook;
}

/** A configuration (named after the webhook's first segment) of one webhook `name` at `url`. */
export function webhookConfiguration(kind: 'Validating' | 'Mutating', name: string, url: string, caBundle: string, rules: Obj[], extra: Obj = {}): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name: name.split('.')[0] },
    webhooks: [{ name, clientConfig: { url, caBundle }, rules, sideEffects: 'None', admissionReviewVersions: ['v1'], ...extra }],
  });
}

/** An allowing response to `request` carrying the JSON patch `ops`. */
export function patchResponse(request: Obj, ops: Obj[]): Obj {
  return { uid: request['uid'], allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}
