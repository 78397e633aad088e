/**
 * Authentication by bearer token (the admin token, plus a kube-apiserver style token file) and
 * authorization by RBAC evaluated per logical cluster, the way kcp scopes RBAC to a workspace.
 * Tokens are looked up by digest and never logged.
 */
import { hash } from 'node:crypto';
import * as fs from 'node:fs';
import { ApiError, forbiddenPath } from '../http/errors.js';
import { isObject } from '../json.js';
import { LOGICAL_CLUSTERS, type UserInfo } from '../api/objects.js';
import type { Store } from '../storage/store.js';
import type { KubeObject } from '../types.js';

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

/** What a resource request asks, for RBAC. */
export interface Attributes {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

/** What a non-resource request asks (`GET /healthz`): the lowercased method and the path inside the cluster. */
export interface NonResourceAttributes {
  verb: string;
  path: string;
}

/** Either kind of request, as the authorizer sees it. */
export type AuthorizationAttributes = Attributes | NonResourceAttributes;

/** Whether the attributes are of a non-resource request. */
export function isNonResource(a: AuthorizationAttributes): a is NonResourceAttributes {
  return 'path' in a;
}

/** One RBAC rule: resource rules (apiGroups, resources, resourceNames) or non-resource rules (nonResourceURLs). */
export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Whether one rule allows the resource request. */
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

/** Whether one rule allows the non-resource request: an exact URL, `*`, or a prefix ending in `*`. */
export function nonResourceRuleAllows(rule: PolicyRule, a: NonResourceAttributes): boolean {
  const verbs = rule.verbs ?? [];
  if (!verbs.includes('*') && !verbs.includes(a.verb)) return false;
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
}

/** Whether one rule allows a request of either kind. */
export function ruleAllowsAny(rule: PolicyRule, a: AuthorizationAttributes): boolean {
  return isNonResource(a) ? nonResourceRuleAllows(rule, a) : ruleAllows(rule, a);
}

/**
 * Rules every workspace grants without an object to show for them, as kcp's bootstrap policy does
 * with kube's `system:public-info-viewer`, `system:discovery` and `system:basic-user`.
 */
const BOOTSTRAP: readonly { role: string; group: string; rules: readonly PolicyRule[] }[] = [
  {
    role: 'system:public-info-viewer',
    group: AUTHENTICATED,
    rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }],
  },
  {
    role: 'system:discovery',
    group: AUTHENTICATED,
    rules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'] }],
  },
  {
    role: 'system:basic-user',
    group: AUTHENTICATED,
    rules: [
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
    ],
  },
];

/** What a superuser holds: everything, resource and non-resource. */
const EVERYTHING: readonly PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** Rules a user holds through one source (a binding, ownership, a privileged group), and why. */
export interface Grant {
  rules: readonly PolicyRule[];
  /** Whether the rules hold cluster-wide (non-resource rules count only there). */
  clusterWide: boolean;
  /** Why they apply, as a decision's reason. */
  reason: string;
}

