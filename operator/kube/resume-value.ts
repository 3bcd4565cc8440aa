import { createHash } from 'node:crypto';

/** The halt a staged rotation stopped at: its version, stage and recorded resume value (status.rollout). */
export interface HaltRef {
  versionId: string;
  stage: number;
  haltedWith?: string;
}

/** What a pin names a halt by: its version, stage, and (newer pins) the tag of its haltedWith. */
export interface Pin {
  versionId: string;
  stage: number;
  halt?: string;
}

/**
 * A short tag of one halt among those of a version and stage: a second halt of the same stage (a
 * rollout failing after the first halt was resumed) recorded the first resume's value (haltedWith),
 * so its tag differs. Pure.
 */
export const haltTag = (halt: HaltRef): string =>
  createHash('sha256')
    .update(halt.haltedWith ?? '')
    .digest('hex')
    .slice(0, 8);

/**
 * A secretsrotation.io/resume value that names the halt it resumes (what `kubectl secretsrotation
 * resume` writes): `version=V,stage=N,halt=TAG,at=TIME`. The operator resumes only that halt: a newer
 * halt (a newer version halted between the user's look and the resume, or another rollout of the
 * same stage failing after a resume) stays halted. Pure.
 */
export const pinnedResume = (halt: HaltRef, at: string): string =>
  `version=${halt.versionId},stage=${halt.stage},halt=${haltTag(halt)},at=${at}`;

/**
 * The halt a resume value names; undefined for a value that names none (any other value). A value
 * without halt= (written by an older plugin) names the version and stage only. Pure.
 */
export function pinOf(value: string | undefined): Pin | undefined {
  const m = /^version=([^,]+),stage=(\d+),(?:halt=([0-9a-f]+),)?at=/.exec(value ?? '');
  if (!m) return undefined;
  return { versionId: m[1], stage: Number(m[2]), ...(m[3] !== undefined ? { halt: m[3] } : {}) };
}

/**
 * Why the resume value `value` is not for `halt`, or undefined when it is: it names this halt, or
 * names none (a value set by hand: any new value resumes, as before). Pure.
 */
export function otherHalt(value: string | undefined, halt: HaltRef): string | undefined {
  const pin = pinOf(value);
  if (!pin) return undefined;
  const sameStage = pin.versionId === halt.versionId && pin.stage === halt.stage;
  if (sameStage && (pin.halt === undefined || pin.halt === haltTag(halt))) return undefined;
  // The version as the annotation spells it, cut to a version id's length: anyone who may annotate
  // the mapping chooses it, and the message it goes into has a bound (status.rollout.message).
  const version =
    pin.versionId.length > VERSION_MAX ? `${pin.versionId.slice(0, VERSION_MAX - 1)}…` : pin.versionId;
  const which = sameStage ? 'an earlier halt' : 'the halt';
  return `the resume annotation names ${which} of version ${version} at stage ${pin.stage}, not this one: not resumed`;
}

/** The longest version id a status field holds (the CRD's maxLength on its version fields). */
const VERSION_MAX = 64;

/** The CRD's maxLength on status.rollout.haltedWith. */
export const HALTED_WITH_MAX = 256;

/**
 * The resume value as a halt records it (status.rollout.haltedWith): as it is, or — longer than the
 * CRD allows, which would make every status write fail — its SHA-256. Resume values are compared with
 * a recorded one through this. Pure.
 */
export function recordedResume(value: string | undefined): string | undefined {
  if (value === undefined || value.length <= HALTED_WITH_MAX) return value;
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}
