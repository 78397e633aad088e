/**
 * The Kubernetes CEL `ip` and `cidr` libraries: addresses and prefixes parsed as Go's net/netip
 * does (no leading zeros in IPv4, no zones, no IPv4-mapped IPv6), held as 32- or 128-bit integers.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** An IPv4 or IPv6 address. */
export class IPAddress {
  constructor(
    readonly family: 4 | 6,
    readonly value: bigint,
  ) {}

  /** Parses `s` or throws with the reason netip gives. */
  static parse(s: string): IPAddress {
    if (s.includes('%')) throw new Error('IP address with zone value is not allowed');
    if (isIPv4(s)) {
      if (s.split('.').some((o) => o.length > 1 && o.startsWith('0'))) throw new Error(`ParseAddr(${JSON.stringify(s)}): IPv4 field has octet with leading zero`);
      return new IPAddress(4, s.split('.').reduce((v, o) => (v << 8n) | BigInt(Number(o)), 0n));
    }
    if (!isIPv6(s)) throw new Error(`ParseAddr(${JSON.stringify(s)}): unable to parse IP`);
    const value = parseIPv6(s);
    if (value >> 32n === 0xffffn) throw new Error('IPv4-mapped IPv6 address is not allowed');
    return new IPAddress(6, value);
  }

  /** The number of bits of the family. */
  get bits(): number {
    return this.family === 4 ? 32 : 128;
  }

  /** Whether the address is in `prefix` of `len` bits. */
  inPrefix(prefix: bigint, len: number): boolean {
    const shift = BigInt(this.bits - len);
    return this.value >> shift === prefix >> shift;
  }

  /** The canonical text (RFC 5952 for IPv6). */
  toString(): string {
    if (this.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((this.value >> s) & 0xffn)).join('.');
    const groups = Array.from({ length: 8 }, (_, i) => Number((this.value >> BigInt(112 - 16 * i)) & 0xffffn));
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
      i = j === i ? i + 1 : j;
    }
    const hex = groups.map((g) => g.toString(16));
    if (best < 0) return hex.join(':');
    return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
  }

  /** `0.0.0.0` or `::`. */
  isUnspecified(): boolean {
    return this.value === 0n;
  }

  /** `127.0.0.0/8` or `::1`. */
  isLoopback(): boolean {
    return this.family === 4 ? this.inPrefix(0x7f000000n, 8) : this.value === 1n;
  }

  /** `169.254.0.0/16` or `fe80::/10`. */
  isLinkLocalUnicast(): boolean {
    return this.family === 4 ? this.inPrefix(0xa9fe0000n, 16) : this.inPrefix(0xfe80n << 112n, 10);
  }

  /** `224.0.0.0/24` or `ff02::/16` (any flags). */
  isLinkLocalMulticast(): boolean {
    return this.family === 4 ? this.inPrefix(0xe0000000n, 24) : ((this.value >> 112n) & 0xff0fn) === 0xff02n;
  }

  private isMulticast(): boolean {
    return this.family === 4 ? this.inPrefix(0xe0000000n, 4) : this.inPrefix(0xffn << 120n, 8);
  }

  /** Neither unspecified, loopback, multicast, link-local nor the IPv4 broadcast address, as Go decides. */
  isGlobalUnicast(): boolean {
    if (this.family === 4 && this.value === 0xffffffffn) return false;
    return !this.isUnspecified() && !this.isLoopback() && !this.isMulticast() && !this.isLinkLocalUnicast();
  }
}

function parseIPv6(s: string): bigint {
  // A trailing dotted IPv4 part stands for the last two groups.
  const text = s.replace(/(\d+\.\d+\.\d+\.\d+)$/, (v4) => {
    const a = IPAddress.parse(v4).value;
    return `${(a >> 16n).toString(16)}:${(a & 0xffffn).toString(16)}`;
  });
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':').map((g) => parseInt(g, 16)) : [];
  const r = rest ? rest.split(':').map((g) => parseInt(g, 16)) : [];
  const zeros = rest !== undefined ? new Array<number>(8 - h.length - r.length).fill(0) : [];
  return [...h, ...zeros, ...r].reduce((v, g) => (v << 16n) | BigInt(g), 0n);
}

/** An address with a prefix length (not masked: `10.0.0.1/8` keeps its address). */
export class CIDR {
  constructor(
    readonly ip: IPAddress,
    readonly prefixLength: number,
    readonly text: string,
  ) {}

  /** Parses `s` or throws with the reason netip gives. */
  static parse(s: string): CIDR {
    const i = s.lastIndexOf('/');
    if (i < 0) throw new Error(`netip.ParsePrefix(${JSON.stringify(s)}): no '/'`);
    const ip = IPAddress.parse(s.slice(0, i));
    const bits = s.slice(i + 1);
    const len = /^(0|[1-9][0-9]*)$/.test(bits) ? Number(bits) : NaN;
    if (!(len >= 0 && len <= ip.bits)) throw new Error(`netip.ParsePrefix(${JSON.stringify(s)}): bad bits after slash: ${JSON.stringify(bits)}`);
    return new CIDR(ip, len, s);
  }

  /** Whether `ip` is inside the prefix. */
  containsIP(ip: IPAddress): boolean {
    return ip.family === this.ip.family && ip.inPrefix(this.ip.value, this.prefixLength);
  }

  /** Whether `other` lies entirely inside the prefix. */
  containsCIDR(other: CIDR): boolean {
    return other.prefixLength >= this.prefixLength && this.containsIP(other.ip);
  }

  /** The prefix with the host bits cleared. */
  masked(): CIDR {
    const shift = BigInt(this.ip.bits - this.prefixLength);
    const ip = new IPAddress(this.ip.family, (this.ip.value >> shift) << shift);
    return new CIDR(ip, this.prefixLength, `${ip.toString()}/${this.prefixLength}`);
  }

  /** The canonical text. */
  toString(): string {
    return `${this.ip.toString()}/${this.prefixLength}`;
  }
}
