/**
 * Text pictures of what a model does, as in Karpathy's essay:
 *   - activationHtml: the text, each byte's background coloured by one unit's activation
 *     (−1 blue … 0 white … +1 red), one <span> per byte, lines kept as in the text;
 *   - predictionsHtml: each byte with a small column of the model's top-5 guesses for the next
 *     byte under it, shaded by probability; the byte that actually follows is outlined.
 * Both return HTML fragments with inline styles only (they survive the classic notebook,
 * nbconvert and GitHub's sanitiser); show*() displays them, htmlPage() + saveHtml() make files.
 */
import { escapeHtml } from '../../notebook/figure';
import { showHtml } from '../../notebook/show';
import { kindArray, kindLabel, Recording, UnitKind } from '../record';
import { Bytes, toBytes } from '../../data/vocab';

/** Colour of an activation: −range → blue, 0 → white, +range → red (clipped), as "rgb(r,g,b)". */
export function activationColor(v: number, range = 1): string {
  const x = Number.isFinite(v) ? Math.max(-1, Math.min(1, v / range)) : 0;
  // White to #2166ac (blue) for negative, white to #b2182b (red) for positive.
  const [r, g, b] = x >= 0 ? [178, 24, 43] : [33, 102, 172];
  const a = Math.abs(x);
  const mix = (c: number) => Math.round(255 + (c - 255) * a);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

/**
 * What to print for each byte: printable ASCII as is, a UTF-8 character on its first byte (its
 * continuation bytes get ''), control bytes as Unicode control pictures (␀ …), '\n' and '\t' as
 * themselves, other bytes as '\uFFFD'.
 */
export function byteGlyphs(data: Bytes): string[] {
  const b = toBytes(data);
  const out: string[] = new Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 10 || c === 9 || (c >= 32 && c < 127)) out[i] = String.fromCharCode(c);
    else if (c < 32) out[i] = String.fromCharCode(0x2400 + c);
    else if (c === 127) out[i] = '\u2421';
    else {
      const len = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
      let ok = len > 0 && i + len <= b.length;
      for (let j = 1; ok && j < len; j++) ok = (b[i + j] & 0xc0) === 0x80;
      const ch = ok ? Buffer.from(b.subarray(i, i + len)).toString('utf8') : '';
      if (ok && !ch.includes('\uFFFD')) {
        out[i] = ch;
        for (let j = 1; j < len; j++) out[i + j] = '';
        i += len - 1;
      } else out[i] = '\uFFFD';
    }
  }
  return out;
}

/** What to print for one byte on its own: byteGlyphs of that byte ('\uFFFD' for any byte ≥ 0x80). */
export function byteGlyph(b: number): string {
  return byteGlyphs(Uint8Array.of(b))[0];
}

export interface ActivationHtmlOptions {
  /** Values are divided by this before colouring and clipped to ±1 (default 1, for tanh-range units). */
  range?: number;
  /** Draw '↵' before each line break (default true), so that the newline's colour shows. */
  markNewlines?: boolean;
  /** Each span's title shows its value (default true). */
  tooltips?: boolean;
  /** A caption above the text. */
  title?: string;
  /** Font size in px (default 13). */
  fontSize?: number;
}

/** The text with each byte's background coloured by `values[i]` (one span per byte). */
export function activationHtml(data: Bytes, values: ArrayLike<number>, opts: ActivationHtmlOptions = {}): string {
  const bytes = toBytes(data);
  if (values.length !== bytes.length) throw new Error(`activationHtml: ${bytes.length} bytes but ${values.length} values`);
  const glyphs = byteGlyphs(bytes);
  const range = opts.range ?? 1;
  const mark = opts.markNewlines ?? true;
  const tips = opts.tooltips ?? true;
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const g = glyphs[i];
    const text = g === '\n' ? (mark ? '<span style="color:#aaa">↵</span>\n' : '\n') : escapeHtml(g);
    const tip = tips ? ` title="${i}: ${Number.isFinite(values[i]) ? values[i].toFixed(3) : String(values[i])}"` : '';
    parts.push(`<span style="background:${activationColor(values[i], range)}"${tip}>${text}</span>`);
  }
  const caption = opts.title ? `<div style="font:bold 13px sans-serif;margin:0 0 4px 0">${escapeHtml(opts.title)}</div>` : '';
  return (
    `<div class="unreasonable-activation">${caption}` +
    `<pre style="white-space:pre-wrap;word-break:break-all;font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;` +
    `font-size:${opts.fontSize ?? 13}px;line-height:1.35;margin:0;padding:6px;background:#fff;color:#000">${parts.join('')}</pre></div>`
  );
}

/** Display `activationHtml(...)` in the notebook. */
export function showActivation(data: Bytes, values: ArrayLike<number>, opts: ActivationHtmlOptions = {}): void {
  showHtml(activationHtml(data, values, opts), `[activation text: ${toBytes(data).length} bytes${opts.title ? `, "${opts.title}"` : ''}]`);
}

export interface UnitViewOptions extends ActivationHtmlOptions {
  /** Positions [from, to) of the recording (default the first 1000). */
  from?: number;
  to?: number;
  /** Squash the values with tanh first (Karpathy's tanh(c); or show kind 'tanhc'); default false. */
  tanh?: boolean;
  /**
   * Colour the deviation from the span's mean, scaled to the largest one: (v − mean) / max|v − mean|.
   * Default true for c (unbounded, often far from 0, so raw or tanh colours would be one flat
   * shade), false otherwise.
   */
  normalize?: boolean;
}

