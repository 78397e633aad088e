/** The reference server's self-signed serving certificate. */
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { createServingCert } from '../../src/server/http/index.js';

describe('server TLS certificate', () => {
  it('is accepted by OpenSSL every time and covers the hosts asked for', () => {
    // A serial with a non-minimal DER encoding failed about 1 in 256 starts. Its first byte is
    // pinned to 0x40–0x7f, which each certificate checks, so that a few hundred suffice.
    for (let i = 0; i < 300; i++) {
      const c = createServingCert(['localhost', '127.0.0.1', '::1']);
      tls.createSecureContext({ cert: c.cert, key: c.key });
      const x = new X509Certificate(c.cert);
      expect(x.serialNumber).to.match(/^[4-7][0-9A-F]/);
      if (i === 0) {
        expect(x.checkHost('localhost')).to.equal('localhost');
        expect(x.checkIP('127.0.0.1')).to.equal('127.0.0.1');
        expect(x.checkIP('::1')).to.not.equal(undefined);
        expect(x.verify(x.publicKey)).to.equal(true);
        expect(x.ca).to.equal(true);
      }
    }
  }).timeout(60_000);
});
