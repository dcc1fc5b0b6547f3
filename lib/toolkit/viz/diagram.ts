/**
 * The unrolled network as a picture: Graphviz DOT generated from a model's own structure
 * (numLayers, modelType, hiddenSize), rendered to SVG with @viz-js/viz (Graphviz compiled to
 * WebAssembly; no system Graphviz needed).
 *
 * Layout: time runs left to right, layers bottom to top: the input byte x_t at the bottom, one
 * node per layer and step, the prediction y_t on top. Edges:
 *   - up:        x_t → layer 1 → … → layer L → y_t (every step);
 *   - recurrent: layer l at t → layer l at t+1 (h, solid);
 *   - cell:      for an LSTM, the cell state c drawn as its own thick edge along time; its
 *                update c' = f⊙c + i⊙g is additive, the path gradients travel back on.
 * Styles (how layers are wired to each other):
 *   - 'passthrough' (default; what CharModel computes): each layer sees only the output of the
 *     layer below it and only the top layer feeds the decoder, everything passes through every
 *     layer in turn (char-rnn's stacking);
 *   - 'shortcut': adds Graves (2013)-style skip connections, drawn dashed: the input to every
 *     layer and every layer to the output. CharModel has none; the style shows what they would add.
 */
import { showSvg } from '../../notebook/show';
import { CellType } from '../../nn/cells';

export type DiagramStyle = 'passthrough' | 'shortcut';

export interface DiagramOptions {
  /** Time steps drawn (default 4). */
  steps?: number;
  style?: DiagramStyle;
  /** Draw the LSTM cell state as its own edge (default true; ignored for rnn/gru). */
  cellState?: boolean;
  /** Caption (default: a description of the model). */
  title?: string;
  /** Example bytes to label the inputs with (default x_0, x_1, …). */
  text?: string;
}

export interface DiagramConfig {
  modelType: CellType;
  numLayers: number;
  hiddenSize: number;
}

