/**
 * An LSTMVis-style neuron explorer (Strobelt, Gehrmann et al., "LSTMVis", 2017; Karpathy's
 * visualisation page) as ONE self-contained HTML output: the data and a small inline script,
 * no kernel round trips, so it keeps working in a saved notebook, in nbconvert's HTML and in a
 * standalone file, offline.
 *
 *   - the text as a strip of bytes coloured by the selected unit (h, c or a gate), a legend, the
 *     value on hover;
 *   - a unit picker ranked by |r| against a feature (lib/toolkit/neurons.ts) or by variance, searchable
 *     by `layer/kind/index` (e.g. `0/c/17`, `h/5`, `1/f`), ↑/↓ step through it;
 *   - hover or click a byte: its top-k next-byte predictions and the units most active there;
 *   - select a span with the mouse: the units that are on (≥ threshold) inside it and off just
 *     before and after, ranked by their margin; the best one is selected and the other stretches
 *     of the text where it is on with the same on/off pattern are outlined;
 *   - a line plot (SVG) of the selected unit(s) and the ranking feature under the text.
 *
 * Data: every unit's series is quantised to 8 bits over its own [min, max] in the window
 * (error ≤ (max − min)/510) and sent base64-encoded. The bound is MAX_EXPLORE_VALUES = 6 million
 * values (layers × kinds × units × bytes), ≈ 8 MB of output: e.g. a 2×512 LSTM's h over 5,000
 * bytes (5.1 M), or h and c of a 2×128 one over 11,000. Larger requests are refused with a message
 * that says how to shrink them (fewer bytes, kinds or layers).
 *
 * The page script is lib/toolkit/viz/explore-client.js (plain browser JavaScript, read once).
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../util/errors';
import { Feature, FEATURES, searchUnits } from '../neurons';
import { escapeHtml, scriptJson } from '../../notebook/figure';
import { htmlPage, saveHtml } from '../../notebook/pages';
import { showHtml } from '../../notebook/show';
import { DERIVED_KINDS, kindArray, Recording, UnitKind } from '../record';
import { byteGlyph, byteGlyphs } from './text';

/** The most quantised activation values one explorer holds by default (≈ 8 MB of output). */
export const MAX_EXPLORE_VALUES = 6_000_000;

/** One unit's series quantised to 8 bits: value ≈ lo + q · (hi − lo) / 255. */
export interface Quantized {
  lo: number;
  hi: number;
  q: Uint8Array;
}

/**
 * Quantise `values` to 8 bits over their own [min, max] (non-finite values count as `lo`).
 * Round-trip error ≤ (max − min) / 510. `lo` and `hi` are float32 numbers (what the page gets).
 */
export function quantize(values: ArrayLike<number>, out?: Uint8Array): Quantized {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) lo = hi = 0;
  lo = Math.fround(lo);
  hi = Math.fround(hi);
  const q = out ?? new Uint8Array(values.length);
  const step = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    q[i] = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round((v - lo) * step))) : 0;
  }
  return { lo, hi, q };
}

/** The values back from `quantize` (the same formula the page uses). */
export function dequantize(x: Quantized): Float64Array {
  const scale = (x.hi - x.lo) / 255;
  return Float64Array.from(x.q, (q) => x.lo + q * scale);
}

export interface ExploreOptions {
  /** Positions [from, to) of the recording to show (default 0 and from + 2,000, at most its length). */
  from?: number;
  to?: number;
  /** Layers to include (default: every layer with something recorded). */
  layers?: readonly number[];
  /** Kinds to include (default: all recorded, in the order h, c, gates; 'tanhc', tanh(c), only when named). */
  kinds?: readonly UnitKind[];
  /**
   * Features the picker can rank units by, name → Feature (lib/toolkit/neurons.ts) or a series over the
   * whole recording (one number per byte). Default: the built-in FEATURES.
   */
  features?: Record<string, Feature | ArrayLike<number>>;
  /** The ranking shown first: 'variance' or one of the feature names (default 'variance'). */
  rankBy?: string;
  /** The unit selected at the start, as 'layer/kind/index' (default: the top of the ranking). */
  unit?: string;
  /** Pattern-match threshold on the unit's colour scale, −1…1 (default 0.3, LSTMVis's). */
  threshold?: number;
  /** How many bytes just before and after a selected span must be off (default 1). */
  pad?: number;
  /** Refuse more quantised values than this (default MAX_EXPLORE_VALUES). */
  maxValues?: number;
  /** Caption (default: model type, size and the window). */
  title?: string;
  /** Height of the scrolling text strip in CSS px (default 320). */
  textHeight?: number;
}