/** `activationHtml` of one recorded unit over a stretch of the text. */
export function unitHtml(rec: Recording, layer: number, kind: UnitKind, unit: number, opts: UnitViewOptions = {}): string {
  const a = kindArray(rec, layer, kind);
  if (!a) throw new Error(`layer ${layer} ${kind} was not recorded`);
  const from = Math.max(0, opts.from ?? 0);
  const to = Math.min(rec.length, opts.to ?? from + 1000);
  const squash = opts.tanh ?? false;
  const normalize = opts.normalize ?? (kind === 'c' && !squash);
  const H = rec.hiddenSize;
  const v = new Float32Array(Math.max(0, to - from));
  for (let t = from; t < to; t++) v[t - from] = squash ? Math.tanh(a[t * H + unit]) : a[t * H + unit];
  let range = opts.range ?? 1;
  let note = '';
  if (normalize && v.length) {
    const mean = v.reduce((p, q) => p + q, 0) / v.length;
    let max = 0;
    for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs((v[i] -= mean)));
    range = max > 0 ? max : 1;
    note = ` (minus its mean ${mean.toFixed(2)}; ±${range.toFixed(2)} = full colour)`;
  }
  const title = opts.title ?? `layer ${layer} ${squash ? `tanh(${kindLabel(kind)})` : kindLabel(kind)}[${unit}], bytes ${from}–${to}`;
  return activationHtml(rec.bytes.subarray(from, to), v, { ...opts, range, title: title + note });
}

/** Display `unitHtml(...)`. */
export function showUnit(rec: Recording, layer: number, kind: UnitKind, unit: number, opts: UnitViewOptions = {}): void {
  showHtml(unitHtml(rec, layer, kind, unit, opts), `[layer ${layer} ${kindLabel(kind)}[${unit}] over the text]`);
}

export interface PredictionsHtmlOptions {
  /** Positions [from, to) (default the first 200). */
  from?: number;
  to?: number;
  /** How many guesses per byte (default: all the recording kept, at most its topK). */
  k?: number;
  /** Colour the input bytes by these values (e.g. a unit's series over the recording, full length). */
  values?: ArrayLike<number>;
  /** Range for `values` (default 1). */
  range?: number;
  title?: string;
}

function predGlyph(g: string): string {
  if (g === ' ') return '␣';
  if (g === '\n') return '↵';
  if (g === '\t') return '⇥';
  return g === '' ? '·' : g;
}

/**
 * Karpathy's prediction picture: every byte of the text with, under it, the model's top-k guesses
 * for the byte after it, each cell shaded by its probability (darker = more likely); the guess that
 * is right is outlined. Newlines in the text start a new row.
 */
export function predictionsHtml(rec: Recording, opts: PredictionsHtmlOptions = {}): string {
  if (!rec.topIds || !rec.topProbs) throw new Error('predictionsHtml: the recording has no top-k predictions (record with topK > 0)');
  const K = rec.topK;
  const k = Math.min(opts.k ?? K, K);
  const from = Math.max(0, opts.from ?? 0);
  const to = Math.min(rec.length, opts.to ?? from + 200);
  const glyphs = byteGlyphs(rec.bytes);
  // Each vocabulary byte on its own (neighbouring ids must not be decoded as one UTF-8 character).
  const all = Array.from(rec.vocab.idToByte, byteGlyph);
  const cell = 'width:1.35em;height:1.35em;line-height:1.35em;text-align:center;box-sizing:border-box';
  const cols: string[] = [];
  for (let t = from; t < to; t++) {
    const g = glyphs[t];
    const bg = opts.values ? activationColor(opts.values[t], opts.range ?? 1) : '#eef3fb';
    const rows = [`<div style="${cell};background:${bg};font-weight:bold;border-bottom:1px solid #999" title="byte ${t}">${escapeHtml(predGlyph(g))}</div>`];
    const next = t + 1 < rec.length ? rec.ids[t + 1] : -1;
    for (let j = 0; j < k; j++) {
      const id = rec.topIds[t * K + j];
      const p = rec.topProbs[t * K + j];
      const shade = `rgba(200,30,30,${Math.min(1, p).toFixed(3)})`;
      const fg = p > 0.5 ? '#fff' : '#000';
      const hit = id === next ? ';outline:2px solid #111;outline-offset:-2px' : '';
      const byte = rec.vocab.idToByte[id];
      rows.push(`<div style="${cell};background:${shade};color:${fg}${hit}" title="0x${byte.toString(16).padStart(2, '0')} p=${p.toFixed(3)}">${escapeHtml(predGlyph(all[id]))}</div>`);
    }
    cols.push(`<div class="pred-col" style="display:flex;flex-direction:column;margin:0 1px 6px 0">${rows.join('')}</div>`);
    if (g === '\n') cols.push('<div style="flex-basis:100%;height:0"></div>');
  }
  const caption = `<div style="font:bold 13px sans-serif;margin:0 0 4px 0">${escapeHtml(opts.title ?? `top-${k} next-byte predictions, bytes ${from}–${to} (darker = more likely, outlined = what came next)`)}</div>`;
  return (
    `<div class="unreasonable-predictions">${caption}<div style="display:flex;flex-wrap:wrap;` +
    `font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px;background:#fff;color:#000">${cols.join('')}</div></div>`
  );
}

/** Display `predictionsHtml(...)`. */
export function showPredictions(rec: Recording, opts: PredictionsHtmlOptions = {}): void {
  showHtml(predictionsHtml(rec, opts), `[top-${rec.topK} predictions picture]`);
}
