/**
 * The CEL environment of `x-kubernetes-validations`: the engine's standard library plus the
 * Kubernetes libraries a schema author commonly reaches for (lists, ext lists, sets, strings,
 * regex, quantity, url, ip, cidr, semver). Functions kube has and this environment lacks fail to compile, so a
 * schema using them is refused at registration rather than silently accepted.
 */
import { URLSearchParams } from 'node:url';
import { Environment, Optional } from '@marcbachmann/cel-js';
import { CIDR, IPAddress } from './network.js';
import { Quantity } from './quantity.js';
import { Semver } from './semver.js';
import { celCompare, celEqual, parses, type CelValue } from './values.js';

/** A parsed URL as the Kubernetes `url` library exposes it (Go's url.ParseRequestURI). */
export class KubeURL {
  constructor(
    readonly text: string,
    readonly scheme: string,
    readonly host: string,
    readonly path: string,
    readonly query: string,
  ) {}

  /** Parses `s` as Go's url.ParseRequestURI does: an absolute URL or an absolute path. */
  static parse(s: string): KubeURL {
    const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?$/.exec(s);
    const scheme = m?.[1] ?? '';
    const path = m?.[3] ?? '';
    if (!m || (!scheme && !path.startsWith('/')) || (scheme && m[2] === undefined && !path.startsWith('/'))) {
      throw new Error(`URL parse error during conversion from string: parse ${JSON.stringify(s)}: invalid URI for request`);
    }
    // Userinfo is not part of the host the library returns.
    const host = (m[2] ?? '').replace(/^.*@/, '');
    return new KubeURL(s, scheme, host, path, m[4] ?? '');
  }

  /** The host without port and without IPv6 brackets. */
  hostname(): string {
    if (this.host.startsWith('[')) return this.host.slice(1, this.host.indexOf(']'));
    const i = this.host.lastIndexOf(':');
    return i < 0 ? this.host : this.host.slice(0, i);
  }

  /** The port, or the empty string. */
  port(): string {
    const end = this.host.startsWith('[') ? this.host.indexOf(']') + 1 : 0;
    const i = this.host.indexOf(':', end);
    return i < 0 ? '' : this.host.slice(i + 1);
  }

  /** The query as a map of value lists, in the order they appear. */
  queryMap(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [k, v] of new URLSearchParams(this.query)) out.set(k, [...(out.get(k) ?? []), v]);
    return out;
  }
}

/** The receiver types standing in for CEL namespaces (`sets.contains(...)`, `lists.range(...)`). */
class SetsNamespace {}
class ListsNamespace {}
class StringsNamespace {}
class IPNamespace {}

const regexCache = new Map<string, RegExp>();

/**
 * Compiles a CEL (RE2) pattern for JavaScript. RE2's leading inline flags `(?i)`, `(?s)`, `(?m)`
 * become RegExp flags; the rest of the syntax is shared for the patterns schemas use.
 */