/** How many values an explorer of `rec` with `opts` holds, and what they are. */
export interface ExploreSize {
  from: number;
  to: number;
  layers: number[];
  kinds: UnitKind[];
  /** layers × kinds × hiddenSize × (to − from). */
  values: number;
  /** Rough size of the HTML output in bytes. */
  bytes: number;
}

const KIND_ORDER: UnitKind[] = ['h', 'c', 'tanhc', 'i', 'f', 'g', 'o', 'r', 'z', 'n'];
/** How a kind is coloured: tanh-range (−1…1), sigmoid gates (0…1, 0.5 white), c (its mean ± its largest deviation in the window). */
const KIND_SCALE: Record<UnitKind, 'tanh' | 'sigmoid' | 'cell'> = { h: 'tanh', c: 'cell', tanhc: 'tanh', g: 'tanh', n: 'tanh', i: 'sigmoid', f: 'sigmoid', o: 'sigmoid', r: 'sigmoid', z: 'sigmoid' };

const fmt = (n: number) => n.toLocaleString('en-US');

/** Resolve the window, layers and kinds of an explorer and check the size bound. */
export function exploreSize(rec: Recording, opts: ExploreOptions = {}): ExploreSize {
  const from = opts.from ?? 0;
  const to = Math.min(rec.length, opts.to ?? from + 2000);
  if (!Number.isInteger(from) || from < 0 || from >= rec.length) throw new UserError(`explore: from must be a position of the recording (0–${rec.length - 1}), got ${from}`);
  if (!Number.isInteger(to) || to - from < 2) throw new UserError(`explore: need at least 2 bytes, got positions ${from}–${to}`);
  const recorded = (l: number) => KIND_ORDER.filter((k) => !DERIVED_KINDS.includes(k) && kindArray(rec, l, k));
  const layers = opts.layers ? [...opts.layers] : rec.layers.filter((l) => recorded(l.layer).length > 0).map((l) => l.layer);
  if (!layers.length) throw new UserError('explore: the recording holds no unit series (record with h, c or gates)');
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l >= rec.numLayers) throw new UserError(`explore: layer ${l} does not exist (the model has ${rec.numLayers})`);
  const kinds = opts.kinds ? [...opts.kinds] : KIND_ORDER.filter((k) => !DERIVED_KINDS.includes(k) && layers.some((l) => kindArray(rec, l, k)));
  for (const l of layers) {
    for (const k of kinds) {
      if (!kindArray(rec, l, k)) throw new UserError(`explore: layer ${l} ${k} was not recorded (it has ${recorded(l).join(', ') || 'nothing'}${k === 'tanhc' ? '; tanhc needs c' : ''})`);
    }
  }
  if (!kinds.length) throw new UserError('explore: no kinds to show');
  const T = to - from;
  const values = layers.length * kinds.length * rec.hiddenSize * T;
  const bytes = Math.ceil((values * 4) / 3) + T * (60 + 6 * rec.topK) + 30_000;
  const max = opts.maxValues ?? MAX_EXPLORE_VALUES;
  if (values > max) {
    const perByte = layers.length * kinds.length * rec.hiddenSize;
    const fit = Math.floor(max / perByte);
    throw new UserError(
      `explore: ${fmt(values)} activation values (${layers.length} layer${layers.length > 1 ? 's' : ''} × ${kinds.length} kind${kinds.length > 1 ? 's' : ''} ` +
        `(${kinds.join(', ')}) × ${rec.hiddenSize} units × ${fmt(T)} bytes) are over the limit of ${fmt(max)} (~${Math.round((max * 4) / 3 / 1e6)} MB of output); ` +
        `shrink it: fewer bytes (to: from + ${fmt(fit)}), fewer kinds (e.g. kinds: ["h"]) or fewer layers (e.g. layers: [${layers[layers.length - 1]}]), or raise maxValues`,
    );
  }
  return { from, to, layers, kinds, values, bytes };
}

