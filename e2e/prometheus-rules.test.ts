import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { repoRoot } from './env/paths.js';
import { renderedRules, type RuleGroups } from './kit/chart-monitoring.js';
import { promtool } from './kit/prometheus.js';

/*
 * The chart's PrometheusRule, as `helm template` renders it, checked by promtool and unit-tested by
 * `promtool test rules` with e2e/prometheus/alerts.test.yaml: every alert fires when it should and
 * stays quiet when it should not.
 */

const unitTests = path.join(repoRoot, 'e2e', 'prometheus', 'alerts.test.yaml');

/** A temporary folder holding `rules` as rules.yaml and a copy of the unit tests, which name that file. */
function workspace(rules: RuleGroups | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-promtool-'));
  fs.writeFileSync(path.join(dir, 'rules.yaml'), typeof rules === 'string' ? rules : stringify(rules));
  fs.copyFileSync(unitTests, path.join(dir, 'alerts.test.yaml'));
  return dir;
}

const alertNames = (rules: RuleGroups): string[] =>
  rules.groups.flatMap((g) => g.rules.map((r) => r.alert).filter((a): a is string => a !== undefined));

test('promtool check rules accepts the rendered PrometheusRule, and refuses a broken one', async () => {
  for (const sets of [[], ['metrics.prometheusRule.latencyP99Seconds=5']]) {
    const dir = workspace(await renderedRules(...sets));
    const r = await promtool(['check', 'rules', 'rules.yaml'], dir);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS: 5 rules found/);
    fs.rmSync(dir, { recursive: true });
  }
  const broken = await renderedRules();
  broken.groups[0].rules[0].expr = 'increase(secrets_rotation_messages_dead_lettered_total[15m] > 0';
  const dir = workspace(broken);
  const r = await promtool(['check', 'rules', 'rules.yaml'], dir);
  fs.rmSync(dir, { recursive: true });
  assert.notEqual(r.status, 0, 'a rule that does not parse is refused');
  assert.match(r.output, /unclosed left parenthesis/);
});

test('every alert has a unit test that fires it and one that does not; promtool test rules passes them', async () => {
  const rules = await renderedRules();
  const names = alertNames(rules);
  assert.equal(names.length, 5, names.join(', '));
  const spec = parse(fs.readFileSync(unitTests, 'utf8')) as {
    tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
  };
  const cases = spec.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const alert of names) {
    const mine = cases.filter((c) => c.alertname === alert);
    assert.ok(
      mine.some((c) => (c.exp_alerts ?? []).length > 0),
      `${alert}: no unit test expects it to fire`,
    );
    assert.ok(
      mine.some((c) => (c.exp_alerts ?? []).length === 0),
      `${alert}: no unit test expects it quiet`,
    );
  }
  assert.deepEqual(
    [...new Set(cases.map((c) => c.alertname))].sort(),
    [...names].sort(),
    'the unit tests name no alert the chart lacks',
  );

  const dir = workspace(rules);
  const r = await promtool(['test', 'rules', 'alerts.test.yaml'], dir);
  fs.rmSync(dir, { recursive: true });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS/);
});

test('the unit tests can fail: rules rendered with a 120 s latency threshold no longer fire on a 60 s p99', async () => {
  const dir = workspace(await renderedRules('metrics.prometheusRule.latencyP99Seconds=120'));
  const r = await promtool(['test', 'rules', 'alerts.test.yaml'], dir);
  fs.rmSync(dir, { recursive: true });
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /FAILED/);
  assert.match(r.output, /alertname: SecretsRotationSlow/);
  assert.doesNotMatch(r.output, /alertname: SecretsRotation(?!Slow)/, 'the other alerts still pass');
});
