/**
 * Searching for interpretable units: score every unit of a recording against a feature of the
 * text (a number per byte) by Pearson correlation, and rank by |corr| (Karpathy's quote-detection
 * and line-length cells; Karpathy, Johnson & Fei-Fei 2015, "Visualizing and Understanding
 * Recurrent Networks").
 *
 * A feature is a function (bytes, i) → number giving the value at position i: the state of the
 * text AFTER reading byte i, which is what h_i (the state the model predicts byte i+1 from) can
 * know. The built-in features scan the text once and cache the whole series per bytes array, so
 * calling them for every i is linear, not quadratic.
 */
import { UserError } from '../util/errors';
import { kindArray, kindLabel, Recording, UnitKind } from './record';

/** A feature of the text: its value at position i. */
export type Feature = (bytes: Uint8Array, i: number) => number;

const Q = 0x22; // "
const NL = 0x0a;

/** Turn a one-pass scanner (bytes → series) into a Feature with a per-text cache. */
export function seriesFeature(scan: (bytes: Uint8Array) => Float32Array): Feature {
  const cache = new WeakMap<Uint8Array, Float32Array>();
  return (bytes: Uint8Array, i: number): number => {
    let s = cache.get(bytes);
    if (!s) {
      s = scan(bytes);
      cache.set(bytes, s);
    }
    return s[i];
  };
}

/**
 * 1 inside a double-quoted span, else 0. The opening quote counts as inside (after reading it the
 * reader is inside), the closing one as outside. Quotes simply toggle (no escapes).
 */
export const inQuotes: Feature = seriesFeature((b) => {
  const out = new Float32Array(b.length);
  let inside = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === Q) inside = 1 - inside;
    out[i] = inside;
  }
  return out;
});

/**
 * Like inQuotes, but every line (paragraph) starts outside: the printers' convention for a
 * speech that runs over several paragraphs (no closing quote at a paragraph's end, a new opening
 * one at the next), as in Moby-Dick, where one paragraph is one line.
 */
export const inQuotesLine: Feature = seriesFeature((b) => {
  const out = new Float32Array(b.length);
  let inside = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) inside = 0;
    else if (b[i] === Q) inside = 1 - inside;
    out[i] = inside;
  }
  return out;
});

/**
 * Position in the line: bytes read since the last newline, so 1 for the first byte of a line,
 * and 0 for the newline itself (after reading it a new line begins). The text starts a line.
 */
export const column: Feature = seriesFeature((b) => {
  const out = new Float32Array(b.length);
  let col = 0;
  for (let i = 0; i < b.length; i++) {
    col = b[i] === NL ? 0 : col + 1;
    out[i] = col;
  }
  return out;
});

function depthSeries(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.length);
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x28 || c === 0x5b || c === 0x7b) d++; // ( [ {
    else if ((c === 0x29 || c === 0x5d || c === 0x7d) && d > 0) d--; // ) ] }
    out[i] = d;
  }
  return out;
}

/** Nesting depth of (), [] and {} after reading byte i (the opener is inside, the closer outside; never below 0). */
export const bracketDepth: Feature = seriesFeature(depthSeries);

/** 1 inside any (), [] or {} (bracketDepth > 0), else 0. */
export const inBrackets: Feature = seriesFeature((b) => depthSeries(b).map((d) => (d > 0 ? 1 : 0)));

/**
 * 1 inside a C comment, `/* … *\/` or `// …` up to the newline, else 0. The comment's bytes
 * count from its second byte on (after the first '/' a reader cannot know yet) through the
 * closing '/' of `*\/`; the newline ending a `//` comment is outside. Comment markers inside
 * "string" and 'c' literals (with backslash escapes) are not comments.
 */
export const inComment: Feature = seriesFeature((b) => {
  const out = new Float32Array(b.length);
  type S = 'code' | 'str' | 'chr' | 'block' | 'line';
  let s: S = 'code';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    const prev = i > 0 ? b[i - 1] : -1;
    switch (s) {
      case 'code':
        if (c === 0x2f && prev === 0x2f && out[i - 1] === 0) {
          s = 'line';
          out[i] = 1;
        } else if (c === 0x2a && prev === 0x2f) {
          s = 'block';
          out[i] = 1;
        } else if (c === Q) s = 'str';
        else if (c === 0x27) s = 'chr';
        break;
      case 'str':
      case 'chr':
        if (c === 0x5c) {
          i++; // skip the escaped byte (it is still a literal byte: 0)
        } else if (c === (s === 'str' ? Q : 0x27) || c === NL) s = 'code';
        break;
      case 'block':
        out[i] = 1;
        // "*/" closes, but not the '*' that opened it ("/*/" is not a whole comment).
        if (c === 0x2f && prev === 0x2a && out[i - 2] === 1) s = 'code';
        break;
      case 'line':
        if (c === NL) s = 'code';
        else out[i] = 1;
        break;
    }
  }
  return out;
});

function isWordByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}

/** 1 on the first byte of a word (a letter, digit, '_' or non-ASCII byte after anything else). */
export const wordStart: Feature = (b, i) => (isWordByte(b[i]) && (i === 0 || !isWordByte(b[i - 1])) ? 1 : 0);

/** 1 inside a word (see wordStart), else 0. */
export const inWord: Feature = (b, i) => (isWordByte(b[i]) ? 1 : 0);

