/**
 * Charts of many units at once (plotly, via lib/notebook/charts.ts):
 *   - unitsHeatmapFigure: units × positions, the text's bytes along the x axis;
 *   - gateSaturation + saturationFigure: per gate and layer, the fraction of time each unit is
 *     left-saturated (< 0.1) against right-saturated (> 0.9), the scatter of Karpathy, Johnson &
 *     Fei-Fei (2015), Fig. 3. Units near the top-left axis are almost always "on" (e.g. forget
 *     gates that remember), near the x axis almost always "off"; on the diagonal x + y = 1 never
 *     in between.
 */
import { GATE_NAMES } from '../../nn/cells';
import { heatmapFigure } from '../../notebook/charts';
import { figure, Figure, Layout, Trace } from '../../notebook/figure';
import { show } from '../../notebook/show';
import { kindArray, kindLabel, Recording, UnitKind } from '../record';
import { byteGlyphs } from './text';

/** Blue (−) / white (0) / red (+), the colours of activationColor. */
export const ACTIVATION_COLORSCALE: [number, string][] = [
  [0, 'rgb(33,102,172)'],
  [0.5, 'rgb(255,255,255)'],
  [1, 'rgb(178,24,43)'],
];

export interface UnitsHeatmapOptions {
  layer?: number;
  kind?: UnitKind;
  /** Units (rows), default the first min(H, 64). */
  units?: readonly number[];
  /** Positions [from, to), default the first 200. */
  from?: number;
  to?: number;
  /** Colour range ±range (default 1; for c, the largest |value| shown). */
  range?: number;
  title?: string;
  height?: number;
}

/** Heatmap of units (rows) × positions (columns) of one layer and kind; hover shows the byte. */
export function unitsHeatmapFigure(rec: Recording, opts: UnitsHeatmapOptions = {}): Figure {
  const layer = opts.layer ?? 0;
  const kind = opts.kind ?? 'h';
  const a = kindArray(rec, layer, kind);
  if (!a) throw new Error(`layer ${layer} ${kind} was not recorded`);
  const H = rec.hiddenSize;
  const units = opts.units ?? Array.from({ length: Math.min(H, 64) }, (_, u) => u);
  const from = Math.max(0, opts.from ?? 0);
  const to = Math.min(rec.length, opts.to ?? from + 200);
  const glyphs = byteGlyphs(rec.bytes.subarray(from, to)).map((g) => (g === '\n' ? '↵' : g === ' ' ? '␣' : g));
  let range = opts.range;
  const z = units.map((u) => {
    const row: number[] = [];
    for (let t = from; t < to; t++) row.push(a[t * H + u]);
    return row;
  });
  if (range === undefined) {
    range = 1;
    if (kind === 'c') for (const row of z) for (const v of row) range = Math.max(range, Math.abs(v));
  }
  const x = glyphs.map((_, i) => from + i);
  const fig = heatmapFigure(z, {
    x,
    y: units.map((u) => `${kindLabel(kind)}[${u}]`),
    colorscale: ACTIVATION_COLORSCALE,
    zmin: -range,
    zmax: range,
    title: opts.title ?? `layer ${layer} ${kind}: ${units.length} units × bytes ${from}–${to}`,
    height: opts.height ?? Math.max(260, 110 + 16 * units.length), // 16 px a row: every unit's label fits
    xTitle: '',
  });
  const trace = fig.data[0];
  trace.text = units.map(() => glyphs);
  trace.customdata = units.map(() => x); // the position: with labelled ticks, %{x} shows the glyph
  trace.hovertemplate = 'byte %{customdata} %{text}<br>%{y} = %{z:.3f}<extra></extra>';
  const n = to - from;
  const xaxis: Layout = { ...(fig.layout.xaxis as Layout) };
  if (n <= 160) Object.assign(xaxis, { tickmode: 'array', tickvals: x, ticktext: glyphs, tickangle: 0, tickfont: { family: 'monospace', size: n > 100 ? 8 : 11 } });
  fig.layout.xaxis = xaxis;
  return fig;
}

/** Display `unitsHeatmapFigure(...)`. */
export function showUnitsHeatmap(rec: Recording, opts: UnitsHeatmapOptions = {}): void {
  const fig = unitsHeatmapFigure(rec, opts);
  show(fig, { height: fig.layout.height as number });
}

export interface GateSaturation {
  layer: number;
  gate: string;
  /** Per unit: fraction of positions with activation < low. */
  left: Float32Array;
  /** Per unit: fraction of positions with activation > high. */
  right: Float32Array;
}

