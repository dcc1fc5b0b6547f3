/**
 * Plotly charts for the tslab notebooks, plus static PNG/SVG export.
 *
 * Rendering model: every chart is ONE display bundle (lib/display.ts sends whole bundles
 * through tslab's kernel internals; tslab's public `display` sends one MIME type per output):
 *   - `application/vnd.plotly.v1+json` {data, layout, config}: drawn natively by JupyterLab /
 *     Notebook 7 with plotly's renderer (`pip install plotly`), VS Code and nteract, with no
 *     scripts, so also in untrusted notebooks;
 *   - `text/html`: a `<div>` + `<script>Plotly.newPlot(...)</script>` for the classic Notebook,
 *     nbconvert HTML and trusted JupyterLab without the renderer. plotly.js (plotly.js-dist-min)
 *     is embedded ONCE per kernel session as an inline `<script>` (offline, no CDN); a chart that
 *     finds no `window.Plotly` waits briefly, then fetches the same version from jsDelivr, and
 *     otherwise shows a visible message saying how to fix it (never a blank space);
 *   - `text/plain`: a one-line summary.
 *
 * `liveTraining()` gives a throttled progress callback that redraws a progress line and a
 * loss chart in place (tslab `newDisplay()` + update_display_data).
 *
 * `savePlot()` / `showStatic()` render a figure to PNG/SVG in headless Chromium via
 * playwright-core (default browser /usr/bin/chromium, override with CHROMIUM_PATH).
 *
 * tslab and playwright-core are required lazily, so this module can be imported (and its
 * pure functions used) outside notebooks. Outside a tslab kernel, `show()` & co. print a
 * one-line text summary instead and `liveTraining()` prints throttled progress lines.
 *
 * Note for editors: tslab type-checks this file with its bundled TypeScript 5.0 in
 * non-strict mode and lib es2022 (no DOM), besides `tsc` strict. Keep both happy.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BundleDisplay, displayBundle, MimeBundle, newBundleDisplay } from './display';
import { isNotebook } from './nb';

// ---------------------------------------------------------------------------------------
// Types (a deliberately loose subset of plotly's own)

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

// ---------------------------------------------------------------------------------------
// tslab access (lazy)

interface TslabDisplay {
  html(s: string): void;
  png(b: Uint8Array): void;
  svg(s: string): void;
  text(s: string): void;
}
interface TslabModule {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

function tslab(): TslabModule {
  // Inside a tslab kernel `require('tslab')` is hooked to the kernel's own instance.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require('tslab') as TslabModule;
}

// ---------------------------------------------------------------------------------------
// HTML building blocks (pure; exported for tests and custom layouts)

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

// ---------------------------------------------------------------------------------------
// Displaying

const EMBEDDED = Symbol.for('unreasonable.plot.plotlyEmbedded');

/**
 * Embed plotly.js into the notebook output, once per kernel session (the flag lives on
 * globalThis, so it survives tslab re-evaluating an edited lib/). `force` embeds again,
 * e.g. after clearing all outputs without restarting the kernel.
 */
export function ensurePlotly(force = false): void {
  const g = globalThis as Record<symbol, unknown>;
  if (!isNotebook() || (g[EMBEDDED] && !force)) return;
  displayBundle({
    'text/html': plotlyScriptTag(),
    'text/plain': `[plotly.js ${plotlyVersion()} embedded for the HTML charts below]`,
  });
  g[EMBEDDED] = true;
}

function textSummary(fig: Figure): string {
  const title = titleText(fig.layout.title);
  const traces = fig.data.map((t) => `${t.type ?? 'scatter'}${t.name ? ` "${t.name}"` : ''}`).join(', ');
  return `[plot${title ? ` "${title}"` : ''}: ${traces || 'no traces'}]`;
}

function titleText(title: unknown): string {
  if (typeof title === 'string') return title;
  if (title && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text;
  }
  return '';
}

/**
 * Display a figure in the notebook (outside a kernel: print a one-line summary).
 * Display functions return nothing, so tslab does not echo the figure as a cell result;
 * build the figure with `figure()`/`lineFigure()`/`heatmapFigure()` when you need it too.
 */
export function show(fig: Figure, opts: ShowOptions = {}): void {
  if (!isNotebook()) {
    console.log(textSummary(fig));
    return;
  }
  ensurePlotly();
  displayBundle(figureBundle(fig, opts));
}

