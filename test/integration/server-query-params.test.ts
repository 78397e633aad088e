/**
 * Query parameters read the way kube-apiserver's parameter codec decodes them: a boolean is false
 * only when absent or `0`/`false` in any case (the official Python client sends `watch=True`), on
 * a workspace path, on the `*` wildcard and through an APIExport virtual workspace; `pretty`
 * indents JSON as kube's serializer does; bad options are refused with kube's codes and messages.
 */
import { expect } from 'chai';
import type { RunningServer } from '../../src/server/index.js';
import { bind, createConfigMap, createExport, createWorkspace, sliceURLs } from '../support/kcp.js';
import { eventually, raw, request, start } from '../support/server.js';

/** What one GET answered, read to its end. */
interface Answer {
  status: number;
  text: string;
  ms: number;
}

/** Every spelling of a boolean and what kube decodes it to. */
const SPELLINGS: { name: string; query: (p: string) => string; value: boolean }[] = [
  { name: 'true', query: (p) => `${p}=true`, value: true },
  { name: 'True', query: (p) => `${p}=True`, value: true },
  { name: 'TRUE', query: (p) => `${p}=TRUE`, value: true },
  { name: 't', query: (p) => `${p}=t`, value: true },
  { name: '1', query: (p) => `${p}=1`, value: true },
  { name: 'empty value', query: (p) => `${p}=`, value: true },
  { name: 'no `=`', query: (p) => p, value: true },
  // apimachinery is not strconv.ParseBool: only `0` and `false` are false.
  { name: 'f', query: (p) => `${p}=f`, value: true },
  { name: 'yes', query: (p) => `${p}=yes`, value: true },
  { name: 'false', query: (p) => `${p}=false`, value: false },
  { name: 'False', query: (p) => `${p}=False`, value: false },
  { name: 'FALSE', query: (p) => `${p}=FALSE`, value: false },
  { name: '0', query: (p) => `${p}=0`, value: false },
  { name: 'absent', query: () => '', value: false },
];

/** Splits a watch stream into its events; undefined when the body is not one. */
function events(text: string): { type: string; object: { kind?: string; metadata?: { annotations?: Record<string, string> } } }[] | undefined {
  try {
    const lines = text.split('\n').filter((l) => l.trim());
    const parsed = lines.map((l) => JSON.parse(l) as { type?: unknown; object?: unknown });
    if (parsed.length === 0 || !parsed.every((e) => typeof e.type === 'string' && typeof e.object === 'object')) return undefined;
    return parsed as ReturnType<typeof events>;
  } catch {
    return undefined;
  }
}

