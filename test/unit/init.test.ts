/** `kcp-mc init` without npm: names checked, files written, refusals before any write, manifests as apigen writes them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { load } from 'js-yaml';
import ts from 'typescript';
import { pathToFileURL } from 'node:url';
import { apiManifests } from '../../src/api/index.js';
import { initProject, libraryVersions, resolveScaffold, scaffoldAPI, ScaffoldError } from '../../src/cli/init/index.js';
import { apiSource } from '../../src/cli/init/source.js';

describe('kcp-mc init (project writer)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-init-unit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the library's version and its peer client-node range, and the tools it is built with", () => {
    const repo = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string; peerDependencies: Record<string, string>; devDependencies: Record<string, string> };
    const v = libraryVersions();
    expect(v.library).to.equal(`^${repo.version}`);
    expect(v.clientNode).to.equal(repo.peerDependencies['@kubernetes/client-node']);
    expect(v.dev['typescript']).to.equal(`^${repo.devDependencies['typescript']}`);
    expect(Object.keys(v.dev).sort()).to.deep.equal(['@types/mocha', '@types/node', 'mocha', 'typescript']);
  });

  it('refuses names kcp would refuse, one line each', () => {
    const bad: [Parameters<typeof resolveScaffold>[0], RegExp][] = [
      [{ name: 'My_Provider', group: 'example.dev', kind: 'Database' }, /project name "My_Provider" must be a DNS-1123 label/],
      [{ name: `a${'b'.repeat(63)}`, group: 'example.dev', kind: 'Database' }, /at most 63 characters/],
      [{ name: 'p', group: 'Example.dev', kind: 'Database' }, /group "Example.dev"/],
      [{ name: 'p', group: 'example.dev', kind: 'data-base' }, /kind "data-base" must be UpperCamelCase/],
      [{ name: 'p', group: 'example.dev', kind: 'Database', version: 'V1' }, /version "V1"/],
    ];
    for (const [o, message] of bad) {
      expect(() => resolveScaffold(o)).to.throw(ScaffoldError, message);
      try {
        resolveScaffold(o);
      } catch (e) {
        expect((e as Error).message).not.to.include('\n');
      }
    }
  });

  it('writes the project, with manifests/ equal to the manifests of the API src/api.ts defines', () => {
    const now = new Date('2026-03-04T00:00:00Z');
    const files = initProject(path.join(dir, 'my-provider'), { group: 'example.dev', kind: 'URLMap', now });
    expect(files).to.include.members(['package.json', 'src/api.ts', 'src/controller.ts', 'test/controller.test.ts', 'Dockerfile', 'deploy/deployment.yaml', 'manifests/apiexport-urlmaps.example.dev.yaml']);
    const api = fs.readFileSync(path.join(dir, 'my-provider/src/api.ts'), 'utf8');
    expect(api).to.include('export const URLMaps = defineAPI({').and.include("scope: 'Namespaced'").and.include('v1alpha1: {');
    const [schema, exp] = apiManifests([scaffoldAPI({ group: 'example.dev', kind: 'URLMap', version: 'v1alpha1', scope: 'Namespaced' })], { now });
    expect(load(fs.readFileSync(path.join(dir, 'my-provider/manifests/apiresourceschema-urlmaps.example.dev.yaml'), 'utf8'))).to.deep.equal(JSON.parse(JSON.stringify(schema)));
    expect(load(fs.readFileSync(path.join(dir, 'my-provider/manifests/apiexport-urlmaps.example.dev.yaml'), 'utf8'))).to.deep.equal(JSON.parse(JSON.stringify(exp)));
    expect(schema!.metadata.name).to.match(/^v260304-[0-9a-f]{8}\.urlmaps\.example\.dev$/);
    const controller = fs.readFileSync(path.join(dir, 'my-provider/src/controller.ts'), 'utf8');
    expect(controller).to.include('.owns(CONFIG_MAP)').and.include("export const name = 'my-provider'");
    expect(fs.readFileSync(path.join(dir, 'my-provider/deploy/kcp-rbac.yaml'), 'utf8')).to.include('resourceNames: ["urlmaps.example.dev"]');
  });

  it('a cluster-scoped kind maps its ConfigMaps back with watches (owns() would add a namespace)', () => {
    initProject(path.join(dir, 'backups'), { group: 'example.dev', kind: 'Backup', scope: 'Cluster' });
    const controller = fs.readFileSync(path.join(dir, 'backups/src/controller.ts'), 'utf8');
    expect(controller).to.include('.watches(CONFIG_MAP').and.not.include('.owns(');
    expect(fs.readFileSync(path.join(dir, 'backups/test/controller.test.ts'), 'utf8')).to.include("const KEY: ObjectKey = { name: 'hello' }");
  });

  it('src/api.ts, run as written, defines the very API manifests/ is generated from', async () => {
    for (const scope of ['Namespaced', 'Cluster'] as const) {
      const s = resolveScaffold({ name: 'p', group: 'example.dev', kind: 'Database', version: 'v1beta2', scope });
      // The generated TypeScript, compiled alone and pointed at this build of the library.
      const js = ts.transpileModule(apiSource(s), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const file = path.join(dir, `api-${scope}.mjs`);
      fs.writeFileSync(file, js.replace("from 'kcp-multicluster-provider'", `from ${JSON.stringify(pathToFileURL(path.resolve('dist/src/index.js')).href)}`));
      const mod = (await import(pathToFileURL(file).href)) as { apis: ReturnType<typeof scaffoldAPI>[] };
      expect(mod.apis).to.have.length(1);
      const generated = mod.apis[0]!;
      const expected = scaffoldAPI(s);
      expect(generated.schemaSpec).to.deep.equal(expected.schemaSpec);
      expect(generated.claims).to.deep.equal(expected.claims);
      expect(generated.exportName).to.equal(expected.exportName);
    }
  });

  it('refuses a non-empty directory before writing anything; a lone .git is fine', () => {
    const full = path.join(dir, 'full');
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, 'notes.txt'), 'mine');
    expect(() => initProject(full, { group: 'example.dev', kind: 'Database' })).to.throw(ScaffoldError, /full is not empty \(notes\.txt\)/);
    expect(fs.readdirSync(full)).to.deep.equal(['notes.txt']);
    const repo = path.join(dir, 'repo');
    fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
    expect(initProject(repo, { group: 'example.dev', kind: 'Database' })).to.include('package.json');
  });
});
