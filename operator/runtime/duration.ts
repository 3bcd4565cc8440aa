/**
 * The longest delay a timer can wait: setTimeout fires after 1 ms for anything above 2^31-1 ms
 * (24.8 days), which turned a 600h interval into a busy loop.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest minRestartInterval (as the CRD's rule says). */
export const MAX_RESTART_INTERVAL_MS = 168 * 3_600_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration without fractions ("90s", "5m", "1h30m", "250ms", "0s") into milliseconds.
 * The same grammar as the CRD's minRestartInterval pattern and the operator's duration settings.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h))+$/.test(trimmed)) {
    throw new Error(`invalid duration "${text}": use digits with ms, s, m or h, e.g. 30s, 5m, 1h30m`);
  }
  let total = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(n) * UNIT_MS[unit];
  return total;
}
