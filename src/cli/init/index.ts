/**
 * `kcp-mc init [dir]`: a new service provider project that its author owns from then on: the API
 * defined once (src/api.ts), a controller module, a test on the testing kit with two bound tenants,
 * manifests/ as `kcp-mc apigen` writes them, a Dockerfile and deploy/, and a README with the
 * commands. Also reachable as `npx kcp-multicluster-provider init` (the package's bin of that name).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { apiManifests } from '../../api/index.js';
import { writeManifests } from '../apigen.js';
import { dockerfile, dockerignore, deploymentYAML, gitignore, kcpRbacYAML, kubeconfigSecretYAML, packageJSON, tsconfigJSON } from './files.js';
import { readme } from './readme.js';
import { resolveScaffold, scaffoldAPI, ScaffoldError, type Scaffold, type ScaffoldOptions, type ToolVersions } from './scaffold.js';
import { apiSource, controllerSource, testSource } from './source.js';

export { resolveScaffold, scaffoldAPI, libraryVersions, ScaffoldError, type Scaffold, type ScaffoldOptions, type ToolVersions } from './scaffold.js';

/** Options of `kcp-mc init`. */
export interface InitOptions extends Omit<ScaffoldOptions, 'name'> {
  /** The project's name; default the directory's name. */
  name?: string;
  /** Package versions (tests); default the running library's. */
  versions?: ToolVersions;
  /** Date of the generated schema's name (tests); default now. */
  now?: Date;
}

/** The project's files other than manifests/, by path relative to its directory. */
export function projectFiles(s: Scaffold): Record<string, string> {
  return {
    'package.json': packageJSON(s),
    'tsconfig.json': tsconfigJSON(),
    '.gitignore': gitignore(),
    '.dockerignore': dockerignore(),
    'README.md': readme(s),
    'src/api.ts': apiSource(s),
    'src/controller.ts': controllerSource(s),
    'test/controller.test.ts': testSource(s),
    Dockerfile: dockerfile(s),
    'deploy/deployment.yaml': deploymentYAML(s),
    'deploy/kcp-rbac.yaml': kcpRbacYAML(s),
    'deploy/kubeconfig-secret.yaml': kubeconfigSecretYAML(s),
  };
}

/** Why `dir` cannot take a new project (not a directory, or holding anything but `.git`), else undefined. */
function occupied(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  if (!fs.statSync(dir).isDirectory()) return `${dir} exists and is not a directory`;
  // A fresh `git init` is a fine place to start.
  const entries = fs.readdirSync(dir).filter((e) => e !== '.git');
  return entries.length ? `${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): init writes a new project into an empty directory` : undefined;
}

/**
 * Writes a new project into `dir` (made if missing; must be empty). Throws a `ScaffoldError` for a
 * bad name or a non-empty directory before writing anything. Resolves with the files written,
 * relative to `dir`.
 */
export function initProject(dir: string, o: InitOptions): string[] {
  const abs = path.resolve(dir);
  const s = resolveScaffold({ ...o, name: o.name ?? path.basename(abs) }, o.versions);
  const problem = occupied(abs);
  if (problem) throw new ScaffoldError(problem);
  const files = projectFiles(s);
  const written: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(abs, rel)), { recursive: true });
    fs.writeFileSync(path.join(abs, rel), text);
    written.push(rel);
  }
  const manifests = apiManifests([scaffoldAPI(s)], o.now ? { now: o.now } : {});
  for (const f of writeManifests(path.join(abs, 'manifests'), manifests)) written.push(path.relative(abs, f));
  return written.sort();
}

interface InitFlags {
  group: string;
  kind: string;
  version: string;
  namespaced?: boolean;
  clusterScoped?: boolean;
  name?: string;
}

/** Registers `init` on the CLI. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a new service provider project: an API defined once, a controller, its test, manifests, Dockerfile, deploy/')
    .argument('[dir]', 'the project directory, empty or missing; its name names the project', '.')
    .requiredOption('--group <group>', 'API group, a DNS subdomain with a dot (e.g. example.dev)')
    .requiredOption('--kind <Kind>', 'the kind, UpperCamelCase (e.g. Database)')
    .option('--version <version>', 'API version', 'v1alpha1')
    .option('--namespaced', 'objects live in namespaces (the default)')
    .option('--cluster-scoped', 'objects are cluster-scoped')
    .option('--name <name>', "project name, a DNS-1123 label (default: the directory's name)")
    .addHelpText(
      'after',
      `
Writes package.json, tsconfig.json, src/api.ts (defineAPI), src/controller.ts (a kcp-mc run module),
test/controller.test.ts (the testing kit, two bound tenants), manifests/ (as kcp-mc apigen writes
them), Dockerfile, deploy/ and README.md. A non-empty directory or an invalid name is refused: one
line on stderr, exit code 2.

Examples:
  kcp-mc init my-provider --group example.dev --kind Database
  npx kcp-multicluster-provider init my-provider --group example.dev --kind Backup --cluster-scoped
  cd my-provider && npm install && npm test`,
    )
    .action((dir: string, f: InitFlags) => {
      try {
        if (f.namespaced && f.clusterScoped) throw new ScaffoldError('give --namespaced or --cluster-scoped, not both');
        const files = initProject(dir, {
          group: f.group,
          kind: f.kind,
          version: f.version,
          scope: f.clusterScoped ? 'Cluster' : 'Namespaced',
          ...(f.name !== undefined ? { name: f.name } : {}),
        });
        const rel = path.relative(process.cwd(), path.resolve(dir)) || '.';
        process.stdout.write(`${files.map((x) => `created ${path.join(rel, x)}`).join('\n')}\n\nNext:\n${rel === '.' ? '' : `  cd ${rel}\n`}  npm install\n  npm test\n`);
      } catch (e) {
        if (!(e instanceof ScaffoldError)) throw e;
        process.stderr.write(`kcp-mc init: ${e.message}\n`);
        process.exit(2);
      }
    });
}
