/**
 * Authentication by bearer token (the admin token, plus a kube-apiserver style token file) and
 * authorization by RBAC evaluated per logical cluster, the way kcp scopes RBAC to a workspace.
 * Tokens are looked up by digest and never logged.
 */
import { hash } from 'node:crypto';
import * as fs from 'node:fs';
import { ApiError } from './errors.js';
import { isObject } from './json.js';
import { LOGICAL_CLUSTERS, type UserInfo } from './objects.js';
import type { Store } from './store.js';
import type { KubeObject } from './types.js';

/** Groups every authenticated user has. */
const AUTHENTICATED = 'system:authenticated';

/** Parses one CSV line with quoted fields (`token,user,uid,"g1,g2"`), as kube's token file reader does. */
export function parseCSVLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/** Reads a static token file: `token,user,uid[,"group1,group2"]` per line; `#` comments and blank lines skipped. */
export function parseTokenFile(text: string): Map<string, UserInfo> {
  const users = new Map<string, UserInfo>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = parseCSVLine(line);
    if (f.length < 3 || !f[0] || !f[1]) throw new Error(`token file line ${i + 1}: need at least token,user,uid`);
    const groups = f[3] ? f[3].split(',').map((g) => g.trim()).filter(Boolean) : [];
    users.set(f[0], { name: f[1], uid: f[2], groups: [...groups, AUTHENTICATED] });
  }
  return users;
}

/** Hex SHA-256 (one-shot: a quarter of createHash's cost, paid on every request). */
function digest(s: string): string {
  return hash('sha256', s, 'hex');
}

/** Maps bearer tokens to users. */
export class Authenticator {
  private readonly byDigest = new Map<string, UserInfo>();

  constructor(adminToken: string, tokenFile?: string) {
    this.add(adminToken, { name: 'kcp-admin', groups: ['system:masters', 'system:kcp:admin', AUTHENTICATED] });
    if (tokenFile) for (const [t, u] of parseTokenFile(fs.readFileSync(tokenFile, 'utf8'))) this.add(t, u);
  }

  private add(token: string, user: UserInfo): void {
    this.byDigest.set(digest(token), user);
  }

  /** The user of a token, or undefined. */
  authenticate(token: string | undefined): UserInfo | undefined {
    if (!token) return undefined;
    // Keyed by digest, so no lookup compares secret bytes directly.
    return this.byDigest.get(digest(token));
  }
}

/** What a request asks, for RBAC. */
export interface Attributes {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

/** One RBAC rule (resource rules only). */
export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** Whether one rule allows the request. */
export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  const verbs = rule.verbs ?? [];
  if (!verbs.includes('*') && !verbs.includes(a.verb)) return false;
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(a.apiGroup)) return false;
  const wanted = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.some(
    (r) => r === '*' || r === wanted || (a.subresource !== undefined && r === `*/${a.subresource}`),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && names.includes(a.name));
}

function subjectsMatch(binding: KubeObject, user: UserInfo): boolean {
  const subjects = (binding['subjects'] as { kind?: string; name?: string }[] | undefined) ?? [];
  return subjects.some(
    (s) => (s.kind === 'User' && s.name === user.name) || (s.kind === 'Group' && s.name !== undefined && user.groups.includes(s.name)),
  );
}

function rulesOf(role: KubeObject | undefined): PolicyRule[] {
  return ((role?.['rules'] as PolicyRule[] | undefined) ?? []).filter((r) => isObject(r as unknown));
}

/** Whether `user` is the owner recorded on the logical cluster (kcp makes the creator an admin). */
function isOwner(store: Store, cluster: string, user: UserInfo): boolean {
  const lc = store.get(LOGICAL_CLUSTERS, cluster, '', 'cluster');
  const owner = lc?.metadata.annotations?.['experimental.tenancy.kcp.io/owner'];
  if (!owner) return false;
  try {
    return (JSON.parse(owner) as { username?: string }).username === user.name;
  } catch {
    return false;
  }
}

/** Whether RBAC in `cluster` (on its shard's store) allows the request. */
export function rbacAllows(store: Store, cluster: string, user: UserInfo, a: Attributes): boolean {
  if (user.groups.includes('system:masters')) return true;
  if (isOwner(store, cluster, user)) return true;
  const scope = { cluster, namespace: '' };
  const clusterRole = (name: string) => store.get('rbac.authorization.k8s.io/clusterroles', cluster, '', name);
  for (const crb of store.list('rbac.authorization.k8s.io/clusterrolebindings', scope)) {
    if (!subjectsMatch(crb, user)) continue;
    const ref = crb['roleRef'] as { kind?: string; name?: string } | undefined;
    if (ref?.kind === 'ClusterRole' && rulesOf(clusterRole(ref.name ?? '')).some((r) => ruleAllows(r, a))) return true;
  }
  if (a.namespace) {
    for (const rb of store.list('rbac.authorization.k8s.io/rolebindings', { cluster, namespace: a.namespace })) {
      if (!subjectsMatch(rb, user)) continue;
      const ref = rb['roleRef'] as { kind?: string; name?: string } | undefined;
      const role =
        ref?.kind === 'ClusterRole'
          ? clusterRole(ref.name ?? '')
          : store.get('rbac.authorization.k8s.io/roles', cluster, a.namespace, ref?.name ?? '');
      if (rulesOf(role).some((r) => ruleAllows(r, a))) return true;
    }
  }
  return false;
}

/** Kube's 403 for an RBAC denial. */
export function rbacDenied(user: UserInfo, a: Attributes, cluster: string): ApiError {
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : '';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}"${where} in logical cluster "${cluster}"`,
    { name: a.name, group: a.apiGroup, kind: a.resource },
  );
}