/** Build a figure from traces and a layout. */
export function figure(data: Trace[], layout: Layout = {}, config?: Record<string, unknown>): Figure {
  return config ? { data, layout, config } : { data, layout };
}

/** `show(figure(data, layout))`: the plotly.newPlot of notebooks. */
export function plot(data: Trace[], layout: Layout = {}, opts: ShowOptions = {}): void {
  show(figure(data, layout), opts);
}

export interface Series {
  y: ArrayLike<number> | readonly number[];
  x?: ArrayLike<number> | readonly number[];
  name?: string;
  /** plotly mode, default 'lines'. */
  mode?: string;
  /** Any extra trace properties (line, marker, opacity, ...). */
  style?: Record<string, unknown>;
}

export interface AxesOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  logY?: boolean;
  height?: number;
  width?: number;
  /** Merged last into the layout. */
  layout?: Layout;
}

function axesLayout(o: AxesOptions): Layout {
  const layout: Layout = {
    xaxis: { title: { text: o.xTitle ?? '' } },
    yaxis: { title: { text: o.yTitle ?? '' }, ...(o.logY ? { type: 'log' } : {}) },
  };
  if (o.title) layout.title = { text: o.title };
  if (o.height) layout.height = o.height;
  if (o.width) layout.width = o.width;
  return { ...layout, ...(o.layout ?? {}) };
}

function isNumberArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) || (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number'));
}

/** Line chart figure: one series (a number array) or several `Series`. */
export function lineFigure(
  series: ArrayLike<number> | readonly number[] | readonly Series[],
  opts: AxesOptions = {},
): Figure {
  const list: readonly Series[] = isNumberArray(series) ? [{ y: series }] : (series as readonly Series[]);
  const data: Trace[] = list.map((s) => {
    const y = Array.from(s.y);
    const x = s.x ? Array.from(s.x) : y.map((_, i) => i);
    return { type: 'scatter', mode: s.mode ?? 'lines', x, y, ...(s.name ? { name: s.name } : {}), ...(s.style ?? {}) };
  });
  return figure(data, axesLayout(opts));
}

/** Display a line chart; see `lineFigure`. */
export function linePlot(
  series: ArrayLike<number> | readonly number[] | readonly Series[],
  opts: AxesOptions = {},
): void {
  show(lineFigure(series, opts), { height: opts.height });
}

export interface HeatmapOptions extends AxesOptions {
  /** Column labels (x) and row labels (y). */
  x?: readonly (string | number)[];
  y?: readonly (string | number)[];
  colorscale?: string | unknown[];
  zmin?: number;
  zmax?: number;
  showscale?: boolean;
  /** Draw row 0 at the top (matrix convention, default true). */
  matrixOrder?: boolean;
}

/** Heatmap figure of a matrix `z[row][col]`. */
export function heatmapFigure(z: ArrayLike<ArrayLike<number>> | readonly (readonly number[])[], opts: HeatmapOptions = {}): Figure {
  const rows = Array.from(z as ArrayLike<ArrayLike<number>>, (r) => Array.from(r));
  const trace: Trace = { type: 'heatmap', z: rows, colorscale: opts.colorscale ?? 'Viridis' };
  if (opts.x) trace.x = opts.x;
  if (opts.y) trace.y = opts.y;
  if (opts.zmin !== undefined) trace.zmin = opts.zmin;
  if (opts.zmax !== undefined) trace.zmax = opts.zmax;
  if (opts.showscale !== undefined) trace.showscale = opts.showscale;
  const layout = axesLayout(opts);
  if (opts.matrixOrder !== false) {
    layout.yaxis = { ...(layout.yaxis as Layout), autorange: 'reversed' };
  }
  if (opts.y && opts.y.length <= 100) {
    // Every row labelled (plotly's automatic ticks skip rows, e.g. 8 of 16 units).
    layout.yaxis = { ...(layout.yaxis as Layout), tickmode: 'array', tickvals: [...opts.y], ticktext: opts.y.map(String), automargin: true };
  }
  return figure([trace], layout);
}

/** Display a heatmap; see `heatmapFigure`. */
export function heatmap(z: ArrayLike<ArrayLike<number>> | readonly (readonly number[])[], opts: HeatmapOptions = {}): void {
  show(heatmapFigure(z, opts), { height: opts.height });
}

// ---------------------------------------------------------------------------------------
// Live training display

