/**
 * Small tables for the notebooks: HTML in a tslab kernel (inline styles only, see plot.ts
 * `showHtml`), aligned plain text elsewhere. Rows are records; the header is the keys of the
 * first row. Numbers are formatted (integers with thousands separators, others to `digits`).
 */
import { escapeHtml } from './figure';
import { showHtml } from './show';

/** A table cell: plain values are escaped; `{ html }` is inserted as is. */
export type TableCell = string | number | boolean | null | undefined | { html: string };

export type TableRow = Record<string, TableCell>;

export interface TableOptions {
  /** A caption above the table. */
  caption?: string;
  /** Columns shown as preformatted monospace text (e.g. generated samples). */
  pre?: readonly string[];
  /** Digits after the point for non-integer numbers (default 4). */
  digits?: number;
}

/** A cell as text (numbers formatted). */
export function formatCell(v: TableCell, digits = 4): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(digits);
  }
  if (typeof v === 'object') return v.html.replace(/<[^>]*>/g, '');
  return String(v);
}

function columns(rows: readonly TableRow[]): string[] {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/** The table as an HTML fragment. */
export function tableHtml(rows: readonly TableRow[], opts: TableOptions = {}): string {
  const cols = columns(rows);
  const pre = new Set(opts.pre ?? []);
  const th = 'style="text-align:left;padding:3px 10px;border-bottom:2px solid #999;font-weight:600"';
  const cell = (c: string, v: TableCell): string => {
    const numeric = typeof v === 'number';
    const style = `padding:3px 10px;border-bottom:1px solid #ddd;vertical-align:top;text-align:${numeric ? 'right' : 'left'}`;
    let body: string;
    if (v !== null && typeof v === 'object') body = v.html;
    else if (pre.has(c)) body = `<pre style="margin:0;white-space:pre-wrap;font-size:12px;line-height:1.3;max-width:720px">${escapeHtml(formatCell(v, opts.digits))}</pre>`;
    else body = escapeHtml(formatCell(v, opts.digits));
    return `<td style="${style}">${body}</td>`;
  };
  return (
    (opts.caption ? `<div style="font-weight:600;font-size:13px;margin:6px 0 4px 0">${escapeHtml(opts.caption)}</div>` : '') +
    `<table style="border-collapse:collapse;font-size:13px;margin:0 0 10px 0">` +
    `<thead><tr>${cols.map((c) => `<th ${th}>${escapeHtml(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${cols.map((c) => cell(c, r[c])).join('')}</tr>`).join('')}</tbody></table>`
  );
}

/** The table as aligned plain text (one line per row; newlines in cells shown as ⏎). */
export function tableText(rows: readonly TableRow[], opts: TableOptions = {}): string {
  const cols = columns(rows);
  const text = rows.map((r) => cols.map((c) => formatCell(r[c], opts.digits).replace(/\n/g, '⏎')));
  const width = cols.map((c, j) => Math.max(c.length, ...text.map((t) => t[j].length)));
  const line = (cells: string[]) => cells.map((s, j) => s.padEnd(width[j])).join('  ').trimEnd();
  return [...(opts.caption ? [opts.caption] : []), line(cols), line(width.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** Display a table: HTML in a notebook, plain text elsewhere. */
export function showTable(rows: readonly TableRow[], opts: TableOptions = {}): void {
  showHtml(tableHtml(rows, opts), tableText(rows, opts));
}
