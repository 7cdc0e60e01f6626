// A small SVG chart writer for the benchmark report: line charts over categories (linear or
// log10 value axis) and grouped bar charts, with axes, gridlines, value labels and a legend.
// No dependencies; the output is a standalone SVG document that renders the same in a browser
// and on GitHub. Pure: data in, SVG text out. Missing values (null or NaN) are left out.

export interface Series {
  name: string;
  color: string;
  values: Array<number | null>;
  /** Dashed line (line charts). */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Labels of the x categories, in order. */
  categories: string[];
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** log10 value axis (line charts). */
  log?: boolean;
  width?: number;
  height?: number;
  /** Formats a value for labels and ticks. */
  format?: (value: number) => string;
}

const font = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const isValue = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** "Nice" linear ticks from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten (and 2×, 5× when the range is short) spanning [min, max]. */
function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e += 1) {
    for (const m of hi - lo <= 3 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= 10 ** lo && v <= 10 ** hi) ticks.push(Number(v.toPrecision(12)));
    }
  }
  return ticks;
}

function defaultFormat(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100_000) return `${Math.round(value / 1000).toLocaleString('en')}k`;
  if (abs >= 1000) return Math.round(value).toLocaleString('en');
  if (abs >= 10) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(1);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}

interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

function frame(o: ChartOptions): Frame {
  const width = o.width ?? 860;
  const height = o.height ?? 480;
  const legendRows = Math.ceil(o.series.length / 3);
  return { left: 84, top: o.subtitle ? 78 : 60, right: width - 24, bottom: height - 64 - 22 * legendRows, width, height };
}

function header(o: ChartOptions, f: Frame): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" ${font}>`,
    `<rect width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${f.width / 2}" y="28" text-anchor="middle" font-size="18" font-weight="600" fill="#111">${esc(o.title)}</text>`,
  ];
  if (o.subtitle) {
    out.push(`<text x="${f.width / 2}" y="50" text-anchor="middle" font-size="13" fill="#555">${esc(o.subtitle)}</text>`);
  }
  return out;
}

/** A tick label: whole numbers with thousands separators, others with no trailing zeros. */
function tickLabel(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en') : String(Number(v.toPrecision(3)));
}

/** A value label drawn over lines and bars, with a white halo so it stays legible. */
function valueLabel(x: number, y: number, text: string, color: string, anchor: 'start' | 'middle'): string {
  return (
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" font-size="11" fill="${color}" ` +
    `stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">${esc(text)}</text>`
  );
}

function axes(o: ChartOptions, f: Frame, ticks: number[], y: (v: number) => number): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    const ty = y(t);
    out.push(`<line x1="${f.left}" y1="${ty.toFixed(1)}" x2="${f.right}" y2="${ty.toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${f.left - 8}" y="${(ty + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#444">${esc(tickLabel(t))}</text>`);
  }
  out.push(`<line x1="${f.left}" y1="${f.bottom}" x2="${f.right}" y2="${f.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.bottom}" stroke="#333"/>`);
  const midY = (f.top + f.bottom) / 2;
  out.push(
    `<text x="20" y="${midY}" text-anchor="middle" font-size="13" fill="#333" transform="rotate(-90 20 ${midY})">${esc(o.yLabel)}</text>`,
  );
  out.push(`<text x="${(f.left + f.right) / 2}" y="${f.bottom + 42}" text-anchor="middle" font-size="13" fill="#333">${esc(o.xLabel)}</text>`);
  return out;
}

function legend(o: ChartOptions, f: Frame, kind: 'line' | 'bar'): string[] {
  const out: string[] = [];
  const colWidth = (f.right - f.left) / 3;
  o.series.forEach((s, i) => {
    const x = f.left + (i % 3) * colWidth;
    const y = f.bottom + 66 + Math.floor(i / 3) * 22;
    if (kind === 'line') {
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
      out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 28}" y2="${y - 4}" stroke="${s.color}" stroke-width="2.5"${dash}/>`);
      out.push(`<circle cx="${x + 14}" cy="${y - 4}" r="3.5" fill="${s.color}"/>`);
    } else {
      out.push(`<rect x="${x + 6}" y="${y - 12}" width="16" height="14" fill="${s.color}"/>`);
    }
    out.push(`<text x="${x + 36}" y="${y}" font-size="13" fill="#222">${esc(s.name)}</text>`);
  });
  return out;
}

