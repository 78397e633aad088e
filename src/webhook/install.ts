/**
 * The Validating/MutatingWebhookConfigurations of a manager's webhooks, written into the provider
 * workspace: kcp applies the configurations of an APIExport's workspace to the bound resources of
 * every consumer. kcp has no Services, so each webhook is called at a URL (`--webhook-url` plus
 * its path), trusted through the `caBundle`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAPIVersion, type ClusterClient, type KubernetesObject } from '../client/index.js';
import type { Logger } from '../log/index.js';
import type { WebhookRegistration } from './builder.js';

/** Options of the configurations. */
export interface WebhookConfigurationOptions {
  /** Name of the MutatingWebhookConfiguration and of the ValidatingWebhookConfiguration. */
  name: string;
  /** `https://host[:port][/prefix]` at which the API server reaches the webhook server; each webhook's path is appended. */
  url: string;
  /** PEM of the CA that signed the serving certificate. */
  caBundle: string;
}

/** A `admissionregistration.k8s.io/v1` webhook configuration (the fields this project writes). */
export interface WebhookConfiguration extends KubernetesObject {
  /** One entry per webhook. */
  webhooks: Record<string, unknown>[];
}

/** Checks a base URL as kube checks `clientConfig.url`: https, a host, no user info, query or fragment. Returns the problem, or undefined. */
export function webhookURLProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL; desired format: https://host[/path]`;
  }
  if (u.protocol !== 'https:') return `'https' is the only allowed URL scheme; desired format: https://host[/path]`;
  if (u.username || u.password) return 'user information is not permitted in the URL';
  if (u.search || url.includes('?')) return 'query parameters are not permitted in the URL';
  if (u.hash || url.includes('#')) return 'fragments are not permitted in the URL';
  return undefined;
}

/** The CA to trust: `ca.crt` in the folder when there is one, else `tls.crt` itself (a self-signed certificate). */
export function caBundleFromCertDir(dir: string, certName = 'tls.crt'): string {
  for (const f of ['ca.crt', certName]) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8');
  }
  throw new Error(`no ca.crt or ${certName} in ${dir} to take the webhook configurations' caBundle from`);
}

/** The entry name: a domain of at least three segments, as kube requires (`mwidget.example.dev`). */
export function webhookName(reg: WebhookRegistration): string {
  const { group } = parseAPIVersion(reg.type.apiVersion);
  const base = reg.options.name ?? `${reg.type.kind.toLowerCase()}.${group || 'core'}`;
  const name = `${reg.kind === 'mutating' ? 'm' : 'v'}${base}`;
  return name.split('.').length >= 3 ? name : `${name}.kcp-mc.dev`;
}

/** The configurations for `regs` (only those with entries); `resources` maps each path to its plural resource. */
export function webhookConfigurations(regs: readonly WebhookRegistration[], resources: ReadonlyMap<string, string>, o: WebhookConfigurationOptions): WebhookConfiguration[] {
  const base = o.url.replace(/\/+$/, '');
  const caBundle = Buffer.from(o.caBundle).toString('base64');
  const out: WebhookConfiguration[] = [];
  for (const kind of ['mutating', 'validating'] as const) {
    const webhooks = regs
      .filter((r) => r.kind === kind)
      .map((r) => {
        const { group, version } = parseAPIVersion(r.type.apiVersion);
        const resource = resources.get(r.path);
        if (!resource) throw new Error(`no resource known for webhook ${r.path}`);
        return {
          name: webhookName(r),
          clientConfig: { url: base + r.path, caBundle },
          rules: [{ operations: [...r.operations], apiGroups: [group], apiVersions: [version], resources: [resource], scope: '*' }],
          failurePolicy: r.options.failurePolicy ?? 'Fail',
          sideEffects: 'None',
          timeoutSeconds: r.options.timeoutSeconds ?? 10,
          admissionReviewVersions: ['v1'],
        };
      });
    if (webhooks.length === 0) continue;
    out.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: kind === 'mutating' ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration',
      metadata: { name: o.name },
      webhooks,
    });
  }
  return out;
}

interface SchemaLike extends KubernetesObject {
  spec?: { group?: string; names?: { kind?: string; plural?: string } };
}

/** Each registration's plural resource: its option, else the workspace's APIResourceSchemas, else discovery. */
export async function resolveWebhookResources(client: ClusterClient, regs: readonly WebhookRegistration[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let schemas: SchemaLike[] | undefined;
  for (const r of regs) {
    if (r.options.resource) {
      out.set(r.path, r.options.resource);
      continue;
    }
    const { group } = parseAPIVersion(r.type.apiVersion);
    if (schemas === undefined) {
      try {
        schemas = (await client.list<SchemaLike>({ apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIResourceSchema' })).items;
      } catch {
        // Not kcp, or not allowed to list them: discovery alone decides.
        schemas = [];
      }
    }
    const schema = schemas.find((s) => s.spec?.group === group && s.spec.names?.kind === r.type.kind && s.spec.names.plural);
    if (schema) {
      out.set(r.path, schema.spec!.names!.plural!);
      continue;
    }
    try {
      out.set(r.path, (await client.resolve(r.type)).resource);
    } catch (e) {
      throw new Error(`cannot find the resource of ${r.type.kind} (${r.type.apiVersion}) for webhook ${r.path}: ${(e as Error).message}; pass { resource } to manager.webhook()`);
    }
  }
  return out;
}

/** Writes (server-side apply, forced) the configurations of `regs` with `client`, the provider workspace's. */
export async function installWebhookConfigurations(client: ClusterClient, regs: readonly WebhookRegistration[], o: WebhookConfigurationOptions, log?: Logger): Promise<WebhookConfiguration[]> {
  const configs = webhookConfigurations(regs, await resolveWebhookResources(client, regs), o);
  for (const c of configs) {
    await client.apply(c, { fieldManager: 'kcp-mc', force: true });
    log?.info('installed', { kind: c.kind, name: c.metadata?.name, webhooks: c.webhooks.map((w) => w.name) });
  }
  return configs;
}
