/**
 * A self-signed serving certificate for the reference server. kubectl (client-go) sends bearer
 * tokens only over TLS, so the server speaks HTTPS like kcp. PKI.js encodes the certificate; Node
 * makes the key and signs, synchronously, so that the server needs no asynchronous step for it.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import * as path from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** A PEM certificate (also the CA to trust) and its PEM private key. */
export interface ServingCert {
  cert: string;
  key: string;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return new Uint8Array(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return new Uint8Array(Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex'))));
}

function extension(extnID: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/** Creates a self-signed ECDSA P-256 certificate for the given DNS names and IP addresses. */
export function createServingCert(hosts: readonly string[], days = 365): ServingCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = randomBytes(16);
  // DER integers are minimal and positive: top bit clear, and a non-zero first byte (a leading
  // 0x00 before a byte below 0x80 is an encoding OpenSSL refuses).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: new Uint8Array(serial) });
  const name = new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: 'kcp-reference-server' }) })],
  });
  cert.subject = name;
  cert.issuer = name;
  const now = Date.now();
  cert.notBefore.value = new Date(now - 3600_000);
  cert.notAfter.value = new Date(now + days * 86400_000);
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
  const san = hosts.map((h) =>
    isIP(h) ? new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(h) }) }) : new pkijs.GeneralName({ type: 2, value: h }),
  );
  cert.extensions = [
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: true }).toSchema()),
    // digitalSignature and keyCertSign.
    extension('2.5.29.15', true, new asn1js.BitString({ valueHex: new Uint8Array([0x84]), unusedBits: 2 })),
    extension('2.5.29.37', false, new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1'] }).toSchema()),
    extension('2.5.29.14', false, new asn1js.OctetString({ valueHex: new Uint8Array(createHash('sha1').update(spki).digest()) })),
    extension('2.5.29.17', false, new pkijs.GeneralNames({ names: san }).toSchema()),
  ];
  cert.signature = new pkijs.AlgorithmIdentifier({ algorithmId: ECDSA_WITH_SHA256 });
  cert.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: ECDSA_WITH_SHA256 });
  const tbs = new Uint8Array(cert.encodeTBS().toBER(false));
  cert.tbsView = tbs;
  // X.509 carries an ECDSA signature as a DER SEQUENCE of r and s: Node's default encoding.
  cert.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(sign('sha256', tbs, privateKey)) });
  const b64 = Buffer.from(cert.toSchema(false).toBER(false)).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
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
