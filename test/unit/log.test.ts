/**
 * The logger: an error's stack as `stacktrace` (error level, or any level at debug) in JSON and
 * text lines, a reconcile error's line carrying the reconciler's frames, and redaction by what a
 * value is (Secret data, credential fields, tokens in strings) rather than by a field named `secret`.
 */
import { expect } from 'chai';
import { Logger, Manager } from '../../src/index.js';
import { FakeProvider } from '../support/fake-cluster.js';
import { eventually } from '../support/server.js';

const THIS_FILE = /log\.test\.(ts|js)/;

function capture(opts: ConstructorParameters<typeof Logger>[0] = {}): { log: Logger; lines: string[]; json: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = new Logger({ now: () => new Date(0), ...opts, write: (l) => lines.push(l) });
  return { log, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function failing(): Error {
  return new Error('disk on fire');
}

describe('logger', () => {
  describe('stacktrace', () => {
    it('adds the error\'s frames to an error entry, after its message, in JSON', () => {
      const { log, json } = capture();
      log.error('reconcile failed', { err: failing(), cluster: 'c1' });
      const [l] = json();
      expect(l).to.include({ level: 'error', msg: 'reconcile failed', err: 'disk on fire', cluster: 'c1' });
      const st = String(l!['stacktrace']);
      expect(st).to.match(/^\s+at failing \(/);
      expect(st).to.match(THIS_FILE);
      expect(st).to.not.contain('disk on fire');
      expect(Object.keys(l!).at(-1)).to.equal('stacktrace');
    });

    it('writes it in text format too, on the entry\'s one line', () => {
      const { log, lines } = capture({ format: 'text' });
      log.error('reconcile failed', { err: failing() });
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^\S+ ERROR reconcile failed err="disk on fire" stacktrace="\s+at failing \(.*log\.test\.(ts|js):\d+:\d+\)\\n/);
    });

    it('prefers the err field, else takes the first field holding an error', () => {
      const { log, json } = capture();
      const other = new Error('other');
      log.error('a', { cause: other, err: failing() });
      log.error('b', { cause: other });
      const [a, b] = json();
      expect(String(a!['stacktrace'])).to.match(/at failing/);
      expect(String(b!['stacktrace'])).to.not.match(/at failing/);
      expect(String(b!['stacktrace'])).to.match(THIS_FILE);
    });

    it('leaves it out below error level, unless the logger is at debug; and for thrown values without a stack', () => {
      const info = capture();
      info.log.warn('retrying', { err: failing() });
      info.log.error('odd throw', { err: 'a string' });
      info.log.error('no frames', { err: Object.assign(new Error('x'), { stack: 'Error: x' }) });
      expect(info.json().map((l) => 'stacktrace' in l)).to.deep.equal([false, false, false]);
      const debug = capture({ level: 'debug' });
      debug.log.info('retrying', { err: failing() });
      expect(String(debug.json()[0]!['stacktrace'])).to.match(THIS_FILE);
    });

    it('is on the line of a reconcile that threw an Error, naming the reconciler\'s file', async () => {
      for (const format of ['json', 'text'] as const) {
        const { log, lines } = capture({ format });
        const provider = new FakeProvider();
        const manager = new Manager({ provider, log, gracefulShutdownMs: 1000 });
        let calls = 0;
        manager
          .controller('thrower')
          .for({ apiVersion: 'v1', kind: 'ConfigMap' })
          .reconcile(async function reconcileThrower() {
            if (++calls === 1) throw new Error('no database yet');
          });
        const ctl = new AbortController();
        const done = manager.start({ signal: ctl.signal });
        provider.endpoint.informer({ apiVersion: 'v1', kind: 'ConfigMap' }).put('c1', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } });
        provider.add('c1');
        try {
          const line = await eventually(() => lines.find((l) => l.includes('reconcile failed')), `the ${format} error line`);
          if (format === 'json') {
            const l = JSON.parse(line!) as Record<string, unknown>;
            expect(l).to.include({ level: 'error', controller: 'thrower', err: 'no database yet' });
            expect(String(l['stacktrace'])).to.match(/at (\S+\.)?reconcileThrower( \[as \w+\])? \(.*log\.test\.(ts|js):\d+:\d+\)/);
          } else {
            expect(line).to.match(/ ERROR reconcile failed; retrying with backoff .*err="no database yet".* stacktrace=".*at (\S+\.)?reconcileThrower( \[as \w+\])? \(.*log\.test\.(ts|js):\d+:\d+\)/);
          }
        } finally {
          ctl.abort();
          await done;
        }
      }
    });
  });

  describe('child loggers', () => {
    it('build no field object when nothing is written: with() reads its fields only for a line at an enabled level', () => {
      let reads = 0;
      const counted = (o: Record<string, unknown>) => new Proxy(o, { ownKeys: (t) => (reads++, Reflect.ownKeys(t)) });
      const { log, json } = capture({ level: 'info' });
      const child = log.with(counted({ controller: 'c' })).with(counted({ cluster: 'x', name: 'n', namespace: undefined }));
      child.debug('not written', { a: 1 });
      expect(child.enabled('debug')).to.equal(false);
      expect(reads).to.equal(0);
      child.info('written', { b: 2 });
      child.info('again');
      expect(json().map(({ msg, ...rest }) => ({ msg, ...rest, time: undefined, level: undefined }))).to.deep.equal([
        { msg: 'written', controller: 'c', cluster: 'x', name: 'n', b: 2, time: undefined, level: undefined },
        { msg: 'again', controller: 'c', cluster: 'x', name: 'n', time: undefined, level: undefined },
      ]);
      // Merged once, then kept.
      expect(reads).to.equal(2);
    });

    it('write where and as their parent does; later fields win; fields lists the merged set', () => {
      const { log, lines } = capture({ format: 'text', level: 'debug' });
      const child = log.with({ a: 1, b: 1 }).with({ b: 2 });
      child.debug('m', { c: 3 });
      expect(lines).to.deep.equal(['1970-01-01T00:00:00.000Z DEBUG m a=1 b=2 c=3']);
      expect(child.fields).to.deep.equal({ a: 1, b: 2 });
      expect(log.fields).to.deep.equal({});
    });
  });

  describe('redaction by what a value is', () => {
    const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLWJ5dGVz';

    it('keeps names of Secrets, and other values under a field named secret', () => {
      const { log, json, lines } = capture();
      log.info('applied', { secret: 'db-conn', secretName: 'x-conn', secrets: ['a', 'b'] });
      expect(json()[0]).to.deep.include({ secret: 'db-conn', secretName: 'x-conn', secrets: ['a', 'b'] });
      const text = capture({ format: 'text' });
      text.log.info('applied', { secret: 'db-conn' });
      expect(text.lines[0]).to.match(/ secret=db-conn$/);
      expect(lines[0]).to.not.contain('[redacted]');
    });

    it('redacts a Secret\'s data and stringData values (keys kept) and its last-applied copy, under any field', () => {
      const { log, lines, json } = capture();
      const secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'x-conn', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}', team: 'db' } },
        type: 'Opaque',
        data: { password: 'aHVudGVyMg==', host: 'ZGIuZXhhbXBsZQ==' },
        stringData: { url: 'postgres://app@db' },
      };
      log.info('created', { obj: secret, list: { kind: 'SecretList', items: [{ metadata: { name: 'y' }, data: { k: 'c2VjcmV0' } }] } });
      const l = json()[0]!;
      expect(l['obj']).to.deep.equal({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'x-conn', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '[redacted]', team: 'db' } },
        type: 'Opaque',
        data: { password: '[redacted]', host: '[redacted]' },
        stringData: { url: '[redacted]' },
      });
      expect((l['list'] as { items: unknown[] }).items).to.deep.equal([{ metadata: { name: 'y' }, data: { k: '[redacted]' } }]);
      for (const leaked of ['aHVudGVyMg', 'ZGIuZXhhbXBsZQ', 'postgres://', 'c2VjcmV0']) expect(lines[0]).to.not.contain(leaked);
      // The object logged is not changed.
      expect(secret.data.password).to.equal('aHVudGVyMg==');
    });

    it('redacts credential fields at any depth: headers, kubeconfig users, auth-provider config', () => {
      const { log, lines, json } = capture();
      log.info('request', {
        headers: { Authorization: 'Bearer abc.def', 'Content-Type': 'application/json', cookie: 'sid=1' },
        token: 'sekret-token',
        users: [{ name: 'admin', user: { token: 'tok-1', password: 'pw', 'client-key-data': 'LS0tLS1', 'client-certificate': '/etc/cert.pem', 'auth-provider': { config: { 'id-token': 'idt', 'refresh-token': 'rt', 'client-secret': 'cs', 'client-id': 'kubectl' } } } }],
        user: { keyData: 'kd', certData: 'cert', keyFile: '/etc/key.pem', username: 'admin' },
        hasToken: true,
      });
      const l = json()[0]!;
      expect(l['headers']).to.deep.equal({ Authorization: '[redacted]', 'Content-Type': 'application/json', cookie: '[redacted]' });
      expect(l['token']).to.equal('[redacted]');
      expect(l['users']).to.deep.equal([
        { name: 'admin', user: { token: '[redacted]', password: '[redacted]', 'client-key-data': '[redacted]', 'client-certificate': '/etc/cert.pem', 'auth-provider': { config: { 'id-token': '[redacted]', 'refresh-token': '[redacted]', 'client-secret': '[redacted]', 'client-id': 'kubectl' } } } },
      ]);
      expect(l['user']).to.deep.equal({ keyData: '[redacted]', certData: 'cert', keyFile: '/etc/key.pem', username: 'admin' });
      expect(l['hasToken']).to.equal(true);
      for (const leaked of ['abc.def', 'sekret-token', 'tok-1', '"pw"', 'LS0tLS1', 'idt', '"rt"', '"cs"', '"kd"']) expect(lines[0]).to.not.contain(leaked);
    });

    it('redacts bearer and basic credentials, JWTs, private keys and URL passwords inside any string, messages and errors too', () => {
      const { log, lines, json } = capture();
      const basic = Buffer.from('admin:hunter2').toString('base64');
      log.error(`GET failed with Authorization: Bearer ${JWT}`, {
        err: new Error(`401 for token ${JWT}`),
        header: `Basic ${basic}`,
        prose: 'Basic authentication is off; Bearer tokens only',
        key: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
        cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
        url: 'https://admin:hunter2@kcp.example:6443/clusters/root',
        plain: 'https://kcp.example:6443/clusters/root',
      });
      const l = json()[0]!;
      expect(l['msg']).to.equal('GET failed with Authorization: Bearer [redacted]');
      expect(l['err']).to.equal('401 for token [redacted]');
      expect(l['header']).to.equal('Basic [redacted]');
      expect(l['prose']).to.equal('Basic authentication is off; Bearer tokens only');
      expect(l['key']).to.equal('[redacted]');
      expect(l['cert']).to.contain('BEGIN CERTIFICATE');
      expect(l['url']).to.equal('https://admin:[redacted]@kcp.example:6443/clusters/root');
      expect(l['plain']).to.equal('https://kcp.example:6443/clusters/root');
      for (const leaked of [JWT.slice(0, 20), basic, 'hunter2', 'MIIEow']) expect(lines[0]).to.not.contain(leaked);
    });

    it('redacts bound fields of child loggers and what an object writes through toJSON; cuts cycles instead of throwing', () => {
      const { log, json } = capture();
      const cyclic: Record<string, unknown> = { name: 'a' };
      cyclic['self'] = cyclic;
      const cached = { toJSON: () => ({ kind: 'Secret', metadata: { name: 's' }, data: { k: 'dg==' } }) };
      log.with({ password: 'pw' }).info('x', { cyclic, cached });
      expect(json()[0]).to.deep.include({ password: '[redacted]', cyclic: { name: 'a', self: '[circular]' }, cached: { kind: 'Secret', metadata: { name: 's' }, data: { k: '[redacted]' } } });
    });
  });
});
