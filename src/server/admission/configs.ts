/**
 * admissionregistration.k8s.io/v1 Validating- and MutatingWebhookConfiguration: the served
 * resources, kube's v1 defaults, kube's validation of a configuration (422), and the typed form the
 * dispatcher reads.
 */
import { labelSelectorSchema, objectMetaSchema } from '../api/builtins.js';
import { cause, invalid, type StatusCause } from '../http/errors.js';
import { isObject } from '../json.js';
import { labelSelectorFromMatch, type LabelSelectorSpec } from '../api/selectors.js';
import { matchConditionCauses, parseMatchConditions, sameMatchConditions, type MatchCondition } from './conditions.js';
import { ALL_VERBS, type Json, type JsonObject, type KubeObject, type ResourceDef, type Schema } from '../types.js';

/** The API group of webhook configurations. */
export const ADMISSIONREGISTRATION_GROUP = 'admissionregistration.k8s.io';
/** Storage key of MutatingWebhookConfigurations. */
export const MUTATING_CONFIGURATIONS = `${ADMISSIONREGISTRATION_GROUP}/mutatingwebhookconfigurations`;
/** Storage key of ValidatingWebhookConfigurations. */
export const VALIDATING_CONFIGURATIONS = `${ADMISSIONREGISTRATION_GROUP}/validatingwebhookconfigurations`;

const str = (): Schema => ({ type: 'string' });
const strings = (): Schema => ({ type: 'array', items: str(), listType: 'atomic' });

const ruleSchema: Schema = {
  type: 'object',
  properties: { operations: strings(), apiGroups: strings(), apiVersions: strings(), resources: strings(), scope: str() },
};

function webhookSchema(mutating: boolean): Schema {
  const properties: Record<string, Schema> = {
    name: str(),
    clientConfig: {
      type: 'object',
      properties: {
        url: str(),
        caBundle: { type: 'string', format: 'byte' },
        service: { type: 'object', properties: { namespace: str(), name: str(), path: str(), port: { type: 'integer' } } },
      },
    },
    rules: { type: 'array', items: ruleSchema, listType: 'atomic' },
    failurePolicy: str(),
    matchPolicy: str(),
    namespaceSelector: labelSelectorSchema,
    objectSelector: labelSelectorSchema,
    sideEffects: str(),
    timeoutSeconds: { type: 'integer' },
    admissionReviewVersions: strings(),
    matchConditions: {
      type: 'array',
      items: { type: 'object', properties: { name: str(), expression: str() }, required: ['name', 'expression'] },
      listType: 'map',
      mergeKeys: ['name'],
    },
  };
  if (mutating) properties['reinvocationPolicy'] = str();
  return { type: 'object', properties, required: ['name'] };
}

function configurationDef(mutating: boolean): ResourceDef {
  const kind = mutating ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration';
  return {
    group: ADMISSIONREGISTRATION_GROUP,
    version: 'v1',
    resource: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced: false,
    verbs: [...ALL_VERBS],
    categories: ['api-extensions'],
    statusSubresource: false,
    builtin: true,
    schema: {
      type: 'object',
      properties: {
        apiVersion: str(),
        kind: str(),
        metadata: objectMetaSchema,
        webhooks: { type: 'array', items: webhookSchema(mutating), listType: 'map', mergeKeys: ['name'] },
      },
    },
    storage: mutating ? MUTATING_CONFIGURATIONS : VALIDATING_CONFIGURATIONS,
    printerColumns: [{ name: 'Webhooks', type: 'integer', value: (o) => (Array.isArray(o['webhooks']) ? o['webhooks'].length : 0) }],
  };
}

/** The two webhook configuration resources every workspace serves. */
export const WEBHOOK_CONFIGURATION_DEFS: readonly ResourceDef[] = Object.freeze([configurationDef(true), configurationDef(false)]);

/** One `rules[]` entry, defaulted. */
export interface WebhookRule {
  operations: string[];
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope: string;
}

/** One webhook of a configuration, defaulted, as the dispatcher uses it. */
export interface Webhook {
  /** Name of the configuration that declares it. */
  configuration: string;
  name: string;
  mutating: boolean;
  url: string;
  /** PEM bundle decoded from `clientConfig.caBundle`; undefined means the system roots. */
  caBundle: string | undefined;
  rules: WebhookRule[];
  failurePolicy: 'Fail' | 'Ignore';
  matchPolicy: 'Exact' | 'Equivalent';
  namespaceSelector: LabelSelectorSpec;
  objectSelector: LabelSelectorSpec;
  sideEffects: string;
  timeoutSeconds: number;
  reinvocationPolicy: 'Never' | 'IfNeeded';
  admissionReviewVersions: string[];
  matchConditions: MatchCondition[];
}

