/**
 * Chart builders for the notebooks: line charts and heatmaps, as figures (`lineFigure`,
 * `heatmapFigure`) or shown at once (`linePlot`, `heatmap`).
 */
import { Figure, figure, Layout, Trace } from './figure';
import { show } from './show';

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
