/**
 * Recording what a trained model does over a text: per byte, per layer, per unit the hidden
 * state h (and the LSTM cell c), the gate activations, and the next-byte distribution.
 *
 * The text is streamed through the model one byte at a time (lib/generate/stepper.ts: the state and the
 * gates live in plain arrays, the only tfjs ops are the matrix-vector products), so the only
 * memory that grows with the text is the output: preallocated Float32Arrays.
 *
 * LAYOUT: time-major, `array[t * H + u]` is unit u after reading byte t (H = hiddenSize), i.e.
 * row t is the state h_t the model predicts byte t+1 from. `unitSeries()` pulls out one unit's
 * trace over time. Probabilities are `probs[t * V + id]` (V = vocab size, vocabulary ids), the
 * top-k `topIds/topProbs[t * k + j]`, j = 0 the most likely.
 *
 * Memory: 4 bytes × T × (layers × H × (#h + #c + #gates) + V if probs + 2k if topK + 1).
 * A 2×512 LSTM over 100 kB keeping h and c is 819 MB; add the 4 LSTM gates and it is 2.5 GB,
 * so choose what you keep (`layers`, `h`, `c`, `gates`, `probs`, `topK`); `recordingBytes()`
 * tells the size before you start. `kindArray(rec, layer, 'tanhc')` adds a copy of that layer's c
 * (the unit search reads tanh(c) without one).
 */
import { CellType, GATE_NAMES } from '../nn/cells';
import { UserError } from '../util/errors';
import { CharModel, ModelState, stateToArrays } from '../nn/model';
import { Stepper } from '../generate/stepper';
import { Bytes, ByteVocab } from '../data/vocab';

