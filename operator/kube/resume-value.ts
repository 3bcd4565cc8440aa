/** The halt a staged rotation stopped at: its version and stage (status.rollout). */
export interface HaltRef {
  versionId: string;
  stage: number;
}

/**
 * A secretsrotation.io/resume value that names the halt it resumes (what `kubectl secretsrotation
 * resume` writes): `version=V,stage=N,at=TIME`. The operator resumes only that halt: a newer halt (a
 * newer version halted between the user's look and the resume) stays halted. Pure.
 */
export const pinnedResume = (halt: HaltRef, at: string): string =>
  `version=${halt.versionId},stage=${halt.stage},at=${at}`;

/** The halt a resume value names; undefined for a value that names none (any other value). Pure. */
export function pinOf(value: string | undefined): HaltRef | undefined {
  const m = /^version=([^,]+),stage=(\d+),at=/.exec(value ?? '');
  return m ? { versionId: m[1], stage: Number(m[2]) } : undefined;
}

/**
 * Why the resume value `value` is not for `halt`, or undefined when it is: it names this halt, or
 * names none (a value set by hand: any new value resumes, as before). Pure.
 */
export function otherHalt(value: string | undefined, halt: HaltRef): string | undefined {
  const pin = pinOf(value);
  if (!pin || (pin.versionId === halt.versionId && pin.stage === halt.stage)) return undefined;
  return `the resume annotation names the halt of version ${pin.versionId} at stage ${pin.stage}, not this one: not resumed`;
}
