/**
 * Plotly figures as notebook outputs, pure (no kernel needed): the figure types, and one
 * figure as plotly's MIME type, as self-contained HTML (plotly.js inline once per session, else
 * fetched, else a visible message) and as the display bundle carrying both plus a text summary.
 *
 * Every chart is ONE display bundle (display.ts sends whole bundles through tslab's kernel
 * internals; tslab's public `display` sends one MIME type per output):
 *   - `application/vnd.plotly.v1+json` {data, layout, config}: drawn natively by JupyterLab /
 *     Notebook 7 with plotly's renderer (`pip install plotly`), VS Code and nteract, with no
 *     scripts, so also in untrusted notebooks;
 *   - `text/html`: a `<div>` + `<script>Plotly.newPlot(...)</script>` for the classic Notebook,
 *     nbconvert HTML and trusted JupyterLab without the renderer;
 *   - `text/plain`: a one-line summary.
 *
 * Note for editors: tslab type-checks this file with its bundled TypeScript 5.0 in
 * non-strict mode and lib es2022 (no DOM), besides `tsc` strict. Keep both happy.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import { MimeBundle } from './display';

/** One plotly trace, e.g. `{ type: 'scatter', x, y, name }`. Typed arrays are accepted. */
export interface Trace {
  type?: string;
  name?: string;
  x?: ArrayLike<number | string | Date> | readonly (number | string | Date)[];
  y?: ArrayLike<number | string | Date> | readonly (number | string | Date)[];
  z?: ArrayLike<ArrayLike<number | null>> | readonly (readonly (number | null)[])[];
  mode?: string;
  [key: string]: unknown;
}

/** plotly layout (title, axes, size, ...). */
export type Layout = Record<string, unknown>;

/** A complete plotly figure. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: Record<string, unknown>;
}

export interface ShowOptions {
  /** Height of the chart in CSS pixels when the layout gives none (default 380). */
  height?: number;
}

/** Build a figure from traces and a layout. */
export function figure(data: Trace[], layout: Layout = {}, config?: Record<string, unknown>): Figure {
  return config ? { data, layout, config } : { data, layout };
}

/** Escape text for HTML element content / attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside an inline `<script>`; typed arrays become plain arrays. */
export function scriptJson(value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return Array.from(v as unknown as ArrayLike<number>);
    }
    return v;
  });
  return (json ?? 'null')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let plotlySource: string | undefined;

/** The plotly.js-dist-min bundle (read once; ~4.8 MB). */
export function plotlyJs(): string {
  if (plotlySource === undefined) {
    const file = require.resolve('plotly.js-dist-min');
    // `</script` cannot occur inside an inline script; escape it defensively.
    plotlySource = fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  }
  return plotlySource;
}

/** `<script>` that defines `window.Plotly` (inline, offline). */
export function plotlyScriptTag(): string {
  return `<script type="text/javascript">${plotlyJs()}</script>`;
}

function newId(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
}

const DEFAULT_CONFIG: Record<string, unknown> = { responsive: true, displaylogo: false };

/** The MIME type of plotly figures (JupyterLab's plotly renderer, VS Code, nteract). */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** plotly.js-dist-min's version (the one embedded and, as a last resort, fetched). */
export function plotlyVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require('plotly.js-dist-min/package.json') as { version: string }).version;
}

/** Where a chart whose page lacks plotly.js fetches it (the same version, from npm via jsDelivr). */
export function plotlyCdnUrl(): string {
  return `https://cdn.jsdelivr.net/npm/plotly.js-dist-min@${plotlyVersion()}/plotly.min.js`;
}

/** What a chart says when it cannot be drawn (also the text scripts-free viewers show). */
export const PLOT_NOT_SHOWN =
  'plot not shown: plotly.js is not loaded in this page. Classic Notebook: File > Trust Notebook, or ' +
  'Kernel > Restart & Run All. JupyterLab / Notebook 7: trust the notebook (or pip install plotly for its ' +
  'chart renderer) and re-run the cells. Offline pages: re-run the notebook from the top.';