/** What a training loop reports; see `liveTraining`. */
export interface TrainingProgress {
  step: number;
  totalSteps: number;
  loss: number;
  /** Validation loss, on the steps where it was measured (repeating the last one is fine). */
  valLoss?: number;
  bytesPerSec: number;
  etaSec: number;
  epoch?: number;
}

export interface LiveTrainingOptions {
  title?: string;
  /** Minimum time between redraws (default 1000 ms). */
  intervalMs?: number;
  /** Most points drawn per curve; longer histories are bucket-averaged (default 400). */
  maxPoints?: number;
  /** Also draw an exponential moving average of the train loss (0 < smooth < 1, e.g. 0.9). */
  smooth?: number;
  logY?: boolean;
  /** Chart height (default 320). */
  height?: number;
  /** Draw the chart (default true); false shows only the progress line. */
  chart?: boolean;
}

export interface LiveTrainingStats {
  /** Progress callbacks received. */
  calls: number;
  /** Redraws sent to the notebook (or lines printed outside one). */
  renders: number;
  /** Total wall time spent inside the callback and finish(), ms. */
  overheadMs: number;
}

/** The progress callback returned by `liveTraining`, with `finish()` and bookkeeping. */
export interface LiveTraining {
  (p: TrainingProgress): void;
  /** Draw the final state (call once the loop ends; safe to call more than once). */
  finish(): void;
  /** Recorded train-loss curve. */
  readonly steps: readonly number[];
  readonly losses: readonly number[];
  /** Recorded validation points. */
  readonly valSteps: readonly number[];
  readonly valLosses: readonly number[];
  stats(): LiveTrainingStats;
}

/** Human-readable rate, e.g. "12.3 kB/s". */
export function formatRate(bytesPerSec: number): string {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) return '? B/s';
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s'];
  let v = bytesPerSec;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** Human-readable duration, e.g. "1h02m", "3m05s", "42s". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Bucket-average (x, y) down to at most `max` points (keeps the last point exact). */
export function downsample(xs: readonly number[], ys: readonly number[], max: number): { x: number[]; y: number[] } {
  const n = Math.min(xs.length, ys.length);
  if (n <= max || max < 2) return { x: xs.slice(0, n), y: ys.slice(0, n) };
  const x: number[] = [];
  const y: number[] = [];
  const per = (n - 1) / (max - 1);
  let start = 0;
  for (let b = 0; b < max - 1; b++) {
    const end = Math.max(start + 1, Math.round((b + 1) * per));
    let sx = 0;
    let sy = 0;
    for (let i = start; i < end; i++) {
      sx += xs[i];
      sy += ys[i];
    }
    x.push(sx / (end - start));
    y.push(sy / (end - start));
    start = end;
  }
  x.push(xs[n - 1]);
  y.push(ys[n - 1]);
  return { x, y };
}

/** Exponential moving average with bias correction (as TensorBoard's smoothing). */
export function ema(ys: readonly number[], a: number): number[] {
  const out: number[] = [];
  let m = 0;
  let w = 1;
  for (let i = 0; i < ys.length; i++) {
    m = a * m + (1 - a) * ys[i];
    w *= a;
    out.push(w < 1 ? m / (1 - w) : ys[i]);
  }
  return out;
}

/** The one-line progress summary used by `liveTraining`. */
export function progressLine(p: TrainingProgress, elapsedSec: number, done = false): string {
  const pct = p.totalSteps > 0 ? ` (${((100 * p.step) / p.totalSteps).toFixed(p.totalSteps >= 1000 ? 1 : 0)}%)` : '';
  const parts = [`step ${p.step}/${p.totalSteps}${pct}`];
  if (p.epoch !== undefined) parts.push(`epoch ${p.epoch}`);
  parts.push(`loss ${p.loss.toFixed(4)}`);
  if (p.valLoss !== undefined) parts.push(`val ${p.valLoss.toFixed(4)}`);
  parts.push(formatRate(p.bytesPerSec));
  parts.push(done ? `done in ${formatDuration(elapsedSec)}` : `ETA ${formatDuration(p.etaSec)}`);
  if (!done) parts.push(`elapsed ${formatDuration(elapsedSec)}`);
  return parts.join(' · ');
}

/**
 * A throttled live display for a training loop:
 *
 *     const live = liveTraining({ title: 'LSTM on Moby Dick' });
 *     await train(model, data, { onProgress: live });   // or call live(p) yourself
 *     live.finish();
 *
 * Every call records the point (cheap array pushes); at most every `intervalMs` it redraws
 * one notebook output in place: a progress line (step, loss, bytes/s, ETA) and a plotly chart
 * of train (and validation) loss. Redraws need the loop to yield to the event loop now and
 * then (any `await` does). Outside a notebook it prints a throttled progress line instead.
 */
