/** URL joining and the validation of cluster names, namespaces and object names before they enter a URL. */
import { expect } from 'chai';
import {
  clusterOfURL,
  clusterURL,
  InvalidClusterNameError,
  InvalidObjectNameError,
  isLogicalClusterName,
  isLogicalClusterPath,
  joinURL,
  nameSegment,
  namespaceSegment,
  validateCluster,
} from '../../src/client/index.js';

describe('client: joinURL', () => {
  const cases: [string, string, string][] = [
    ['https://h:6443', '/api/v1', 'https://h:6443/api/v1'],
    ['https://h:6443/', '/api/v1', 'https://h:6443/api/v1'],
    ['https://h:6443/', 'api/v1', 'https://h:6443/api/v1'],
    ['https://h/clusters/root:org', '/api', 'https://h/clusters/root:org/api'],
    ['https://h/clusters/root:org/', '/api', 'https://h/clusters/root:org/api'],
    ['https://h/clusters/root:org//', '//api', 'https://h/clusters/root:org/api'],
    ['https://h/services/apiexport/abc/widgets', 'clusters/*/apis/x.dev/v1/widgets', 'https://h/services/apiexport/abc/widgets/clusters/*/apis/x.dev/v1/widgets'],
    ['https://h/clusters/x', '', 'https://h/clusters/x'],
    ['https://h/clusters/x/', '/', 'https://h/clusters/x'],
    ['https://h/clusters/x', '?watch=1', 'https://h/clusters/x?watch=1'],
  ];
  for (const [base, path, want] of cases) {
    it(`${base} + ${path}`, () => expect(joinURL(base, path)).to.equal(want));
  }
  it('never produces // after the scheme', () => {
    for (const [base, path] of cases) expect(joinURL(base, path).slice('https://'.length)).not.to.contain('//');
  });
});

describe('client: logical cluster names and paths', () => {
  it('accepts names, system: names and paths', () => {
    for (const n of ['root', 'ab', '18hjcbxmhbq0k9y1', 'a-b', 'system:admin', 'system:shard']) expect(isLogicalClusterName(n), n).to.equal(true);
    for (const p of ['root', 'root:org', 'root:org:team-1', 'a', 'a:b:c']) expect(isLogicalClusterPath(p), p).to.equal(true);
    expect(isLogicalClusterName('a'.repeat(63))).to.equal(true);
  });
  it('rejects what the regexes reject', () => {
    for (const n of ['', 'a', '-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(64), 'root:org']) expect(isLogicalClusterName(n), n).to.equal(false);
    for (const p of ['', ':', 'root:', ':root', 'root::org', 'Root', 'root:-x', 'root/org', '*']) expect(isLogicalClusterPath(p), p).to.equal(false);
  });
  it('validateCluster throws InvalidClusterNameError, allowing * only when asked', () => {
    for (const bad of ['', '..', '../../api/v1/secrets', 'root/../x', 'root?x=1', 'root#x', 'root%2f..', 'ROOT', 'root org', '*']) {
      expect(() => validateCluster(bad), bad).to.throw(InvalidClusterNameError);
    }
    expect(() => validateCluster('*', { allowWildcard: true })).not.to.throw();
    expect(() => validateCluster('root:org')).not.to.throw();
  });
  it('clusterURL builds <base>/clusters/<x> without doubling slashes', () => {
    expect(clusterURL('https://h:1/', 'root:org')).to.equal('https://h:1/clusters/root:org');
    expect(clusterURL('https://h/services/apiexport/abc/w', '*', { allowWildcard: true })).to.equal('https://h/services/apiexport/abc/w/clusters/*');
    expect(() => clusterURL('https://h', 'x/../../y')).to.throw(InvalidClusterNameError);
  });
  it('clusterOfURL reads the cluster of a cluster URL', () => {
    expect(clusterOfURL('https://h/clusters/root:org')).to.equal('root:org');
    expect(clusterOfURL('https://h/clusters/root/')).to.equal('root');
    expect(clusterOfURL('https://h/services/apiexport/a/b')).to.equal(undefined);
  });
});

describe('client: namespace and object name segments', () => {
  it('encodes legal names with reserved characters', () => {
    expect(nameSegment('system:controller:x')).to.equal('system%3Acontroller%3Ax');
    expect(nameSegment('a b?c#d')).to.equal('a%20b%3Fc%23d');
    expect(nameSegment('plain-name.v1')).to.equal('plain-name.v1');
  });
  it('rejects names that could change the path', () => {
    for (const bad of ['', '.', '..', 'a/b', '../x', '%2e%2e', 'a%2Fb', 'x\n', 'x'.repeat(254)]) {
      expect(() => nameSegment(bad), JSON.stringify(bad)).to.throw(InvalidObjectNameError);
    }
  });
  it('requires namespaces to be DNS labels', () => {
    expect(namespaceSegment('kube-system')).to.equal('kube-system');
    for (const bad of ['', '..', 'a/b', 'A', 'a.b', '-a', 'x'.repeat(64)]) {
      expect(() => namespaceSegment(bad), bad).to.throw(InvalidObjectNameError);
    }
  });
});
