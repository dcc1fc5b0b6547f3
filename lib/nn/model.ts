/**
 * The char-rnn model: one-hot bytes → numLayers stacked cells → dropout → linear decoder → logits.
 * Dropout (inverted, rate `dropout`) is applied to each layer's output sequence, i.e. between
 * layers and before the decoder, only when training. Weight drop (rate `weightDrop`; Merity et al.
 * 2017, "Regularizing and Optimizing LSTM Language Models") drops entries of each layer's recurrent
 * matrix Wh, one mask per forward call shared by all its steps and streams, also only when training:
 * it regularises the recurrent path, which dropout between layers leaves alone.
 */
import * as tf from '@tensorflow/tfjs';
import { Activation, ACTIVATIONS, Cell, CellState, CellType, CELL_TYPES, GATE_COUNT, Gates } from './cells';
import { UserError } from '../util/errors';
import { matMul } from './ops';
import { Rng } from '../util/rng';
import { NamedArray } from '../io/safetensors';
import { embeddingLookup } from './embedding';
import { hasSequenceKernel, runSequence } from './sequence';
import { unroll } from './unroll';

export interface ModelConfig {
  /** rnn | lstm | gru */
  modelType: CellType;
  /** Bytes in the vocabulary (one-hot input size and output size). */
  vocabSize: number;
  /** Units per layer. */
  hiddenSize: number;
  /** Stacked layers. */
  numLayers: number;
  /** Dropout rate between layers and before the decoder (0 = off). */
  dropout: number;
  /**
   * Weight drop: the fraction of each layer's recurrent weights Wh dropped (DropConnect, one mask
   * per forward call, kept weights scaled by 1/(1 − weightDrop)) when training. Default 0 (off).
   */
  weightDrop?: number;
  /** Initial weights are uniform in [-initScale, initScale] (char-rnn: 0.08). */
  initScale?: number;
  /** LSTM forget-gate bias at init (default 1). */
  forgetBias?: number;
  /**
   * Feed layer 0 a learned embedding of this size instead of one-hot vectors (for large
   * vocabularies such as GPT-2 tokens). Default: one-hot.
   */
  embeddingSize?: number;
  /** Vanilla RNN only: its nonlinearity, tanh (default), relu or gelu (see cells.ts). */
  activation?: Activation;
}

/** State of the whole stack: one CellState per layer. */
export type ModelState = CellState[];

export interface ForwardOptions {
  /** Apply dropout (needs rng). */
  training?: boolean;
  /** Source of dropout seeds. */
  rng?: Rng;
  /** Keep each layer's state after every step. */
  keepStates?: boolean;
  /** Keep gate activations of every step. */
  recordGates?: boolean;
  /** Use the step-by-step cells even where a sequence kernel exists (see sequence.ts). */
  stepwise?: boolean;
}

export interface ForwardResult {
  /** Time-major logits: [seqLength, batch, vocab]. */
  logits: tf.Tensor3D;
  /** The state after the last step. */
  state: ModelState;
  /** Per layer, per step: the state after that step (keepStates). */
  states?: CellState[][];
  /** Per layer, per step: gate activations (recordGates). */
  gates?: Gates[][];
}