describe('reference server: query parameters as kube decodes them', () => {
  let srv: RunningServer;
  /** Where each location is served: origin (with CA) and the configmaps path. */
  const locations: { name: string; origin: { url: string; ca: string | undefined }; path: string }[] = [];
  const answers = new Map<string, Promise<Answer>>();

  /** GET with the admin token, read to the end. Never rejects: failures become status 0. */
  async function get(origin: { url: string; ca: string | undefined }, path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const t0 = Date.now();
    try {
      const res = await request(origin, 'GET', path, { headers: { Authorization: `Bearer ${srv.token}`, ...headers } });
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - t0 };
    } catch (e) {
      return { status: 0, text: String(e), ms: Date.now() - t0 };
    }
  }

  const key = (param: string, location: string, spelling: string) => `${param} ${location} ${spelling}`;

  before(async function () {
    this.timeout(120_000);
    srv = await start();
    const origin = { url: srv.url, ca: srv.ca };
    await createConfigMap(srv, 'root', 'qp-root');
    await createWorkspace(srv, 'root', 'qp-provider');
    await createWorkspace(srv, 'root', 'qp-consumer');
    await createExport(srv, 'root:qp-provider', 'qp');
    await bind(srv, 'root:qp-consumer', 'root:qp-provider', 'qp');
    await createConfigMap(srv, 'root:qp-consumer', 'qp-consumer');
    const vwURL = await eventually(async () => (await sliceURLs(srv, 'root:qp-provider', 'qp'))[0], 'the endpoint slice URL');
    const vw = new URL(vwURL);
    locations.push(
      { name: 'workspace path', origin, path: '/clusters/root/api/v1/namespaces/default/configmaps' },
      { name: '/clusters/* wildcard', origin, path: '/clusters/*/api/v1/configmaps' },
      { name: 'APIExport virtual workspace', origin: { url: vw.origin, ca: srv.ca }, path: `${vw.pathname}/clusters/*/api/v1/configmaps` },
    );
    // The virtual workspace sees the consumer's configmap once the binding's claims are served.
    await eventually(async () => (await get(locations[2]!.origin, locations[2]!.path)).text.includes('qp-consumer'), 'the consumer configmap in the virtual workspace');
    // Every case at once: each watch lasts its one-second timeout, so the suite takes about one.
    for (const loc of locations) {
      for (const s of SPELLINGS) {
        const w = s.query('watch');
        answers.set(key('watch', loc.name, s.name), get(loc.origin, `${loc.path}?${w}${w ? '&' : ''}timeoutSeconds=1`));
        const b = s.query('allowWatchBookmarks');
        answers.set(key('allowWatchBookmarks', loc.name, s.name), get(loc.origin, `${loc.path}?watch=True&timeoutSeconds=1${b ? '&' : ''}${b}`));
      }
    }
    await Promise.all(answers.values());
  });

  after(async () => {
    await srv?.stop();
  });

  for (const loc of ['workspace path', '/clusters/* wildcard', 'APIExport virtual workspace']) {
    describe(`on the ${loc}`, () => {
      for (const s of SPELLINGS) {
        it(`watch ${s.name} → ${s.value ? 'a watch stream' : 'a List'}`, async () => {
          const a = await answers.get(key('watch', loc, s.name))!;
          expect(a.status, a.text).to.equal(200);
          if (s.value) {
            const evs = events(a.text);
            expect(evs, a.text).to.not.equal(undefined);
            expect(evs![0]!.type).to.equal('ADDED');
            expect(evs![0]!.object.kind).to.equal('ConfigMap');
            // It streamed until timeoutSeconds, not answered at once.
            expect(a.ms).to.be.at.least(900);
          } else {
            const list = JSON.parse(a.text) as { kind: string; items: unknown[] };
            expect(list.kind).to.equal('ConfigMapList');
            expect(list.items).to.not.be.empty;
          }
        });
      }
      for (const s of SPELLINGS) {
        it(`allowWatchBookmarks ${s.name} → ${s.value ? 'a BOOKMARK' : 'no BOOKMARK'}`, async () => {
          const a = await answers.get(key('allowWatchBookmarks', loc, s.name))!;
          expect(a.status, a.text).to.equal(200);
          const evs = events(a.text);
          expect(evs, a.text).to.not.equal(undefined);
          const bookmarks = evs!.filter((e) => e.type === 'BOOKMARK');
          if (s.value) expect(bookmarks, a.text).to.not.be.empty;
          else expect(bookmarks, a.text).to.be.empty;
        });
      }
    });
  }

  it('sendInitialEvents=True ends the initial events with the initial-events-end bookmark', async () => {
    const a = await get(
      { url: srv.url, ca: srv.ca },
      '/clusters/root/api/v1/namespaces/default/configmaps?watch=True&sendInitialEvents=True&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=True&timeoutSeconds=1',
    );
    const evs = events(a.text)!;
    const end = evs.findIndex((e) => e.type === 'BOOKMARK' && e.object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true');
    expect(end, a.text).to.be.greaterThan(0);
    expect(evs.slice(0, end).every((e) => e.type === 'ADDED')).to.equal(true);
  });

  it('sendInitialEvents=false is provided: no initial events, and a List refuses it', async () => {
    const path = '/clusters/root/api/v1/namespaces/default/configmaps';
    const w = await get({ url: srv.url, ca: srv.ca }, `${path}?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`);
    expect(w.status, w.text).to.equal(200);
    expect(w.text.includes('"ADDED"'), w.text).to.equal(false);
    const l = await raw(srv, 'GET', `${path}?sendInitialEvents=false`);
    expect(l.status, l.text).to.equal(422);
    expect(l.json['message']).to.equal('ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
  });

  describe('pretty', () => {
    const one = '/clusters/root/api/v1/namespaces/default/configmaps/qp-root';
    const indented = (text: string) => text === JSON.stringify(JSON.parse(text), null, 2);

    for (const v of ['true', 'True', 'TRUE', 't', 'T', '1']) {
      it(`pretty=${v} indents with two spaces, as json.MarshalIndent does`, async () => {
        const a = await get({ url: srv.url, ca: srv.ca }, `${one}?pretty=${v}`);
        expect(a.status).to.equal(200);
        expect(a.text.startsWith('{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n')).to.equal(true);
        expect(indented(a.text), a.text).to.equal(true);
      });
    }

    // strconv.ParseBool: `yes` does not parse, so it is false; an empty value falls back to the user agent.
    for (const v of ['false', '0', 'f', 'yes', '']) {
      it(`pretty=${v} answers compact JSON`, async () => {
        const a = await get({ url: srv.url, ca: srv.ca }, `${one}?pretty=${v}`);
        expect(a.status).to.equal(200);
        expect(a.text.includes('\n'), a.text).to.equal(false);
      });
    }

    it('curl gets indented JSON without asking; pretty=false overrides it', async () => {
      const curl = { 'User-Agent': 'curl/8.5.0' };
      const a = await get({ url: srv.url, ca: srv.ca }, one, curl);
      expect(indented(a.text), a.text).to.equal(true);
      const b = await get({ url: srv.url, ca: srv.ca }, `${one}?pretty=false`, curl);
      expect(b.text.includes('\n')).to.equal(false);
    });

    it('indents lists, discovery and error Statuses too', async () => {
      for (const path of ['/clusters/root/api/v1/namespaces/default/configmaps?pretty=1', '/clusters/root/api/v1?pretty=1', `${one}-missing?pretty=1`]) {
        const a = await get({ url: srv.url, ca: srv.ca }, path);
        expect(indented(a.text), `${path}: ${a.text}`).to.equal(true);
      }
    });
  });

  describe('refused options', () => {
    const CM = '/clusters/root/api/v1/namespaces/default/configmaps';
    const body = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    const MERGE = { 'Content-Type': 'application/merge-patch+json' };
    /** raw with a Content-Length: Node's server refuses a chunked DELETE body. */
    const send = (method: string, path: string, b?: unknown, headers: Record<string, string> = {}) => {
      const text = b === undefined ? undefined : JSON.stringify(b);
      return raw(srv, method, path, text, text === undefined ? headers : { 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    };

    const cases: { name: string; method: string; path: string; body?: unknown; headers?: Record<string, string>; code: number; message: string }[] = [
      { name: 'limit that is not an integer', method: 'GET', path: `${CM}?limit=ten`, code: 400, message: 'invalid limit: "ten"' },
      { name: 'limit with an empty value', method: 'GET', path: `${CM}?limit=`, code: 400, message: 'invalid limit: ""' },
      { name: 'limit beyond int64', method: 'GET', path: `${CM}?limit=9223372036854775808`, code: 400, message: 'invalid limit' },
      { name: 'timeoutSeconds that is hex', method: 'GET', path: `${CM}?watch=1&timeoutSeconds=0x10`, code: 400, message: 'invalid timeoutSeconds: "0x10"' },
      { name: 'gracePeriodSeconds that is not an integer', method: 'DELETE', path: `${CM}/qp-root?gracePeriodSeconds=soon`, code: 400, message: 'invalid gracePeriodSeconds: "soon"' },
      {
        name: 'dryRun other than All',
        method: 'POST',
        path: `${CM}?dryRun=true`,
        body: body('qp-dry'),
        code: 422,
        message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"true"}: supported values: "All"',
      },
      {
        name: 'dryRun other than All on a delete',
        method: 'DELETE',
        path: `${CM}/qp-root?dryRun=yes`,
        code: 422,
        message: 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"yes"}: supported values: "All"',
      },
      {
        name: 'fieldValidation other than Ignore, Warn or Strict',
        method: 'POST',
        path: `${CM}?fieldValidation=strict`,
        body: body('qp-fv'),
        code: 422,
        message: 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
      },
      {
        name: 'propagationPolicy in the query',
        method: 'DELETE',
        path: `${CM}/qp-root?propagationPolicy=Sideways`,
        code: 422,
        message: 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"',
      },
      {
        name: 'propagationPolicy in the DeleteOptions body',
        method: 'DELETE',
        path: `${CM}/qp-root`,
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'orphan' },
        code: 422,
        message: 'propagationPolicy: Unsupported value: "orphan"',
      },
      {
        name: 'orphanDependents with propagationPolicy',
        method: 'DELETE',
        path: `${CM}/qp-root?orphanDependents=True&propagationPolicy=Foreground`,
        code: 422,
        message: 'propagationPolicy: Invalid value: "Foreground": orphanDependents and deletionPropagation cannot be both set',
      },
      {
        name: 'fieldManager longer than 128 bytes',
        method: 'POST',
        path: `${CM}?fieldManager=${'m'.repeat(129)}`,
        body: body('qp-fm'),
        code: 422,
        message: 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
      },
      {
        name: 'fieldManager with a control character',
        method: 'POST',
        path: `${CM}?fieldManager=ab%07`,
        body: body('qp-fm'),
        code: 422,
        message: 'fieldManager: Invalid value: "ab\\a": invalid character U+0007 (at position 2)',
      },
      {
        name: 'force on a merge patch',
        method: 'PATCH',
        path: `${CM}/qp-root?force=false`,
        body: { data: {} },
        headers: MERGE,
        code: 422,
        message: 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
      },
    ];
    for (const c of cases) {
      it(`${c.method} ${c.name} → ${c.code}`, async () => {
        const r = await send(c.method, c.path, c.body, c.headers);
        expect(r.status, r.text).to.equal(c.code);
        expect(r.json['reason']).to.equal(c.code === 400 ? 'BadRequest' : 'Invalid');
        expect(r.json['message'], r.text).to.include(c.message);
      });
    }

    it('a DeleteOptions body wins over the query, as kube reads only one of them', async () => {
      await createConfigMap(srv, 'root', 'qp-delete');
      // The query's bad policy is not read: the body is.
      const r = await send('DELETE', `${CM}/qp-delete?propagationPolicy=Sideways`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
      expect(r.status, r.text).to.equal(200);
    });

    // `+` in a query is a space, so the sign is percent-encoded.
    it('accepts a signed integer and a 128-byte fieldManager', async () => {
      expect((await raw(srv, 'GET', `${CM}?limit=%2B1`)).status).to.equal(200);
      const r = await raw(srv, 'POST', `${CM}?fieldManager=${'m'.repeat(128)}`, body('qp-fm-ok'));
      expect(r.status, r.text).to.equal(201);
    });
  });
});