const asStrings = (v: Json | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const asObject = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});

/** kube's SetDefaults for v1 webhooks (W1), applied in place on a configuration being written. */
export function defaultWebhookConfiguration(config: KubeObject, mutating: boolean): void {
  if (!Array.isArray(config['webhooks'])) return;
  for (const h of config['webhooks']) {
    if (!isObject(h)) continue;
    h['failurePolicy'] ??= 'Fail';
    h['matchPolicy'] ??= 'Equivalent';
    h['namespaceSelector'] ??= {};
    h['objectSelector'] ??= {};
    h['timeoutSeconds'] ??= 10;
    if (mutating) h['reinvocationPolicy'] ??= 'Never';
    for (const r of Array.isArray(h['rules']) ? h['rules'] : []) if (isObject(r)) r['scope'] ??= '*';
    const svc = asObject(asObject(h['clientConfig'])['service']);
    if (isObject(asObject(h['clientConfig'])['service'])) svc['port'] ??= 443;
  }
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function urlCauses(field: string, raw: string): StatusCause[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return [cause('FieldValueInvalid', field, `Invalid value: ${JSON.stringify(raw)}: host must be specified`)];
  }
  const out: StatusCause[] = [];
  const bad = (why: string): number => out.push(cause('FieldValueInvalid', field, `Invalid value: ${JSON.stringify(raw)}: ${why}`));
  if (u.protocol !== 'https:') bad(`'https' is the only allowed URL scheme; desired format: https://host[/path]`);
  if (!u.hostname) bad('host must be specified');
  if (u.username || u.password) bad('user information is not permitted in the URL');
  if (u.hash || raw.includes('#')) bad('fragments are not permitted in the URL');
  if (u.search || raw.includes('?')) bad('query parameters are not permitted in the URL');
  return out;
}

/**
 * kube's ValidateValidating/MutatingWebhookConfiguration (W2), plus this server's refusal of
 * `service`. On update (`old` given), unchanged matchConditions are not checked again, as kube does.
 */
