/**
 * The name `kcp-mc run` gives a controller module: the `reportingController` of its Events and the
 * default leader-election Lease (`kcp-mc-<name>`). It is the module's `export const name`, else the
 * name of the first controller its setup registers, so that it follows what the module says it is
 * and not what its file happens to be called (`controller.js`, `index.js`).
 */

// events.k8s.io/v1 wants reportingController to be a qualified name (an optional DNS subdomain
// prefix and a name part of at most 63 characters).
const QUALIFIED = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

/** Why `name` cannot be an Event's reportingController; undefined when it can. */
export function reportingNameProblem(name: string): string | undefined {
  const m = QUALIFIED.exec(name);
  if (!m) return 'it must be a qualified name such as example.com/my-controller or my-controller';
  if (m[1]!.length > 63) return 'its name part must be at most 63 characters';
  return undefined;
}

/**
 * The module's name: `exported` (its `export const name`) when given, else the first controller's;
 * throws a one-line reason (the caller's usage error) when neither is usable.
 */
export function moduleName(exported: unknown, controllers: readonly { name: string }[], file: string): string {
  if (exported !== undefined) {
    if (typeof exported !== 'string' || exported === '') throw new Error(`controller module ${file} exports a name that is not a non-empty string`);
    const bad = reportingNameProblem(exported);
    if (bad) throw new Error(`controller module ${file} exports name ${JSON.stringify(exported)}: ${bad}`);
    return exported;
  }
  const first = controllers[0];
  if (!first) throw new Error(`controller module ${file} has no name export and no controllers`);
  const bad = reportingNameProblem(first.name);
  if (bad) throw new Error(`controller module ${file} has no name export and its first controller's name ${JSON.stringify(first.name)} cannot name its Events (${bad}): export const name = '...'`);
  return first.name;
}

/** The default Lease name for module `name`: `kcp-mc-<name>` made a DNS subdomain. */
export function defaultLeaseName(name: string): string {
  const s = `kcp-mc-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 253);
  return s.replace(/[^a-z0-9]+$/, '');
}