export function liveTraining(opts: LiveTrainingOptions = {}): LiveTraining {
  const intervalMs = opts.intervalMs ?? 1000;
  const maxPoints = Math.max(2, opts.maxPoints ?? 400);
  const height = opts.height ?? 320;
  const steps: number[] = [];
  const losses: number[] = [];
  const valSteps: number[] = [];
  const valLosses: number[] = [];
  const stats: LiveTrainingStats = { calls: 0, renders: 0, overheadMs: 0 };
  const notebook = isNotebook();
  let progressDisplay: BundleDisplay | undefined;
  let chartDisplay: BundleDisplay | undefined;
  let last: TrainingProgress | undefined;
  let lastRender = -Infinity;
  let t0 = 0;
  let finished = false;

  function chartFigure(): Figure {
    const train = downsample(steps, losses, maxPoints);
    const data: Trace[] = [
      { type: 'scatter', mode: 'lines', name: 'train', x: train.x, y: train.y, line: { color: '#1f77b4', width: 1.5 }, opacity: opts.smooth ? 0.35 : 1 },
    ];
    if (opts.smooth && opts.smooth > 0 && opts.smooth < 1) {
      const sm = downsample(steps, ema(losses, opts.smooth), maxPoints);
      data.push({ type: 'scatter', mode: 'lines', name: `train (EMA ${opts.smooth})`, x: sm.x, y: sm.y, line: { color: '#1f77b4', width: 2.5 } });
    }
    if (valSteps.length) {
      const val = downsample(valSteps, valLosses, maxPoints);
      data.push({ type: 'scatter', mode: 'lines+markers', name: 'val', x: val.x, y: val.y, line: { color: '#ff7f0e', width: 2 }, marker: { size: 5 } });
    }
    return figure(data, {
      ...(opts.title ? { title: { text: opts.title } } : {}),
      height,
      margin: { t: opts.title ? 40 : 16, r: 16, b: 40, l: 56 },
      xaxis: { title: { text: 'step' }, range: last ? [0, Math.max(1, last.totalSteps)] : undefined },
      yaxis: { title: { text: 'loss' }, ...(opts.logY ? { type: 'log' } : {}) },
      legend: { x: 0.99, xanchor: 'right', y: 0.98, yanchor: 'top', bgcolor: 'rgba(255,255,255,0.7)' },
      uirevision: 'live',
    }, { responsive: true, displaylogo: false, staticPlot: !finished });
  }

  function render(done: boolean): void {
    if (!last) return;
    const elapsed = (Date.now() - t0) / 1000;
    const lastVal = valLosses.length ? valLosses[valLosses.length - 1] : undefined;
    const line = progressLine({ ...last, valLoss: last.valLoss ?? lastVal }, elapsed, done);
    stats.renders++;
    if (!notebook) {
      console.log(line);
      return;
    }
    const pct = last.totalSteps > 0 ? Math.min(100, (100 * last.step) / last.totalSteps) : 0;
    const bar =
      `<div style="height:6px;background:#e8e8e8;border-radius:3px;margin:2px 0 6px 0;max-width:640px">` +
      `<div style="height:6px;width:${pct.toFixed(1)}%;background:${done ? '#2ca02c' : '#1f77b4'};border-radius:3px"></div></div>`;
    const head =
      `<div class="unreasonable-progress" style="font-family:monospace;font-size:13px">` +
      `${done ? '✔ ' : ''}${escapeHtml(line)}</div>${bar}`;
    // Two outputs redrawn in place: the progress line, and the chart as its own bundle (so a
    // frontend that draws the plotly MIME type natively still shows the line above it).
    if (!progressDisplay) {
      if (opts.chart !== false) ensurePlotly();
      progressDisplay = newBundleDisplay();
      if (opts.chart !== false) chartDisplay = newBundleDisplay();
    }
    progressDisplay.show({ 'text/html': head, 'text/plain': `${done ? '✔ ' : ''}${line}` });
    chartDisplay?.show(figureBundle(chartFigure(), { height }));
  }

  const cb = ((p: TrainingProgress): void => {
    const start = Date.now();
    if (stats.calls === 0) t0 = start;
    stats.calls++;
    finished = false;
    last = p;
    steps.push(p.step);
    losses.push(p.loss);
    if (p.valLoss !== undefined && (valLosses.length === 0 || valLosses[valLosses.length - 1] !== p.valLoss)) {
      valSteps.push(p.step);
      valLosses.push(p.valLoss);
    }
    if (start - lastRender >= intervalMs) {
      lastRender = start;
      render(false);
    }
    stats.overheadMs += Date.now() - start;
  }) as LiveTraining;

  const api = {
    finish(): void {
      const start = Date.now();
      finished = true;
      render(true);
      stats.overheadMs += Date.now() - start;
    },
    stats: (): LiveTrainingStats => ({ ...stats }),
  };
  Object.assign(cb, api);
  Object.defineProperties(cb, {
    steps: { get: () => steps },
    losses: { get: () => losses },
    valSteps: { get: () => valSteps },
    valLosses: { get: () => valLosses },
  });
  return cb;
}

