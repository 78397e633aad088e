/**
 * The X.509 work behind `createWebhookCertificates`, with PKI.js over Node's WebCrypto; loaded only
 * when certificates are made (PKI.js and ASN1.js are 2.7 MiB of heap a controller has no use for).
 */
import { createHash, webcrypto } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { PemPair, WebhookCertificateOptions, WebhookCertificates } from './certs.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as EngineCrypto });

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function unpem(text: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(text);
  if (!m) throw new Error(`no ${label} PEM block`);
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return new Uint8Array(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return new Uint8Array(Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex'))));
}

function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({ typesAndValues: [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) })] });
}

function ext(extnID: string, critical: boolean, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType): pkijs.Extension {
  const schema = 'toSchema' in value ? value.toSchema() : value;
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER(false) });
}

interface Issuer {
  cert: pkijs.Certificate;
  key: CryptoKey;
  keyId: Uint8Array;
}

async function issue(cn: string, keys: CryptoKeyPair, days: number, o: { ca: boolean; hosts?: readonly string[]; issuer?: Issuer }): Promise<pkijs.Certificate> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = webcrypto.getRandomValues(new Uint8Array(16));
  // A positive, minimal DER integer: top bit clear, first byte non-zero.
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = name(cn);
  cert.issuer = o.issuer ? o.issuer.cert.subject : name(cn);
  const now = Date.now();
  cert.notBefore.value = new Date(now - 3_600_000);
  cert.notAfter.value = new Date(now + days * DAY);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  const keyId = new Uint8Array(createHash('sha1').update(new Uint8Array(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)).digest());
  const extensions = [
    ext('2.5.29.19', true, new pkijs.BasicConstraints(o.ca ? { cA: true, pathLenConstraint: 0 } : {})),
    // digitalSignature, plus keyCertSign and cRLSign for the CA.
    ext('2.5.29.15', true, new asn1js.BitString({ valueHex: new Uint8Array([o.ca ? 0x86 : 0x80]), unusedBits: o.ca ? 1 : 7 })),
    ext('2.5.29.14', false, new asn1js.OctetString({ valueHex: keyId })),
  ];
  if (o.issuer) extensions.push(ext('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: o.issuer.keyId }) })));
  if (!o.ca) {
    extensions.push(ext('2.5.29.37', false, new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1'] })));
    const names = (o.hosts ?? []).map((h) =>
      isIP(h) ? new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(h) }) }) : new pkijs.GeneralName({ type: 2, value: h }),
    );
    extensions.push(ext('2.5.29.17', false, new pkijs.GeneralNames({ names })));
  }
  cert.extensions = extensions;
  await cert.sign(o.issuer?.key ?? keys.privateKey, SIGN.hash, engine);
  return cert;
}

async function pair(cert: pkijs.Certificate, key: CryptoKey): Promise<PemPair> {
  return { cert: pem('CERTIFICATE', cert.toSchema(true).toBER(false)), key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key)) };
}

async function loadIssuer(ca: PemPair): Promise<Issuer> {
  const cert = pkijs.Certificate.fromBER(unpem(ca.cert, 'CERTIFICATE'));
  const key = await webcrypto.subtle.importKey('pkcs8', unpem(ca.key, 'PRIVATE KEY'), ALG, false, ['sign']);
  const keyId = new Uint8Array(createHash('sha1').update(new Uint8Array(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)).digest());
  return { cert, key, keyId };
}

/** Makes a serving certificate for `hosts`, signed by `ca` or by a new CA. */
export async function issueWebhookCertificates(o: WebhookCertificateOptions): Promise<WebhookCertificates> {
  const days = o.days ?? 365;
  let ca = o.ca;
  if (!ca) {
    const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    ca = await pair(await issue('kcp-mc webhook CA', caKeys, days, { ca: true }), caKeys.privateKey);
  }
  const issuer = await loadIssuer(ca);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const leaf = await issue(o.hosts[0]!, keys, days, { ca: false, hosts: o.hosts, issuer });
  return { ca, serving: await pair(leaf, keys.privateKey) };
}

