import type { LabelSelector } from '../../resources/types.js';

/** True when the selector has no requirement at all, i.e. would select everything. */
export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  );
}

/** The `labelSelector` query string the Kubernetes API expects for a metav1.LabelSelector. */
export function selectorToString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const values = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${values})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${values})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else parts.push(`!${r.key}`);
  }
  return parts.join(',');
}

const QUALIFIED = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems the CRD schema cannot see: label keys and values that the API server would reject. */
export function selectorProblems(selector: LabelSelector | undefined): string[] {
  if (!selector) return [];
  const problems: string[] = [];
  const checkKey = (key: string): void => {
    // Split at the first slash only: `split('/', 2)` would drop the rest, and "a/b/c" passed.
    const slash = key.indexOf('/');
    const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
    const prefixOk = prefix === undefined || (prefix.length <= 253 && PREFIX.test(prefix));
    if (!prefixOk || name.length > 63 || !QUALIFIED.test(name)) problems.push(`invalid label key "${key}"`);
  };
  const checkValue = (key: string, value: string): void => {
    if (value !== '' && (value.length > 63 || !QUALIFIED.test(value))) {
      problems.push(`invalid label value "${value}" for key "${key}"`);
    }
  };
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    checkKey(k);
    checkValue(k, v);
  }
  for (const r of selector.matchExpressions ?? []) {
    checkKey(r.key);
    for (const v of r.values ?? []) checkValue(r.key, v);
  }
  return problems;
}

/** True when `labels` satisfy `selector` (metav1.LabelSelector semantics; an empty selector matches all). */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
      case 'In':
        return has && (r.values ?? []).includes(labels[r.key]);
      case 'NotIn':
        return !has || !(r.values ?? []).includes(labels[r.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}
