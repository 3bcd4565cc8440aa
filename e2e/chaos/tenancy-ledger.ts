/**
 * What each hostile namespace was allowed when (SecretsRotationPolicy as the run set it), and what it
 * was shown: a secret outside a namespace's policy must never show there (its ARN, its versions), and a
 * narrowed policy must stop restarts there. Pure: the run feeds it; tenancy-ledger.test.ts proves it.
 */
export type Allowed = ReadonlySet<string> | 'all';

export class TenancyLedger {
  /** namespace → the allowed secret names from each change on (ascending times). */
  private readonly history = new Map<string, { at: number; allowed: Allowed }[]>();
  /** identifier (an ARN or a version id) → the secret name it belongs to. */
  private readonly ids = new Map<string, string>();
  /** object key → identifiers it showed last, so only new ones are judged. */
  private readonly shown = new Map<string, Set<string>>();
  private readonly leaks: string[] = [];
  private readonly outside: string[] = [];
  private checked = 0;
  private restartsChecked = 0;

  /** @param lagMs how long the operator may act on the policy it saw before a change (its cache's delay). */
  constructor(private readonly lagMs = 5000) {}

  /** From `at` on, `namespace` may map `allowed` (every secret when no policy selects it). */
  allow(namespace: string, allowed: Allowed, at: number): void {
    const list = this.history.get(namespace) ?? [];
    list.push({ at, allowed: allowed === 'all' ? 'all' : new Set(allowed) });
    this.history.set(namespace, list);
  }

  /** An ARN or version id of `secret`, to look for in what namespaces are shown. */
  identifies(secret: string, id: string): void {
    this.ids.set(id, secret);
  }

  /**
   * An object of `namespace` (a mapping's status, an Event) read as `text` at `at`. `echo` is what the
   * tenant wrote itself (the mapping's spec): an identifier it holds is no disclosure.
   */
  showed(namespace: string, key: string, { text, echo }: { text: string; echo: string }, at: number): void {
    const before = this.shown.get(key) ?? new Set<string>();
    const now = new Set<string>();
    for (const [id, secret] of this.ids) {
      if (!text.includes(id) || echo.includes(id)) continue;
      now.add(id);
      if (before.has(id)) continue;
      this.checked++;
      if (!this.wasAllowed(namespace, secret, at))
        this.leaks.push(`${key} showed ${id} (${secret}) at ${new Date(at).toISOString()}`);
    }
    this.shown.set(key, now);
  }

  /** A workload of `namespace` restarted for `secret` at `at` (its restartedAt). */
  restarted(namespace: string, workload: string, secret: string, at: number): void {
    if (!this.history.has(namespace)) return;
    this.restartsChecked++;
    if (!this.wasAllowed(namespace, secret, at))
      this.outside.push(`${workload} restarted for ${secret} at ${new Date(at).toISOString()}`);
  }

  verdict(): TenancyVerdict {
    return {
      shown: this.checked,
      leaks: [...this.leaks],
      restarts: this.restartsChecked,
      outside: [...this.outside],
    };
  }

  /** Whether `secret` was allowed in `namespace` at some instant of [at − lag, at]. */
  private wasAllowed(namespace: string, secret: string, at: number): boolean {
    const list = this.history.get(namespace);
    if (!list) return true;
    const permits = (a: Allowed): boolean => a === 'all' || a.has(secret);
    for (let i = 0; i < list.length; i++) {
      const until = list[i + 1]?.at ?? Infinity;
      if (list[i].at <= at && until >= at - this.lagMs && permits(list[i].allowed)) return true;
    }
    // Before the first record the run had set nothing yet: nothing may show.
    return false;
  }
}

export interface TenancyVerdict {
  /** Identifiers that appeared in a hostile namespace, each judged once per object. */
  shown: number;
  leaks: string[];
  /** Restarts in hostile namespaces judged against the policy of their time. */
  restarts: number;
  outside: string[];
}
