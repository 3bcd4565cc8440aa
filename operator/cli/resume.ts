import type { Mapping } from '../../resources/types.js';
import { RESUME_ANNOTATION } from '../kube/restart-patches.js';
import { pinnedResume, recordedResume } from '../kube/resume-value.js';
import type { Args } from './args.js';
import { Cluster, contextNamespace } from './cluster.js';
import type { Io } from './io.js';
import { render } from './output.js';

/**
 * Why a mapping has nothing to resume, or undefined when its staged rotation is halted — for
 * `version`, when given (the halt the user looked at: a newer version may have halted since). Pure.
 */
export function nothingToResume(m: Mapping, version?: string): string | undefined {
  const key = `${m.metadata.namespace}/${m.metadata.name}`;
  if (m.spec.rollout?.strategy !== 'Staged')
    return `${key} is not a Staged mapping: there is nothing to resume`;
  const r = m.status?.rollout;
  if (r?.state !== 'Halted')
    return `${key} is not halted (rollout ${r?.progress ?? 'not started'}): there is nothing to resume`;
  if (version !== undefined && r.versionId !== version)
    return `${key} is halted for version ${r.versionId} now, not ${version}: nothing written; look at it (kubectl secretsrotation status) and resume with --version ${r.versionId}`;
  return undefined;
}

/**
 * The resume annotation's new value: it names the halt read (version, stage, the tag of the value it
 * recorded), so the operator resumes that halt only, and holds the time, so it differs from the value
 * the halt recorded (status.rollout.haltedWith) and from the annotation now — only a new value
 * resumes (staging.ts). Pure.
 */
export function resumeValue(m: Mapping, now: number): string {
  const r = m.status?.rollout;
  const halt = { versionId: r?.versionId ?? '', stage: r?.stage ?? 0, haltedWith: r?.haltedWith };
  const taken = new Set([r?.haltedWith, recordedResume(m.metadata.annotations?.[RESUME_ANNOTATION])]);
  let t = now;
  while (taken.has(recordedResume(pinnedResume(halt, new Date(t).toISOString())))) t += 1;
  return pinnedResume(halt, new Date(t).toISOString());
}

/**
 * `resume MAPPING [--version V]`: sets secretsrotation.io/resume to a new value naming the halt on a
 * halted staged rotation, which makes the operator accept the failures it halted on and go on with
 * the next stage. 1 when the mapping is not halted, or halted for another version than V (nothing
 * written).
 */
export async function runResume(args: Args, cluster: Cluster, now: number, io: Io): Promise<number> {
  const namespace = args.namespace ?? contextNamespace(cluster.kc);
  const m = await cluster.mapping(namespace, args.operands[0]);
  const why = nothingToResume(m, args.version);
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