const LAYER_FILL = ['#dbe9f6', '#fde0c5', '#d9f0d3', '#e7d4e8', '#fff2ae', '#f4cae4'];

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const SUB = '₀₁₂₃₄₅₆₇₈₉';
const SUP = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** 12 → "₁₂" (Unicode digits: Graphviz's <SUB> labels are measured badly and overlap). */
function sub(n: number): string {
  return String(n).replace(/\d/g, (d) => SUB[Number(d)]);
}
function sup(n: number): string {
  return String(n).replace(/\d/g, (d) => SUP[Number(d)]);
}

/** Node ids used in the DOT (stable, for tests and custom styling): x_t, h<l>_t (l from 1), y_t. */
export function diagramNodeIds(config: DiagramConfig, steps: number): string[] {
  const ids: string[] = [];
  for (let t = 0; t < steps; t++) {
    ids.push(`x_${t}`, `y_${t}`);
    for (let l = 1; l <= config.numLayers; l++) ids.push(`h${l}_${t}`);
  }
  return ids;
}

/** Graphviz DOT of the model unrolled over `steps` steps. */
export function unrolledDot(config: DiagramConfig, opts: DiagramOptions = {}): string {
  const T = opts.steps ?? 4;
  const L = config.numLayers;
  if (!Number.isInteger(T) || T < 1) throw new Error(`steps must be a positive integer, got ${T}`);
  const style = opts.style ?? 'passthrough';
  const lstm = config.modelType === 'lstm';
  const cell = lstm && (opts.cellState ?? true);
  const name = config.modelType.toUpperCase();
  const title =
    opts.title ??
    `${L}-layer ${name}, ${config.hiddenSize} units per layer, unrolled over ${T} steps` +
      (style === 'shortcut' ? '\n(dashed: shortcut connections, which CharModel does not have)' : '');
  const lines: string[] = [
    'digraph unrolled {',
    `  graph [rankdir=BT, nodesep=0.35, ranksep=0.45, fontname="Helvetica", fontsize=13, labelloc=t, label=${dotString(title)}];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12, height=0.4, width=0.6, penwidth=1.2];',
    '  edge [arrowsize=0.6, color="#555555", fontname="Helvetica"];',
  ];
  const text = opts.text ? Array.from(opts.text) : undefined;
  const rank = (ids: string[]) => lines.push(`  { rank=same; ${ids.join('; ')}; }`);
  // Inputs and outputs.
  for (let t = 0; t < T; t++) {
    const ch = text?.[t];
    const xl = ch !== undefined ? `x${sub(t)} = '${ch === '\n' ? '\\n' : ch}'` : `x${sub(t)}`;
    lines.push(`  x_${t} [label=${dotString(xl)}, fillcolor="#f0f0f0", style="filled"];`);
    lines.push(`  y_${t} [label=${dotString(`y${sub(t)}\np(x${sub(t + 1)})`)}, fillcolor="#fbe3e3", style="filled"];`);
  }
  for (let l = 1; l <= L; l++) {
    for (let t = 0; t < T; t++) {
      const state = lstm ? `h${sup(l)}${sub(t)}, c${sup(l)}${sub(t)}` : `h${sup(l)}${sub(t)}`;
      lines.push(`  h${l}_${t} [label=${dotString(`${name} ${l}\n${state}`)}, fillcolor="${LAYER_FILL[(l - 1) % LAYER_FILL.length]}"];`);
    }
  }
  rank(Array.from({ length: T }, (_, t) => `x_${t}`));
  for (let l = 1; l <= L; l++) rank(Array.from({ length: T }, (_, t) => `h${l}_${t}`));
  rank(Array.from({ length: T }, (_, t) => `y_${t}`));
  // Keep the inputs and outputs in time order (invisible edges are not drawn).
  for (let t = 0; t + 1 < T; t++) {
    lines.push(`  x_${t} -> x_${t + 1} [style=invis];`);
    lines.push(`  y_${t} -> y_${t + 1} [style=invis];`);
  }
  // Up the stack.
  for (let t = 0; t < T; t++) {
    lines.push(`  x_${t} -> h1_${t};`);
    for (let l = 1; l < L; l++) lines.push(`  h${l}_${t} -> h${l + 1}_${t};`);
    lines.push(`  h${L}_${t} -> y_${t};`);
    if (style === 'shortcut') {
      for (let l = 2; l <= L; l++) lines.push(`  x_${t}:w -> h${l}_${t}:w [style=dashed, color="#888888"];`);
      for (let l = 1; l < L; l++) lines.push(`  h${l}_${t}:e -> y_${t}:e [style=dashed, color="#888888"];`);
    }
  }
  // Along time.
  for (let l = 1; l <= L; l++) {
    for (let t = 0; t + 1 < T; t++) {
      lines.push(`  h${l}_${t} -> h${l}_${t + 1} [label=" h", fontsize=10, color="#1f4e8c", penwidth=1.4];`);
      if (cell) lines.push(`  h${l}_${t} -> h${l}_${t + 1} [label=" c", fontsize=10, color="#e6850e", penwidth=3.2];`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}

/** Expected counts in the rendered graph (drawn nodes and edges). */
export function diagramCounts(config: DiagramConfig, opts: DiagramOptions = {}): { nodes: number; edges: number } {
  const T = opts.steps ?? 4;
  const L = config.numLayers;
  const cell = config.modelType === 'lstm' && (opts.cellState ?? true);
  let edges = T * (L + 1) + L * (T - 1) * (cell ? 2 : 1);
  if ((opts.style ?? 'passthrough') === 'shortcut') edges += 2 * T * (L - 1);
  return { nodes: T * (L + 2), edges };
}

interface VizInstance {
  renderString(dot: string, opts: { format: string; engine?: string }): string;
}
let vizPromise: Promise<VizInstance> | undefined;

/** Render DOT to SVG (or another Graphviz format) with @viz-js/viz; the wasm module loads once. */
export async function renderDot(dot: string, format = 'svg'): Promise<string> {
  if (!vizPromise) {
    const viz = require('@viz-js/viz') as { instance(): Promise<VizInstance> };
    vizPromise = viz.instance();
  }
  return (await vizPromise).renderString(dot, { format });
}

/** SVG of the model unrolled (see unrolledDot). Pass a CharModel's `config` or the model itself. */
export async function unrolledSvg(model: DiagramConfig | { config: DiagramConfig }, opts: DiagramOptions = {}): Promise<string> {
  const config = 'config' in model ? model.config : model;
  return renderDot(unrolledDot(config, opts));
}

/** Display the unrolled diagram in the notebook. */
export async function showUnrolled(model: DiagramConfig | { config: DiagramConfig }, opts: DiagramOptions = {}): Promise<void> {
  const config = 'config' in model ? model.config : model;
  showSvg(await unrolledSvg(config, opts), `[diagram: ${config.numLayers}-layer ${config.modelType} unrolled over ${opts.steps ?? 4} steps]`);
}
