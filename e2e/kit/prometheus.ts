import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ensureToolchain } from '../env/cluster.js';
import { logDir } from '../env/paths.js';
import { freePort, tail } from '../env/processes.js';
import { environment, waitFor } from './clients.js';
import type { Owner } from './operator-process.js';

/**
 * A real Prometheus and promtool (built from their Go module by e2e/env/build.sh), to prove the
 * chart's alerts and dashboard: a server on 127.0.0.1 with its TSDB in a temporary folder, asked
 * through its HTTP API as Grafana and the rule evaluator ask it.
 */

/** The folder holding prometheus and promtool; a run of build.sh builds them when they are missing. */
export async function prometheusBin(): Promise<string> {
  const has = (dir: string): boolean =>
    ['prometheus', 'promtool'].every((b) => fs.existsSync(path.join(dir, b)));
  const { binDir } = await environment();
  if (has(binDir)) return binDir;
  // An environment a cold demo started skips them (SRO_ESO_IN_BACKGROUND=1): build them now.
  const tools = ensureToolchain();
  if (!has(tools.binDir)) throw new Error(`prometheus and promtool are missing from ${tools.binDir}`);
  return tools.binDir;
}

/** promtool with `args` in `cwd`: its exit status and output (it prints test failures on stdout). */
export async function promtool(args: string[], cwd: string): Promise<{ status: number; output: string }> {
  const out = spawnSync(path.join(await prometheusBin(), 'promtool'), args, { cwd, encoding: 'utf8' });
  return { status: out.status ?? 1, output: `${out.stdout}${out.stderr}` };
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The labels and value type of one selector found in a parsed expression. */
export interface Selector {
  name: string;
  matchers: { name: string; type: string; value: string }[];
}

export interface RunningPrometheus {
  url: string;
  log: string;
  /** An instant query now: its samples, or an Error with Prometheus' message; warnings and infos refused. */
  query(expr: string): Promise<Sample[]>;
  /** Every series selector of `expr`, from Prometheus' own parser (/api/v1/parse_query). */
  selectors(expr: string): Promise<Selector[]>;
  /** The loaded rules as /api/v1/rules reports them. */
  rules(): Promise<{ name: string; health: string; lastError?: string; lastEvaluation: string }[]>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

async function api<T>(base: string, p: string, params: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${base}${p}?${new URLSearchParams(params).toString()}`);
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success')
    throw new Error(`${p} ${JSON.stringify(params)}: ${body.error ?? res.status}`);
  const notes = [...(body.warnings ?? []), ...(body.infos ?? [])];
  if (notes.length) throw new Error(`${p} ${JSON.stringify(params)}: ${notes.join('; ')}`);
  return body.data;
}

/** Every vector or matrix selector in an AST as /api/v1/parse_query writes it. */
function selectorsOf(node: unknown, out: Selector[] = []): Selector[] {
  if (Array.isArray(node)) node.forEach((n) => selectorsOf(n, out));
  else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if (n.type === 'vectorSelector' || n.type === 'matrixSelector') out.push(n as unknown as Selector);
    else Object.values(n).forEach((v) => selectorsOf(v, out));
  }
  return out;
}

/**
 * Starts Prometheus scraping `targets` (host:port) every `scrapeInterval`, evaluating `ruleFiles`
 * as often; each target gets `labels` (as a ServiceMonitor's relabelling adds namespace and pod).
 * Resolves once /-/ready answers; stopped (and its TSDB removed) with the owner's cleanups.
 */
export async function startPrometheus(
  owner: Owner,
  opts: { targets: string[]; labels?: Record<string, string>; ruleFiles?: string[]; scrapeInterval?: string },
): Promise<RunningPrometheus> {
  const bin = await prometheusBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sro-prometheus-'));
  const interval = opts.scrapeInterval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: [
      {
        job_name: 'secrets-rotation-operator',
        static_configs: [{ targets: opts.targets, labels: opts.labels ?? {} }],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `prometheus-${owner.namespace}-${port}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(
    path.join(bin, 'prometheus'),
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', fd, fd], cwd: dir },
  );
  fs.closeSync(fd);
  owner.logs.push(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  owner.cleanups.push(stop);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'Prometheus ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}\n${tail(log)}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
    },
    60_000,
  );
  return {
    url,
    log,
    stop,
    query: async (expr) => (await api<{ result: Sample[] }>(url, '/api/v1/query', { query: expr })).result,
    selectors: async (expr) => selectorsOf(await api<unknown>(url, '/api/v1/parse_query', { query: expr })),
    rules: async () =>
      (
        await api<{ groups: { rules: Awaited<ReturnType<RunningPrometheus['rules']>> }[] }>(
          url,
          '/api/v1/rules',
        )
      ).groups.flatMap((g) => g.rules),
  };
}

/** A selector written back as PromQL: `{__name__="…", l="v"}` selects what it selected. */
export const selectorText = (s: Selector): string =>
  `{${s.matchers.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(', ')}}`;