export interface RecordOptions {
  /** Model layers to record (default: all). */
  layers?: readonly number[];
  /** Keep h (default true). */
  h?: boolean;
  /** Keep the LSTM cell state c (default true; ignored for rnn/gru). */
  c?: boolean;
  /** Keep gate activations: true = all of the cell type (lstm i,f,g,o; gru r,z,n), or a list of names. Default false. */
  gates?: boolean | readonly string[];
  /** Keep the whole next-byte distribution (default false). */
  probs?: boolean;
  /** Keep the k most likely next bytes and their probabilities (default 5; 0 = none). */
  topK?: number;
  /** onProgress is called every `chunkSize` bytes (default 128). */
  chunkSize?: number;
  /** State to start from (not disposed; default zeros). */
  state?: ModelState;
  /** Drop bytes that are not in the vocabulary instead of failing (`bytes` then holds what was fed). */
  skipUnknown?: boolean;
  /** Called after every chunk with (bytes done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** One layer's recording; the arrays are absent when not kept (or the layer was not selected). */
export interface LayerRecording {
  layer: number;
  /** h after each byte, [t * H + u]. */
  h?: Float32Array;
  /** LSTM cell state after each byte, [t * H + u]. */
  c?: Float32Array;
  /** Gate activations by name, each [t * H + u]. */
  gates?: Record<string, Float32Array>;
}

export interface Recording {
  /** The bytes fed to the model (after skipUnknown), T of them. */
  bytes: Uint8Array;
  ids: Int32Array;
  /** T. */
  length: number;
  hiddenSize: number;
  numLayers: number;
  modelType: CellType;
  vocab: ByteVocab;
  /** One entry per model layer (index = layer number). */
  layers: LayerRecording[];
  /** Next-byte distribution after each byte, [t * V + id] (probs option). */
  probs?: Float32Array;
  /** k of topIds/topProbs (0 when not kept). */
  topK: number;
  /** The k most likely next ids after each byte, [t * k + j], most likely first. */
  topIds?: Int32Array;
  topProbs?: Float32Array;
  /** ln p(byte t+1 | bytes 0..t) of the byte that actually follows; NaN at the last position. */
  nextLogProb: Float32Array;
}

/** What to record for a model type: resolved gate names, whether c is kept. */
function resolve(type: CellType, opts: RecordOptions): { h: boolean; c: boolean; gates: string[] } {
  const available = type === 'rnn' ? [] : GATE_NAMES[type];
  let gates: string[] = [];
  if (opts.gates === true) gates = [...available];
  else if (Array.isArray(opts.gates)) {
    for (const g of opts.gates) {
      if (!available.includes(g)) throw new UserError(`a ${type} has no gate "${g}"${available.length ? ` (it has ${available.join(', ')})` : ''}`);
    }
    gates = [...opts.gates];
  }
  return { h: opts.h ?? true, c: type === 'lstm' && (opts.c ?? true), gates };
}

function resolveLayers(numLayers: number, layers?: readonly number[]): number[] {
  const list = layers ? [...layers] : Array.from({ length: numLayers }, (_, l) => l);
  for (const l of list) if (!Number.isInteger(l) || l < 0 || l >= numLayers) throw new UserError(`layer ${l} does not exist (the model has ${numLayers})`);
  return list;
}

/** Bytes the output arrays of `record()` take for a text of `length` bytes. */
export function recordingBytes(
  config: { modelType: CellType; hiddenSize: number; numLayers: number; vocabSize: number },
  length: number,
  opts: RecordOptions = {},
): number {
  const r = resolve(config.modelType, opts);
  const layers = resolveLayers(config.numLayers, opts.layers).length;
  const perLayer = (r.h ? 1 : 0) + (r.c ? 1 : 0) + r.gates.length;
  const k = Math.min(opts.topK ?? 5, config.vocabSize);
  return 4 * length * (layers * config.hiddenSize * perLayer + (opts.probs ? config.vocabSize : 0) + 2 * k + 1);
}

/** Bytes actually held by a recording's arrays. */
export function recordingSize(rec: Recording): number {
  let n = rec.nextLogProb.byteLength + (rec.probs?.byteLength ?? 0) + (rec.topIds?.byteLength ?? 0) + (rec.topProbs?.byteLength ?? 0);
  for (const l of rec.layers) {
    n += (l.h?.byteLength ?? 0) + (l.c?.byteLength ?? 0);
    for (const g of Object.values(l.gates ?? {})) n += g.byteLength;
  }
  return n;
}

/**
 * Run `model` over `text` and record its inner workings (see the file comment for the layout).
 * Runs synchronously; ~12 kB/s for a 2×128 LSTM, ~3 kB/s for 2×512 on the wasm backend.
 */
export function record(model: CharModel, vocab: ByteVocab, text: Bytes, opts: RecordOptions = {}): Recording {
  const { modelType, hiddenSize: H, numLayers, vocabSize: V } = model.config;
  if (vocab.size !== V) throw new UserError(`vocabulary has ${vocab.size} bytes, the model ${V}`);
  const what = resolve(modelType, opts);
  const selected = resolveLayers(numLayers, opts.layers);
  const chunkSize = opts.chunkSize ?? 128;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new UserError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const k = Math.min(opts.topK ?? 5, V);
  if (!Number.isInteger(k) || k < 0) throw new UserError(`topK must be a non-negative integer, got ${opts.topK}`);
  const ids = vocab.encode(text, { skipUnknown: opts.skipUnknown });
  const T = ids.length;
  const bytes = new Uint8Array(vocab.decode(ids));

  const layers: LayerRecording[] = Array.from({ length: numLayers }, (_, l) => ({ layer: l }));
  for (const l of selected) {
    const rec = layers[l];
    if (what.h) rec.h = new Float32Array(T * H);
    if (what.c) rec.c = new Float32Array(T * H);
    if (what.gates.length) rec.gates = Object.fromEntries(what.gates.map((g) => [g, new Float32Array(T * H)]));
  }
  const probs = opts.probs ? new Float32Array(T * V) : undefined;
  const topIds = k > 0 ? new Int32Array(T * k) : undefined;
  const topProbs = k > 0 ? new Float32Array(T * k) : undefined;
  const nextLogProb = new Float32Array(T).fill(NaN);
  const needGates = selected.length > 0 && what.gates.length > 0;

  // One byte at a time through the Stepper (state and gates in plain arrays; tested equal to
  // forward()); `chunkSize` only paces onProgress.
  const stepper = new Stepper(model, { keepGates: needGates });
  if (opts.state) stepper.state = stateToArrays(opts.state); // only read: each step makes new arrays
  const topId = new Int32Array(k);
  const topP = new Float32Array(k);
  const logp = new Float64Array(V);
  try {
    for (let pos = 0; pos < T; pos++) {
      const logits = stepper.step(ids[pos]);
      for (const l of selected) {
        const rec = layers[l];
        if (rec.h) rec.h.set(stepper.state[l][0], pos * H);
        if (rec.c) rec.c.set(stepper.state[l][1], pos * H);
        if (rec.gates) for (const g of what.gates) rec.gates[g].set(stepper.gates[l][g], pos * H);
      }
      // log softmax in float64
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
      const lse = max + Math.log(sum);
      for (let v = 0; v < V; v++) logp[v] = logits[v] - lse;
      if (pos + 1 < T) nextLogProb[pos] = logp[ids[pos + 1]];
      if (probs) for (let v = 0; v < V; v++) probs[pos * V + v] = Math.exp(logp[v]);
      if (k > 0) {
        // Top-k by insertion (k is small).
        topP.fill(-Infinity);
        for (let v = 0; v < V; v++) {
          const x = logp[v];
          if (x <= topP[k - 1]) continue;
          let j = k - 1;
          while (j > 0 && topP[j - 1] < x) {
            topP[j] = topP[j - 1];
            topId[j] = topId[j - 1];
            j--;
          }
          topP[j] = x;
          topId[j] = v;
        }
        for (let j = 0; j < k; j++) {
          topIds![pos * k + j] = topId[j];
          topProbs![pos * k + j] = Math.exp(topP[j]);
        }
      }
      if ((pos + 1) % chunkSize === 0 || pos + 1 === T) opts.onProgress?.(pos + 1, T);
    }
  } finally {
    stepper.dispose();
  }
  return { bytes, ids, length: T, hiddenSize: H, numLayers, modelType, vocab, layers, probs, topK: k, topIds, topProbs, nextLogProb };
}

/**
 * The kinds of per-unit series a recording can hold: h, the LSTM cell c, the gates, and `tanhc`,
 * tanh(c) — the cell as the output gate reads it (h = o ⊙ tanh(c)) and as Karpathy, Johnson &
 * Fei-Fei picture cells (their Fig. 2 colours the text by tanh(c), −1 … +1). `tanhc` is not
 * recorded: it is derived from c whenever c was.
 */
export type UnitKind = 'h' | 'c' | 'tanhc' | 'i' | 'f' | 'g' | 'o' | 'r' | 'z' | 'n';

/** The kinds derived from recorded ones (not counted as recorded, not shown by default). */
export const DERIVED_KINDS: readonly UnitKind[] = ['tanhc'];

/** How a kind is written for people: "tanh(c)" for tanhc, else its name. */
export function kindLabel(kind: UnitKind): string {
  return kind === 'tanhc' ? 'tanh(c)' : kind;
}

/** tanh(c) of each recorded c array, computed once (the recording's arrays are not copied otherwise). */
const tanhCache = new WeakMap<Float32Array, Float32Array>();

/** The time-major array of one layer and kind, or undefined if it was not recorded. */
export function kindArray(rec: Recording, layer: number, kind: UnitKind): Float32Array | undefined {
  const l = rec.layers[layer];
  if (!l) return undefined;
  if (kind === 'h') return l.h;
  if (kind === 'c') return l.c;
  if (kind === 'tanhc') {
    if (!l.c) return undefined;
    let t = tanhCache.get(l.c);
    if (!t) {
      t = l.c.map(Math.tanh);
      tanhCache.set(l.c, t);
    }
    return t;
  }
  return l.gates?.[kind];
}

/** One unit's values over positions [from, to) (default: the whole text). */
export function unitSeries(rec: Recording, layer: number, kind: UnitKind, unit: number, from = 0, to = rec.length): Float32Array {
  const a = kindArray(rec, layer, kind);
  if (!a) throw new UserError(`layer ${layer} ${kind} was not recorded`);
  const H = rec.hiddenSize;
  if (!Number.isInteger(unit) || unit < 0 || unit >= H) throw new UserError(`unit ${unit} does not exist (hidden size ${H})`);
  const lo = Math.max(0, from);
  const hi = Math.min(rec.length, to);
  const out = new Float32Array(Math.max(0, hi - lo));
  for (let t = lo; t < hi; t++) out[t - lo] = a[t * H + unit];
  return out;
}

/** The top-k predictions after byte t as { byte, prob } (most likely first). */
export function topPredictions(rec: Recording, t: number): { byte: number; prob: number }[] {
  if (!rec.topIds || !rec.topProbs) throw new UserError('the recording has no top-k predictions (topK was 0)');
  const out: { byte: number; prob: number }[] = [];
  for (let j = 0; j < rec.topK; j++) out.push({ byte: rec.vocab.idToByte[rec.topIds[t * rec.topK + j]], prob: rec.topProbs[t * rec.topK + j] });
  return out;
}