export function compileRegex(pattern: string, global = false): RegExp {
  const key = `${global ? 'g' : ''}:${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    const m = /^\(\?([ism]+)\)/.exec(pattern);
    const flags = `${m ? m[1] : ''}${global ? 'g' : ''}u`;
    re = new RegExp(m ? pattern.slice(m[0].length) : pattern, flags);
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  re.lastIndex = 0;
  return re;
}

function sorted(l: CelValue[]): CelValue[] {
  return [...l].sort(celCompare);
}

function extreme(l: CelValue[], name: string, sign: number): CelValue {
  if (l.length === 0) throw new Error(`${name} called on empty list`);
  return l.reduce((a, b) => (celCompare(b, a) * sign > 0 ? b : a));
}

function sum(l: CelValue[]): CelValue {
  if (l.every((x) => typeof x === 'bigint')) return (l as bigint[]).reduce((a, b) => a + b, 0n);
  return l.reduce((a: number, b) => a + Number(b), 0);
}

function indexOf(l: CelValue[], v: CelValue, last: boolean): bigint {
  for (let k = 0; k < l.length; k++) {
    const i = last ? l.length - 1 - k : k;
    if (celEqual(l[i], v)) return BigInt(i);
  }
  return -1n;
}

function slice(l: CelValue[], from: bigint, to: bigint): CelValue[] {
  if (from < 0n || to < 0n) throw new Error(`cannot slice(${from}, ${to}), negative indexes not supported`);
  if (from > to) throw new Error(`cannot slice(${from}, ${to}), start index must be less than or equal to end index`);
  if (to > BigInt(l.length)) throw new Error(`cannot slice(${from}, ${to}), list is length ${l.length}`);
  return l.slice(Number(from), Number(to));
}

function charAt(s: string, i: bigint): string {
  const cps = [...s];
  if (i < 0n || i > BigInt(cps.length)) throw new Error(`index out of range: ${i}`);
  return cps[Number(i)] ?? '';
}

function replace(s: string, from: string, to: string, n = -1n): string {
  if (n < 0n) return s.split(from).join(to);
  let out = s;
  let start = 0;
  for (let k = 0n; k < n; k++) {
    const i = out.indexOf(from, start);
    if (i < 0) break;
    out = out.slice(0, i) + to + out.slice(i + from.length);
    start = i + to.length + (from.length === 0 ? 1 : 0);
  }
  return out;
}

function findAll(s: string, pattern: string, n = -1n): string[] {
  if (n === 0n) return [];
  const out: string[] = [];
  for (const m of s.matchAll(compileRegex(pattern, true))) {
    out.push(m[0]);
    if (n > 0n && BigInt(out.length) >= n) break;
  }
  return out;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

const rangeList = (n: bigint): bigint[] => Array.from({ length: Number(n < 0n ? 0n : n) }, (_, i) => BigInt(i));

function setsContains(a: CelValue[], b: CelValue[]): boolean {
  return b.every((x) => a.some((y) => celEqual(x, y)));
}

/** Registers the Kubernetes library functions on `env`. */
function registerKubernetesLibraries(env: Environment): Environment {
  const fn = (sig: string, handler: (...args: never[]) => unknown): void => {
    env.registerFunction(sig, handler as (...args: unknown[]) => unknown);
  };
  // lists (k8s.io/apiserver/pkg/cel/library/lists.go)
  fn('list<A>.isSorted(): bool', (l: CelValue[]) => l.every((x, i) => i === 0 || celCompare(l[i - 1], x) <= 0));
  fn('list<A>.sum(): A', sum);
  fn('list<A>.min(): A', (l: CelValue[]) => extreme(l, 'min', -1));
  fn('list<A>.max(): A', (l: CelValue[]) => extreme(l, 'max', 1));
  fn('list<A>.indexOf(A): int', (l: CelValue[], v: CelValue) => indexOf(l, v, false));
  fn('list<A>.lastIndexOf(A): int', (l: CelValue[], v: CelValue) => indexOf(l, v, true));
  // ext lists (cel-go ext.Lists)
  fn('list<A>.slice(int, int): list<A>', slice);
  fn('list<list<A>>.flatten(): list<A>', (l: CelValue[][]) => l.flat());
  fn('list<A>.distinct(): list<A>', (l: CelValue[]) => l.filter((x, i) => l.findIndex((y) => celEqual(x, y)) === i));
  fn('list<A>.reverse(): list<A>', (l: CelValue[]) => [...l].reverse());
  fn('list<A>.sort(): list<A>', sorted);
  fn('list<A>.first(): optional<A>', (l: CelValue[]) => (l.length ? Optional.of(l[0]) : Optional.none()));
  fn('list<A>.last(): optional<A>', (l: CelValue[]) => (l.length ? Optional.of(l[l.length - 1]) : Optional.none()));
  env.registerType('kubernetes.ListsNamespace', ListsNamespace).registerConstant('lists', 'kubernetes.ListsNamespace', new ListsNamespace());
  fn('kubernetes.ListsNamespace.range(int): list<int>', (_: ListsNamespace, n: bigint) => rangeList(n));
  // sets (k8s.io/apiserver/pkg/cel/library/sets.go)
  env.registerType('kubernetes.SetsNamespace', SetsNamespace).registerConstant('sets', 'kubernetes.SetsNamespace', new SetsNamespace());
  fn('kubernetes.SetsNamespace.contains(list<A>, list<A>): bool', (_: SetsNamespace, a: CelValue[], b: CelValue[]) => setsContains(a, b));
  fn('kubernetes.SetsNamespace.equivalent(list<A>, list<A>): bool', (_: SetsNamespace, a: CelValue[], b: CelValue[]) => setsContains(a, b) && setsContains(b, a));
  fn('kubernetes.SetsNamespace.intersects(list<A>, list<A>): bool', (_: SetsNamespace, a: CelValue[], b: CelValue[]) => a.some((x) => b.some((y) => celEqual(x, y))));
  // strings (cel-go ext.Strings; the engine has indexOf, split, substring, trim, join, lower/upperAscii)
  fn('string.charAt(int): string', charAt);
  fn('string.replace(string, string): string', (s: string, a: string, b: string) => replace(s, a, b));
  fn('string.replace(string, string, int): string', replace);
  fn('string.reverse(): string', (s: string) => [...s].reverse().join(''));
  env.registerType('kubernetes.StringsNamespace', StringsNamespace).registerConstant('strings', 'kubernetes.StringsNamespace', new StringsNamespace());
  fn('kubernetes.StringsNamespace.quote(string): string', (_: StringsNamespace, s: string) => quote(s));
  // regex (k8s.io/apiserver/pkg/cel/library/regex.go)
  fn('string.find(string): string', (s: string, p: string) => compileRegex(p).exec(s)?.[0] ?? '');
  fn('string.findAll(string): list<string>', (s: string, p: string) => findAll(s, p));
  fn('string.findAll(string, int): list<string>', findAll);
  // quantity (k8s.io/apiserver/pkg/cel/library/quantity.go)
  env.registerType('kubernetes.Quantity', Quantity);
  env.registerOperator('kubernetes.Quantity == kubernetes.Quantity', (a: Quantity, b: Quantity) => a.compareTo(b) === 0n);
  fn('quantity(string): kubernetes.Quantity', (s: string) => Quantity.parse(s));
  fn('isQuantity(string): bool', (s: string) => parses(Quantity.parse, s));
  fn('kubernetes.Quantity.sign(): int', (q: Quantity) => q.sign());
  fn('kubernetes.Quantity.isInteger(): bool', (q: Quantity) => q.isInteger());
  fn('kubernetes.Quantity.asInteger(): int', (q: Quantity) => q.asInteger());
  fn('kubernetes.Quantity.asApproximateFloat(): double', (q: Quantity) => q.asApproximateFloat());
  fn('kubernetes.Quantity.compareTo(kubernetes.Quantity): int', (a: Quantity, b: Quantity) => a.compareTo(b));
  fn('kubernetes.Quantity.isGreaterThan(kubernetes.Quantity): bool', (a: Quantity, b: Quantity) => a.compareTo(b) > 0n);
  fn('kubernetes.Quantity.isLessThan(kubernetes.Quantity): bool', (a: Quantity, b: Quantity) => a.compareTo(b) < 0n);
  fn('kubernetes.Quantity.add(kubernetes.Quantity): kubernetes.Quantity', (a: Quantity, b: Quantity) => a.add(b));
  fn('kubernetes.Quantity.add(int): kubernetes.Quantity', (a: Quantity, b: bigint) => a.add(b));
  fn('kubernetes.Quantity.sub(kubernetes.Quantity): kubernetes.Quantity', (a: Quantity, b: Quantity) => a.sub(b));
  fn('kubernetes.Quantity.sub(int): kubernetes.Quantity', (a: Quantity, b: bigint) => a.sub(b));
  // url (k8s.io/apiserver/pkg/cel/library/urls.go)
  env.registerType('kubernetes.URL', KubeURL);
  env.registerOperator('kubernetes.URL == kubernetes.URL', (a: KubeURL, b: KubeURL) => a.text === b.text);
  fn('url(string): kubernetes.URL', (s: string) => KubeURL.parse(s));
  fn('isURL(string): bool', (s: string) => parses(KubeURL.parse, s));
  fn('kubernetes.URL.getScheme(): string', (u: KubeURL) => u.scheme);
  fn('kubernetes.URL.getHost(): string', (u: KubeURL) => u.host);
  fn('kubernetes.URL.getHostname(): string', (u: KubeURL) => u.hostname());
  fn('kubernetes.URL.getPort(): string', (u: KubeURL) => u.port());
  fn('kubernetes.URL.getEscapedPath(): string', (u: KubeURL) => u.path);
  fn('kubernetes.URL.getQuery(): map<string, list<string>>', (u: KubeURL) => u.queryMap());
  registerNetworkLibraries(env);
  // semver (k8s.io/apiserver/pkg/cel/library/semverlib.go)
  env.registerType('kubernetes.Semver', Semver);
  env.registerOperator('kubernetes.Semver == kubernetes.Semver', (a: Semver, b: Semver) => a.compareTo(b) === 0n);
  fn('semver(string): kubernetes.Semver', (s: string) => Semver.parse(s));
  fn('semver(string, bool): kubernetes.Semver', (s: string, n: boolean) => Semver.parse(s, n));
  fn('isSemver(string): bool', (s: string) => parses(Semver.parse, s));
  fn('isSemver(string, bool): bool', (s: string, n: boolean) => parses((x) => Semver.parse(x, n), s));
  fn('kubernetes.Semver.major(): int', (v: Semver) => v.major);
  fn('kubernetes.Semver.minor(): int', (v: Semver) => v.minor);
  fn('kubernetes.Semver.patch(): int', (v: Semver) => v.patch);
  fn('kubernetes.Semver.compareTo(kubernetes.Semver): int', (a: Semver, b: Semver) => a.compareTo(b));
  fn('kubernetes.Semver.isGreaterThan(kubernetes.Semver): bool', (a: Semver, b: Semver) => a.compareTo(b) > 0n);
  fn('kubernetes.Semver.isLessThan(kubernetes.Semver): bool', (a: Semver, b: Semver) => a.compareTo(b) < 0n);
  return env;
}

/** ip and cidr (k8s.io/apiserver/pkg/cel/library/{ip,cidr}.go). */
function registerNetworkLibraries(env: Environment): void {
  const fn = (sig: string, handler: (...args: never[]) => unknown): void => {
    env.registerFunction(sig, handler as (...args: unknown[]) => unknown);
  };
  const ip = (s: string): IPAddress => {
    try {
      return IPAddress.parse(s);
    } catch (e) {
      throw new Error(`IP Address ${JSON.stringify(s)} parse error during conversion from string: ${(e as Error).message}`);
    }
  };
  const cidr = (s: string): CIDR => {
    try {
      return CIDR.parse(s);
    } catch (e) {
      throw new Error(`network address parse error during conversion from string: ${(e as Error).message}`);
    }
  };
  env.registerType('net.IP', IPAddress).registerType('net.CIDR', CIDR);
  env.registerOperator('net.IP == net.IP', (a: IPAddress, b: IPAddress) => a.family === b.family && a.value === b.value);
  env.registerOperator('net.CIDR == net.CIDR', (a: CIDR, b: CIDR) => a.toString() === b.toString());
  fn('ip(string): net.IP', ip);
  fn('isIP(string): bool', (s: string) => parses(IPAddress.parse, s));
  env.registerType('kubernetes.IPNamespace', IPNamespace).registerConstant('ip', 'kubernetes.IPNamespace', new IPNamespace());
  fn('kubernetes.IPNamespace.isCanonical(string): bool', (_: IPNamespace, s: string) => ip(s).toString() === s);
  fn('string(net.IP): string', (a: IPAddress) => a.toString());
  fn('net.IP.family(): int', (a: IPAddress) => BigInt(a.family));
  fn('net.IP.isUnspecified(): bool', (a: IPAddress) => a.isUnspecified());
  fn('net.IP.isLoopback(): bool', (a: IPAddress) => a.isLoopback());
  fn('net.IP.isLinkLocalMulticast(): bool', (a: IPAddress) => a.isLinkLocalMulticast());
  fn('net.IP.isLinkLocalUnicast(): bool', (a: IPAddress) => a.isLinkLocalUnicast());
  fn('net.IP.isGlobalUnicast(): bool', (a: IPAddress) => a.isGlobalUnicast());
  fn('cidr(string): net.CIDR', cidr);
  fn('isCIDR(string): bool', (s: string) => parses(CIDR.parse, s));
  fn('string(net.CIDR): string', (c: CIDR) => c.toString());
  fn('net.CIDR.containsIP(net.IP): bool', (c: CIDR, a: IPAddress) => c.containsIP(a));
  fn('net.CIDR.containsIP(string): bool', (c: CIDR, s: string) => c.containsIP(ip(s)));
  fn('net.CIDR.containsCIDR(net.CIDR): bool', (c: CIDR, o: CIDR) => c.containsCIDR(o));
  fn('net.CIDR.containsCIDR(string): bool', (c: CIDR, s: string) => c.containsCIDR(cidr(s)));
  fn('net.CIDR.ip(): net.IP', (c: CIDR) => c.ip);
  fn('net.CIDR.masked(): net.CIDR', (c: CIDR) => c.masked());
  fn('net.CIDR.prefixLength(): int', (c: CIDR) => BigInt(c.prefixLength));
}

let base: Environment | undefined;

/**
 * A fresh environment with the Kubernetes libraries, ready for a schema's types and variables.
 * Clones share the base's registrations without copying them.
 */
export function kubernetesEnvironment(): Environment {
  base ??= registerKubernetesLibraries(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false }));
  return base.clone();
}
