/**
 * kube's CEL authorizer library (`authorizer.group(g).resource(r).namespace(n).check(verb).allowed()`,
 * `authorizer.path(p)`, `authorizer.serviceAccount(ns, name)`, `authorizer.requestResource`), over
 * an authorization function the server supplies for the request's user and logical cluster.
 */
import type { Environment } from '@marcbachmann/cel-js';

/** What is asked of the server's authorizer: a resource check or a non-resource path. */
export type AuthzAttributes =
  | { verb: string; apiGroup: string; resource: string; subresource?: string; namespace?: string; name?: string }
  | { verb: string; path: string };

/** Who asks: the request's user, or a service account named in the expression. */
export type AuthzSubject = { serviceAccount: { namespace: string; name: string } } | undefined;

/** The server's authorizer as an expression sees it. */
export type AuthorizeFn = (subject: AuthzSubject, attrs: AuthzAttributes) => { allowed: boolean; reason: string };

const AUTHORIZER = 'kubernetes.authorization.Authorizer';
const PATH_CHECK = 'kubernetes.authorization.PathCheck';
const GROUP_CHECK = 'kubernetes.authorization.GroupCheck';
const RESOURCE_CHECK = 'kubernetes.authorization.ResourceCheck';
const DECISION = 'kubernetes.authorization.Decision';

/** The `authorizer` value; a Map so that `authorizer.requestResource` reads as a field. */
export class Authorizer extends Map<string, unknown> {
  constructor(
    readonly authorize: AuthorizeFn,
    readonly subject: AuthzSubject,
  ) {
    super();
  }
}

class PathCheck {
  constructor(
    readonly authz: Authorizer,
    readonly path: string,
  ) {}
}

class GroupCheck {
  constructor(
    readonly authz: Authorizer,
    readonly group: string,
  ) {}
}

/** A resource check being built; each builder returns a copy. */
export class ResourceCheck {
  constructor(
    readonly authz: Authorizer,
    readonly group: string,
    readonly resource: string,
    readonly subresource = '',
    readonly namespace = '',
    readonly name = '',
  ) {}

  with(part: Partial<Pick<ResourceCheck, 'subresource' | 'namespace' | 'name'>>): ResourceCheck {
    return new ResourceCheck(this.authz, this.group, this.resource, part.subresource ?? this.subresource, part.namespace ?? this.namespace, part.name ?? this.name);
  }
}

class Decision {
  constructor(
    readonly allowed: boolean,
    readonly reason: string,
  ) {}
}

/** The request's own resource, as `authorizer.requestResource` names it. */
export interface RequestResource {
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** The `authorizer` variable for one request. */
export function authorizerFor(authorize: AuthorizeFn, req: RequestResource): Authorizer {
  const a = new Authorizer(authorize, undefined);
  a.set('requestResource', new ResourceCheck(a, req.group, req.resource, req.subresource, req.namespace, req.name));
  return a;
}

function decide(authz: Authorizer, attrs: AuthzAttributes): Decision {
  const d = authz.authorize(authz.subject, attrs);
  return new Decision(d.allowed, d.reason);
}

/** Declares the library's types and functions, and the `authorizer` variable, on `env`. */
export function registerAuthorizer(env: Environment): void {
  const fn = (sig: string, handler: (...args: never[]) => unknown): void => {
    env.registerFunction(sig, handler as (...args: unknown[]) => unknown);
  };
  env
    .registerType(AUTHORIZER, { ctor: Authorizer, fields: { requestResource: RESOURCE_CHECK } })
    .registerType(PATH_CHECK, PathCheck)
    .registerType(GROUP_CHECK, GroupCheck)
    .registerType(RESOURCE_CHECK, ResourceCheck)
    .registerType(DECISION, Decision);
  fn(`${AUTHORIZER}.path(string): ${PATH_CHECK}`, (a: Authorizer, p: string) => new PathCheck(a, p));
  fn(`${AUTHORIZER}.group(string): ${GROUP_CHECK}`, (a: Authorizer, g: string) => new GroupCheck(a, g));
  fn(`${AUTHORIZER}.serviceAccount(string, string): ${AUTHORIZER}`, (a: Authorizer, namespace: string, name: string) => new Authorizer(a.authorize, { serviceAccount: { namespace, name } }));
  fn(`${GROUP_CHECK}.resource(string): ${RESOURCE_CHECK}`, (g: GroupCheck, r: string) => new ResourceCheck(g.authz, g.group, r));
  fn(`${RESOURCE_CHECK}.subresource(string): ${RESOURCE_CHECK}`, (c: ResourceCheck, s: string) => c.with({ subresource: s }));
  fn(`${RESOURCE_CHECK}.namespace(string): ${RESOURCE_CHECK}`, (c: ResourceCheck, s: string) => c.with({ namespace: s }));
  fn(`${RESOURCE_CHECK}.name(string): ${RESOURCE_CHECK}`, (c: ResourceCheck, s: string) => c.with({ name: s }));
  fn(`${RESOURCE_CHECK}.check(string): ${DECISION}`, (c: ResourceCheck, verb: string) =>
    decide(c.authz, {
      verb,
      apiGroup: c.group,
      resource: c.resource,
      subresource: c.subresource || undefined,
      namespace: c.namespace || undefined,
      name: c.name || undefined,
    }),
  );
  fn(`${PATH_CHECK}.check(string): ${DECISION}`, (c: PathCheck, verb: string) => decide(c.authz, { verb, path: c.path }));
  fn(`${DECISION}.allowed(): bool`, (d: Decision) => d.allowed);
  fn(`${DECISION}.reason(): string`, (d: Decision) => d.reason);
  // The server's authorizer answers without errors; kube's accessors still exist.
  fn(`${DECISION}.errored(): bool`, () => false);
  fn(`${DECISION}.error(): string`, () => '');
  env.registerVariable('authorizer', AUTHORIZER);
}
