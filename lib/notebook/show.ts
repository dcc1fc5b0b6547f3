/**
 * Showing things in a tslab notebook: plotly figures (plotly.js embedded once per kernel
 * session), raw HTML and SVG. Outside a kernel each prints a one-line summary instead. tslab is
 * required lazily, so this module loads anywhere.
 *
 * Note for editors: tslab type-checks this file with its bundled TypeScript 5.0 in
 * non-strict mode and lib es2022 (no DOM), besides `tsc` strict. Keep both happy.
 */
import { displayBundle } from './display';
import { Figure, figure, figureBundle, Layout, plotlyScriptTag, plotlyVersion, ShowOptions, textSummary, Trace } from './figure';
import { isNotebook } from './mode';

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

/** `show(figure(data, layout))`: the plotly.newPlot of notebooks. */
export function plot(data: Trace[], layout: Layout = {}, opts: ShowOptions = {}): void {
  show(figure(data, layout), opts);
}

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