/** The figure as plotly's MIME type wants it: `{data, layout, config}`, plain JSON. */
export function figureJson(fig: Figure, opts: ShowOptions = {}): { data: unknown[]; layout: Layout; config: Record<string, unknown> } {
  const height = typeof fig.layout.height === 'number' ? fig.layout.height : opts.height ?? 380;
  const layout: Layout = { autosize: true, height, margin: { t: 48, r: 24, b: 48, l: 60 }, ...fig.layout };
  for (const key of Object.keys(layout)) {
    // Every axis grows the margin to fit its tick labels and title (a right-hand y axis is clipped otherwise).
    const axis = layout[key];
    if (/^[xy]axis\d*$/.test(key) && axis && typeof axis === 'object' && !('automargin' in axis)) layout[key] = { ...(axis as Layout), automargin: true };
  }
  const title = layout.title;
  if (title !== undefined && title !== '') {
    // Left-aligned over the plot: plotly's toolbar appears at the top right on hover, where a centred title runs under it.
    const t = typeof title === 'string' ? { text: title } : (title as Layout);
    layout.title = { x: 0, xref: 'paper', xanchor: 'left', ...t };
  }
  const config = { ...DEFAULT_CONFIG, ...(fig.config ?? {}) };
  // Through scriptJson: typed arrays become arrays, undefined values drop out.
  return JSON.parse(scriptJson({ data: fig.data, layout, config })) as { data: unknown[]; layout: Layout; config: Record<string, unknown> };
}

/**
 * The HTML for one chart: a `<div>` and a `<script>` that calls `Plotly.newPlot`. The div
 * starts out holding a visible "plot not shown" message (what viewers that run no scripts show).
 * Without `window.Plotly` (a reload, a lazily rendered notebook, or an output rendered before
 * the embedding one) the script waits briefly for it, then fetches the same plotly.js version
 * once per page from jsDelivr, and leaves the message in place if that fails too.
 */
export function figureHtml(fig: Figure, opts: ShowOptions = {}): string {
  const id = newId('plt');
  const json = figureJson(fig, opts);
  const height = json.layout.height as number;
  return (
    `<div id="${id}" class="unreasonable-plot" style="width:100%;min-height:${height}px">` +
    `<div class="unreasonable-plot-msg" style="padding:8px;border:1px dashed #c99;color:#933;font:13px sans-serif">` +
    `[${escapeHtml(PLOT_NOT_SHOWN)}]</div></div>\n` +
    `<script type="text/javascript">(function () {\n` +
    `  var el = document.getElementById(${scriptJson(id)});\n` +
    `  if (!el) return;\n` +
    `  var fig = ${scriptJson(json)};\n` +
    `  function draw() { el.innerHTML = ''; window.Plotly.newPlot(el, fig.data, fig.layout, fig.config); }\n` +
    `  if (window.Plotly) { draw(); return; }\n` +
    `  var msg = el.firstChild, text = msg.textContent, t0 = Date.now();\n` +
    `  msg.textContent = '[loading plotly.js ...]';\n` +
    `  function failed() { msg.textContent = text; el.style.minHeight = ''; }\n` +
    `  function load() {\n` +
    `    var w = window, p = w.__unreasonablePlotlyLoad;\n` +
    `    if (!p) p = w.__unreasonablePlotlyLoad = new Promise(function (ok, bad) {\n` +
    `      var s = document.createElement('script');\n` +
    `      s.src = ${scriptJson(plotlyCdnUrl())};\n` +
    `      s.onload = function () { w.Plotly ? ok() : bad(); };\n` +
    `      s.onerror = function () { bad(); };\n` +
    `      document.head.appendChild(s);\n` +
    `    });\n` +
    `    p.then(draw, failed);\n` +
    `  }\n` +
    `  (function wait() {\n` +
    `    if (window.Plotly) draw(); else if (Date.now() - t0 < 1500) setTimeout(wait, 100); else load();\n` +
    `  })();\n` +
    `})();</script>`
  );
}

/**
 * One chart as a display bundle: plotly's MIME type (rendered natively by JupyterLab with
 * plotly's renderer, VS Code, nteract), the HTML fallback (classic Notebook, nbconvert, trusted
 * JupyterLab without the renderer) and a one-line text/plain summary.
 */
export function figureBundle(fig: Figure, opts: ShowOptions = {}): MimeBundle {
  return {
    [PLOTLY_MIME]: figureJson(fig, opts),
    'text/html': figureHtml(fig, opts),
    'text/plain': textSummary(fig),
  };
}


/** A one-line summary of a figure (its text/plain form). */
export function textSummary(fig: Figure): string {
  const title = titleText(fig.layout.title);
  const traces = fig.data.map((t) => `${t.type ?? 'scatter'}${t.name ? ` "${t.name}"` : ''}`).join(', ');
  return `[plot${title ? ` "${title}"` : ''}: ${traces || 'no traces'}]`;
}

/** The title text of a plotly layout title (a string or `{text}`). */
export function titleText(title: unknown): string {
  if (typeof title === 'string') return title;
  if (title && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text;
  }
  return '';
}
