/**
 * A module's `apis` export, as `kcp-mc run --install` and `kcp-mc apigen <module>` read it: a list
 * of `defineAPI` results (or one). Checked by shape, since the module may import its own copy of
 * the library.
 */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { APIDefinitionError, installAPIs, type DefinedAPI } from '../api/index.js';
import type { Logger } from '../log/index.js';
import { UsageError } from './usage.js';

function isDefinedAPI(v: unknown): v is DefinedAPI {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Partial<DefinedAPI>;
  return typeof a.exportName === 'string' && typeof a.plural === 'string' && typeof a.schemaSpec === 'object' && Array.isArray(a.claims);
}

/** The module's APIs; none when it exports no `apis`. */
export function moduleAPIs(mod: { apis?: unknown }, file: string): DefinedAPI[] {
  const apis = mod.apis;
  if (apis === undefined) return [];
  const list: unknown[] = Array.isArray(apis) ? apis : [apis];
  list.forEach((a, i) => {
    if (!isDefinedAPI(a)) throw new UsageError(`controller module ${file}: apis[${i}] is not an API from defineAPI()`);
  });
  return list as DefinedAPI[];
}

/** The export name when all the APIs share one (the endpoint slice a module's controllers watch). */
export function soleExport(apis: readonly DefinedAPI[]): string | undefined {
  const names = new Set(apis.map((a) => a.exportName));
  return names.size === 1 ? [...names][0] : undefined;
}

/** `installAPIs`, with a definition mistake reported as a usage error. */
export async function installModuleAPIs(kc: KubeConfigLike, apis: readonly DefinedAPI[], log: Logger, file: string): Promise<void> {
  try {
    await installAPIs(kc, apis, log);
  } catch (e) {
    if (e instanceof APIDefinitionError) throw new UsageError(`controller module ${file}: ${e.message}`);
    throw e;
  }
}
