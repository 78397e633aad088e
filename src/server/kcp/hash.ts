/**
 * The hash renderings kcp derives names and labels from, shared by the apis.kcp.io and tenancy
 * layers (which do not import each other): SHA-224, and a byte string as one big-endian number in
 * base 36 or 62, as Go's `big.Int.Text` and base36.EncodeBytes write it.
 */
import { createHash } from 'node:crypto';

// Go's digit order: 0-9, then a-z, then A-Z (base 36 uses the first 36).
const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The SHA-224 digest of a string (UTF-8) or bytes. */
export function sha224(s: string | Buffer): Buffer {
  return createHash('sha224').update(s).digest();
}

/** The bytes as one big-endian number in base 36 or 62; `0` for zero or no bytes. */
export function bigText(bytes: Uint8Array, base: 36 | 62): string {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  if (n === 0n) return '0';
  const b = BigInt(base);
  let out = '';
  while (n > 0n) {
    out = DIGITS[Number(n % b)]! + out;
    n /= b;
  }
  return out;
}
