/**
 * The webhook server: HTTPS with a reloading certificate, one handler per path, AdmissionReview
 * decoding and encoding with controller-runtime's answers to a malformed request (admission/http.go:
 * a refusal without uid over HTTP 200, which the API server reports as an invalid response), its
 * metrics, and the readiness check (`webhook server has not been started yet` until it serves,
 * then a TLS dial).
 */
import * as https from 'node:https';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Logger } from '../log/index.js';
import type { WebhookMetrics } from '../metrics/index.js';
import { errored } from './admission.js';
import { CertWatcher } from './certwatcher.js';
import type { AdmissionRequest, AdmissionResponse, AdmissionReview } from './types.js';

/** controller-runtime's default certificate folder: `<os tmp>/k8s-webhook-server/serving-certs`. */
export function defaultCertDir(): string {
  return path.join(os.tmpdir(), 'k8s-webhook-server', 'serving-certs');
}

/** Handles one decoded request of a path. */
export type AdmissionHandler = (req: AdmissionRequest) => Promise<AdmissionResponse>;

/** Options of a `WebhookServer`. */
export interface WebhookServerOptions {
  /** Folder with the serving certificate; default `defaultCertDir()`. */
  certDir?: string;
  /** Certificate file name; default `tls.crt`. */
  certName?: string;
  /** Key file name; default `tls.key`. */
  keyName?: string;
  /** Logger. */
  log?: Logger;
  /** Metrics hooks. */
  metrics?: WebhookMetrics;
  /** How often the certificate files are re-read besides change notifications; default 10 000 ms. */
  certPollIntervalMs?: number;
}

