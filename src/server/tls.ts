/**
 * A self-signed serving certificate for the reference server. kubectl (client-go) sends bearer
 * tokens only over TLS, so the server speaks HTTPS like kcp. Node can make keys and signatures but
 * not certificates, so the few DER structures of an X.509 v3 certificate are encoded here.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';

/** A PEM certificate (also the CA to trust) and its PEM private key. */
export interface ServingCert {
  cert: string;
  key: string;
}

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(value.length), value]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  // UTCTime YYMMDDHHMMSSZ (valid through 2049, as RFC 5280 asks).
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

/** Creates a self-signed ECDSA P-256 certificate for the given DNS names and IP addresses. */
export function createServingCert(hosts: readonly string[], days = 365): ServingCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from('kcp-reference-server')))));
  const sigAlg = seq(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  // DER integers are minimal and positive: top bit clear, and a non-zero first byte (a leading
  // 0x00 before a byte below 0x80 is an encoding OpenSSL refuses).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const now = Date.now();
  const san = hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
  const keyId = createHash('sha1').update(spki).digest();
  const extensions = seq(
    extension('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])))),
    // digitalSignature and keyCertSign.
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.14', false, tlv(0x04, keyId)),
    extension('2.5.29.17', false, seq(...san)),
  );
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    sigAlg,
    name,
    seq(time(new Date(now - 3600_000)), time(new Date(now + days * 86400_000))),
    name,
    spki,
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * The certificate kept in `dir` (so that clients keep trusting a restarted server), created when
 * absent, expired, or not covering `hosts`.
 */
export function loadOrCreateServingCert(dir: string, hosts: readonly string[]): ServingCert {
  const certPath = path.join(dir, 'apiserver.crt');
  const keyPath = path.join(dir, 'apiserver.key');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    const cert = fs.readFileSync(certPath, 'utf8');
    const key = fs.readFileSync(keyPath, 'utf8');
    try {
      const x = new X509Certificate(cert);
      createPrivateKey(key);
      const fresh = new Date(x.validTo).getTime() > Date.now() + 86400_000;
      if (fresh && hosts.every((h) => (isIP(h) ? x.checkIP(h) : x.checkHost(h)))) return { cert, key };
    } catch {
      // unreadable: make a new one
    }
  }
  const made = createServingCert(hosts);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(certPath, made.cert);
  fs.writeFileSync(keyPath, made.key, { mode: 0o600 });
  return made;
}
