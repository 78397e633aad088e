/**
 * What a log line must never show, decided by what a value is rather than by the field that holds
 * it: a field named `secret` usually holds a Secret's *name*, which is worth seeing, while a token
 * under any field name is not. The rules:
 *
 * - A Kubernetes `Secret` (also the items of a `SecretList`) keeps its metadata and the keys of
 *   `data`/`stringData`; their values, and its `kubectl.kubernetes.io/last-applied-configuration`
 *   annotation (a copy of them), become `[redacted]`.
 * - A value under a credential field, at any depth, becomes `[redacted]`: `token`, `access-token`,
 *   `id-token`, `refresh-token`, `bearer(-token)`, `password`, `passphrase`, `authorization`,
 *   `proxy-authorization`, `cookie`, `set-cookie`, `client-key-data`, `keyData`, `private-key`,
 *   `api-key`, `client-secret` (any case; `-` and `_` ignored). These are HTTP headers and the
 *   credential fields of a kubeconfig user (client-node's `User`, an auth-provider's config).
 * - In every string (messages and error text too): a `Bearer <token>` or `Basic <user:pass>` value
 *   keeps its scheme, a JWT, a PEM private key and the password of a `scheme://user:pass@host` URL
 *   become `[redacted]`.
 */

/** What a redacted value is written as. */
export const REDACTED = '[redacted]';

const CREDENTIAL_KEYS = new Set([
  'token',
  'accesstoken',
  'idtoken',
  'refreshtoken',
  'bearer',
  'bearertoken',
  'password',
  'passwd',
  'passphrase',
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'clientkeydata',
  'keydata',
  'privatekey',
  'apikey',
  'clientsecret',
]);

/** Whether a field of this name holds a credential. */
export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
// Cheap pre-check so that ordinary strings cost one regex test.
const SUSPECT = /Bearer|Basic|eyJ|PRIVATE KEY|:\/\/[^\s/@]*:[^\s/@]*@/i;
const PEM_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const BASIC = /\b(Basic)\s+([A-Za-z0-9+/]{4,}={0,2})/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:)[^\s/@]+@/gi;

/** A string with tokens, private keys and URL passwords replaced. */
export function redactText(s: string): string {
  if (!SUSPECT.test(s)) return s;
  return s
    .replace(PEM_KEY, REDACTED)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1 ${REDACTED}`)
    // "Basic authentication" is prose; only base64 of user:password is a credential.
    .replace(BASIC, (all, scheme: string, b64: string) => (/^[\x20-\x7e]*:[\x20-\x7e]*$/.test(Buffer.from(b64, 'base64').toString('latin1')) ? `${scheme} ${REDACTED}` : all))
    .replace(URL_PASSWORD, `$1${REDACTED}@`);
}

function isSecret(o: Record<string, unknown>): boolean {
  return o['kind'] === 'Secret' && (o['apiVersion'] === undefined || o['apiVersion'] === 'v1');
}

function redactSecret(o: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out = redactObject(o, depth, seen);
  for (const f of ['data', 'stringData']) {
    const d = o[f];
    if (d && typeof d === 'object') out[f] = Object.fromEntries(Object.keys(d).map((k) => [k, REDACTED]));
  }
  const meta = out['metadata'] as Record<string, unknown> | undefined;
  const ann = meta?.['annotations'] as Record<string, unknown> | undefined;
  if (ann && typeof ann === 'object' && LAST_APPLIED in ann) out['metadata'] = { ...meta, annotations: { ...ann, [LAST_APPLIED]: REDACTED } };
  return out;
}

/** The value of field `key` for a log line: `[redacted]` under a credential field, else `redactValue(v)`. */
export function redactField(key: string, v: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  return isCredentialKey(key) && v !== undefined && v !== null && v !== '' && typeof v !== 'boolean' ? REDACTED : redactValue(v, depth, seen);
}

function redactObject(o: object, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = redactField(k, v, depth + 1, seen);
  return out;
}

const MAX_DEPTH = 32;

/**
 * A copy of `v` for a log line, redacted as the module comment says. Errors become their message;
 * cycles and nesting deeper than 32 levels are cut.
 */
export function redactValue(v: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof v === 'string') return redactText(v);
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Error) return redactText(v.message);
  if (seen.has(v)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(v);
  try {
    const json = (v as { toJSON?: unknown }).toJSON;
    // What JSON.stringify would write is what gets checked (a cached object decodes in toJSON).
    if (typeof json === 'function') return redactValue(json.call(v), depth, seen);
    if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1, seen));
    const o = v as Record<string, unknown>;
    if (isSecret(o)) return redactSecret(o, depth, seen);
    if (o['kind'] === 'SecretList' && Array.isArray(o['items'])) {
      return { ...redactObject(o, depth, seen), items: o['items'].map((i: unknown) => (i && typeof i === 'object' ? redactSecret(i as Record<string, unknown>, depth + 1, seen) : i)) };
    }
    return redactObject(o, depth, seen);
  } finally {
    seen.delete(v);
  }
}