/** controller-runtime's limit on a review's size. */
export const MAX_REQUEST_BYTES = 7 * 1024 * 1024;
const PATH = /^((\/[a-zA-Z0-9-_]+)+|\/)$/;
const REVIEW_VERSIONS = new Set(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']);

/** Serves admission webhooks over HTTPS. */
export class WebhookServer {
  private readonly handlers = new Map<string, AdmissionHandler>();
  private readonly log: Logger;
  private server: https.Server | undefined;
  private certs: CertWatcher | undefined;
  private bound: { host: string; port: number } | undefined;

  constructor(private readonly opts: WebhookServerOptions = {}) {
    this.log = (opts.log ?? new Logger()).with({ component: 'webhook-server' });
  }

  /** Serves `handler` at `path`; throws on a path already taken or not of controller-runtime's form. */
  register(path: string, handler: AdmissionHandler): void {
    if (!PATH.test(path)) throw new Error(`invalid webhook path ${JSON.stringify(path)}: must match ${PATH.source}`);
    if (this.handlers.has(path)) throw new Error(`can't register duplicate path: ${path}`);
    this.handlers.set(path, handler);
    if (this.server) this.log.info('registering webhook', { path });
  }

  /** Registered paths. */
  paths(): string[] {
    return [...this.handlers.keys()];
  }

  /** `https://<host>:<port>` once listening. */
  get url(): string | undefined {
    if (!this.bound) return undefined;
    const h = this.bound.host === '0.0.0.0' ? '127.0.0.1' : this.bound.host === '::' ? '::1' : this.bound.host;
    return `https://${h.includes(':') ? `[${h}]` : h}:${this.bound.port}`;
  }

  /** Loads the certificate and listens on `addr` (default every interface, port 9443; port 0 picks one); rejects when either fails. */
  async start(addr: { host: string; port: number } = { host: '0.0.0.0', port: 9443 }): Promise<void> {
    if (this.server) throw new Error('webhook server already started');
    const dir = this.opts.certDir ?? defaultCertDir();
    const metrics = this.opts.metrics;
    const certs = new CertWatcher({
      dir,
      certName: this.opts.certName,
      keyName: this.opts.keyName,
      pollIntervalMs: this.opts.certPollIntervalMs,
      log: this.log,
      onRead: (ok) => metrics?.certificateRead(ok),
      onChange: (pair) => server.setSecureContext(pair),
    });
    const server = https.createServer({ ...certs.pair, minVersion: 'TLSv1.2' }, (req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    certs.start();
    const a = server.address() as AddressInfo;
    this.server = server;
    this.certs = certs;
    this.bound = { host: a.address, port: a.port };
    this.log.info('serving webhooks', { url: this.url, certDir: dir, paths: this.paths() });
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const s = this.server;
    this.certs?.stop();
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** controller-runtime's StartedChecker: fails until the server serves, then dials it with TLS. */
  readyCheck(): (signal: AbortSignal) => Promise<void> {
    return async (signal) => {
      const b = this.bound;
      if (!b || !this.server?.listening) throw new Error('webhook server has not been started yet');
      await new Promise<void>((resolve, reject) => {
        const host = b.host === '0.0.0.0' ? '127.0.0.1' : b.host === '::' ? '::1' : b.host;
        // Readiness is about serving, not about who signed the certificate.
        const sock = tls.connect({ host, port: b.port, rejectUnauthorized: false }, () => {
          sock.end();
          resolve();
        });
        sock.once('error', (e) => reject(new Error(`webhook server is not reachable: ${e.message}`)));
        signal.addEventListener('abort', () => sock.destroy(new Error('timed out')), { once: true });
      });
    };
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    const handler = this.handlers.get(path);
    if (!handler) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    const started = process.hrtime.bigint();
    const metrics = this.opts.metrics;
    metrics?.inFlight(path, 1);
    let code = 200;
    try {
      const { version, response } = await this.review(req, path, handler);
      const body = JSON.stringify({ apiVersion: version, kind: 'AdmissionReview', response });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    } catch (e) {
      code = 500;
      this.log.error('cannot write the admission response', { webhook: path, err: e });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    } finally {
      metrics?.inFlight(path, -1);
      metrics?.requested(path, code, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Decodes, runs the handler, and answers as controller-runtime would; the uid is echoed only for a decoded request. */
  private async review(req: http.IncomingMessage, path: string, handler: AdmissionHandler): Promise<{ version: string; response: AdmissionResponse }> {
    let version = 'admission.k8s.io/v1';
    const refuse = (code: number, message: string): { version: string; response: AdmissionResponse } => {
      this.log.info('refusing a malformed admission request', { webhook: path, code, reason: message });
      return { version, response: errored('', code, message) };
    };
    const read = await readBody(req);
    if (read === 'too-large') return refuse(413, `request entity is too large; limit is ${MAX_REQUEST_BYTES} bytes`);
    if (read.length === 0) return refuse(400, 'request body is empty');
    const contentType = req.headers['content-type'] ?? '';
    if (contentType !== 'application/json') return refuse(400, `contentType=${contentType}, expected application/json`);
    let review: AdmissionReview;
    try {
      review = JSON.parse(read.toString('utf8')) as AdmissionReview;
    } catch (e) {
      return refuse(400, `couldn't decode the AdmissionReview: ${(e as Error).message}`);
    }
    if (typeof review !== 'object' || review === null || !REVIEW_VERSIONS.has(review.apiVersion) || review.kind !== 'AdmissionReview') {
      return refuse(400, `unsupported review: expected admission.k8s.io/v1 (or v1beta1) AdmissionReview, got ${String(review?.apiVersion)}, Kind=${String(review?.kind)}`);
    }
    version = review.apiVersion;
    const request = review.request;
    if (!request || typeof request !== 'object' || typeof request.uid !== 'string') return refuse(400, 'the AdmissionReview has no request');
    try {
      return { version, response: { ...(await handler(request)), uid: request.uid } };
    } catch (e) {
      // Only a WebhookDenied is a refusal by design; anything else is a bug in the handler.
      this.opts.metrics?.panicked();
      const err = e instanceof Error ? e : new Error(String(e));
      this.log.error('webhook handler failed', { webhook: path, uid: request.uid, err });
      return { version, response: errored(request.uid, 500, `internal error in webhook ${path}: ${err.name}: ${err.message}`) };
    }
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    // Keep draining, so that the answer still reaches a client that is sending.
    if (size <= MAX_REQUEST_BYTES) chunks.push(b);
  }
  return size > MAX_REQUEST_BYTES ? 'too-large' : Buffer.concat(chunks);
}