/** Lines over categories; log10 value axis when `log`. */
export function lineChart(o: ChartOptions): string {
  const f = frame(o);
  const fmt = o.format ?? defaultFormat;
  const values = o.series.flatMap((s) => s.values).filter(isValue);
  const positive = values.filter((v) => v > 0);
  let ticks: number[];
  let y: (v: number) => number;
  if (o.log && positive.length > 0) {
    ticks = logTicks(Math.min(...positive), Math.max(...positive));
    const lo = Math.log10(ticks[0]!);
    const hi = Math.log10(ticks[ticks.length - 1]!);
    y = (v) => f.bottom - ((Math.log10(v) - lo) / (hi - lo || 1)) * (f.bottom - f.top);
  } else {
    ticks = linearTicks(values.length > 0 ? Math.max(...values) : 1);
    const hi = ticks[ticks.length - 1]!;
    y = (v) => f.bottom - (v / (hi || 1)) * (f.bottom - f.top);
  }
  const n = o.categories.length;
  const step = (f.right - f.left) / n;
  const x = (i: number): number => f.left + step * (i + 0.5);
  const out = [...header(o, f), ...axes(o, f, ticks, y)];
  o.categories.forEach((c, i) => {
    out.push(`<text x="${x(i).toFixed(1)}" y="${f.bottom + 20}" text-anchor="middle" font-size="13" fill="#333">${esc(c)}</text>`);
  });
  // Value labels (solid series only), pushed apart per category so that close values stay legible.
  const labelsAt: Array<Array<{ y: number; text: string; color: string }>> = o.categories.map(() => []);
  for (const s of o.series) {
    const points = s.values
      .map((v, i) => (isValue(v) && (!o.log || v > 0) ? { i, x: x(i), y: y(v), v } : null))
      .filter((p): p is { i: number; x: number; y: number; v: number } => p !== null);
    if (points.length === 0) continue;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${dash} points="${points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of points) {
      out.push(`<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="4" fill="${s.color}"><title>${esc(`${s.name}: ${fmt(p.v)}`)}</title></circle>`);
      if (!s.dashed) labelsAt[p.i]!.push({ y: p.y - 7, text: fmt(p.v), color: s.color });
    }
  }
  const minGap = 13;
  labelsAt.forEach((labels, i) => {
    labels.sort((a, b) => a.y - b.y);
    for (let k = 1; k < labels.length; k += 1) {
      if (labels[k]!.y - labels[k - 1]!.y < minGap) labels[k]!.y = labels[k - 1]!.y + minGap;
    }
    for (const l of labels) out.push(valueLabel(x(i) + 7, l.y, l.text, l.color, 'start'));
  });
  out.push(...legend(o, f, 'line'), '</svg>');
  return `${out.join('\n')}\n`;
}

/** Grouped bars: one group per category, one bar per series, a value label on each. */
export function barChart(o: ChartOptions): string {
  const f = frame(o);
  const fmt = o.format ?? defaultFormat;
  const values = o.series.flatMap((s) => s.values).filter(isValue);
  const ticks = linearTicks(values.length > 0 ? Math.max(...values) : 1);
  const hi = ticks[ticks.length - 1]!;
  const y = (v: number): number => f.bottom - (v / (hi || 1)) * (f.bottom - f.top);
  const n = o.categories.length;
  const group = (f.right - f.left) / n;
  const barWidth = Math.min(56, (group * 0.75) / o.series.length);
  const out = [...header(o, f), ...axes(o, f, ticks, y)];
  o.categories.forEach((c, i) => {
    const cx = f.left + group * (i + 0.5);
    out.push(`<text x="${cx.toFixed(1)}" y="${f.bottom + 20}" text-anchor="middle" font-size="13" fill="#333">${esc(c)}</text>`);
    o.series.forEach((s, j) => {
      const v = s.values[i];
      const bx = cx - (barWidth * o.series.length) / 2 + j * barWidth;
      if (!isValue(v)) {
        out.push(`<text x="${(bx + barWidth / 2).toFixed(1)}" y="${f.bottom - 6}" text-anchor="middle" font-size="11" fill="#999">n/a</text>`);
        return;
      }
      const top = y(Math.max(0, v));
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" height="${(f.bottom - top).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name}, ${c}: ${fmt(v)}`)}</title></rect>`,
      );
      out.push(valueLabel(bx + (barWidth - 3) / 2, top - 5, fmt(v), '#222', 'middle'));
    });
  });
  out.push(...legend(o, f, 'bar'), '</svg>');
  return `${out.join('\n')}\n`;
}
