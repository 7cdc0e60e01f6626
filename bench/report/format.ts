// What both reports share: how a number is written (NaN, and JSON's null, as n/a), medians over
// runs, ratios, and tables rendered as text for the terminal and as markdown for docs/.

import { median } from '../lib/stats.js';

/** JSON turns NaN into null: read both as NaN. */
export const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : Number.NaN);
/** The median of `pick` over the runs, leaving out what is not a number. */
export const med = <T>(runs: readonly T[] | undefined, pick: (r: T) => number | null | undefined): number =>
  median((runs ?? []).map((r) => num(pick(r))).filter(Number.isFinite));
export const kib = (bytes: number): number => bytes / 1024;
export const mib = (bytes: number): number => bytes / 2 ** 20;
export const totalFailures = (f: Record<string, number>): number => Object.values(f).reduce((a, b) => a + b, 0);

export function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
}
export const pct = (share: number): string => (Number.isFinite(share) ? `${(100 * share).toFixed(0)} %` : 'n/a');

export interface Table {
  header: string[];
  /** 'l' or 'r' per column. */
  align: string;
  rows: string[][];
}

export function textTable(t: Table): string {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (t.align[i] === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function markdownTable(t: Table): string {
  const align = [...t.align].map((a) => (a === 'l' ? '---' : '--:'));
  return [t.header, align, ...t.rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export interface Verdict {
  target: string;
  measured: string;
  verdict: 'PASS' | 'MISS' | 'n/a';
}

export function verdictTable(v: Verdict[]): Table {
  return { header: ['target', 'measured (medians)', 'verdict'], align: 'lll', rows: v.map((x) => [x.target, x.measured, x.verdict]) };
}