export function validateConfig(c: ModelConfig): void {
  if (!CELL_TYPES.includes(c.modelType)) throw new UserError(`unknown model type "${c.modelType}": use ${CELL_TYPES.join(', ')}`);
  for (const k of ['vocabSize', 'hiddenSize', 'numLayers'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new UserError(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.embeddingSize !== undefined && (!Number.isInteger(c.embeddingSize) || c.embeddingSize < 1)) {
    throw new UserError(`embeddingSize must be a positive integer, got ${c.embeddingSize}`);
  }
  if (c.activation !== undefined) {
    if (!ACTIVATIONS.includes(c.activation)) throw new UserError(`unknown activation "${c.activation}": use ${ACTIVATIONS.join(', ')}`);
    if (c.activation !== 'tanh' && c.modelType !== 'rnn') throw new UserError(`activation "${c.activation}" is for the vanilla RNN only (the ${c.modelType} keeps its tanh)`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new UserError(`dropout must be in [0, 1), got ${c.dropout}`);
  if (c.weightDrop !== undefined && !(c.weightDrop >= 0 && c.weightDrop < 1)) throw new UserError(`weightDrop must be in [0, 1), got ${c.weightDrop}`);
}

/**
 * Number of parameters: per layer G·H·(in + H + 1) (+ G·H for the GRU's second bias),
 * G = 1 (rnn), 4 (lstm), 3 (gru), in = vocab (or the embedding size) for layer 0 else H; plus the
 * decoder H·V + V, and the embedding table V·E when there is one.
 */
export function countParams(c: ModelConfig): number {
  const G = GATE_COUNT[c.modelType];
  let n = c.embeddingSize ? c.vocabSize * c.embeddingSize : 0;
  for (let l = 0; l < c.numLayers; l++) {
    const input = l === 0 ? (c.embeddingSize ?? c.vocabSize) : c.hiddenSize;
    n += G * c.hiddenSize * (input + c.hiddenSize + 1);
    if (c.modelType === 'gru') n += G * c.hiddenSize;
  }
  return n + c.hiddenSize * c.vocabSize + c.vocabSize;
}

export class CharModel {
  readonly config: ModelConfig;
  readonly cells: Cell[];
  /** Decoder weights [hidden, vocab] and bias [vocab]. */
  readonly Wy: tf.Variable;
  readonly by: tf.Variable;
  /** Embedding table [vocab, embeddingSize], when config.embeddingSize is set. */
  readonly embedding?: tf.Variable;
  /**
   * Train and evaluate with the sequence-level kernels (sequence.ts) where one exists for the
   * cell type: same math, far fewer ops. Set false to run the readable step-by-step cells.
   */
  sequenceKernel = true;

  /** A freshly initialised model; `seed` makes the initial weights repeatable on any backend. */
  constructor(config: ModelConfig, seed: number | Rng = 0) {
    validateConfig(config);
    this.config = { ...config, initScale: config.initScale ?? 0.08 };
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    const { modelType, vocabSize, hiddenSize, numLayers, initScale } = this.config;
    this.cells = Array.from(
      { length: numLayers },
      (_, l) => new Cell({ type: modelType, inputSize: l === 0 ? (config.embeddingSize ?? vocabSize) : hiddenSize, hiddenSize, initScale, forgetBias: this.config.forgetBias, activation: config.activation }, rng),
    );
    const s = initScale!;
    if (config.embeddingSize) {
      const E = config.embeddingSize;
      this.embedding = tf.variable(tf.tensor2d(Float32Array.from({ length: vocabSize * E }, () => rng.uniform(-s, s)), [vocabSize, E]));
    }
    this.Wy = tf.variable(tf.tensor2d(Float32Array.from({ length: hiddenSize * vocabSize }, () => rng.uniform(-s, s)), [hiddenSize, vocabSize]));
    this.by = tf.variable(tf.tensor1d(Float32Array.from({ length: vocabSize }, () => rng.uniform(-s, s))));
  }

  /** All parameters by name ("embed.W" if any, "layers.0.Wx", …, "decoder.W", "decoder.b"), in a fixed order. */
  namedParams(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    if (this.embedding) m.set('embed.W', this.embedding);
    this.cells.forEach((cell, l) => cell.params().forEach(([k, v]) => m.set(`layers.${l}.${k}`, v)));
    m.set('decoder.W', this.Wy);
    m.set('decoder.b', this.by);
    return m;
  }

  numParams(): number {
    let n = 0;
    for (const v of this.namedParams().values()) n += v.size;
    return n;
  }

  /** Copy values into the parameters; names and shapes must match exactly. */
  setWeights(values: Map<string, NamedArray>): void {
    const params = this.namedParams();
    for (const name of values.keys()) if (!params.has(name)) throw new UserError(`weights have "${name}", which this model does not`);
    for (const [name, v] of params) {
      const src = values.get(name);
      if (!src) throw new UserError(`weights are missing "${name}"`);
      if (src.shape.join() !== v.shape.join()) throw new UserError(`weight "${name}" has shape [${src.shape}], the model needs [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(src.data, src.shape)));
    }
  }

  zeroState(batchSize: number): ModelState {
    return this.cells.map((c) => c.zeroState(batchSize));
  }

  /**
   * Run the model over a chunk.
   * @param x input ids, row-major [batch, seqLength]
   * @param state the state to start from (zeroState(batch) for a fresh start)
   */
  forward(x: Int32Array, batchSize: number, seqLength: number, state: ModelState, opts: ForwardOptions = {}): ForwardResult {
    const V = this.config.vocabSize;
    if (x.length !== batchSize * seqLength) throw new Error(`forward: ${x.length} ids for batch ${batchSize} × seq ${seqLength}`);
    const dropout = opts.training ? this.config.dropout : 0;
    const weightDrop = opts.training ? (this.config.weightDrop ?? 0) : 0;
    if ((dropout > 0 || weightDrop > 0) && !opts.rng) throw new Error('forward: training with dropout needs an rng');
    // Time-major ids so that step t is the contiguous rows t·B … t·B+B−1.
    const ids = new Int32Array(x.length);
    for (let b = 0; b < batchSize; b++) for (let t = 0; t < seqLength; t++) ids[t * batchSize + b] = x[b * seqLength + t];
    let input: tf.Tensor2D = this.embedding
      ? embeddingLookup(this.embedding as tf.Tensor2D, ids) // [T·B, E]
      : (tf.oneHot(tf.tensor1d(ids, 'int32'), V).toFloat() as tf.Tensor2D); // [T·B, V]
    const finalState: ModelState = [];
    const states: CellState[][] = [];
    const gates: Gates[][] = [];
    for (let l = 0; l < this.cells.length; l++) {
      const cell = this.cells[l];
      const Wh = weightDrop > 0 ? applyDropout(cell.Wh as tf.Tensor2D, weightDrop, opts.rng!) : (cell.Wh as tf.Tensor2D); // [H, G·H]
      // The sequence kernels are tanh-only: an RNN with another activation runs the step cells.
      const fast = this.sequenceKernel && !opts.stepwise && !opts.keepStates && !opts.recordGates && hasSequenceKernel(cell.type) && cell.activation === 'tanh';
      const r = fast
        ? runSequence(cell.type, input, state[l], cell.Wx as tf.Tensor2D, Wh, cell.b as tf.Tensor1D, cell.bh as tf.Tensor1D | undefined, l > 0 || !!this.embedding, l === 0 && !this.embedding ? ids : undefined)
        : unroll(cell, cell.projectInput(input), seqLength, state[l], { ...opts, Wh }); // projectInput: [T·B, G·H]
      finalState.push(r.state);
      if ('states' in r && r.states) states.push(r.states);
      if ('gates' in r && r.gates) gates.push(r.gates);
      input = !Array.isArray(r.outputs) ? r.outputs : r.outputs.length === 1 ? r.outputs[0] : tf.concat(r.outputs, 0); // [T·B, H]
      if (dropout > 0) input = applyDropout(input, dropout, opts.rng!);
    }
    const logits = tf.add(matMul(input, this.Wy as tf.Tensor2D), this.by).reshape([seqLength, batchSize, V]) as tf.Tensor3D;
    return { logits, state: finalState, states: opts.keepStates ? states : undefined, gates: opts.recordGates ? gates : undefined };
  }

  dispose(): void {
    for (const v of this.namedParams().values()) v.dispose();
  }
}

/** Inverted dropout with a mask drawn from a seed of `rng` (repeatable, resumable). */
export function applyDropout(x: tf.Tensor2D, rate: number, rng: Rng): tf.Tensor2D {
  const keep = 1 - rate;
  const mask = tf.randomUniform(x.shape, 0, 1, 'float32', rng.tfSeed()).less(keep).toFloat();
  return tf.mul(x, mask).div(keep);
}

/** Dispose every tensor of a model state. */
export function disposeState(state: ModelState | undefined): void {
  if (state) for (const layer of state) for (const t of layer) t.dispose();
}

/** Read a model state into plain arrays (for checkpoints). */
export function stateToArrays(state: ModelState): Float32Array[][] {
  return state.map((layer) => layer.map((t) => t.dataSync() as Float32Array));
}
