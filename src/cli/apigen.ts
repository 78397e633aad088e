/**
 * `kcp-mc apigen`: APIResourceSchemas and APIExports as YAML, from a module's `apis` (defineAPI)
 * or, like kcp's apigen, from CustomResourceDefinitions. Printed in apply order, or written to
 * `--output-dir` as `apiresourceschema-<plural>.<group>.yaml` and `apiexport-<name>.yaml`; a schema
 * whose content equals the one already in that directory keeps its name (date included), so only
 * changed APIs get new, immutable schemas. Every schema passes the reference server's structural
 * check first: what kcp would refuse is reported here, one line per file, exit code 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { dump, loadAll } from 'js-yaml';
import { APIDefinitionError, apiExport, apiManifests, isCRD, resourceSchema, schemaSpecFromCRD, type APIExport, type APIResourceSchema, type APIResourceSchemaSpec } from '../api/index.js';
import { structuralSchemaErrors, type StructuralError } from '../server/index.js';
import { moduleAPIs } from './module-apis.js';
import { moduleLoadFailure } from './module-errors.js';
import { resolveController, UsageError } from './run.js';

/** Options of `kcp-mc apigen`. */
export interface ApigenOptions {
  /** Convert the CRDs of this file or directory instead of a module's APIs. */
  fromCrd?: string;
  /** Write one file per manifest here instead of printing. */
  outputDir?: string;
  /** Date of new schemas (tests); default now. */
  now?: Date;
}

type Manifest = APIResourceSchema | APIExport;

function docs(file: string): unknown[] {
  return loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
}

