import type { Mapping } from '../../resources/types.js';
import { RESUME_ANNOTATION } from '../kube/restart-patches.js';
import type { Args } from './args.js';
import { Cluster, contextNamespace } from './cluster.js';
import type { Io } from './io.js';
import { render } from './output.js';

/** Why a mapping has nothing to resume, or undefined when its staged rotation is halted. Pure. */
export function nothingToResume(m: Mapping): string | undefined {
  const key = `${m.metadata.namespace}/${m.metadata.name}`;
  if (m.spec.rollout?.strategy !== 'Staged')
    return `${key} is not a Staged mapping: there is nothing to resume`;
  const r = m.status?.rollout;
  if (r?.state !== 'Halted')
    return `${key} is not halted (rollout ${r?.progress ?? 'not started'}): there is nothing to resume`;
  return undefined;
}

/**
 * The resume annotation's new value: the time, which differs from the value the halt recorded
 * (status.rollout.haltedWith) and from the annotation now — only a new value resumes (staging.ts). Pure.
 */
export function resumeValue(m: Mapping, now: number): string {
  const taken = new Set([m.status?.rollout?.haltedWith, m.metadata.annotations?.[RESUME_ANNOTATION]]);
  let t = now;
  while (taken.has(new Date(t).toISOString())) t += 1;
  return new Date(t).toISOString();
}

/**
 * `resume MAPPING`: sets secretsrotation.io/resume to a new value on a halted staged rotation, which
 * makes the operator accept the failures it halted on and go on with the next stage. 1 when the
 * mapping is not halted (nothing written).
 */
export async function runResume(args: Args, cluster: Cluster, now: number, io: Io): Promise<number> {
  const namespace = args.namespace ?? contextNamespace(cluster.kc);
  const m = await cluster.mapping(namespace, args.operands[0]);
  const why = nothingToResume(m);
  if (why) {
    io.err(`${why}\n`);
    return 1;
  }
  const value = resumeValue(m, now);
  const patched = await cluster.annotate(m, { [RESUME_ANNOTATION]: value });
  const r = m.status?.rollout;
  io.out(
    render(
      args.output,
      patched,
      () =>
        `secretsrotationmapping.secretsrotation.io/${m.metadata.name} resumed: halted at stage ${r?.stage} of ${r?.stages} for version ${r?.versionId}; ${RESUME_ANNOTATION}=${value}`,
    ),
  );
  return 0;
}
