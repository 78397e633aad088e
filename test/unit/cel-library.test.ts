import { expect } from 'chai';
import { KubeURL, Quantity, kubernetesEnvironment } from '../../src/server/cel/index.js';

const QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

function run(expr: string): unknown {
  return kubernetesEnvironment().evaluate(expr);
}

function fails(expr: string): string {
  try {
    run(expr);
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
  throw new Error(`${expr} evaluated`);
}

describe('server CEL: Kubernetes libraries', () => {
  describe('Quantity', () => {
    it('parses every suffix kind exactly', () => {
      expect(Quantity.parse('1Ki').compareTo(Quantity.parse('1024'))).to.equal(0n);
      expect(Quantity.parse('1.5Gi').compareTo(Quantity.parse('1536Mi'))).to.equal(0n);
      expect(Quantity.parse('100m').compareTo(Quantity.parse('0.1'))).to.equal(0n);
      expect(Quantity.parse('1e3').compareTo(Quantity.parse('1k'))).to.equal(0n);
      expect(Quantity.parse('-2M').sign()).to.equal(-1n);
      expect(Quantity.parse('.5').asApproximateFloat()).to.equal(0.5);
      expect(Quantity.parse('+3').asInteger()).to.equal(3n);
    });

    it('refuses malformed text with apimachinery’s message', () => {
      for (const bad of ['', 'abc', '1Gb', '1.2.3', '--1', '1e']) expect(() => Quantity.parse(bad), bad).to.throw(QUANTITY_ERROR);
    });

    it('converts to an integer only when whole and within int64', () => {
      expect(() => Quantity.parse('1500m').asInteger()).to.throw('cannot convert value to integer');
      expect(Quantity.parse('1500m').isInteger()).to.equal(false);
      expect(Quantity.parse('9Ei').isInteger()).to.equal(false);
      expect(Quantity.parse('1500m').add(Quantity.parse('500m')).asInteger()).to.equal(2n);
    });
  });

  describe('quantity functions', () => {
    it('compares, adds and subtracts', () => {
      expect(run("quantity('1Gi').isGreaterThan(quantity('1000Mi'))")).to.equal(true);
      expect(run("quantity('1').isLessThan(quantity('999m'))")).to.equal(false);
      expect(run("quantity('2').compareTo(quantity('2000m'))")).to.equal(0n);
      expect(run("quantity('100m') == quantity('0.1')")).to.equal(true);
      expect(run("quantity('1.5').add(1).sub(quantity('500m')).asInteger()")).to.equal(2n);
      expect(run("isQuantity('1x')")).to.equal(false);
      expect(fails("quantity('1x')")).to.equal(QUANTITY_ERROR);
    });
  });

  describe('lists and sets', () => {
    it('has the Kubernetes list functions', () => {
      expect(run('[1, 2, 3].sum()')).to.equal(6n);
      expect(run('[1.5, 2.5].sum()')).to.equal(4);
      expect(run('[1, 2, 2].isSorted()')).to.equal(true);
      expect(run("['b', 'a'].isSorted()")).to.equal(false);
      expect(run('[3, 1, 2].min()')).to.equal(1n);
      expect(run('[3, 1, 2].max()')).to.equal(3n);
      expect(run('[1, 2, 1].indexOf(1)')).to.equal(0n);
      expect(run('[1, 2, 1].lastIndexOf(1)')).to.equal(2n);
      expect(run('[1, 2].indexOf(5)')).to.equal(-1n);
      expect(fails('[].min()')).to.equal('min called on empty list');
    });

    it('has the ext list functions', () => {
      expect(run('[1, 2, 3, 4].slice(1, 3)')).to.deep.equal([2n, 3n]);
      expect(run('[[1], [2, 3]].flatten()')).to.deep.equal([1n, 2n, 3n]);
      expect(run('[1, 1, 2].distinct()')).to.deep.equal([1n, 2n]);
      expect(run('[1, 2].reverse()')).to.deep.equal([2n, 1n]);
      expect(run("['b', 'c', 'a'].sort()")).to.deep.equal(['a', 'b', 'c']);
      expect(run('[7, 8].first().orValue(0)')).to.equal(7n);
      expect(run('[].last().hasValue()')).to.equal(false);
      expect(run('lists.range(3)')).to.deep.equal([0n, 1n, 2n]);
      expect(fails('[1].slice(0, 2)')).to.equal('cannot slice(0, 2), list is length 1');
    });

    it('has the sets functions', () => {
      expect(run('sets.contains([1, 2, 3], [3, 1])')).to.equal(true);
      expect(run('sets.contains([1], [2])')).to.equal(false);
      expect(run('sets.equivalent([1, 2, 2], [2, 1])')).to.equal(true);
      expect(run('sets.intersects([1, 2], [2, 3])')).to.equal(true);
    });
  });

  describe('strings and regex', () => {
    it('has the ext string functions', () => {
      expect(run("'hello'.charAt(1)")).to.equal('e');
      expect(run("'aaa'.replace('a', 'b')")).to.equal('bbb');
      expect(run("'aaa'.replace('a', 'b', 2)")).to.equal('bba');
      expect(run("'abc'.reverse()")).to.equal('cba');
      expect(run("'AbC'.lowerAscii() + 'x'.upperAscii()")).to.equal('abcX');
      expect(run("'a,b'.split(',')")).to.deep.equal(['a', 'b']);
      expect(run("' a '.trim()")).to.equal('a');
      expect(run("['a', 'b'].join('-')")).to.equal('a-b');
      expect(run('strings.quote(\'say "hi"\')')).to.equal('"say \\"hi\\""');
    });

    it('finds regex matches', () => {
      expect(run("'abc 123 def 456'.find('[0-9]+')")).to.equal('123');
      expect(run("'abc'.find('[0-9]+')")).to.equal('');
      expect(run("'a1b22c333'.findAll('[0-9]+')")).to.deep.equal(['1', '22', '333']);
      expect(run("'a1b22c333'.findAll('[0-9]+', 2)")).to.deep.equal(['1', '22']);
      expect(run("'ABC'.find('(?i)b')")).to.equal('B');
      expect(run("'widget-1'.matches('^[a-z]+-[0-9]$')")).to.equal(true);
    });
  });

  describe('url', () => {
    it('reads the parts of a URL as Go’s url package does', () => {
      expect(run("url('https://user@example.com:8443/a%20b?x=1&x=2&y=').getHost()")).to.equal('example.com:8443');
      expect(run("url('https://example.com:8443/p').getHostname()")).to.equal('example.com');
      expect(run("url('https://[::1]:80/p').getHostname()")).to.equal('::1');
      expect(run("url('https://[::1]:80/p').getPort()")).to.equal('80');
      expect(run("url('https://example.com').getPort()")).to.equal('');
      expect(run("url('https://example.com/a%20b').getEscapedPath()")).to.equal('/a%20b');
      expect(run("url('https://example.com/?x=1&x=2').getQuery()")).to.deep.equal(new Map([['x', ['1', '2']]]));
      expect(run("url('/just/a/path').getScheme()")).to.equal('');
      expect(run("isURL('not a url')")).to.equal(false);
      expect(fails("url('relative/path')")).to.equal('URL parse error during conversion from string: parse "relative/path": invalid URI for request');
      expect(KubeURL.parse('http://h/p?q=1').query).to.equal('q=1');
    });
  });

  describe('ip and cidr', () => {
    it('parses addresses as netip does and classifies them', () => {
      expect(run("ip('10.0.0.1').family()")).to.equal(4n);
      expect(run("ip('2001:db8::1').family()")).to.equal(6n);
      for (const bad of ['010.0.0.1', '::ffff:1.2.3.4', 'fe80::1%eth0', '1.2.3', 'x']) expect(run(`isIP('${bad}')`), bad).to.equal(false);
      expect(fails("ip('::ffff:1.2.3.4')")).to.equal('IP Address "::ffff:1.2.3.4" parse error during conversion from string: IPv4-mapped IPv6 address is not allowed');
      expect(run("string(ip('2001:0db8:0:0:0:0:0:1'))")).to.equal('2001:db8::1');
      expect(run("string(ip('1:0:0:1:0:0:0:1'))")).to.equal('1:0:0:1::1');
      expect(run("string(ip('::1.2.3.4'))")).to.equal('::102:304');
      expect(run("ip.isCanonical('2001:db8::1')")).to.equal(true);
      expect(run("ip.isCanonical('2001:DB8::1')")).to.equal(false);
      expect(run("ip('127.0.0.5').isLoopback() && ip('::1').isLoopback()")).to.equal(true);
      expect(run("ip('169.254.1.1').isLinkLocalUnicast() && ip('fe80::1').isLinkLocalUnicast()")).to.equal(true);
      expect(run("ip('224.0.0.1').isLinkLocalMulticast() && ip('ff02::1').isLinkLocalMulticast()")).to.equal(true);
      expect(run("ip('0.0.0.0').isUnspecified() && ip('::').isUnspecified()")).to.equal(true);
      expect(run("ip('8.8.8.8').isGlobalUnicast() && !ip('255.255.255.255').isGlobalUnicast() && !ip('ff00::1').isGlobalUnicast()")).to.equal(true);
      expect(run("ip('1.2.3.4') == ip('1.2.3.4')")).to.equal(true);
    });

    it('tests containment and masks prefixes', () => {
      expect(run("cidr('10.0.0.0/8').containsIP('10.1.2.3')")).to.equal(true);
      expect(run("cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))")).to.equal(false);
      expect(run("cidr('10.0.0.0/8').containsIP('::1')")).to.equal(false);
      expect(run("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')")).to.equal(true);
      expect(run("cidr('10.1.0.0/16').containsCIDR(cidr('10.0.0.0/8'))")).to.equal(false);
      expect(run("string(cidr('10.1.2.3/8').masked())")).to.equal('10.0.0.0/8');
      expect(run("string(cidr('10.1.2.3/8').ip())")).to.equal('10.1.2.3');
      expect(run("cidr('2001:db8::/32').prefixLength()")).to.equal(32n);
      expect(run("isCIDR('10.0.0.0/33') || isCIDR('10.0.0.0') || isCIDR('10.0.0.0/08')")).to.equal(false);
    });
  });

  it('parses and orders semantic versions', () => {
    expect(run("semver('1.2.3').major() + semver('1.2.3').minor() + semver('1.2.3').patch()")).to.equal(6n);
    expect(run("semver('1.10.0').isGreaterThan(semver('1.9.9'))")).to.equal(true);
    expect(run("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))")).to.equal(true);
    expect(run("semver('1.0.0-alpha.2').compareTo(semver('1.0.0-alpha.10'))")).to.equal(-1n);
    expect(run("semver('1.0.0-alpha.beta').compareTo(semver('1.0.0-alpha.1'))")).to.equal(1n);
    expect(run("semver('1.0.0+build.1') == semver('1.0.0+build.2')")).to.equal(true);
    expect(run("isSemver('v1.2') || isSemver('1.02.3')")).to.equal(false);
    expect(run("isSemver('v1.2', true) && semver('v01.2', true).minor() == 2")).to.equal(true);
  });

  it('leaves out what it does not implement, so such rules fail to compile', () => {
    const env = kubernetesEnvironment();
    for (const expr of ["format.dns1123Label().validate('a').hasValue()", "'%s'.format(['a']) == 'a'", '[1].all(i, v, v > 0)']) {
      expect(env.check(expr).valid, expr).to.equal(false);
    }
  });
});