/** The schemas and exports an output directory already holds, for their names and hand-added fields. */
function previousOutput(dir: string | undefined): { schemas: APIResourceSchema[]; exports: APIExport[] } {
  const out = { schemas: [] as APIResourceSchema[], exports: [] as APIExport[] };
  if (!dir || !fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(f)) continue;
    let found: unknown[];
    try {
      found = docs(path.join(dir, f));
    } catch (e) {
      throw new UsageError(`${path.join(dir, f)}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    for (const d of found as Manifest[]) {
      if (d?.kind === 'APIResourceSchema' && d.metadata?.name) out.schemas.push(d);
      else if (d?.kind === 'APIExport' && d.metadata?.name) out.exports.push(d);
    }
  }
  return out;
}

function structuralProblems(spec: APIResourceSchemaSpec): StructuralError[] {
  return spec.versions.flatMap((v, i) => structuralSchemaErrors(JSON.parse(JSON.stringify(v.schema)), `spec.versions[${i}].schema.openAPIV3Schema`));
}

function describe(e: StructuralError, more: number): string {
  return `${e.field}: ${e.message}${more > 0 ? ` (and ${more} more)` : ''}`;
}

/** The manifests of the `apis` a module exports. */
export async function manifestsFromModule(spec: string, o: ApigenOptions): Promise<Manifest[]> {
  const file = resolveController(spec);
  let mod: { apis?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { apis?: unknown };
  } catch (e) {
    throw new UsageError(await moduleLoadFailure(file, e));
  }
  const apis = moduleAPIs(mod, file);
  if (!apis.length) throw new UsageError(`module ${file} exports no apis (export const apis = [defineAPI({...})])`);
  for (const api of apis) {
    const errs = structuralProblems(api.schemaSpec);
    if (errs.length) throw new UsageError(`module ${file}: ${api.plural}.${api.group}: ${describe(errs[0]!, errs.length - 1)}`);
  }
  const previous = previousOutput(o.outputDir);
  try {
    return apiManifests(apis, { existing: previous.schemas, existingExports: previous.exports, now: o.now });
  } catch (e) {
    if (e instanceof APIDefinitionError) throw new UsageError(`module ${file}: ${e.message}`);
    throw e;
  }
}

function crdFiles(p: string): string[] {
  if (!fs.existsSync(p)) throw new UsageError(`--from-crd ${p}: no such file or directory`);
  if (!fs.statSync(p).isDirectory()) return [p];
  const files = fs.readdirSync(p, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(p, f));
  if (!files.length) throw new UsageError(`--from-crd ${p}: no .yaml, .yml or .json files`);
  return files;
}

/** The schema specs of one CRD file; the first problem of the file as one line. */
function specsOfFile(file: string): APIResourceSchemaSpec[] {
  let found: unknown[];
  try {
    found = docs(file);
  } catch (e) {
    throw new Error(`invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!found.length) throw new Error('no documents');
  return found.map((d, i) => {
    if (!isCRD(d)) {
      const kind = typeof d === 'object' && d !== null ? (d as { kind?: unknown }).kind : undefined;
      throw new Error(`document ${i + 1} is not a CustomResourceDefinition${typeof kind === 'string' ? ` (kind ${kind})` : ''}`);
    }
    const spec = schemaSpecFromCRD(d);
    const errs = structuralProblems(spec);
    if (errs.length) throw new Error(`CustomResourceDefinition ${spec.names.plural}.${spec.group} has no structural schema: ${describe(errs[0]!, errs.length - 1)}`);
    return spec;
  });
}

/** APIResourceSchemas and one APIExport per group (named after the group) from CRDs, as kcp's apigen writes them. */
export function manifestsFromCRDs(from: string, o: ApigenOptions): Manifest[] {
  const specs: APIResourceSchemaSpec[] = [];
  const problems: string[] = [];
  for (const file of crdFiles(from)) {
    try {
      specs.push(...specsOfFile(file));
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  const previous = previousOutput(o.outputDir);
  const schemas = specs.map((s) => resourceSchema(s, { existing: previous.schemas, now: o.now }));
  const groups = [...new Set(specs.map((s) => s.group))].sort();
  const exports = groups.map((g) => apiExport(g, schemas.filter((s) => s.spec.group === g), [], previous.exports.find((x) => x.metadata.name === g)));
  return [...schemas, ...exports];
}

/** The file a manifest is written to in `--output-dir`. */
export function outputFileName(m: Manifest): string {
  return m.kind === 'APIResourceSchema' ? `apiresourceschema-${m.spec.names.plural}.${m.spec.group}.yaml` : `apiexport-${m.metadata.name}.yaml`;
}

function yaml(m: Manifest): string {
  return dump(m, { noRefs: true, lineWidth: -1 });
}

/** Runs `kcp-mc apigen`: prints the manifests, or writes them to the output directory. */
export async function apigen(spec: string | undefined, o: ApigenOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if ((spec === undefined) === (o.fromCrd === undefined)) throw new UsageError('give either a module or --from-crd <file|dir>, not both and not neither');
  const manifests = o.fromCrd !== undefined ? manifestsFromCRDs(o.fromCrd, o) : await manifestsFromModule(spec!, o);
  if (!o.outputDir) {
    out.write(manifests.map(yaml).join('---\n'));
    return;
  }
  writeManifests(o.outputDir, manifests);
}

/** Writes each manifest to `dir` (made if missing) as `outputFileName` names it; resolves with the files written. */
export function writeManifests(dir: string, manifests: readonly Manifest[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return manifests.map((m) => {
    const file = path.join(dir, outputFileName(m));
    fs.writeFileSync(file, yaml(m));
    return file;
  });
}

/** Registers `apigen` on the CLI. */
export function registerApigen(program: Command): void {
  program
    .command('apigen')
    .description("APIResourceSchemas and APIExports from a module's defineAPI() apis, or from CustomResourceDefinitions")
    .argument('[module]', 'module path (or bundled controller) exporting apis')
    .option('--from-crd <path>', 'convert the CustomResourceDefinitions of this file or directory (one APIExport per group)')
    .option('--output-dir <dir>', 'write apiresourceschema-<plural>.<group>.yaml and apiexport-<name>.yaml here (unchanged schemas keep their names)')
    .addHelpText('after', `
Schema names are v<yyMMdd>-<hash>.<plural>.<group>, the hash of the schema's content. APIResourceSchemas
are immutable: changed content gets a new name (dated today, UTC) and the export points at it; content
equal to a schema already in --output-dir keeps that schema's name. Printed manifests are in apply order.
Bad input is one line per file on stderr, exit code 2.

Examples:
  kcp-mc apigen ./dist/src/api.js --output-dir manifests
  kcp-mc apigen --from-crd config/crd/bases --output-dir config/kcp
  kcp-mc apigen ./dist/api.js | kubectl apply -f -`)
    .action(async (spec: string | undefined, o: ApigenOptions) => {
      try {
        await apigen(spec, o);
      } catch (e) {
        if (e instanceof UsageError) {
          // One line per file: a YAML parser's code excerpt stays out.
          for (const line of e.message.split('\n').filter((l) => l.trim() && !/^\s/.test(l))) process.stderr.write(`kcp-mc apigen: ${line.trim()}\n`);
          process.exit(2);
        }
        throw e;
      }
    });
}
