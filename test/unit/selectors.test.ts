import { expect } from 'chai';
import {
  fieldsOf,
  formatFieldSelector,
  formatLabelSelector,
  isEmptySelector,
  labelSelectorFromMatch,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/server/api/index.js';
import type { KubeObject } from '../../src/server/types.js';
import { apiErrorWith } from '../support/api-error.js';

const badRequestOf = (fn: () => unknown) => apiErrorWith(fn, 400, 'BadRequest');

const matches = (sel: string, labels: Record<string, string> | undefined): boolean => matchesLabels(parseLabelSelector(sel), labels);

describe('label selectors', () => {
  describe('parsing and matching', () => {
    it('treats an empty or blank selector as everything', () => {
      for (const s of ['', '   ', '\t']) {
        const sel = parseLabelSelector(s);
        expect(isEmptySelector(sel)).to.equal(true);
        expect(matchesLabels(sel, undefined)).to.equal(true);
        expect(matchesLabels(sel, { a: 'b' })).to.equal(true);
      }
    });

    it('supports =, == and != (which also matches a missing label)', () => {
      expect(matches('app=web', { app: 'web' })).to.equal(true);
      expect(matches('app==web', { app: 'web' })).to.equal(true);
      expect(matches('app=web', { app: 'db' })).to.equal(false);
      expect(matches('app=web', {})).to.equal(false);
      expect(matches('app!=web', { app: 'db' })).to.equal(true);
      expect(matches('app!=web', {})).to.equal(true);
      expect(matches('app!=web', undefined)).to.equal(true);
      expect(matches('app!=web', { app: 'web' })).to.equal(false);
    });

    it('supports in and notin with whitespace everywhere', () => {
      expect(matches('env in (prod,staging)', { env: 'staging' })).to.equal(true);
      expect(matches('  env   in(  prod ,  staging )  ', { env: 'prod' })).to.equal(true);
      expect(matches('env in (prod,staging)', { env: 'dev' })).to.equal(false);
      expect(matches('env in (prod)', {})).to.equal(false);
      expect(matches('env notin (prod,staging)', { env: 'dev' })).to.equal(true);
      expect(matches('env notin (prod,staging)', {})).to.equal(true);
      expect(matches('env notin (prod,staging)', { env: 'prod' })).to.equal(false);
    });

    it('supports existence and non-existence', () => {
      expect(matches('app', { app: '' })).to.equal(true);
      expect(matches('app', { other: 'x' })).to.equal(false);
      expect(matches('!app', { other: 'x' })).to.equal(true);
      expect(matches('! app', { app: 'x' })).to.equal(false);
    });

    it('ANDs comma-separated requirements, including repeated keys', () => {
      const sel = 'app=web, tier in (front,back), !canary, release';
      expect(matches(sel, { app: 'web', tier: 'front', release: 'x' })).to.equal(true);
      expect(matches(sel, { app: 'web', tier: 'front' })).to.equal(false);
      expect(matches(sel, { app: 'web', tier: 'front', release: 'x', canary: 'true' })).to.equal(false);
      expect(matches('a!=x,a!=y', { a: 'z' })).to.equal(true);
      expect(matches('a!=x,a!=y', { a: 'y' })).to.equal(false);
      expect(parseLabelSelector(sel).requirements).to.have.length(4);
    });

    it('accepts empty values after =, inside lists and as ()', () => {
      expect(matches('a=', { a: '' })).to.equal(true);
      expect(matches('a=', { a: 'x' })).to.equal(false);
      expect(matches('a=,b=y', { a: '', b: 'y' })).to.equal(true);
      expect(parseLabelSelector('a in (x,)').requirements[0]!.values).to.deep.equal(['', 'x']);
      expect(matches('a in ()', { a: '' })).to.equal(true);
    });

    it('accepts prefixed keys and keywords as values', () => {
      expect(matches('example.com/app=web', { 'example.com/app': 'web' })).to.equal(true);
      expect(matches('app.kubernetes.io/name in (in, notin)', { 'app.kubernetes.io/name': 'notin' })).to.equal(true);
      expect(matches('a=in', { a: 'in' })).to.equal(true);
    });

    it('supports integer comparisons with > and <', () => {
      expect(matches('replicas>3', { replicas: '4' })).to.equal(true);
      expect(matches('replicas>3', { replicas: '3' })).to.equal(false);
      expect(matches('replicas<3', { replicas: '-1' })).to.equal(true);
      expect(matches('replicas<3', { replicas: 'two' })).to.equal(false);
      expect(matches('replicas<3', {})).to.equal(false);
    });

    it('does not see labels through the prototype chain', () => {
      expect(matches('constructor', {})).to.equal(false);
      expect(matches('!toString', {})).to.equal(true);
    });

    it('gives kube-shaped errors for malformed selectors', () => {
      const cases: [string, string][] = [
        ['a b', "found 'b', expected: in, notin, =, ==, !=, gt, lt"],
        ['a=b c', "found 'c', expected: ',' or 'end of string'"],
        ['a in b', "found 'b', expected: '('"],
        ['a in (b', "found '', expected: ',', ')' or identifier"],
        ['a in (b c)', "found 'c', expected: ',' or ')'"],
        [',a', "found ',', expected: !, identifier"],
        ['a,', "found '', expected: !, identifier"],
        ['a,,b', "found ',', expected: !, identifier"],
        ['!', "found '', expected: identifier after '!'"],
        ['!a=b', "found '=', expected: ',' or 'end of string'"],
        ['a=(b)', "found '(', expected: identifier"],
        ['a>b', `values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
      ];
      for (const [sel, msg] of cases) {
        const err = badRequestOf(() => parseLabelSelector(sel));
        expect(err.message, sel).to.equal(`unable to parse requirement: ${msg}`);
      }
    });

    it('validates keys and values like kube', () => {
      const long = 'x'.repeat(64);
      expect(badRequestOf(() => parseLabelSelector('-a=b')).message).to.match(
        /^unable to parse requirement: key: Invalid value: "-a": name part must consist of alphanumeric/,
      );
      expect(badRequestOf(() => parseLabelSelector(`${long}=b`)).message).to.contain('name part must be no more than 63 characters');
      expect(badRequestOf(() => parseLabelSelector('Example.com/a=b')).message).to.contain('prefix part a lowercase RFC 1123 subdomain');
      expect(badRequestOf(() => parseLabelSelector('/a')).message).to.contain('prefix part must be non-empty');
      expect(badRequestOf(() => parseLabelSelector('a/')).message).to.contain('name part must be non-empty');
      expect(badRequestOf(() => parseLabelSelector('a/b/c')).message).to.contain('a qualified name must consist of');
      expect(badRequestOf(() => parseLabelSelector(`a=${long}`)).message).to.equal(
        `unable to parse requirement: values[0][a]: Invalid value: "${long}": must be no more than 63 characters`,
      );
      expect(badRequestOf(() => parseLabelSelector('a in (ok,-bad)')).message).to.contain('values[1][a]: Invalid value: "-bad"');
      expect(badRequestOf(() => parseLabelSelector('a=b_')).message).to.contain('a valid label must be an empty string');
      // Boundaries that are fine.
      expect(matches(`${'x'.repeat(63)}=${'y'.repeat(63)}`, { [`${'x'.repeat(63)}`]: 'y'.repeat(63) })).to.equal(true);
      expect(matches('a_b.c-d=E_f.g-H', { 'a_b.c-d': 'E_f.g-H' })).to.equal(true);
    });
  });

  describe('labelSelectorFromMatch', () => {
    it('treats an empty metav1.LabelSelector as everything', () => {
      const sel = labelSelectorFromMatch({});
      expect(isEmptySelector(sel)).to.equal(true);
      expect(matchesLabels(sel, { any: 'thing' })).to.equal(true);
    });

    it('ANDs matchLabels and matchExpressions', () => {
      const sel = labelSelectorFromMatch({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front', 'back'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'release', operator: 'Exists' },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      });
      expect(matchesLabels(sel, { app: 'web', tier: 'back', release: '1' })).to.equal(true);
      expect(matchesLabels(sel, { app: 'web', tier: 'back', release: '1', env: 'dev' })).to.equal(false);
      expect(matchesLabels(sel, { app: 'web', tier: 'back', release: '1', canary: '' })).to.equal(false);
      expect(matchesLabels(sel, { app: 'db', tier: 'back', release: '1' })).to.equal(false);
      expect(matchesLabels(sel, { app: 'web', tier: 'mid', release: '1' })).to.equal(false);
    });

    it('rejects invalid requirements', () => {
      expect(badRequestOf(() => labelSelectorFromMatch({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).message).to.contain(
        "values set can't be empty",
      );
      expect(badRequestOf(() => labelSelectorFromMatch({ matchExpressions: [{ key: 'a', operator: 'NotIn' }] })).message).to.contain(
        "values set can't be empty",
      );
      expect(
        badRequestOf(() => labelSelectorFromMatch({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).message,
      ).to.contain('values set must be empty for exists and does not exist');
      const bogus = { key: 'a', operator: 'Sometimes' } as unknown as { key: string; operator: 'In' };
      expect(badRequestOf(() => labelSelectorFromMatch({ matchExpressions: [bogus] })).message).to.equal(
        '"Sometimes" is not a valid label selector operator',
      );
      expect(badRequestOf(() => labelSelectorFromMatch({ matchLabels: { 'bad key': 'x' } })).message).to.contain('key: Invalid value');
      expect(badRequestOf(() => labelSelectorFromMatch({ matchLabels: { a: 'bad value' } })).message).to.contain('values[0][a]');
    });
  });

  describe('formatLabelSelector', () => {
    it('prints a canonical form that parses back to the same selector', () => {
      const src = 'z!=1, a in (y,x), !b, c, d notin (p,q), n>5, m<2, e=';
      const printed = formatLabelSelector(parseLabelSelector(src));
      expect(printed).to.equal('a in (x,y),!b,c,d notin (p,q),e=,m<2,n>5,z!=1');
      const byKey = (s: string) => [...parseLabelSelector(s).requirements].sort((x, y) => x.key.localeCompare(y.key));
      expect(byKey(printed)).to.deep.equal(byKey(src));
    });
  });
});

describe('field selectors', () => {
  const allowed = new Set(['metadata.name', 'metadata.namespace', 'status.phase']);

  it('treats an empty selector as everything', () => {
    const sel = parseFieldSelector('', allowed);
    expect(isEmptySelector(sel)).to.equal(true);
    expect(matchesFields(sel, {})).to.equal(true);
  });

  it('parses =, == and != and ANDs terms', () => {
    const sel = parseFieldSelector('metadata.name=a, metadata.namespace==ns,status.phase!=Failed', allowed);
    expect(sel.requirements).to.deep.equal([
      { field: 'metadata.name', operator: '=', value: 'a' },
      { field: 'metadata.namespace', operator: '=', value: 'ns' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
    ]);
    expect(matchesFields(sel, { 'metadata.name': 'a', 'metadata.namespace': 'ns', 'status.phase': 'Running' })).to.equal(true);
    expect(matchesFields(sel, { 'metadata.name': 'a', 'metadata.namespace': 'ns', 'status.phase': 'Failed' })).to.equal(false);
    expect(matchesFields(sel, { 'metadata.name': 'b', 'metadata.namespace': 'ns' })).to.equal(false);
  });

  it('reads absent fields as the empty string', () => {
    expect(matchesFields(parseFieldSelector('status.phase=', allowed), {})).to.equal(true);
    expect(matchesFields(parseFieldSelector('status.phase!=', allowed), {})).to.equal(false);
    expect(matchesFields(parseFieldSelector('status.phase!=x', allowed), {})).to.equal(true);
  });

  it('skips empty terms', () => {
    expect(parseFieldSelector('metadata.name=a,,', allowed).requirements).to.have.length(1);
  });

  it('rejects unsupported fields with kube wording', () => {
    expect(badRequestOf(() => parseFieldSelector('spec.nodeName=x', allowed)).message).to.equal('field label not supported: spec.nodeName');
  });

  it('rejects terms it cannot understand', () => {
    expect(badRequestOf(() => parseFieldSelector('metadata.name', allowed)).message).to.equal(
      "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
    );
    expect(badRequestOf(() => parseFieldSelector('=x', allowed)).message).to.contain("can't understand '=x'");
    expect(badRequestOf(() => parseFieldSelector('metadata.name=a\\b', allowed)).message).to.contain("can't understand");
  });

  it('unescapes values and round-trips through formatFieldSelector', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b\\=c\\!\\\\d', allowed);
    expect(sel.requirements[0]!.value).to.equal('a,b=c!\\d');
    expect(formatFieldSelector(sel)).to.equal('metadata.name=a\\,b\\=c\\!\\\\d');
    expect(parseFieldSelector(formatFieldSelector(sel), allowed)).to.deep.equal(sel);
    // An unescaped '=' after the operator belongs to the value.
    expect(parseFieldSelector('metadata.name==a=b', allowed).requirements[0]!.value).to.equal('a=b');
  });

  it('fieldsOf gives name, and namespace only for namespaced kinds', () => {
    const obj: KubeObject = { metadata: { name: 'n', namespace: 'ns' } };
    expect(fieldsOf(obj, true)).to.deep.equal({ 'metadata.name': 'n', 'metadata.namespace': 'ns' });
    expect(fieldsOf(obj, false)).to.deep.equal({ 'metadata.name': 'n' });
    const sel = parseFieldSelector('metadata.namespace=ns', allowed);
    expect(matchesFields(sel, fieldsOf(obj, true))).to.equal(true);
    expect(matchesFields(sel, fieldsOf(obj, false))).to.equal(false);
  });
});
