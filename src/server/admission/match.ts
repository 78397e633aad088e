/**
 * Which webhooks a request reaches, as kube's webhook predicates decide it: namespaceSelector, then
 * objectSelector, then rules (operations, groups, versions, resources with subresources, scope), with
 * matchPolicy `Equivalent` retrying the rules on the other served versions of the resource.
 */
import { notFound } from '../http/errors.js';
import { labelSelectorFromMatch, matchesLabels, type LabelSelectorSpec } from '../api/selectors.js';
import type { KubeObject, ResourceDef } from '../types.js';
import type { Webhook, WebhookRule } from './configs.js';

/** The admission operations a write can be. */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** What the predicates look at in a request. */
export interface MatchAttributes {
  operation: Operation;
  def: ResourceDef;
  /** '' for the main resource. */
  subresource: string;
  namespace: string;
  /** Served form; undefined on DELETE. */
  object: KubeObject | undefined;
  oldObject: KubeObject | undefined;
}

/** A webhook a request reaches, and the version its rules matched (W6). */
export interface MatchedWebhook {
  hook: Webhook;
  /** The resource version the object is sent in: the request's own, or an equivalent one. */
  def: ResourceDef;
}

function isNamespaces(def: ResourceDef): boolean {
  return def.group === '' && def.resource === 'namespaces';
}

function ruleMatches(rule: WebhookRule, a: MatchAttributes, def: ResourceDef): boolean {
  const has = (list: string[], v: string): boolean => list.includes('*') || list.includes(v);
  if (!has(rule.operations, a.operation) || !has(rule.apiGroups, def.group) || !has(rule.apiVersions, def.version)) return false;
  const resourceHit = rule.resources.some((r) => {
    const slash = r.indexOf('/');
    const res = slash < 0 ? r : r.slice(0, slash);
    const sub = slash < 0 ? '' : r.slice(slash + 1);
    return (res === '*' || res === def.resource) && (sub === '*' || sub === a.subresource);
  });
  if (!resourceHit) return false;
  switch (rule.scope) {
    case 'Namespaced':
      return !isNamespaces(def) && a.namespace !== '';
    case 'Cluster':
      return a.namespace === '' || isNamespaces(def);
    default:
      return true;
  }
}

function selects(spec: LabelSelectorSpec, labels: Record<string, string> | undefined): boolean {
  return matchesLabels(labelSelectorFromMatch(spec), labels);
}

function isEmpty(spec: LabelSelectorSpec): boolean {
  return Object.keys(spec.matchLabels ?? {}).length === 0 && (spec.matchExpressions ?? []).length === 0;
}

/**
 * The webhooks of `hooks` that the request reaches. `equivalents` are the other served versions of
 * the resource; `namespaceOf` reads a namespace of the request's logical cluster.
 */
export function matchWebhooks(
  hooks: readonly Webhook[],
  a: MatchAttributes,
  equivalents: readonly ResourceDef[],
  namespaceOf: (name: string) => KubeObject | undefined,
): MatchedWebhook[] {
  const out: MatchedWebhook[] = [];
  for (const hook of hooks) {
    let def: ResourceDef | undefined = hook.rules.some((r) => ruleMatches(r, a, a.def)) ? a.def : undefined;
    if (!def && hook.matchPolicy === 'Equivalent') {
      def = equivalents.find((e) => e.version !== a.def.version && hook.rules.some((r) => ruleMatches(r, a, e)));
    }
    if (!def) continue;
    if (!namespaceSelected(hook, a, namespaceOf)) continue;
    if (!isEmpty(hook.objectSelector)) {
      const hit = [a.object, a.oldObject].some((o) => o !== undefined && selects(hook.objectSelector, o.metadata.labels));
      if (!hit) continue;
    }
    out.push({ hook, def });
  }
  return out;
}

function namespaceSelected(hook: Webhook, a: MatchAttributes, namespaceOf: (name: string) => KubeObject | undefined): boolean {
  if (isEmpty(hook.namespaceSelector)) return true;
  if (isNamespaces(a.def)) {
    // A namespace being created or changed is judged by its own new labels.
    const own = a.operation === 'DELETE' ? namespaceOf(a.oldObject?.metadata.name ?? '') : a.object;
    return selects(hook.namespaceSelector, own?.metadata.labels);
  }
  if (a.namespace === '') return true;
  const ns = namespaceOf(a.namespace);
  if (!ns) throw notFound('namespaces', '', a.namespace);
  return selects(hook.namespaceSelector, ns.metadata.labels);
}
