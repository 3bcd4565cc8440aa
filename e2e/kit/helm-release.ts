import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { environment } from './clients.js';
import { installAdmissionGuard } from './operator-process.js';

/** The namespace and name of the release `npm run deploy` installs. */
export const RELEASE = { name: 'secrets-rotation-operator', namespace: 'secrets-rotation-operator' };
const NS = RELEASE.namespace;

/** helm from the environment's binaries, against its API server. */
export async function helm(args: string[]): Promise<string> {
  const s = await environment();
  const out = spawnSync(path.join(s.binDir, 'helm'), args, {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: s.kubeconfig, HELM_CACHE_HOME: path.join(s.cacheDir, 'helm-cache') },
    maxBuffer: 32 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`helm ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

/** The release `npm run deploy` installs, as `helm list` shows it. */
export async function release(): Promise<{ name: string; status: string; revision: string } | undefined> {
  const list = JSON.parse(await helm(['list', '-n', NS, '-o', 'json'])) as {
    name: string;
    status: string;
    revision: string;
  }[];
  return list.find((r) => r.name === RELEASE.name);
}

/** Uninstalls the release; the admission guard it adopted goes with it, and the suites after this one run under it. */
export async function uninstall(): Promise<void> {
  if (await release()) await helm(['uninstall', RELEASE.name, '-n', NS, '--wait', '--timeout=90s']);
  await installAdmissionGuard();
}