function base64(a: Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Probabilities as little-endian uint16 (p · 65535), base64. */
function probs16(p: ArrayLike<number>): string {
  const b = Buffer.alloc(2 * p.length);
  for (let i = 0; i < p.length; i++) b.writeUInt16LE(Math.round(Math.max(0, Math.min(1, Number.isFinite(p[i]) ? p[i] : 0)) * 65535), 2 * i);
  return b.toString('base64');
}

const round = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toFixed(d)) : 0);

function predGlyph(b: number): string {
  const g = byteGlyph(b);
  return g === ' ' ? '␣' : g === '\n' ? '↵' : g === '\t' ? '⇥' : g;
}

/** Everything the page script needs (JSON-able). Exported for tests and custom pages. */
export function explorerData(rec: Recording, opts: ExploreOptions = {}): Record<string, unknown> {
  const size = exploreSize(rec, opts);
  const { from, to, layers, kinds } = size;
  const T = to - from;
  const H = rec.hiddenSize;
  const groups: { layer: number; kind: UnitKind; scale: string }[] = [];
  for (const layer of layers) for (const kind of kinds) groups.push({ layer, kind, scale: KIND_SCALE[kind] });
  const N = groups.length * H;
  // Unit-major: unit n's T values at q[n·T …].
  const q = new Uint8Array(N * T);
  const lo: number[] = [];
  const hi: number[] = [];
  const variance: number[] = [];
  const series = new Float64Array(T);
  groups.forEach((g, gi) => {
    const a = kindArray(rec, g.layer, g.kind)!;
    for (let u = 0; u < H; u++) {
      let mean = 0;
      for (let t = 0; t < T; t++) mean += series[t] = a[(from + t) * H + u];
      mean /= T;
      let v = 0;
      for (let t = 0; t < T; t++) v += (series[t] - mean) ** 2;
      const n = gi * H + u;
      const x = quantize(series, q.subarray(n * T, (n + 1) * T));
      lo.push(x.lo);
      hi.push(x.hi);
      variance.push(Number((v / T).toPrecision(4)));
    }
  });
  const unitIndex = new Map<string, number>();
  groups.forEach((g, gi) => {
    for (let u = 0; u < H; u++) unitIndex.set(`${g.layer}/${g.kind}/${u}`, gi * H + u);
  });
  const features = Object.entries(opts.features ?? (FEATURES as Record<string, Feature | ArrayLike<number>>)).map(([name, f]) => {
    let s: Float32Array;
    if (typeof f === 'function') s = Float32Array.from({ length: T }, (_, i) => f(rec.bytes, from + i));
    else {
      if (f.length !== rec.length) throw new UserError(`explore: feature "${name}" has ${f.length} values, the recording ${rec.length} positions`);
      s = Float32Array.from({ length: T }, (_, i) => f[from + i]);
    }
    const corr = new Array<number>(N).fill(0);
    for (const sc of searchUnits(rec, f, { from, to, layers, kinds, k: Infinity })) {
      corr[unitIndex.get(`${sc.layer}/${sc.kind}/${sc.unit}`)!] = round(sc.corr);
    }
    const fq = quantize(s);
    return { name, corr, lo: fq.lo, hi: fq.hi, q: base64(fq.q) };
  });
  const rankBy = opts.rankBy ?? 'variance';
  if (rankBy !== 'variance' && !features.some((f) => f.name === rankBy)) {
    throw new UserError(`explore: rankBy "${rankBy}" is neither 'variance' nor a feature (${features.map((f) => f.name).join(', ')})`);
  }
  if (opts.unit !== undefined && !unitIndex.has(opts.unit)) throw new UserError(`explore: unit "${opts.unit}" is not shown (write it as layer/kind/index, e.g. ${layers[0]}/${kinds[0]}/0)`);
  const threshold = opts.threshold ?? 0.3;
  if (!(threshold > -1 && threshold < 1)) throw new UserError(`explore: threshold must be in (−1, 1), got ${threshold}`);
  const pad = opts.pad ?? 1;
  if (!Number.isInteger(pad) || pad < 1) throw new UserError(`explore: pad must be a positive integer, got ${pad}`);

  const k = rec.topIds && rec.topProbs ? rec.topK : 0;
  const topBytes = new Uint8Array(T * k);
  const topProbs = new Float32Array(T * k);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < k; j++) {
      topBytes[t * k + j] = rec.vocab.idToByte[rec.topIds![(from + t) * rec.topK + j]];
      topProbs[t * k + j] = rec.topProbs![(from + t) * rec.topK + j];
    }
  }
  const nextProb = Float32Array.from({ length: T }, (_, t) => Math.exp(rec.nextLogProb[from + t]));
  const glyphs = byteGlyphs(rec.bytes).slice(from, to);
  const byteNames = Array.from({ length: 256 }, (_, b) => predGlyph(b));
  return {
    version: 1,
    title: opts.title ?? `${rec.modelType.toUpperCase()} ${rec.numLayers}×${H}: bytes ${fmt(from)}–${fmt(to)} of ${fmt(rec.length)}`,
    from,
    T,
    H,
    glyphs,
    bytes: base64(rec.bytes.subarray(from, to)),
    after: to < rec.length ? rec.bytes[to] : -1,
    groups,
    q: base64(q),
    lo,
    hi,
    variance,
    features,
    rankBy,
    unit: opts.unit !== undefined ? unitIndex.get(opts.unit) : null,
    threshold,
    pad,
    k,
    topBytes: base64(topBytes),
    topProbs: probs16(topProbs),
    nextProb: probs16(nextProb),
    byteNames,
    textHeight: opts.textHeight ?? 320,
  };
}