export interface SaturationOptions {
  /** Thresholds (default 0.1 and 0.9, the paper's). */
  low?: number;
  high?: number;
  /** Gates to measure (default: every recorded sigmoid gate: lstm i f o, gru r z). The tanh
   *  candidates g / n are mapped to 0..1 by (v + 1) / 2 first if you ask for them. */
  gates?: readonly string[];
  layers?: readonly number[];
}

const TANH_GATES = ['g', 'n'];

/** Left/right saturation fractions of every unit, per recorded gate and layer. */
export function gateSaturation(rec: Recording, opts: SaturationOptions = {}): GateSaturation[] {
  const low = opts.low ?? 0.1;
  const high = opts.high ?? 0.9;
  const H = rec.hiddenSize;
  const T = rec.length;
  const names = opts.gates ?? (rec.modelType === 'rnn' ? [] : GATE_NAMES[rec.modelType].filter((g) => !TANH_GATES.includes(g)));
  const layers = opts.layers ?? rec.layers.map((l) => l.layer);
  const out: GateSaturation[] = [];
  for (const layer of layers) {
    for (const gate of names) {
      const a = rec.layers[layer]?.gates?.[gate];
      if (!a) {
        if (opts.gates) throw new Error(`layer ${layer} gate ${gate} was not recorded (record with gates: true)`);
        continue;
      }
      const tanh = TANH_GATES.includes(gate);
      const left = new Float32Array(H);
      const right = new Float32Array(H);
      for (let t = 0; t < T; t++) {
        const row = t * H;
        for (let u = 0; u < H; u++) {
          const v = tanh ? (a[row + u] + 1) / 2 : a[row + u];
          if (v < low) left[u]++;
          else if (v > high) right[u]++;
        }
      }
      for (let u = 0; u < H; u++) {
        left[u] /= T;
        right[u] /= T;
      }
      out.push({ layer, gate, left, right });
    }
  }
  return out;
}

const LAYER_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const GATE_TITLES: Record<string, string> = {
  i: 'input gate',
  f: 'forget gate',
  o: 'output gate',
  g: 'candidate g (tanh)',
  r: 'reset gate',
  z: 'update gate',
  n: 'candidate n (tanh)',
};

/** One panel per gate, one colour per layer: x = left-saturated fraction, y = right-saturated fraction. */
export function saturationFigure(stats: readonly GateSaturation[], opts: { title?: string; height?: number; low?: number; high?: number } = {}): Figure {
  const gates = [...new Set(stats.map((s) => s.gate))];
  const n = Math.max(1, gates.length);
  const gap = 0.06;
  const w = (1 - gap * (n - 1)) / n;
  const layout: Layout = {
    title: { text: opts.title ?? `gate saturation: fraction of time < ${opts.low ?? 0.1} vs > ${opts.high ?? 0.9}` },
    height: opts.height ?? 380,
    showlegend: true,
    legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.13, yanchor: 'bottom' },
    shapes: [] as unknown[],
    annotations: [] as unknown[],
  };
  const data: Trace[] = [];
  gates.forEach((gate, gi) => {
    const suffix = gi === 0 ? '' : String(gi + 1);
    const x0 = gi * (w + gap);
    layout[`xaxis${suffix}`] = { domain: [x0, x0 + w], range: [-0.02, 1.02], title: { text: 'left-saturated' }, anchor: `y${suffix}` };
    layout[`yaxis${suffix}`] = { range: [-0.02, 1.02], title: { text: gi === 0 ? 'right-saturated' : '' }, anchor: `x${suffix}`, scaleanchor: `x${suffix}` };
    (layout.shapes as unknown[]).push({ type: 'line', xref: `x${suffix}`, yref: `y${suffix}`, x0: 0, y0: 1, x1: 1, y1: 0, line: { color: '#bbb', dash: 'dot', width: 1 } });
    (layout.annotations as unknown[]).push({ text: GATE_TITLES[gate] ?? gate, xref: 'paper', yref: 'paper', x: x0 + w / 2, y: 1.0, xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 13 } });
    for (const s of stats.filter((q) => q.gate === gate)) {
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: `layer ${s.layer}`,
        legendgroup: `layer ${s.layer}`,
        showlegend: gi === 0,
        x: Array.from(s.left),
        y: Array.from(s.right),
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
        marker: { size: 6, opacity: 0.7, color: LAYER_COLORS[s.layer % LAYER_COLORS.length] },
        hovertemplate: `layer ${s.layer} ${gate}[%{pointNumber}]<br>left %{x:.2f}, right %{y:.2f}<extra></extra>`,
      });
    }
  });
  return figure(data, layout);
}

/** Display `saturationFigure(gateSaturation(rec, opts))`. */
export function showSaturation(rec: Recording, opts: SaturationOptions & { title?: string } = {}): void {
  const fig = saturationFigure(gateSaturation(rec, opts), opts);
  show(fig, { height: fig.layout.height as number });
}
