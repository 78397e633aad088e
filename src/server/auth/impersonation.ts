/**
 * Kube's impersonation headers (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-<key>`, what
 * `kubectl --as` sends): the caller needs the `impersonate` verb on each impersonated attribute,
 * decided by the logical cluster's authorizer, and the request then runs as the impersonated user.
 */
import type { IncomingMessage } from 'node:http';
import type { Attributes, ClusterAuthorizer } from './auth.js';
import { ApiError, badRequest } from '../http/errors.js';
import type { UserInfo } from '../api/objects.js';

const AUTHENTICATED = 'system:authenticated';
const EXTRA_PREFIX = 'impersonate-extra-';
/** Groups only a member of system:masters may hand out, so RBAC on `groups` cannot mint an admin. */
const PRIVILEGED = new Set(['system:masters', 'system:kcp:admin']);

const PREFIX = 'impersonate-';

/** Whether any header name starts with `Impersonate-` (in any case). */
function asksImpersonation(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length >= PREFIX.length && (n.charCodeAt(0) | 0x20) === 0x69 && n.slice(0, PREFIX.length).toLowerCase() === PREFIX) return true;
  }
  return false;
}

/** What the headers ask for: the user to act as and the `impersonate` checks that must pass. */
export interface Impersonation {
  user: UserInfo;
  checks: Attributes[];
}

/** The impersonation a request asks for, or undefined when it sends no impersonation header. */
export function impersonationOf(req: IncomingMessage): Impersonation | undefined {
  // `headersDistinct` builds a fresh object of every header on each read; nearly no request
  // impersonates, so a scan of the raw names decides first.
  if (!asksImpersonation(req.rawHeaders)) return undefined;
  const h = req.headersDistinct;
  const name = h['impersonate-user']?.[0];
  const groups = (h['impersonate-group'] ?? []).filter(Boolean);
  const uid = h['impersonate-uid']?.[0];
  const extra: Record<string, string[]> = {};
  for (const [header, values] of Object.entries(h)) {
    if (!header.startsWith(EXTRA_PREFIX) || !values) continue;
    let key = header.slice(EXTRA_PREFIX.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      throw badRequest(`invalid impersonation extra key "${key}"`);
    }
    extra[key] = [...(extra[key] ?? []), ...values];
  }
  if (name === undefined) {
    if (groups.length || uid !== undefined || Object.keys(extra).length) throw badRequest('impersonating groups, a uid or extras requires impersonating a user');
    return undefined;
  }
  const checks: Attributes[] = [];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  checks.push(sa ? { verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] } : { verb: 'impersonate', apiGroup: '', resource: 'users', name });
  for (const g of groups) checks.push({ verb: 'impersonate', apiGroup: '', resource: 'groups', name: g });
  if (uid !== undefined) checks.push({ verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  for (const [k, vs] of Object.entries(extra)) {
    for (const v of vs) checks.push({ verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, name: v });
  }
  // As kube does, everyone but the anonymous user is authenticated.
  const all = name !== 'system:anonymous' && !groups.includes(AUTHENTICATED) ? [...groups, AUTHENTICATED] : groups;
  const user: UserInfo = { name, groups: all };
  if (uid) user.uid = uid;
  if (Object.keys(extra).length) user.extra = extra;
  return { user, checks };
}

/**
 * The user a request runs as once `who` is allowed to impersonate: every check must pass the
 * cluster's authorizer. Without one (virtual workspaces, test hooks) only system:masters may.
 */
export function impersonate(who: UserInfo, imp: Impersonation, authorizer: ClusterAuthorizer | undefined): UserInfo {
  const admin = who.groups.includes('system:masters');
  if (!admin) {
    const privileged = imp.user.groups.find((g) => PRIVILEGED.has(g));
    if (privileged) throw new ApiError(403, 'Forbidden', `groups "${privileged}" is forbidden: User "${who.name}" cannot impersonate privileged group "${privileged}"`);
    for (const a of imp.checks) {
      if (!authorizer) throw new ApiError(403, 'Forbidden', `User "${who.name}" cannot impersonate here: only system:masters may`);
      if (!authorizer.authorize(who, a).allowed) throw authorizer.denied(who, a);
    }
  }
  return imp.user;
}
