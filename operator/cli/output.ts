import { stringify } from 'yaml';
import type { Output } from './args.js';

/** A table as kubectl prints one: upper-case headers, columns three spaces apart, `<none>` for empty. */
export interface Table {
  headers: string[];
  rows: string[][];
}

/** The table as text, one line per row, columns padded to their widest cell. Pure. */
export function renderTable(t: Table): string {
  const cells = [t.headers, ...t.rows].map((r) => r.map((c) => (c === '' ? '<none>' : c)));
  const widths = t.headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A command's result in the asked format: `-o json` and `-o yaml` print `data` whole (a `List` of
 * items, as kubectl does); the table is the command's own text. Pure.
 */
export function render(output: Output, data: unknown, table: () => string): string {
  if (output === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (output === 'yaml') return stringify(data, { lineWidth: 0 });
  const text = table();
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** How long ago `iso` was, as kubectl's AGE column: 45s, 12m, 5h, 3d. Pure. */
export function age(iso: string | undefined, now: number): string {
  const t = Date.parse(iso ?? '');
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
