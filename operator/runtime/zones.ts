/**
 * IANA time zones for restart windows: canonical names and their formatters, in bounded caches.
 * A zone is spelled by tenants (`europe/berlin`, `Asia/Calcutta`, `Asia/Kolkata`): every spelling is
 * resolved to the runtime's canonical name (ignoring case, as ECMA-402 compares zone names) and
 * formatters are kept per canonical name, least recently used first out. Measured on Node 20 and 24:
 * building a formatter costs ~0.1 ms, formatting an instant ~5 µs (`counts` tells how many of each
 * were made); holding a formatter for every zone costs ~4 MiB of RSS, but building them again and
 * again (a cache smaller than the zones in use) grew RSS by ~130 MiB: so the bounds hold every zone.
 */

/** A map of at most `capacity` entries that forgets the least recently used first. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}

/** How many formatters were built and instants formatted (for tests and the bench: cost, not time). */
export interface IntlCounts {
  formatters: number;
  formats: number;
}

const FORMAT: Intl.DateTimeFormatOptions = {
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
};

let canonicalTable: Map<string, string> | undefined;

/** The runtime's canonical zone names, by their lower-case spelling (~420, built once). */
function canonicalNames(): Map<string, string> {
  canonicalTable ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
  return canonicalTable;
}

/** Canonical zone names and their formatters, both caches bounded (least recently used goes first). */
export class TimeZones {
  readonly counts: IntlCounts = { formatters: 0, formats: 0 };
  /** Spelling (lower case: zone names are compared ignoring case) → canonical name. */
  private readonly names: Lru<string, string>;
  private readonly formatters: Lru<string, Intl.DateTimeFormat>;

  /**
   * The defaults hold every zone and link the runtime knows (~420 canonical zones, ~600 names with
   * the links): no spelling can grow them further, and none is resolved or built twice.
   */
  constructor(capacity: { names: number; formatters: number } = { names: 1024, formatters: 512 }) {
    this.names = new Lru(capacity.names);
    this.formatters = new Lru(capacity.formatters);
  }

  /** Entries held: spellings resolved, formatters kept. */
  get sizes(): { names: number; formatters: number } {
    return { names: this.names.size, formatters: this.formatters.size };
  }

  /** The runtime's name of `zone` (`europe/berlin` → `Europe/Berlin`, an alias → its zone); throws if unknown. */
  canonical(zone: string): string {
    const key = zone.toLowerCase();
    const known = this.names.get(key) ?? canonicalNames().get(key);
    if (known !== undefined) return known;
    // A link (Asia/Kolkata → Asia/Calcutta) or a name unknown: only a formatter tells.
    let f: Intl.DateTimeFormat;
    try {
      f = this.build(zone);
    } catch {
      throw new Error(`time zone "${zone}" is not an IANA time zone name (e.g. Europe/Berlin, UTC)`);
    }
    const name = f.resolvedOptions().timeZone;
    this.names.set(key, name);
    if (!this.formatters.get(name)) this.formatters.set(name, f);
    return name;
  }

  /**
   * The wall-clock time in `zone` (canonical) at minute `m` since the epoch, as minutes since the
   * epoch of that wall-clock time read as UTC; so the zone's offset then is the result minus `m`.
   */
  wallMinute(zone: string, m: number): number {
    let f = this.formatters.get(zone);
    if (!f) {
      f = this.build(zone);
      this.formatters.set(zone, f);
    }
    this.counts.formats++;
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(m * 60_000)) p[part.type] = Number(part.value);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) / 60_000;
  }

  private build(zone: string): Intl.DateTimeFormat {
    this.counts.formatters++;
    return new Intl.DateTimeFormat('en-US', { ...FORMAT, timeZone: zone });
  }
}

/** The process's zones (restart windows of every mapping share them). */
export const timeZones = new TimeZones();

/** Throws unless `zone` is a time zone this runtime knows (IANA names, e.g. Europe/Berlin). */
export function checkTimeZone(zone: string, zones: TimeZones = timeZones): void {
  zones.canonical(zone);
}