// ---------------------------------------------------------------------------------------
// Static export via headless Chromium (playwright-core)

export interface StaticOptions {
  /** Image size in CSS pixels (default: layout width/height, else 800 x 450). */
  width?: number;
  height?: number;
  /** PNG pixel ratio (default 1). */
  scale?: number;
  /** Browser binary (default $CHROMIUM_PATH or /usr/bin/chromium). */
  executablePath?: string;
}

export interface SavePlotOptions extends StaticOptions {
  /** Which files to write (default both). */
  formats?: readonly ('png' | 'svg')[];
}

// Minimal structural types for the bits of playwright-core used here (its own typings are
// large and DOM-flavoured; keeping them out makes the tslab compile fast).
interface PwPage {
  setContent(html: string, opts?: { waitUntil?: string }): Promise<void>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwChromium {
  launch(opts: { executablePath: string; args: string[]; headless?: boolean }): Promise<PwBrowser>;
}

/** Flags for headless Chromium in containers/CI. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

/** The Chromium binary used for static export and tests. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Render a figure in headless Chromium and return the requested images. */
export async function renderStatic(
  fig: Figure,
  formats: readonly ('png' | 'svg')[],
  opts: StaticOptions = {},
): Promise<{ png?: Buffer; svg?: string }> {
  const executablePath = opts.executablePath ?? chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(
      `static plot export needs Chromium at ${executablePath} (Debian: apt-get install chromium; ` +
        `or set CHROMIUM_PATH)`,
    );
  }
  const width = opts.width ?? (typeof fig.layout.width === 'number' ? fig.layout.width : 800);
  const height = opts.height ?? (typeof fig.layout.height === 'number' ? fig.layout.height : 450);
  const scale = opts.scale ?? 1;
  const { chromium } = require('playwright-core') as { chromium: PwChromium };
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
  try {
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><html><body><div id="g"></div>${plotlyScriptTag()}</body></html>`);
    const figJson = scriptJson({ data: fig.data, layout: { ...fig.layout, width, height } });
    const out = await page.evaluate(
      async (a: { figJson: string; formats: string[]; width: number; height: number; scale: number }) => {
        // Runs in the browser.
        const g = globalThis as unknown as {
          Plotly: {
            newPlot(id: string, data: unknown, layout: unknown, config: unknown): Promise<unknown>;
            toImage(gd: unknown, o: Record<string, unknown>): Promise<string>;
          };
        };
        const f = JSON.parse(a.figJson) as { data: unknown; layout: unknown };
        const gd = await g.Plotly.newPlot('g', f.data, f.layout, { staticPlot: true });
        const res: Record<string, string> = {};
        for (const format of a.formats) {
          res[format] = await g.Plotly.toImage(gd, {
            format,
            width: a.width,
            height: a.height,
            scale: format === 'png' ? a.scale : 1,
          });
        }
        return res;
      },
      { figJson, formats: [...formats], width, height, scale },
    );
    const result: { png?: Buffer; svg?: string } = {};
    if (out.png) result.png = Buffer.from(out.png.slice(out.png.indexOf(',') + 1), 'base64');
    if (out.svg) {
      const body = out.svg.slice(out.svg.indexOf(',') + 1);
      result.svg = out.svg.startsWith('data:image/svg+xml;base64,')
        ? Buffer.from(body, 'base64').toString('utf8')
        : decodeURIComponent(body);
    }
    return result;
  } finally {
    await browser.close();
  }
}

/**
 * Save a figure as `${basePath}.png` and/or `${basePath}.svg` (directories are created).
 * Returns the written paths.
 */
export async function savePlot(fig: Figure, basePath: string, opts: SavePlotOptions = {}): Promise<{ png?: string; svg?: string }> {
  const formats = opts.formats ?? ['png', 'svg'];
  const base = basePath.replace(/\.(png|svg)$/i, '');
  const images = await renderStatic(fig, formats, opts);
  fs.mkdirSync(path.dirname(path.resolve(base)), { recursive: true });
  const written: { png?: string; svg?: string } = {};
  if (images.png) fs.writeFileSync((written.png = `${base}.png`), images.png);
  if (images.svg) fs.writeFileSync((written.svg = `${base}.svg`), images.svg);
  return written;
}

/**
 * Display a figure as a static PNG (renders everywhere, even untrusted notebooks and
 * GitHub's viewer). Returns the PNG bytes.
 */
export async function showStatic(fig: Figure, opts: StaticOptions = {}): Promise<Buffer> {
  const { png } = await renderStatic(fig, ['png'], opts);
  if (!png) throw new Error('showStatic: no PNG rendered');
  if (isNotebook()) displayBundle({ 'image/png': png, 'text/plain': `${textSummary(fig)} (PNG)` });
  else console.log(`${textSummary(fig)} (PNG ${png.length} bytes)`);
  return png;
}

// ---------------------------------------------------------------------------------------
// Raw HTML / SVG pictures (the hidden-state toolkit's text pictures and diagrams)

/**
 * Display an HTML fragment in the notebook (outside a kernel: print `summary`). Inline styles
 * only: the classic notebook keeps a fragment's `style` attributes but not always its `<style>`.
 */
export function showHtml(html: string, summary = '[html]'): void {
  if (!isNotebook()) {
    console.log(summary);
    return;
  }
  tslab().display.html(html);
}

/**
 * Display an SVG image (e.g. a Graphviz rendering) in the notebook; outside one print `summary`.
 * Sent as an HTML output with the SVG inline, not as image/svg+xml: nbconvert's HTML export
 * strips the elements of SVG outputs (only their text survives), HTML outputs render as they are.
 */
export function showSvg(svg: string, summary = '[svg]'): void {
  if (!isNotebook()) {
    console.log(summary);
    return;
  }
  // Drop the XML prolog/doctype, which are not allowed inside HTML.
  const body = svg.slice(Math.max(0, svg.indexOf('<svg')));
  tslab().display.html(`<div class="unreasonable-svg" style="overflow-x:auto;background:#fff">${body}</div>`);
}

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

export interface ScreenshotOptions {
  /** Viewport width in CSS pixels (default 1000). */
  width?: number;
  /** Viewport height (default 700); the whole page is captured unless fullPage is false. */
  height?: number;
  fullPage?: boolean;
  /** Device pixel ratio (default 1). */
  scale?: number;
  /** Browser binary (default $CHROMIUM_PATH or /usr/bin/chromium). */
  executablePath?: string;
}

interface PwShotPage {
  setContent(html: string, opts?: { waitUntil?: string }): Promise<void>;
  screenshot(opts: { fullPage?: boolean; type?: string }): Promise<Buffer>;
}
interface PwShotBrowser {
  newPage(opts: { viewport: { width: number; height: number }; deviceScaleFactor: number }): Promise<PwShotPage>;
  close(): Promise<void>;
}

/**
 * Render a full HTML page (see `htmlPage`) or an SVG document in headless Chromium and return a
 * PNG screenshot: a static picture of any HTML output, for files and for checking by eye.
 */
export async function screenshotHtml(html: string, opts: ScreenshotOptions = {}): Promise<Buffer> {
  const executablePath = opts.executablePath ?? chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(`screenshots need Chromium at ${executablePath} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`);
  }
  const page = /^\s*(<\?xml|<!DOCTYPE svg|<svg)/i.test(html) ? htmlPage(html.slice(Math.max(0, html.indexOf('<svg')))) : html;
  const { chromium } = require('playwright-core') as { chromium: { launch(o: { executablePath: string; args: string[]; headless?: boolean }): Promise<PwShotBrowser> } };
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
  try {
    const p = await browser.newPage({ viewport: { width: opts.width ?? 1000, height: opts.height ?? 700 }, deviceScaleFactor: opts.scale ?? 1 });
    await p.setContent(page, { waitUntil: 'load' });
    return await p.screenshot({ fullPage: opts.fullPage ?? true, type: 'png' });
  } finally {
    await browser.close();
  }
}
