/**
 * Manifests as tests hold them: objects, YAML or JSON text with any number of `---` documents, or
 * files of either. `kind: List` documents are flattened into their items, empty documents skipped.
 */
import { readFile } from 'node:fs/promises';
import { loadAll } from 'js-yaml';
import type { KubernetesObject } from '../client/index.js';

/** One manifest written inline: any object with `apiVersion` and `kind` (spec, data… included). */
export interface Manifest {
  /** `group/version`, or `v1` for the core group. */
  apiVersion: string;
  /** The object's kind. */
  kind: string;
  /** Name, namespace, labels and the rest; the workspace comes from where it is applied. */
  metadata?: KubernetesObject['metadata'];
  [field: string]: unknown;
}

/** What `apply` accepts: one object, several, or YAML/JSON text (multi-document). */
export type Manifests = KubernetesObject | Manifest | readonly (KubernetesObject | Manifest)[] | string;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flatten(docs: readonly unknown[], source: string, out: KubernetesObject[]): KubernetesObject[] {
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    if (!isObject(doc)) throw new Error(`${source}: document ${i + 1} is not an object`);
    if (typeof doc['kind'] === 'string' && doc['kind'].endsWith('List') && Array.isArray(doc['items'])) {
      flatten(doc['items'] as unknown[], `${source} (document ${i + 1})`, out);
      return;
    }
    if (typeof doc['apiVersion'] !== 'string' || typeof doc['kind'] !== 'string') {
      throw new Error(`${source}: document ${i + 1} needs apiVersion and kind`);
    }
    out.push(doc as KubernetesObject);
  });
  return out;
}

/** The objects of `manifests`, in document order. */
export function parseManifests(manifests: Manifests, source = 'manifests'): KubernetesObject[] {
  if (typeof manifests === 'string') return flatten(loadAll(manifests), source, []);
  return flatten(Array.isArray(manifests) ? (manifests as readonly unknown[]) : [manifests], source, []);
}

/** The objects of a YAML or JSON file, in document order. */
export async function readManifests(file: string): Promise<KubernetesObject[]> {
  return parseManifests(await readFile(file, 'utf8'), file);
}