let clientSource: string | undefined;

/** The page script (lib/toolkit/viz/explore-client.js). */
function client(): string {
  if (clientSource === undefined) {
    clientSource = fs.readFileSync(path.join(__dirname, 'explore-client.js'), 'utf8');
    if (/<\/script/i.test(clientSource)) throw new Error('explore-client.js must not contain "</script"');
  }
  return clientSource;
}

let counter = 0;

/**
 * The explorer as an HTML fragment (a `<div>` and an inline `<script>`): what `explore()`
 * displays. Without JavaScript (an untrusted notebook) it shows a one-line note instead.
 */
export function explorerFragment(rec: Recording, opts: ExploreOptions = {}): string {
  const data = explorerData(rec, opts);
  const id = `unreasonable-explorer-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  return (
    `<div id="${id}" class="unreasonable-explorer" style="font:13px sans-serif;color:#000;background:#fff">` +
    `<div style="padding:6px;color:#666">[neuron explorer: ${escapeHtml(String(data.title))} — needs JavaScript: in Jupyter, ` +
    `trust the notebook (File &gt; Trust Notebook) or re-run the cell]</div></div>\n` +
    `<script type="text/javascript">(function () {\n${client()}\n` +
    `unreasonableExplorer(document.getElementById(${scriptJson(id)}), ${scriptJson(data)});\n})();</script>`
  );
}

/** The explorer as a standalone, offline HTML page (write it with saveHtml or saveExplorer). */
export function explorerHtml(rec: Recording, opts: ExploreOptions = {}): string {
  return htmlPage(explorerFragment(rec, opts), { title: opts.title ?? 'neuron explorer' });
}

/** Write `explorerHtml(rec, opts)` to `file` (directories are created); returns the path. */
export function saveExplorer(rec: Recording, file: string, opts: ExploreOptions = {}): string {
  return saveHtml(explorerHtml(rec, opts), file);
}

/** Display the explorer in the notebook (outside one: print a one-line summary). */
export function explore(rec: Recording, opts: ExploreOptions = {}): void {
  const size = exploreSize(rec, opts);
  showHtml(
    explorerFragment(rec, opts),
    `[neuron explorer: ${size.layers.length} layers × ${size.kinds.join(',')} × ${rec.hiddenSize} units over bytes ${size.from}–${size.to}, ~${(size.bytes / 1e6).toFixed(1)} MB]`,
  );
}