export function webhookConfigurationCauses(config: KubeObject, mutating: boolean, old?: KubeObject): StatusCause[] {
  const checkConditions = !old || !sameMatchConditions(config['webhooks'] as Json | undefined, old['webhooks'] as Json | undefined);
  const out: StatusCause[] = [];
  const webhooks = Array.isArray(config['webhooks']) ? config['webhooks'] : [];
  const seen = new Set<string>();
  webhooks.forEach((raw, i) => {
    const h = asObject(raw);
    const at = (f: string): string => `webhooks[${i}].${f}`;
    const name = typeof h['name'] === 'string' ? h['name'] : '';
    if (name.split('.').length < 3 || !DNS1123_SUBDOMAIN.test(name)) {
      out.push(cause('FieldValueInvalid', at('name'), `Invalid value: ${JSON.stringify(name)}: should be a domain with at least three segments separated by dots`));
    } else if (seen.has(name)) {
      out.push(cause('FieldValueDuplicate', at('name'), `Duplicate value: ${JSON.stringify(name)}`));
    }
    seen.add(name);
    const se = h['sideEffects'];
    if (se === undefined || se === null || se === '') {
      out.push(cause('FieldValueRequired', at('sideEffects'), 'Required value: must specify one of None, NoneOnDryRun'));
    } else if (se !== 'None' && se !== 'NoneOnDryRun') {
      out.push(cause('FieldValueNotSupported', at('sideEffects'), `Unsupported value: ${JSON.stringify(se)}: supported values: "None", "NoneOnDryRun"`));
    }
    const timeout = h['timeoutSeconds'];
    if (typeof timeout === 'number' && (timeout < 1 || timeout > 30)) {
      out.push(cause('FieldValueInvalid', at('timeoutSeconds'), `Invalid value: ${timeout}: the timeout value must be between 1 and 30 seconds`));
    }
    const versions = asStrings(h['admissionReviewVersions']);
    if (!versions.includes('v1') && !versions.includes('v1beta1')) {
      out.push(cause('FieldValueRequired', at('admissionReviewVersions'), 'Required value: must specify one of v1, v1beta1'));
    }
    for (const [field, value, allowed] of [
      ['failurePolicy', h['failurePolicy'], ['Fail', 'Ignore']],
      ['matchPolicy', h['matchPolicy'], ['Equivalent', 'Exact']],
      ...(mutating ? [['reinvocationPolicy', h['reinvocationPolicy'], ['IfNeeded', 'Never']] as const] : []),
    ] as const) {
      if (typeof value === 'string' && !(allowed as readonly string[]).includes(value)) {
        out.push(cause('FieldValueNotSupported', at(field), `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`));
      }
    }
    (Array.isArray(h['rules']) ? h['rules'] : []).forEach((r, j) => {
      const scope = asObject(r)['scope'];
      if (typeof scope === 'string' && !['*', 'Cluster', 'Namespaced'].includes(scope)) {
        out.push(cause('FieldValueNotSupported', at(`rules[${j}].scope`), `Unsupported value: ${JSON.stringify(scope)}: supported values: "*", "Cluster", "Namespaced"`));
      }
      for (const op of asStrings(asObject(r)['operations'])) {
        if (!['*', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(op)) {
          out.push(cause('FieldValueNotSupported', at(`rules[${j}].operations`), `Unsupported value: ${JSON.stringify(op)}: supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"`));
        }
      }
    });
    for (const field of ['namespaceSelector', 'objectSelector'] as const) {
      try {
        labelSelectorFromMatch(selectorOf(h[field]));
      } catch (e) {
        out.push(cause('FieldValueInvalid', at(field), `Invalid value: ${JSON.stringify(h[field])}: ${(e as Error).message}`));
      }
    }
    const cc = asObject(h['clientConfig']);
    const hasURL = typeof cc['url'] === 'string' && cc['url'] !== '';
    const hasService = isObject(cc['service']);
    if (hasURL === hasService) {
      out.push(cause('FieldValueRequired', at('clientConfig'), 'Required value: exactly one of url or service is required'));
    } else if (hasService) {
      // kcp has no Services: a service reference could never be reached.
      out.push(cause('FieldValueForbidden', at('clientConfig.service'), 'Forbidden: logical clusters have no Services; use clientConfig.url'));
    } else {
      out.push(...urlCauses(at('clientConfig.url'), cc['url'] as string));
    }
    if (checkConditions) out.push(...matchConditionCauses(h['matchConditions'], at('matchConditions')));
  });
  return out;
}

/** Defaults then validates a configuration being created or updated; throws kube's 422. */
export function admitWebhookConfiguration(config: KubeObject, mutating: boolean, old?: KubeObject): void {
  defaultWebhookConfiguration(config, mutating);
  const causes = webhookConfigurationCauses(config, mutating, old);
  if (causes.length) {
    throw invalid(mutating ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration', ADMISSIONREGISTRATION_GROUP, config.metadata.name ?? '', causes);
  }
}

function selectorOf(v: Json | undefined): LabelSelectorSpec {
  const s = asObject(v);
  const matchLabels: Record<string, string> = {};
  for (const [k, x] of Object.entries(asObject(s['matchLabels']))) if (typeof x === 'string') matchLabels[k] = x;
  const matchExpressions = (Array.isArray(s['matchExpressions']) ? s['matchExpressions'] : []).map((e) => {
    const o = asObject(e);
    return { key: String(o['key'] ?? ''), operator: String(o['operator'] ?? ''), values: asStrings(o['values']) };
  });
  return { matchLabels, matchExpressions } as LabelSelectorSpec;
}

/** The webhooks of a stored configuration, in list order. */
export function webhooksOf(config: KubeObject, mutating: boolean): Webhook[] {
  const list = Array.isArray(config['webhooks']) ? config['webhooks'] : [];
  return list.filter(isObject).map((h) => {
    const cc = asObject(h['clientConfig']);
    const ca = typeof cc['caBundle'] === 'string' && cc['caBundle'] ? Buffer.from(cc['caBundle'], 'base64').toString('utf8') : undefined;
    return {
      configuration: config.metadata.name ?? '',
      name: String(h['name'] ?? ''),
      mutating,
      url: typeof cc['url'] === 'string' ? cc['url'] : '',
      caBundle: ca,
      rules: (Array.isArray(h['rules']) ? h['rules'] : []).map((r) => {
        const o = asObject(r);
        return {
          operations: asStrings(o['operations']),
          apiGroups: asStrings(o['apiGroups']),
          apiVersions: asStrings(o['apiVersions']),
          resources: asStrings(o['resources']),
          scope: typeof o['scope'] === 'string' ? o['scope'] : '*',
        };
      }),
      failurePolicy: h['failurePolicy'] === 'Ignore' ? 'Ignore' : 'Fail',
      matchPolicy: h['matchPolicy'] === 'Exact' ? 'Exact' : 'Equivalent',
      namespaceSelector: selectorOf(h['namespaceSelector']),
      objectSelector: selectorOf(h['objectSelector']),
      sideEffects: String(h['sideEffects'] ?? ''),
      timeoutSeconds: typeof h['timeoutSeconds'] === 'number' ? h['timeoutSeconds'] : 10,
      reinvocationPolicy: h['reinvocationPolicy'] === 'IfNeeded' ? 'IfNeeded' : 'Never',
      admissionReviewVersions: asStrings(h['admissionReviewVersions']),
      matchConditions: parseMatchConditions(h['matchConditions']),
    };
  });
}
