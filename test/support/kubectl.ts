/**
 * The real kubectl against a reference server, as the conformance tests drive it: the server's
 * admin kubeconfig and a discovery cache of the test's own (so that no test reads another server's
 * cached discovery), run with execFile (no shell) and a deadline. Plus the apis.kcp.io manifests
 * that several of those tests apply alike.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RunningServer } from '../../src/server/index.js';

const run = promisify(execFile);

/** What the runner needs; a getter, because tests start the server and make the cache dir in `before`. */
export interface KubectlTarget {
  srv: Pick<RunningServer, 'kubeconfigPath'>;
  cacheDir: string;
}

/** kubectl bound to one server and cache dir. */
export interface Kubectl {
  /** Runs kubectl (with `stdin` piped in when given) and resolves with its stdout; rejects when it fails. */
  kubectl(args: string[], stdin?: string): Promise<string>;
  /** kubectl's stderr when it fails, for checking refusals; throws when it succeeds. */
  kubectlFails(args: string[], stdin?: string): Promise<string>;
  /** The JSON kubectl prints for `args` with `-o json`. */
  kubectlJSON<T>(args: string[]): Promise<T>;
  /** Runs kubectl and resolves with stdout, stderr and whether it succeeded (for partial successes). */
  kubectlSettled(args: string[], stdin?: string): Promise<{ ok: boolean; stdout: string; stderr: string }>;
}

/** kubectl for the server and cache dir `target` returns at the time of each call. */
export function kubectlFor(target: () => KubectlTarget): Kubectl {
  async function kubectl(args: string[], stdin?: string): Promise<string> {
    const { srv, cacheDir } = target();
    const child = run('kubectl', ['--kubeconfig', srv.kubeconfigPath, '--cache-dir', cacheDir, ...args], { timeout: 30_000 });
    if (stdin !== undefined) child.child.stdin!.end(stdin);
    return (await child).stdout;
  }
  async function kubectlFails(args: string[], stdin?: string): Promise<string> {
    try {
      await kubectl(args, stdin);
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
    throw new Error(`kubectl ${args.join(' ')} succeeded`);
  }
  async function kubectlJSON<T>(args: string[]): Promise<T> {
    return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  }
  async function kubectlSettled(args: string[], stdin?: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const { srv, cacheDir } = target();
    const child = run('kubectl', ['--kubeconfig', srv.kubeconfigPath, '--cache-dir', cacheDir, ...args], { timeout: 30_000 });
    if (stdin !== undefined) child.child.stdin!.end(stdin);
    try {
      const { stdout, stderr } = await child;
      return { ok: true, stdout, stderr };
    } catch (e) {
      const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
      return { ok: false, stdout, stderr };
    }
  }
  return { kubectl, kubectlFails, kubectlJSON, kubectlSettled };
}

/** The flags that point kubectl at one logical cluster (name or workspace path) of the server. */
export function inCluster(srv: Pick<RunningServer, 'url'>, cluster: string): string[] {
  return ['--server', `${srv.url}/clusters/${cluster}`];
}

/**
 * The APIResourceSchema `v1.cowboys.wildwest.dev` (namespaced Cowboys of wildwest.dev) that
 * `cowboysExport` exports; `versions` are its YAML list lines for `spec.versions` (indented two spaces).
 */
export function cowboysSchema(versions: string): string {
  return `apiVersion: apis.kcp.io/v1alpha1
kind: APIResourceSchema
metadata: {name: v1.cowboys.wildwest.dev}
spec:
  group: wildwest.dev
  names: {plural: cowboys, singular: cowboy, kind: Cowboy, listKind: CowboyList}
  scope: Namespaced
  versions:
${versions}`;
}

/** YAML list lines (indented two spaces) under `  permissionClaims:`, or nothing for none. */
function claimsBlock(lines: string): string {
  return lines ? `  permissionClaims:\n${lines}` : '';
}

/**
 * An APIExport `name` of the cowboys resource over the `v1.cowboys.wildwest.dev` schema;
 * `permissionClaims` are YAML list lines for `spec.permissionClaims`, none when empty.
 */
export function cowboysExport(name: string, permissionClaims = ''): string {
  return `apiVersion: apis.kcp.io/v1alpha2
kind: APIExport
metadata: {name: ${name}}
spec:
  resources:
  - {name: cowboys, group: wildwest.dev, schema: v1.cowboys.wildwest.dev, storage: {crd: {}}}
${claimsBlock(permissionClaims)}`;
}

/** An APIBinding named like the export it binds, to `exportPath:exportName`, with claims as in `cowboysExport`. */
export function bindingTo(exportPath: string, exportName: string, permissionClaims = ''): string {
  return `apiVersion: apis.kcp.io/v1alpha2
kind: APIBinding
metadata: {name: ${exportName}}
spec:
  reference: {export: {path: '${exportPath}', name: ${exportName}}}
${claimsBlock(permissionClaims)}`;
}

/**
 * The provider's manifests of the webhook tests: the cowboys schema (v1alpha1 with a status
 * subresource; `spec.size` an integer, required, and `spec.color` a string) and export `wildwest`.
 */
export function cowboysProvider(): string {
  return `${cowboysSchema(
    `  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {type: object, properties: {spec: {type: object, required: [size], properties: {size: {type: integer}, color: {type: string}}}, status: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`,
  )}---
${cowboysExport('wildwest')}`;
}
