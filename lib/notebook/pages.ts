/**
 * Standalone, offline HTML pages: a body fragment or a plotly figure (plotly.js embedded),
 * and writing them to files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { escapeHtml, Figure, figureHtml, plotlyScriptTag, ShowOptions, titleText } from './figure';

export interface PageOptions {
  title?: string;
  /** Embed plotly.js (needed for figureHtml fragments; ~4.8 MB). Default false. */
  plotly?: boolean;
}

/** A standalone, offline HTML page around a body fragment. */
export function htmlPage(body: string, opts: PageOptions = {}): string {
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(opts.title ?? 'unreasonable')}</title></head>\n` +
    `<body style="margin:16px;background:#fff">\n${opts.plotly ? plotlyScriptTag() + '\n' : ''}${body}\n</body></html>\n`
  );
}

/** A standalone interactive page of a plotly figure (plotly.js embedded, works offline). */
export function figurePage(fig: Figure, opts: ShowOptions & { title?: string } = {}): string {
  return htmlPage(figureHtml(fig, opts), { title: opts.title ?? (titleText(fig.layout.title) || 'plot'), plotly: true });
}

/** Write `html` to `file` (directories are created); returns the path. */
export function saveHtml(html: string, file: string): string {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, html);
  return file;
}