/** 1 where the byte is one of `chars` (a string of ASCII characters or byte values). */
export function isByte(chars: string | readonly number[]): Feature {
  const set = new Uint8Array(256);
  for (const c of typeof chars === 'string' ? Array.from(Buffer.from(chars, 'latin1')) : chars) set[c] = 1;
  return (b, i) => set[b[i]];
}

/** The built-in features by name. */
export const FEATURES: Record<string, Feature> = { inQuotes, inQuotesLine, column, bracketDepth, inBrackets, inComment, wordStart, inWord };

/** A feature's values over a whole text. */
export function featureSeries(feature: Feature | string, bytes: Uint8Array): Float32Array {
  const f = resolveFeature(feature);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = f(bytes, i);
  return out;
}

function resolveFeature(feature: Feature | string): Feature {
  if (typeof feature === 'function') return feature;
  const f = FEATURES[feature];
  if (!f) throw new UserError(`unknown feature "${feature}": use ${Object.keys(FEATURES).join(', ')} or a function`);
  return f;
}

/** Pearson correlation of two equally long series (0 if either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`pearson: lengths ${a.length} and ${b.length}`);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

export interface UnitScore {
  layer: number;
  unit: number;
  kind: UnitKind;
  /** Pearson correlation with the feature (signed). */
  corr: number;
}

export interface SearchOptions {
  /** How many to return (default 10; Infinity = all). */
  k?: number;
  /** What to score (default h, c and tanh(c), whichever were recorded). Gate names work too. */
  kinds?: readonly UnitKind[];
  /** Layers to score (default: all recorded). */
  layers?: readonly number[];
  /** Score positions [from, to) only (default: all; e.g. skip a warm-up from the zero state). */
  from?: number;
  to?: number;
}

/**
 * Every unit's correlation with `feature` (a Feature, a built-in's name, or the series itself),
 * sorted by |corr|, largest first; the top `k`. An LSTM cell is scored both as c and as tanh(c):
 * Pearson r is linear, so a latch whose c sits near −0.5 inside comments and anywhere from +2 to
 * +11 in code (the shipped Linux model's comment cell) reads as the clean on/off cell it is only
 * through tanh(c), the reading the output gate and the paper's pictures use; a counter reads best
 * as c, where it can ramp without saturating.
 */
export function searchUnits(rec: Recording, feature: Feature | string | ArrayLike<number>, opts: SearchOptions = {}): UnitScore[] {
  const from = Math.max(0, opts.from ?? 0);
  const to = Math.min(rec.length, opts.to ?? rec.length);
  const n = to - from;
  if (n < 2) throw new UserError(`need at least 2 positions to correlate, got ${n}`);
  let y: Float64Array;
  if (typeof feature === 'function' || typeof feature === 'string') {
    const f = resolveFeature(feature);
    y = new Float64Array(n);
    for (let t = from; t < to; t++) y[t - from] = f(rec.bytes, t);
  } else {
    if (feature.length !== rec.length) throw new UserError(`the feature series has ${feature.length} values, the recording ${rec.length} positions`);
    y = Float64Array.from({ length: n }, (_, i) => feature[from + i]);
  }
  // Centre the feature once: then Σ(x−x̄)(y−ȳ) = Σ x·y'.
  let my = 0;
  for (let i = 0; i < n; i++) my += y[i];
  my /= n;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    y[i] -= my;
    syy += y[i] * y[i];
  }
  const H = rec.hiddenSize;
  const kinds = opts.kinds ?? (['h', 'c', 'tanhc'] as UnitKind[]);
  const layers = opts.layers ?? rec.layers.map((l) => l.layer);
  const scores: UnitScore[] = [];
  const sx = new Float64Array(H);
  const sxx = new Float64Array(H);
  const sxy = new Float64Array(H);
  for (const layer of layers) {
    for (const kind of kinds) {
      // tanh(c) is squashed here as it is read, not materialised (kindArray's copy would double c's memory).
      const squash = kind === 'tanhc';
      const a = kindArray(rec, layer, squash ? 'c' : kind);
      if (!a) {
        if (opts.kinds) throw new UserError(`layer ${layer} ${kind} was not recorded`);
        continue;
      }
      sx.fill(0);
      sxx.fill(0);
      sxy.fill(0);
      // Time-major data: one pass over rows, accumulating per unit.
      for (let t = from; t < to; t++) {
        const row = t * H;
        const yt = y[t - from];
        for (let u = 0; u < H; u++) {
          const x = squash ? Math.tanh(a[row + u]) : a[row + u];
          sx[u] += x;
          sxx[u] += x * x;
          sxy[u] += x * yt;
        }
      }
      for (let u = 0; u < H; u++) {
        const vx = sxx[u] - (sx[u] * sx[u]) / n;
        const corr = vx > 1e-12 * n && syy > 0 ? sxy[u] / Math.sqrt(vx * syy) : 0;
        scores.push({ layer, unit: u, kind, corr: Math.max(-1, Math.min(1, corr)) });
      }
    }
  }
  scores.sort((p, q) => Math.abs(q.corr) - Math.abs(p.corr));
  const k = opts.k ?? 10;
  return Number.isFinite(k) ? scores.slice(0, Math.max(0, k)) : scores;
}

/** "layer 0 c[17] r=+0.93", "layer 1 tanh(c)[160] r=-0.96" */
export function formatScore(s: UnitScore): string {
  return `layer ${s.layer} ${kindLabel(s.kind)}[${s.unit}] r=${s.corr >= 0 ? '+' : ''}${s.corr.toFixed(3)}`;
}
