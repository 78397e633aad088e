/**
 * Semantic versions for the Kubernetes CEL `semver` library: strict SemVer 2.0.0 parsing (or the
 * library's normalising mode: a `v` prefix, missing minor or patch, leading zeros) and precedence.
 */

const STRICT =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A parsed version; build metadata is kept in the text but ignored by comparisons. */
export class Semver {
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: string[],
    readonly text: string,
  ) {}

  /** Parses `s` strictly, or with `normalize` the loose forms the library accepts. */
  static parse(s: string, normalize = false): Semver {
    let text = s;
    if (normalize) {
      text = text.replace(/^v/, '');
      const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/.exec(text);
      if (m) text = `${BigInt(m[1]!)}.${BigInt(m[2] ?? '0')}.${BigInt(m[3] ?? '0')}${m[4]}`;
    }
    const m = STRICT.exec(text);
    if (!m) throw new Error(`could not parse ${JSON.stringify(s)} as semver`);
    return new Semver(BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!), m[4] ? m[4].split('.') : [], s);
  }

  /** SemVer precedence: -1, 0 or 1. */
  compareTo(o: Semver): bigint {
    for (const [a, b] of [[this.major, o.major], [this.minor, o.minor], [this.patch, o.patch]] as const) {
      if (a !== b) return a < b ? -1n : 1n;
    }
    // A release ranks above its pre-releases.
    if (this.pre.length === 0 || o.pre.length === 0) return BigInt(Math.sign(o.pre.length - this.pre.length));
    for (let i = 0; i < Math.min(this.pre.length, o.pre.length); i++) {
      const c = comparePre(this.pre[i]!, o.pre[i]!);
      if (c !== 0) return BigInt(c);
    }
    return BigInt(Math.sign(this.pre.length - o.pre.length));
  }
}

function comparePre(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Math.sign(Number(BigInt(a) - BigInt(b)));
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
