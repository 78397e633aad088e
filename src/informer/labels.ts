/**
 * Label selectors evaluated in the client, for listing from a cache. The string form follows
 * Kubernetes (`a=b,c!=d,e in (f,g),h notin (i),j,!k`); `matchLabels` is accepted as a map.
 */

/** One requirement of a selector. */
export interface LabelRequirement {
  /** Label key, e.g. `app` or `example.dev/tier`. */
  key: string;
  /** `in` and `notin` compare with `values` (`=`, `==` and `!=` parse to them); `exists`/`!exists` test the key. */
  op: 'in' | 'notin' | 'exists' | '!exists';
  /** Values for `in`/`notin`; empty for `exists`/`!exists`. */
  values: readonly string[];
}

/** A parsed selector: all requirements must hold. */
export type LabelSelector = readonly LabelRequirement[];

/** A selector as callers write it: the Kubernetes string form, or a `matchLabels` map. */
export type LabelSelectorInput = string | Readonly<Record<string, string>>;

// Kubernetes qualified names with an optional DNS prefix; values may be empty.
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, sel: string): string {
  if (!KEY.test(key)) throw new Error(`invalid label selector "${sel}": bad key "${key}"`);
  return key;
}

function checkValue(v: string, sel: string): string {
  if (!VALUE.test(v)) throw new Error(`invalid label selector "${sel}": bad value "${v}"`);
  return v;
}

// Commas separate requirements except inside the parentheses of a set.
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** Parses a selector; throws an Error naming the selector on bad syntax. The empty selector matches everything. */
export function parseLabelSelector(input: LabelSelectorInput): LabelSelector {
  if (typeof input !== 'string') {
    return Object.entries(input).map(([k, v]) => ({ key: checkKey(k, k), op: 'in' as const, values: [checkValue(v, k)] }));
  }
  const sel = input.trim();
  if (sel === '') return [];
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTerms(sel)) {
    const term = raw.trim();
    if (term === '') throw new Error(`invalid label selector "${sel}": empty requirement`);
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), sel));
      reqs.push({ key: checkKey(m[1]!, sel), op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      reqs.push({ key: checkKey(m[1]!, sel), op: m[2] === '!=' ? 'notin' : 'in', values: [checkValue(m[3]!, sel)] });
    } else if ((m = /^!\s*(\S+)$/.exec(term))) {
      reqs.push({ key: checkKey(m[1]!, sel), op: '!exists', values: [] });
    } else if (KEY.test(term)) {
      reqs.push({ key: term, op: 'exists', values: [] });
    } else {
      throw new Error(`invalid label selector "${sel}": cannot parse "${term}"`);
    }
  }
  return reqs;
}

/** Whether `labels` satisfy every requirement of `selector`. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const r of selector) {
    const v = labels?.[r.key];
    switch (r.op) {
      case 'exists':
        if (v === undefined) return false;
        break;
      case '!exists':
        if (v !== undefined) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        // As in Kubernetes: a missing label satisfies `!=` and `notin`.
        if (v !== undefined && r.values.includes(v)) return false;
        break;
    }
  }
  return true;
}
