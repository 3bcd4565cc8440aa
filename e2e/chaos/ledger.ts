/**
 * The chaos run's accounting, from what the cluster showed: every template change of every workload
 * (seen through a watch) and the secrets' versions with the times they became AWSCURRENT. Pure, so
 * the rules that decide "missing", "duplicated" and "stale" are tested on their own (ledger.test.ts).
 */
export class Ledger {
  /** workload key → stamp (secret@version) → the distinct restartedAt values it was applied with. */
  private readonly restarts = new Map<string, Map<string, Set<string>>>();
  /** workload key → the last stamp seen, to spot a workload taken back to an older version. */
  private readonly lastStamp = new Map<string, string>();
  /** secret name → versions in the order they became AWSCURRENT, with when (see rotated). */
  private readonly versions = new Map<string, Version[]>();
  private readonly stale: string[] = [];
  private outOfOrder = 0;

  /**
   * @param staleAfterMs how long after a newer version became current a restart for the older one is
   *   still a race rather than a defect: a pass reads AWSCURRENT, then patches, and under faults its
   *   PATCH may wait for a request timeout (KUBE_REQUEST_TIMEOUT) before the server takes it.
   */
  constructor(private readonly staleAfterMs = 15_000) {}

  /**
   * A version became current: its PutSecretValue (or CreateSecret) was called at `calledAt` and
   * returned at `returnedAt`. The older version stops being current somewhere in between.
   */
  rotated(secret: string, version: string, calledAt = 0, returnedAt = calledAt): void {
    const list = this.versions.get(secret) ?? [];
    list.push({ id: version, calledAt, returnedAt });
    this.versions.set(secret, list);
  }

  versionsOf(secret: string): string[] {
    return (this.versions.get(secret) ?? []).map((v) => v.id);
  }

  current(secret: string): string | undefined {
    return this.versions.get(secret)?.at(-1)?.id;
  }

  rotations(): number {
    let n = 0;
    for (const list of this.versions.values()) n += list.length;
    return n;
  }

  /** When each rotation was called (ms since the epoch), for the run's timeline. */
  rotationTimes(): number[] {
    return [...this.versions.values()].flatMap((list) => list.map((v) => v.calledAt));
  }

  /** When each distinct restart was made (its restartedAt, ms since the epoch), for the timeline. */
  restartTimes(): number[] {
    return [...this.restarts.values()].flatMap((byStamp) =>
      [...byStamp.values()].flatMap((times) => [...times].map((t) => Date.parse(t))),
    );
  }

  /** A workload's pod template as a watch event showed it; repeated sightings of one restart count once. */
  saw(workload: string, stamp: string | undefined, restartedAt: string | undefined): void {
    if (!stamp || !restartedAt) return;
    const byStamp = this.restarts.get(workload) ?? new Map<string, Set<string>>();
    this.restarts.set(workload, byStamp);
    const times = byStamp.get(stamp) ?? new Set<string>();
    byStamp.set(stamp, times);
    if (times.has(restartedAt)) return;
    times.add(restartedAt);
    const previous = this.lastStamp.get(workload);
    if (previous && this.isOlder(stamp, previous)) this.outOfOrder++;
    this.lastStamp.set(workload, stamp);
    const why = this.notCurrent(stamp, Date.parse(restartedAt));
    if (why) this.stale.push(`${workload} ${stamp} at ${restartedAt}: ${why}`);
  }

  /**
   * The verdict for the workloads that stayed targeted all run (`tracked`: key → secret name) given
   * their final stamps: each must run its secret's current version (if the secret ever rotated); no
   * (workload, version) may have been restarted twice, in any workload, tracked or not; no restart may
   * name a version that was not AWSCURRENT when it was made.
   */
  verdict(tracked: Map<string, string>, finalStamps: Map<string, string | undefined>): Verdict {
    let expected = 0;
    const missing: string[] = [];
    for (const [workload, secret] of tracked) {
      const current = this.current(secret);
      if (!current || this.versions.get(secret)?.length === 1) continue;
      expected++;
      if (finalStamps.get(workload) !== `${secret}@${current}`) missing.push(workload);
    }
    let made = 0;
    const duplicated: string[] = [];
    for (const [workload, byStamp] of this.restarts)
      for (const [stamp, times] of byStamp) {
        made += times.size;
        if (times.size > 1) duplicated.push(`${workload} ${stamp} ×${times.size}`);
      }
    return { expected, made, missing, duplicated, outOfOrder: this.outOfOrder, stale: [...this.stale] };
  }

  /**
   * Why a restart made at `at` (the operator's restartedAt) for `stamp` names a version that was not
   * AWSCURRENT then; undefined when it was (or the secret is not one the run rotates).
   */
  private notCurrent(stamp: string, at: number): string | undefined {
    const [secret, version] = split(stamp);
    const list = this.versions.get(secret);
    if (!list) return undefined;
    const i = list.findIndex((v) => v.id === version);
    if (i < 0) return 'never AWSCURRENT';
    // A second of slack: restartedAt and our clock are the same machine's, ms apart at most.
    if (at < list[i].calledAt - 1000) return 'before it became AWSCURRENT';
    const next = list[i + 1];
    if (next && at > next.returnedAt + this.staleAfterMs)
      return `${Math.round((at - next.returnedAt) / 1000)} s after ${next.id} replaced it`;
    return undefined;
  }

  /** True when `stamp` names an older version of the same secret than `than`. */
  private isOlder(stamp: string, than: string): boolean {
    const [secret, version] = split(stamp);
    const [otherSecret, otherVersion] = split(than);
    if (secret !== otherSecret) return false;
    const order = this.versionsOf(secret);
    return order.indexOf(version) < order.indexOf(otherVersion);
  }
}

interface Version {
  id: string;
  calledAt: number;
  returnedAt: number;
}

export interface Verdict {
  /** Tracked workloads whose secret rotated during the run: each must end on the current version. */
  expected: number;
  /** Restarts seen (distinct restartedAt values), in every workload. */
  made: number;
  missing: string[];
  duplicated: string[];
  /** Restarts that took a workload back to an older version than one it had. */
  outOfOrder: number;
  /** Restarts for a version that was not AWSCURRENT when they were made (see notCurrent). */
  stale: string[];
}

export const split = (stamp: string): [string, string] => {
  const at = stamp.lastIndexOf('@');
  return [stamp.slice(0, at), stamp.slice(at + 1)];
};
