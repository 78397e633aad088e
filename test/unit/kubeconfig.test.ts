/**
 * Kubeconfigs read without client-node (`PlainKubeConfig`, `loadKubeConfig`): kubectl's reading of
 * files and $KUBECONFIG, the credentials and TLS material a request gets, and the hand-over to
 * client-node's KubeConfig for users only it serves (exec plugins, auth providers, proxies).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as https from 'node:https';
import { KubeConfig as ClientNodeKubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import {
  loadKubeConfig,
  mergeKubeConfigs,
  parseKubeConfig,
  PlainKubeConfig,
  toClientNodeKubeConfig,
  UnknownContextError,
} from '../../src/client/index.js';
import { KubeConfig as LazyKubeConfig } from '../../src/index.js';
import { StringInterner } from '../../src/informer/intern.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

async function optionsOf(kc: { applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }): Promise<https.RequestOptions> {
  const o: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(o);
  return o;
}

function yaml(o: { clusters?: object[]; users?: object[]; contexts?: object[]; current?: string }): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: o.clusters ?? [], users: o.users ?? [], contexts: o.contexts ?? [], 'current-context': o.current });
}

describe('kubeconfig without client-node', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-kubeconfig-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses as kubectl does: relative files from the kubeconfig\'s folder, a literal token over a token file, a clear error naming the entry', () => {
    const c = parseKubeConfig(
      yaml({
        clusters: [{ name: 'c', cluster: { server: 'https://kcp.example:6443/clusters/root/', 'certificate-authority': 'pki/ca.crt', 'tls-server-name': 'kcp' } }],
        users: [
          { name: 'files', user: { 'client-certificate': 'pki/u.crt', 'client-key': '/abs/u.key', tokenFile: 'token' } },
          { name: 'both', user: { token: 'literal', tokenFile: 'token' } },
        ],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'files', namespace: 'ns' } }],
        current: 'x',
      }),
      '/etc/kube',
    );
    expect(c.clusters[0]).to.include({ server: 'https://kcp.example:6443/clusters/root', caFile: '/etc/kube/pki/ca.crt', tlsServerName: 'kcp', skipTLSVerify: false });
    expect(c.users[0]).to.include({ certFile: '/etc/kube/pki/u.crt', keyFile: '/abs/u.key' });
    expect(c.users[0]!.authProvider).to.deep.equal({ name: 'tokenFile', config: { tokenFile: '/etc/kube/token' } });
    expect(c.users[1]).to.include({ token: 'literal' });
    expect(c.users[1]!.authProvider).to.equal(undefined);
    expect(c.contexts[0]).to.deep.equal({ name: 'x', cluster: 'c', user: 'files', namespace: 'ns' });
    expect(c.currentContext).to.equal('x');
    expect(() => parseKubeConfig(yaml({ clusters: [{ name: 'c', cluster: {} }] }))).to.throw('clusters[0].cluster.server is missing');
    expect(() => parseKubeConfig(yaml({ users: [{ user: {} }] }))).to.throw('users[0].name is missing');
    expect(() => parseKubeConfig('clusters: 3')).to.throw('clusters is not a list');
    expect(parseKubeConfig('').clusters).to.deep.equal([]);
  });

  it('merges $KUBECONFIG as kubectl does: the first file to name an entry or a current context wins; missing files are skipped', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fs.writeFileSync(a, yaml({ clusters: [{ name: 'c', cluster: { server: 'https://first' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }] }));
    fs.writeFileSync(
      b,
      yaml({
        clusters: [{ name: 'c', cluster: { server: 'https://second' } }, { name: 'd', cluster: { server: 'https://d' } }],
        contexts: [{ name: 'y', context: { cluster: 'd' } }],
        current: 'x',
      }),
    );
    const kc = await loadKubeConfig({ env: { KUBECONFIG: [path.join(dir, 'missing'), a, b].join(path.delimiter) } });
    expect(kc).to.be.instanceOf(PlainKubeConfig);
    expect(kc.getCurrentContext()).to.equal('x');
    expect(kc.getCurrentCluster()?.server).to.equal('https://first');
    expect(kc.getClusters().map((c) => c.name)).to.deep.equal(['c', 'd']);
    const y = await loadKubeConfig({ env: { KUBECONFIG: `${a}${path.delimiter}${b}` }, context: 'y' });
    expect(y.getCurrentCluster()?.server).to.equal('https://d');
    const err = await loadKubeConfig({ file: a, context: 'nope' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UnknownContextError);
    expect((err as Error).message).to.equal('kubeconfig has no context "nope"');
    const missing = await loadKubeConfig({ file: path.join(dir, 'nothing-here') }).catch((e: Error) => e.message);
    expect(missing).to.match(/cannot read kubeconfig .*nothing-here: no such file/);
    expect(mergeKubeConfigs([]).currentContext).to.equal('');
  });

  it('gives a request the token, the token file\'s contents, client certificates, CA, server name, impersonation and basic auth', async () => {
    fs.mkdirSync(path.join(dir, 'pki'));
    fs.writeFileSync(path.join(dir, 'pki', 'ca.crt'), 'CA');
    fs.writeFileSync(path.join(dir, 'pki', 'u.crt'), 'CERT');
    fs.writeFileSync(path.join(dir, 'pki', 'u.key'), 'KEY');
    fs.writeFileSync(path.join(dir, 'token'), 'from-file\n');
    const file = path.join(dir, 'config');
    fs.writeFileSync(
      file,
      yaml({
        clusters: [
          { name: 'c', cluster: { server: 'https://c', 'certificate-authority': 'pki/ca.crt', 'tls-server-name': 'kcp.internal' } },
          { name: 'insecure', cluster: { server: 'https://i', 'insecure-skip-tls-verify': true, 'certificate-authority-data': Buffer.from('CA2').toString('base64') } },
        ],
        users: [
          { name: 'certs', user: { 'client-certificate': 'pki/u.crt', 'client-key': 'pki/u.key', as: 'alice' } },
          { name: 'tokenfile', user: { tokenFile: 'token' } },
          { name: 'basic', user: { username: 'u', password: 'p' } },
          { name: 'token', user: { token: 't0k' } },
        ],
        contexts: [
          { name: 'certs', context: { cluster: 'c', user: 'certs' } },
          { name: 'tokenfile', context: { cluster: 'insecure', user: 'tokenfile' } },
          { name: 'basic', context: { cluster: 'c', user: 'basic' } },
          { name: 'token', context: { cluster: 'c', user: 'token' } },
        ],
        current: 'certs',
      }),
    );
    const certs = await optionsOf(await loadKubeConfig({ file }));
    expect(String(certs.ca)).to.equal('CA');
    expect(String(certs.cert)).to.equal('CERT');
    expect(String(certs.key)).to.equal('KEY');
    expect(certs.servername).to.equal('kcp.internal');
    expect(certs.headers).to.deep.equal({ 'Impersonate-User': 'alice' });
    expect(certs.rejectUnauthorized).to.equal(undefined);
    const tf = await optionsOf(await loadKubeConfig({ file, context: 'tokenfile' }));
    expect(tf.headers).to.deep.equal({ Authorization: 'Bearer from-file' });
    expect(tf.rejectUnauthorized).to.equal(false);
    expect(String(tf.ca)).to.equal('CA2');
    const basic = await optionsOf(await loadKubeConfig({ file, context: 'basic' }));
    expect(basic.auth).to.equal('u:p');
    expect((await optionsOf(await loadKubeConfig({ file, context: 'token' }))).headers).to.deep.equal({ Authorization: 'Bearer t0k' });
    // Asked again, the same material: connection pools keyed by it stay put.
    const kc = await loadKubeConfig({ file });
    expect((await optionsOf(kc)).ca).to.equal((await optionsOf(kc)).ca);
  });

  it('hands users only client-node serves (exec plugin, auth provider, proxy) to client-node\'s KubeConfig, which PlainKubeConfig refuses with a clear error', async () => {
    const file = path.join(dir, 'config');
    fs.writeFileSync(
      file,
      yaml({
        clusters: [{ name: 'c', cluster: { server: 'https://c' } }, { name: 'p', cluster: { server: 'https://p', 'proxy-url': 'http://proxy:3128' } }],
        users: [
          { name: 'exec', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'printf', args: ['{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token"}}'] } } },
          { name: 'plain', user: { token: 't' } },
        ],
        contexts: [
          { name: 'exec', context: { cluster: 'c', user: 'exec' } },
          { name: 'proxied', context: { cluster: 'p', user: 'plain' } },
        ],
        current: 'exec',
      }),
    );
    const kc = await loadKubeConfig({ file });
    expect(kc).to.be.instanceOf(ClientNodeKubeConfig);
    expect(kc.getCurrentCluster()?.server).to.equal('https://c');
    expect((await optionsOf(kc)).headers).to.include({ Authorization: 'Bearer exec-token' });
    expect(await loadKubeConfig({ file, context: 'proxied' })).to.be.instanceOf(ClientNodeKubeConfig);
    const plain = new PlainKubeConfig(parseKubeConfig(fs.readFileSync(file, 'utf8')));
    const err = await optionsOf(plain).catch((e: Error) => e.message);
    expect(err).to.equal('kubeconfig context "exec": user "exec" has an exec plugin; load it with loadKubeConfig or client-node\'s KubeConfig');
  });

  it('converts to client-node\'s KubeConfig with the same entries, a token file still read from the file', async () => {
    fs.writeFileSync(path.join(dir, 'token'), 'rotated');
    const file = path.join(dir, 'config');
    fs.writeFileSync(file, yaml({ clusters: [{ name: 'c', cluster: { server: 'https://c' } }], users: [{ name: 'u', user: { tokenFile: 'token' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], current: 'x' }));
    const plain = await loadKubeConfig({ file });
    expect(plain).to.be.instanceOf(PlainKubeConfig);
    const kc = await toClientNodeKubeConfig(plain);
    expect(kc).to.be.instanceOf(ClientNodeKubeConfig);
    expect(kc.getCurrentCluster()?.server).to.equal('https://c');
    expect((await optionsOf(kc)).headers).to.include({ Authorization: 'Bearer rotated' });
    expect(await toClientNodeKubeConfig(kc)).to.equal(kc);
  });

  it('the package index\'s KubeConfig is client-node\'s class, loaded on first use: new, instanceof, statics and subclasses behave as the real one', () => {
    const kc = new LazyKubeConfig();
    expect(kc).to.be.instanceOf(ClientNodeKubeConfig);
    expect(new ClientNodeKubeConfig()).to.be.instanceOf(LazyKubeConfig);
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://x', skipTLSVerify: false }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    expect(kc.getCurrentCluster()?.server).to.equal('https://x');
    class Mine extends LazyKubeConfig {
      mine(): string {
        return this.getCurrentContext();
      }
    }
    const m = new Mine();
    m.setCurrentContext('z');
    expect(m).to.be.instanceOf(ClientNodeKubeConfig);
    expect(m.mine()).to.equal('z');
    expect(LazyKubeConfig.prototype).to.equal(ClientNodeKubeConfig.prototype);
  });

  it('importing the package index loads neither client-node, nor all of undici, nor PKI.js, nor all of RxJS (26, 3.5, 2.7 and 0.9 MiB of heap a controller does not need)', () => {
    // A fresh process: a resolve hook fails any import of those; they load only when used (a
    // KubeConfig built, certificates made) or not at all (undici's and RxJS's indexes: the
    // library takes the modules it uses alone).
    const hooks = `const NO = ['@kubernetes/client-node', 'undici', 'pkijs', 'asn1js', 'rxjs']; export async function resolve(s, c, n) { if (NO.some((p) => s === p || s.startsWith(p + '/')) && !s.startsWith('rxjs/internal/')) throw new Error(s + ' imported by ' + c.parentURL); return n(s, c); }`;
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});
      const lib = await import(${JSON.stringify(path.join(REPO, 'dist/src/index.js'))});
      const kc = lib.PlainKubeConfig.forServer('https://127.0.0.1:1/clusters/root', { token: 't' });
      new lib.APIExportProvider(kc, { endpointSlice: 'x' });
      console.log('ok');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: REPO, timeout: 30_000 });
    expect(r.stderr).to.equal('');
    expect(r.stdout.trim()).to.equal('ok');
  });
});

describe('StringInterner', () => {
  it('shares equal strings across objects, deep and in arrays, and stays bounded whatever flows through', () => {
    const interner = new StringInterner(4);
    // Strings built at run time, so that equal values are distinct copies to begin with.
    const copy = (s: string) => [...s].join('');
    const a = interner.internAll({ status: { conditions: [{ type: copy('Ready') }] }, tags: [copy('x')] });
    const b = interner.internAll({ status: { conditions: [{ type: copy('Ready') }] }, tags: [copy('x')] });
    expect(a).to.deep.equal(b);
    expect(interner.intern(copy('Ready'))).to.equal('Ready');
    for (let i = 0; i < 100; i++) interner.intern(`uid-${i}`);
    const tables = interner as unknown as { young: Map<string, string>; old: Map<string, string> };
    expect(tables.young.size + tables.old.size).to.be.at.most(8);
  });

  it('leaves frozen parts alone (a shared read-only status inside a fresh object)', () => {
    const interner = new StringInterner(4);
    const shared = Object.freeze({ conditions: Object.freeze([Object.freeze({ type: 'Ready', status: 'True' })]) });
    const o = interner.internAll({ metadata: { name: [...'b'].join('') }, status: shared });
    expect(o.status).to.equal(shared);
    expect(o.metadata.name).to.equal('b');
  });
});

describe('stripManagedFields', () => {
  it('leaves metadata with fast properties (delete would make it a dictionary with a hidden class of its own)', () => {
    const script = `
      const { stripManagedFields } = await import(${JSON.stringify(path.join(REPO, 'dist/src/provider/index.js'))});
      const o = JSON.parse('{"metadata":{"name":"a","managedFields":[{"manager":"m"}],"uid":"u","labels":{"a":"b"}}}');
      const s = stripManagedFields(o);
      console.log(JSON.stringify({ fast: %HasFastProperties(s.metadata), keys: Object.keys(s.metadata) }));
    `;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).to.equal('');
    expect(JSON.parse(r.stdout)).to.deep.equal({ fast: true, keys: ['name', 'uid', 'labels'] });
  });
});
