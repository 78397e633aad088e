/**
 * Kubernetes `resource.Quantity` for the CEL `quantity` library: parsing with apimachinery's
 * grammar and exact arithmetic on rationals (quantities like `1.5Gi` or `100m` are not binary
 * fractions, so doubles would compare them wrongly).
 */

const QUANTITY_RE = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|m|k|M|G|T|P|E)?$/;

/** apimachinery's own wording of a parse failure (`resource.ErrFormatWrong`). */
export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}

/** A quantity as the exact rational `num / den` (den > 0), with its original text. */
export class Quantity {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint, readonly text: string) {
    const g = gcd(num, den);
    this.num = num / g;
    this.den = den / g;
  }

  /** Parses `s` or throws with apimachinery's message. */
  static parse(s: string): Quantity {
    const m = QUANTITY_RE.exec(s);
    if (!m) throw new Error(QUANTITY_FORMAT_ERROR);
    const [whole, frac = ''] = m[1]!.replace(/^\+/, '').split('.');
    const negative = whole!.startsWith('-');
    let num = BigInt(`${whole!.replace('-', '') || '0'}${frac}`);
    let den = 10n ** BigInt(frac.length);
    const suffix = m[2] ?? '';
    if (suffix in BINARY) num *= 1024n ** BigInt(BINARY[suffix]!);
    else {
      const exp = suffix in DECIMAL ? DECIMAL[suffix]! : suffix ? Number(suffix.slice(1)) : 0;
      // apimachinery caps exponents too; a huge one would otherwise allocate a giant bigint.
      if (Math.abs(exp) > 1000) throw new Error(QUANTITY_FORMAT_ERROR);
      if (exp >= 0) num *= 10n ** BigInt(exp);
      else den *= 10n ** BigInt(-exp);
    }
    return new Quantity(negative ? -num : num, den, s);
  }

  /** -1, 0 or 1. */
  sign(): bigint {
    return this.num === 0n ? 0n : this.num < 0n ? -1n : 1n;
  }

  /** -1, 0 or 1 as `this` is below, equal to or above `o`. */
  compareTo(o: Quantity): bigint {
    const d = this.num * o.den - o.num * this.den;
    return d === 0n ? 0n : d < 0n ? -1n : 1n;
  }

  /** Whether the value is whole and fits an int64. */
  isInteger(): boolean {
    if (this.den !== 1n) return false;
    return this.num >= INT64_MIN && this.num <= INT64_MAX;
  }

  /** The value as an int64, or an error as the Kubernetes library raises it. */
  asInteger(): bigint {
    if (!this.isInteger()) throw new Error('cannot convert value to integer');
    return this.num;
  }

  /** The nearest double. */
  asApproximateFloat(): number {
    return Number(this.num) / Number(this.den);
  }

  /** `this + o` (a quantity or an integer). */
  add(o: Quantity | bigint): Quantity {
    const q = typeof o === 'bigint' ? new Quantity(o, 1n, String(o)) : o;
    return Quantity.of(this.num * q.den + q.num * this.den, this.den * q.den);
  }

  /** `this - o` (a quantity or an integer). */
  sub(o: Quantity | bigint): Quantity {
    const q = typeof o === 'bigint' ? new Quantity(o, 1n, String(o)) : o;
    return Quantity.of(this.num * q.den - q.num * this.den, this.den * q.den);
  }

  private static of(num: bigint, den: bigint): Quantity {
    const q = new Quantity(num, den, '');
    return new Quantity(q.num, q.den, q.canonical());
  }

  /** A decimal rendering (whole numbers plain, fractions in milli units when exact). */
  canonical(): string {
    if (this.den === 1n) return String(this.num);
    const milli = this.num * 1000n;
    if (milli % this.den === 0n) return `${milli / this.den}m`;
    return String(this.asApproximateFloat());
  }

  /** The text the quantity was written as. */
  toString(): string {
    return this.text || this.canonical();
  }
}