function subjectsMatch(binding: KubeObject, user: UserInfo): string | undefined {
  const subjects = (binding['subjects'] as { kind?: string; name?: string }[] | undefined) ?? [];
  for (const s of subjects) {
    if (s.kind === 'User' && s.name === user.name) return `User "${s.name}"`;
    if (s.kind === 'Group' && s.name !== undefined && user.groups.includes(s.name)) return `Group "${s.name}"`;
  }
  return undefined;
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

/**
 * Every grant `user` holds in `cluster` for requests in `namespace` (cluster-wide ones only when
 * absent), cheapest first. Both the authorizer and rules reviews read this one enumeration, so
 * `kubectl auth can-i` cannot disagree with what requests are allowed.
 */
export function* grantsFor(store: Store, cluster: string, user: UserInfo, namespace?: string): Generator<Grant> {
  if (user.groups.includes('system:masters')) yield { rules: EVERYTHING, clusterWide: true, reason: 'allowed by the privileged group "system:masters"' };
  if (cluster !== '*' && isOwner(store, cluster, user)) {
    yield { rules: EVERYTHING, clusterWide: true, reason: `allowed as the owner of logical cluster "${cluster}"` };
  }
  for (const b of BOOTSTRAP) {
    if (user.groups.includes(b.group)) {
      yield { rules: b.rules, clusterWide: true, reason: `RBAC: allowed by the bootstrap ClusterRole "${b.role}" to Group "${b.group}"` };
    }
  }
  // The wildcard view has no bindings of its own: listing them there would mix every cluster's.
  if (cluster === '*') return;
  const clusterRole = (name: string) => store.get('rbac.authorization.k8s.io/clusterroles', cluster, '', name);
  for (const crb of store.list('rbac.authorization.k8s.io/clusterrolebindings', { cluster, namespace: '' })) {
    const subject = subjectsMatch(crb, user);
    const ref = crb['roleRef'] as { kind?: string; name?: string } | undefined;
    if (!subject || ref?.kind !== 'ClusterRole') continue;
    const reason = `RBAC: allowed by ClusterRoleBinding "${crb.metadata.name}" of ClusterRole "${ref.name}" to ${subject}`;
    yield { rules: rulesOf(clusterRole(ref.name ?? '')), clusterWide: true, reason };
  }
  if (!namespace) return;
  for (const rb of store.list('rbac.authorization.k8s.io/rolebindings', { cluster, namespace })) {
    const subject = subjectsMatch(rb, user);
    if (!subject) continue;
    const ref = rb['roleRef'] as { kind?: string; name?: string } | undefined;
    const role =
      ref?.kind === 'ClusterRole' ? clusterRole(ref.name ?? '') : store.get('rbac.authorization.k8s.io/roles', cluster, namespace, ref?.name ?? '');
    const reason = `RBAC: allowed by RoleBinding "${rb.metadata.name}/${namespace}" of ${ref?.kind ?? 'Role'} "${ref?.name ?? ''}" to ${subject}`;
    yield { rules: rulesOf(role), clusterWide: false, reason };
  }
}

/** An authorizer's answer. */
export interface Decision {
  allowed: boolean;
  /** Why it was allowed ('' when no rule allows it, as RBAC has no opinion then). */
  reason: string;
}

/** The decision for one request in `cluster` (on its shard's store): the one function real requests and reviews share. */
export function authorize(store: Store, cluster: string, user: UserInfo, a: AuthorizationAttributes): Decision {
  const nonResource = isNonResource(a);
  for (const g of grantsFor(store, cluster, user, nonResource ? undefined : a.namespace)) {
    if (nonResource && !g.clusterWide) continue;
    if (g.rules.some((r) => ruleAllowsAny(r, a))) return { allowed: true, reason: g.reason };
  }
  return { allowed: false, reason: '' };
}

/** Whether RBAC in `cluster` (on its shard's store) allows the request. */
export function rbacAllows(store: Store, cluster: string, user: UserInfo, a: Attributes): boolean {
  return authorize(store, cluster, user, a).allowed;
}

/** The rules a SelfSubjectRulesReview lists: resource rules for `namespace`, non-resource rules cluster-wide. */
export interface RulesReviewStatus {
  resourceRules: PolicyRule[];
  nonResourceRules: PolicyRule[];
  /** Whether some authorizer could not enumerate its rules; RBAC and ownership always can. */
  incomplete: boolean;
}

/** Every rule `user` holds in `cluster` for `namespace`, from the grants the authorizer evaluates. */
export function rulesFor(store: Store, cluster: string, user: UserInfo, namespace: string): RulesReviewStatus {
  const resourceRules: PolicyRule[] = [];
  const nonResourceRules: PolicyRule[] = [];
  const list = (v: string[] | undefined) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
  for (const g of grantsFor(store, cluster, user, namespace || undefined)) {
    for (const r of g.rules) {
      if (list(r.resources).length) {
        const rule: PolicyRule = { verbs: list(r.verbs), apiGroups: list(r.apiGroups), resources: list(r.resources) };
        if (list(r.resourceNames).length) rule.resourceNames = list(r.resourceNames);
        resourceRules.push(rule);
      }
      if (g.clusterWide && list(r.nonResourceURLs).length) nonResourceRules.push({ verbs: list(r.verbs), nonResourceURLs: list(r.nonResourceURLs) });
    }
  }
  return { resourceRules, nonResourceRules, incomplete: false };
}

/** The authorizer of one logical cluster (or `*`), for requests, reviews and impersonation alike. */
export interface ClusterAuthorizer {
  /** The decision for `user` asking `a`. */
  authorize(user: UserInfo, a: AuthorizationAttributes): Decision;
  /** The rules `user` holds for `namespace`. */
  rules(user: UserInfo, namespace: string): RulesReviewStatus;
  /** The 403 of a denied request. */
  denied(user: UserInfo, a: AuthorizationAttributes): ApiError;
}

/**
 * The RBAC-and-ownership authorizer of a logical cluster on its shard's store. For `*` only
 * system:masters and the bootstrap rules hold, so wildcard requests are the admin's alone.
 */
export function clusterAuthorizer(store: Store, cluster: string): ClusterAuthorizer {
  return {
    authorize: (user, a) => authorize(store, cluster, user, a),
    rules: (user, namespace) => rulesFor(store, cluster, user, namespace),
    denied: (user, a) =>
      isNonResource(a)
        ? forbiddenPath(user, a.verb, a.path, '')
        : cluster === '*'
          ? new ApiError(403, 'Forbidden', 'wildcard requests across logical clusters are reserved for system:masters')
          : rbacDenied(user, a, cluster),
  };
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
