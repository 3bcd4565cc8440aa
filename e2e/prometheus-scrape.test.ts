import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  createSecret,
  e2eTest,
  installCrd,
  kc,
  operatorKubeconfig,
  rotate,
  startOperator,
  testQueue,
  uniqueName,
  waitFor,
} from './harness.js';
import { dashboardQueries, renderedRules } from './kit/chart-monitoring.js';
import { selectorText, startPrometheus, type RunningPrometheus, type Sample } from './kit/prometheus.js';
import { applyMapping, waitReason } from './mapping-helpers.js';
import { createWorkload, templateState } from './workloads-fixtures.js';

/*
 * The chart's Grafana dashboard and PrometheusRule against a real Prometheus scraping the running
 * operator: every expression evaluates without error, warning or info, every series selector in it
 * selects a series the operator exports (a misspelt metric or label value selects nothing), and the
 * panels show the rotation the test made.
 */

/** Panels whose every query must show a value above 0 once one rotation restarted one workload. */
const SHOW_THE_ROTATION = ['Restarts by kind and result', 'Event to restart, p50 / p99'];

const values = (samples: Sample[]): number[] => samples.map((s) => Number(s.value[1]));

/** Each selector of `expr` selects at least one series. */
async function selectsSeries(prom: RunningPrometheus, what: string, expr: string): Promise<void> {
  const selectors = await prom.selectors(expr);
  assert.ok(selectors.length > 0, `${what}: no selector parsed`);
  for (const s of selectors) {
    const found = await prom.query(`count(${selectorText(s)})`);
    assert.ok(found.length > 0, `${what}: ${selectorText(s)} selects no series the operator exports`);
  }
}

e2eTest(
  'a real Prometheus scrapes the operator: every dashboard and alert expression evaluates, the restart and latency panels show the rotation',
  async (scope) => {
    const ns = scope.namespace;
    await installCrd();
    const name = uniqueName('prom');
    const secret = await createSecret(name);
    await createWorkload({ kind: 'Deployment', namespace: ns, name: 'web' }, { app: 'p' });
    await applyMapping(ns, 'm', { secretId: name, selector: { matchLabels: { app: 'p' } } });
    const queue = await testQueue(scope, { withRules: true });
    const op = await startOperator(scope, {
      kubeconfig: await operatorKubeconfig(scope),
      queueUrl: queue.queueUrl,
    });
    await waitReason(ns, 'm', 'WatchingSecret');

    const rules = await renderedRules();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-rules-'));
    scope.cleanups.push(() => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })));
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify(rules));
    const prom = await startPrometheus(scope, {
      targets: [`127.0.0.1:${op.metricsPort}`],
      // What a ServiceMonitor's relabelling adds: the Leader panel groups by pod.
      labels: { namespace: ns, pod: 'secrets-rotation-operator-0' },
      ruleFiles: [path.join(dir, 'rules.yaml')],
    });
    // A sample before the rotation: the restart is then an increase from 0, as in production.
    await waitFor('a first scrape', async () => (await prom.query('up == 1')).length === 1);

    const v2 = await rotate(name, secret.arn);
    await waitFor(
      'the workload restarted',
      async () => (await templateState('Deployment', ns, 'web')).stamp === `${name}@${v2}`,
    );
    await waitFor('Prometheus scraped the restart and its latency', async () => {
      const [restarts, latency, acked] = await Promise.all([
        prom.query('secrets_rotation_restarts_total{kind="Deployment",result="success"} == 1'),
        prom.query('secrets_rotation_event_to_restart_seconds_count == 1'),
        prom.query('secrets_rotation_messages_acknowledged_total >= 1'),
      ]);
      return restarts.length === 1 && latency.length === 1 && acked.length === 1;
    });

    const queries = dashboardQueries();
    assert.ok(queries.length >= 9, `dashboard queries: ${queries.length}`);
    for (const q of queries) {
      const what = `dashboard "${q.panel}" ${q.refId}: ${q.expr}`;
      const samples = await prom.query(q.expr);
      assert.ok(samples.length > 0, `${what}: no series`);
      await selectsSeries(prom, what, q.expr);
      if (SHOW_THE_ROTATION.includes(q.panel)) {
        assert.ok(
          values(samples).some((v) => Number.isFinite(v) && v > 0),
          `${what} does not show the rotation: ${JSON.stringify(samples)}`,
        );
      }
    }
    const restarts = await prom.query(queries.find((q) => q.panel === SHOW_THE_ROTATION[0])?.expr ?? '');
    const deployment = restarts.find((s) => s.metric.kind === 'Deployment' && s.metric.result === 'success');
    assert.ok(Number(deployment?.value[1]) > 0, `restarts of Deployments: ${JSON.stringify(restarts)}`);
    for (const panel of SHOW_THE_ROTATION)
      assert.ok(
        queries.some((q) => q.panel === panel),
        panel,
      );

    // The alerts: each expression evaluates and selects exported series; a healthy run fires none.
    const alerts = rules.groups.flatMap((g) => g.rules);
    for (const rule of alerts) {
      const what = `alert ${rule.alert}: ${rule.expr}`;
      assert.deepEqual(await prom.query(rule.expr), [], `${what} holds in a healthy run`);
      await selectsSeries(prom, what, rule.expr);
    }
    // Prometheus' own rule manager evaluated every rule without error.
    const evaluated = await waitFor('every rule evaluated', async () => {
      const r = await prom.rules();
      return r.length === alerts.length && r.every((x) => !x.lastEvaluation.startsWith('0001'))
        ? r
        : undefined;
    });
    for (const r of evaluated) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? ''}`);

    // And an alert fires on real data: with the operator gone, its leader series goes stale (the
    // failed scrape writes staleness markers) and SecretsRotationNoLeader becomes pending.
    await kc(['-n', ns, 'delete', 'srm', 'm', '--timeout=30s']);
    await op.kill();
    await waitFor(
      'SecretsRotationNoLeader pending',
      async () =>
        (await prom.query('ALERTS{alertname="SecretsRotationNoLeader", alertstate="pending"}')).length === 1,
    );
  },
);
