import { expect } from 'chai';
import { checkClusterSegment, isClusterName, isClusterPath, splitPath } from '../../src/server/api/index.js';
import { apiErrorOf as refusal } from '../support/api-error.js';

describe('server names', () => {
  describe('splitPath', () => {
    it('splits and percent-decodes each segment exactly once', () => {
      expect(splitPath('/')).to.deep.equal([]);
      expect(splitPath('/clusters/root/api/v1')).to.deep.equal(['clusters', 'root', 'api', 'v1']);
      expect(splitPath('/clusters/%2A/api')).to.deep.equal(['clusters', '*', 'api']);
      expect(splitPath('/a/%C3%BCn%C3%AFcode')).to.deep.equal(['a', 'ünïcode']);
      // %252F decodes to the text "%2F", not to a slash.
      expect(splitPath('/a/%252F')).to.deep.equal(['a', '%2F']);
      expect(splitPath('/a/%252e%252e')).to.deep.equal(['a', '%2e%2e']);
    });

    it('tolerates one trailing slash, as kube’s mux does', () => {
      expect(splitPath('/apis/')).to.deep.equal(['apis']);
      expect(refusal(() => splitPath('/apis//')).code).to.equal(400);
    });

    it('refuses dot segments, empty segments, slashes and NULs, encoded or not', () => {
      for (const p of ['/clusters/../api', '/a/%2e%2e', '/a/%2E%2e/b', '/a/.', '/a/%2e', '/a//b', '//a', '/a/%2F', '/a/root%2Fetc', '/a/x%00', '/a/%00']) {
        const err = refusal(() => splitPath(p));
        expect(err.code, p).to.equal(400);
        expect(err.reason, p).to.equal('BadRequest');
        expect(err.message, p).to.match(/^invalid request path segment "/);
      }
    });

    it('refuses invalid percent-encoding and relative paths', () => {
      for (const p of ['/a/%zz', '/a/%', '/a/%C3', '/a/%E0%A4%A']) {
        expect(refusal(() => splitPath(p)).message, p).to.include('invalid percent-encoding');
      }
      expect(refusal(() => splitPath('api/v1')).code).to.equal(400);
      expect(refusal(() => splitPath('*')).code).to.equal(400);
    });
  });

  describe('checkClusterSegment', () => {
    it('accepts names, paths, system: names and the wildcard', () => {
      for (const x of ['root', 'a', 'root:org:team', '18hjcbxmhbq0k9y1', 'system:admin', 'system:shard', '*', `root:${'a'.repeat(63)}`]) {
        expect(() => checkClusterSegment(x), x).not.to.throw();
      }
    });

    it('answers 400 "does not match the regex" for anything else', () => {
      const bad = ['ROOT', 'Root', 'root:', ':root', 'root::x', '', 'a'.repeat(64), `root:${'a'.repeat(64)}`, 'a_b', 'a.b', '-a', 'a-', 'root:-x', '**', 'root:*', 'ünïcode', 'system:', 'root/etc'];
      for (const x of bad) {
        const err = refusal(() => checkClusterSegment(x));
        expect(err.code, x).to.equal(400);
        expect(err.reason, x).to.equal('BadRequest');
        expect(err.message, x).to.equal(`invalid cluster: "${x}" does not match the regex`);
      }
    });

    it('bounds the length of a whole path', () => {
      const long = Array(200).fill('abcdef').join(':');
      expect(isClusterPath(long)).to.equal(false);
      expect(refusal(() => checkClusterSegment(long)).code).to.equal(400);
    });
  });

  describe('isClusterName', () => {
    it('takes single segments of two or more characters and system: names, not paths', () => {
      expect(isClusterName('root')).to.equal(true);
      expect(isClusterName('18hjcbxmhbq0k9y1')).to.equal(true);
      expect(isClusterName('system:admin')).to.equal(true);
      expect(isClusterName('a')).to.equal(false);
      expect(isClusterName('root:org')).to.equal(false);
      expect(isClusterName('*')).to.equal(false);
    });
  });
});
