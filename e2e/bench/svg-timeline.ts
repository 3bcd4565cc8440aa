import { esc, fmt, linearTicks, PALETTE, svgRoot } from './svg-plot.js';

/*
 * A timeline: one lane per row — spans (a fault from its start to its end), marks (a process started,
 * killed, crashed) or a density strip (rotations per bin, too many to draw one by one). Times are
 * seconds from the start of the run.
 */

export type MarkSymbol = 'circle' | 'cross' | 'triangle' | 'bar';

export interface Lane {
  name: string;
  color?: string;
  spans?: [number, number][];
  marks?: { at: number; symbol?: MarkSymbol; color?: string; label?: string }[];
  /** Counts per bin of `binSeconds`, the first bin starting at 0: bars scaled to the lane's largest. */
  density?: { binSeconds: number; counts: number[] };
}

export interface Timeline {
  title: string;
  /** Seconds the x axis covers, from 0. */
  seconds: number;
  lanes: Lane[];
  /** Lines across every lane (e.g. the end of the faults). */
  markers?: { at: number; label: string }[];
  /** A line of text under the axis: what the symbols mean. */
  note?: string;
  width?: number;
}

const LANE = 18;

function symbol(kind: MarkSymbol, [x, y]: [number, number], color: string, title?: string): string {
  const t = title ? `<title>${esc(title)}</title>` : '';
  switch (kind) {
    case 'cross':
      return `<path class="mark" d="M${x - 4},${y - 4}L${x + 4},${y + 4}M${x - 4},${y + 4}L${x + 4},${y - 4}" stroke="${color}" stroke-width="2">${t}</path>`;
    case 'triangle':
      return `<path class="mark" d="M${x},${y - 5}L${x + 5},${y + 4}L${x - 5},${y + 4}Z" fill="${color}">${t}</path>`;
    case 'bar':
      return `<line class="mark" x1="${x}" y1="${y - 6}" x2="${x}" y2="${y + 6}" stroke="${color}" stroke-width="1.5">${t}</line>`;
    default:
      return `<circle class="mark" cx="${x}" cy="${y}" r="3.5" fill="${color}">${t}</circle>`;
  }
}

function lane(l: Lane, [i, top]: [number, number], sx: (s: number) => number, color: string): string {
  const mid = top + LANE / 2;
  let svg = `<g class="lane"><text x="${sx(0) - 6}" y="${mid + 4}" text-anchor="end">${esc(l.name)}</text>`;
  if (i % 2 === 0)
    svg += `<rect x="${sx(0)}" y="${top}" width="${sx(Infinity) - sx(0)}" height="${LANE}" fill="#f6f6f6"/>`;
  for (const [from, to] of l.spans ?? [])
    svg += `<rect class="span" x="${sx(from)}" y="${top + 3}" width="${Math.max(1.5, sx(to) - sx(from)).toFixed(1)}" height="${LANE - 6}" fill="${color}" opacity="0.8"/>`;
  for (const m of l.marks ?? [])
    svg += symbol(m.symbol ?? 'circle', [sx(m.at), mid], m.color ?? color, m.label);
  if (l.density) {
    const { binSeconds, counts } = l.density;
    const most = Math.max(1, ...counts);
    counts.forEach((n, b) => {
      if (!n) return;
      const h = Math.max(1, ((LANE - 4) * n) / most);
      const [x0, x1] = [sx(b * binSeconds), sx((b + 1) * binSeconds)];
      svg += `<rect class="bin" x="${x0}" y="${(top + LANE - 2 - h).toFixed(1)}" width="${Math.max(0.8, x1 - x0 - 0.4).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"/>`;
    });
    svg += `<text x="${sx(Infinity) + 4}" y="${mid + 4}" fill="#555">max ${most}/${fmt(binSeconds)} s</text>`;
  }
  return `${svg}</g>`;
}

/** The timeline as an SVG document: a lane per row, the shared time axis below. */
export function timeline(t: Timeline): string {
  const width = t.width ?? 900;
  const labelW = 8 + Math.max(60, ...t.lanes.map((l) => l.name.length * 6.2));
  const [left, right, top] = [labelW, width - 92, 34];
  const bottom = top + t.lanes.length * LANE;
  const seconds = Math.max(t.seconds, 1e-9);
  const sx = (s: number): number => +(left + (Math.min(s, seconds) / seconds) * (right - left)).toFixed(1);
  const minutes = t.seconds > 600;
  const unit = minutes ? 60 : 1;
  let body = `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(t.title)}</text>`;
  body += t.lanes
    .map((l, i) => lane(l, [i, top + i * LANE], sx, l.color ?? PALETTE[i % PALETTE.length]))
    .join('');
  for (const v of linearTicks(0, t.seconds / unit, 8))
    body +=
      `<line x1="${sx(v * unit)}" y1="${top}" x2="${sx(v * unit)}" y2="${bottom + 4}" stroke="#ccc"/>` +
      `<text x="${sx(v * unit)}" y="${bottom + 16}" text-anchor="middle">${fmt(v)}</text>`;
  for (const m of t.markers ?? [])
    body +=
      `<g class="marker"><line x1="${sx(m.at)}" y1="${top - 4}" x2="${sx(m.at)}" y2="${bottom}" stroke="#555" stroke-dasharray="3,3"/>` +
      `<text x="${sx(m.at) + 3}" y="${top - 6}" fill="#555">${esc(m.label)}</text></g>`;
  body += `<text x="${(left + right) / 2}" y="${bottom + 32}" text-anchor="middle">${minutes ? 'minutes' : 'seconds'} from the start of the run</text>`;
  const height = bottom + (t.note ? 62 : 44);
  if (t.note) body += `<text x="${left}" y="${bottom + 50}" fill="#555">${esc(t.note)}</text>`;
  return svgRoot(width, height, body);
}
