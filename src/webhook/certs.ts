/**
 * A development CA and a serving certificate for the webhook server (`kcp-mc certs`), made with
 * PKI.js over Node's WebCrypto: ECDSA P-256 keys, a CA limited to signing the one level below it,
 * and a leaf for `serverAuth` on the given DNS names and IP addresses. The X.509 code (x509.ts) is
 * loaded on first use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A PEM certificate and its PEM (PKCS #8) key. */
export interface PemPair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** A CA and the serving certificate it signed. */
export interface WebhookCertificates {
  /** The CA: its certificate is the configurations' `caBundle`. */
  ca: PemPair;
  /** The serving pair (`tls.crt`, `tls.key`). */
  serving: PemPair;
}

/** Options of `createWebhookCertificates`. */
export interface WebhookCertificateOptions {
  /** DNS names and IP addresses the serving certificate is valid for. */
  hosts: readonly string[];
  /** Days of validity; default 365. */
  days?: number;
  /** An existing CA to sign with; default a new one. */
  ca?: PemPair;
}

/** Makes a serving certificate for `hosts`, signed by `ca` or by a new CA. */
export async function createWebhookCertificates(o: WebhookCertificateOptions): Promise<WebhookCertificates> {
  if (o.hosts.length === 0) throw new Error('a serving certificate needs at least one host name or IP address');
  const { issueWebhookCertificates } = await import('./x509.js');
  return issueWebhookCertificates(o);
}

/**
 * Writes `ca.crt`, `ca.key`, `tls.crt` and `tls.key` into `dir` (keys mode 0600). A CA already in
 * `dir` signs the new serving certificate, so that configurations trusting it stay valid.
 */
export async function writeWebhookCertificates(dir: string, o: Omit<WebhookCertificateOptions, 'ca'>): Promise<WebhookCertificates> {
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  const ca = fs.existsSync(caCert) && fs.existsSync(caKey) ? { cert: fs.readFileSync(caCert, 'utf8'), key: fs.readFileSync(caKey, 'utf8') } : undefined;
  const made = await createWebhookCertificates({ ...o, ca });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(caCert, made.ca.cert);
  fs.writeFileSync(caKey, made.ca.key, { mode: 0o600 });
  // Key first, then certificate: a watcher that reads in between sees a mismatch and keeps the old pair.
  fs.writeFileSync(path.join(dir, 'tls.key'), made.serving.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'tls.crt'), made.serving.cert);
  return made;
}
