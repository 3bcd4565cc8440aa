import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../env/paths.js';
import { helm } from './helm-release.js';

/**
 * The chart's monitoring objects as users get them: the PrometheusRule's rule groups as `helm template`
 * renders them, and the Grafana dashboard's queries. One source of truth: the chart itself.
 */

export const chartDir = path.join(repoRoot, 'manifests', 'helm', 'secrets-rotation-operator');
const dashboardFile = path.join(chartDir, 'dashboards', 'secrets-rotation-operator.json');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroups {
  groups: { name: string; rules: Rule[] }[];
}

/** The PrometheusRule's spec (a Prometheus rule file's content) rendered with `sets` (chart defaults otherwise). */
export async function renderedRules(...sets: string[]): Promise<RuleGroups> {
  const yaml = await helm([
    'template',
    'sro',
    chartDir,
    '--set',
    'config.sqsQueueUrl=https://sqs.us-east-1.amazonaws.com/123456789012/secrets-rotation',
    '--set',
    'metrics.prometheusRule.enabled=true',
    ...sets.flatMap((s) => ['--set', s]),
    '--show-only',
    'templates/prometheusrule.yaml',
  ]);
  const rule = parseAllDocuments(yaml)
    .map((d) => d.toJSON() as { kind?: string; spec?: RuleGroups } | null)
    .find((o) => o?.kind === 'PrometheusRule');
  if (!rule?.spec) throw new Error('helm template rendered no PrometheusRule');
  return rule.spec;
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  /** The target's expression as Grafana sends it, its template variables substituted. */
  expr: string;
}

/**
 * What Grafana puts in place of its built-in variables: the rate window a 1 s scrape needs at least
 * (four intervals) and the range of a short test. A variable not listed here fails loudly: the test
 * must learn how to substitute it rather than send Prometheus a `$`.
 */
const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
};

export function substitute(expr: string, variables: Record<string, string> = {}): string {
  const all = { ...GRAFANA_VARIABLES, ...variables };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    const value = all[name];
    if (value === undefined) throw new Error(`no substitute for Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

interface Panel {
  title?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: Panel[];
}

/** Every Prometheus query of every panel (rows' nested panels too), variables substituted. */
export function dashboardQueries(variables: Record<string, string> = {}): DashboardQuery[] {
  const dashboard = JSON.parse(fs.readFileSync(dashboardFile, 'utf8')) as { panels?: Panel[] };
  const walk = (panels: Panel[]): DashboardQuery[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? [])
        .filter((t) => t.expr !== undefined)
        .map((t) => ({
          panel: p.title ?? '',
          refId: t.refId ?? '',
          expr: substitute(t.expr ?? '', variables),
        })),
      ...walk(p.panels ?? []),
    ]);
  return walk(dashboard.panels ?? []);
}
