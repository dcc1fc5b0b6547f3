/**
 * Recurrent cells written with plain tfjs ops (the readable versions the notebooks teach with).
 *
 * Each cell splits its work in two, as cuDNN and tfjs-layers do:
 *   projectInput(x)  = x·Wx + b        for all time steps at once   // [N, gates·hidden]
 *   step(xp_t, state)                   the recurrence, one time step
 *
 *   rnn:  h' = act(x·Wx + h·Wh + b)    act = tanh (the essay's, the default), relu or gelu
 *   lstm: [i f g o] = x·Wx + h·Wh + b   gate order i, f, g, o (PyTorch's and Keras's order)
 *         i, f, o = σ(·), g = tanh(·);  c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
 *         the forget-gate bias starts at 1 so early on the cell remembers.
 *   gru:  [r z n] (PyTorch's nn.GRU, Keras reset_after=true); bx = b, bh a second bias
 *         r = σ(x·Wr + br + h·Ur + bhr);  z = σ(x·Wz + bz + h·Uz + bhz)
 *         n = tanh(x·Wn + bn + r⊙(h·Un + bhn));  h' = (1−z)⊙n + z⊙h
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';
import { matMul } from './ops';
import { Rng } from '../util/rng';

export type CellType = 'rnn' | 'lstm' | 'gru';
export const CELL_TYPES: CellType[] = ['rnn', 'lstm', 'gru'];

/**
 * The vanilla RNN's nonlinearity: tanh (bounded, the essay's), relu (PyTorch's nn.RNN
 * nonlinearity='relu') or gelu in its tanh approximation (GPT-2's, PyTorch's approximate='tanh'):
 *   gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
 */
export type Activation = 'tanh' | 'relu' | 'gelu';
export const ACTIVATIONS: Activation[] = ['tanh', 'relu', 'gelu'];

const GELU_K = Math.sqrt(2 / Math.PI);

/** act(x) with tfjs ops (differentiable). */
export function activate<T extends tf.Tensor>(x: T, activation: Activation): T {
  switch (activation) {
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_K)))) as T);
  }
}

/** act(x) for one number, the same formulas in float64 (the sampling stepper's gate math). */
export function activateScalar(x: number, activation: Activation): number {
  switch (activation) {
    case 'tanh':
      return Math.tanh(x);
    case 'relu':
      return x > 0 ? x : 0;
    case 'gelu':
      return 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
  }
}

/** Per-layer recurrent state: rnn/gru [h], lstm [h, c]; each [batch, hidden]. */
export type CellState = tf.Tensor2D[];

/** Gate activations of one step, each [batch, hidden]. */
export type Gates = Record<string, tf.Tensor2D>;

export interface StepOutput {
  /** The layer's output at this step. */
  h: tf.Tensor2D; // [batch, hidden]
  state: CellState;
  gates?: Gates;
}

export interface CellArgs {
  type: CellType;
  inputSize: number;
  hiddenSize: number;
  /** Weights start uniform in [-initScale, initScale] (char-rnn: 0.08). */
  initScale?: number;
  /** LSTM only: initial forget-gate bias (default 1, so that early on the cell remembers). */
  forgetBias?: number;
  /** RNN only: the nonlinearity (default tanh). */
  activation?: Activation;
}

/** Gate blocks per cell type (columns of Wx are gateCount × hidden). */
export const GATE_COUNT: Record<CellType, number> = { rnn: 1, lstm: 4, gru: 3 };
/** Names of the gate blocks, in column order. */
export const GATE_NAMES: Record<CellType, string[]> = { rnn: ['h'], lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'] };

export class Cell {
  readonly type: CellType;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** [input, gates·hidden] */
  readonly Wx: tf.Variable;
  /** [hidden, gates·hidden] */
  readonly Wh: tf.Variable;
  /** [gates·hidden] */
  readonly b: tf.Variable;
  /** GRU only: the recurrent bias [3·hidden]. */
  readonly bh?: tf.Variable;
  /** The RNN's nonlinearity (always tanh for the gated cells, whose g / n / tanh(c) keep theirs). */
  readonly activation: Activation;

  constructor(args: CellArgs, rng: Rng) {
    const { type, inputSize, hiddenSize } = args;
    const scale = args.initScale ?? 0.08;
    const activation = args.activation ?? 'tanh';
    if (!ACTIVATIONS.includes(activation)) throw new UserError(`unknown activation "${activation}": use ${ACTIVATIONS.join(', ')}`);
    if (activation !== 'tanh' && type !== 'rnn') throw new UserError(`activation "${activation}" is for the vanilla RNN only (the ${type} keeps its tanh)`);
    this.activation = activation;
    this.type = type;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    const G = GATE_COUNT[type] * hiddenSize;
    const uniform = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-scale, scale));
    this.Wx = tf.variable(tf.tensor2d(uniform(inputSize * G), [inputSize, G]));
    this.Wh = tf.variable(tf.tensor2d(uniform(hiddenSize * G), [hiddenSize, G]));
    const b = uniform(G);
    if (type === 'lstm') b.fill(args.forgetBias ?? 1, hiddenSize, 2 * hiddenSize); // forget gate bias
    this.b = tf.variable(tf.tensor1d(b));
    if (type === 'gru') this.bh = tf.variable(tf.tensor1d(uniform(G)));
  }

  /** Parameters by short name, in a fixed order. */
  params(): [string, tf.Variable][] {
    const p: [string, tf.Variable][] = [['Wx', this.Wx], ['Wh', this.Wh], ['b', this.b]];
    if (this.bh) p.push(['bh', this.bh]);
    return p;
  }

  /** Number of state tensors: 2 for LSTM (h, c), else 1. */
  get stateCount(): number {
    return this.type === 'lstm' ? 2 : 1;
  }

  zeroState(batchSize: number): CellState {
    return Array.from({ length: this.stateCount }, () => tf.zeros([batchSize, this.hiddenSize]) as tf.Tensor2D);
  }

  /** x·Wx + b for many rows at once. x: [N, input] → [N, gates·hidden] */
  projectInput(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(matMul(x, this.Wx as tf.Tensor2D), this.b);
  }

  /**
   * One time step from the projected input xp = x·Wx + b ([batch, gates·hidden]).
   * @param Wh the recurrent weights to use instead of this.Wh (weight drop's masked copy)
   */
  step(xp: tf.Tensor2D, state: CellState, recordGates = false, Wh: tf.Tensor2D = this.Wh as tf.Tensor2D): StepOutput {
    const h = state[0];
    const hh = matMul(h, Wh); // [batch, gates·hidden]
    switch (this.type) {
      case 'rnn': {
        const hNew = activate(tf.add(xp, hh), this.activation) as tf.Tensor2D;
        return { h: hNew, state: [hNew] };
      }
      case 'lstm': {
        const z = tf.add(xp, hh);
        const [zi, zf, zg, zo] = tf.split(z, 4, 1) as tf.Tensor2D[];
        const i = tf.sigmoid(zi);
        const f = tf.sigmoid(zf);
        const g = tf.tanh(zg);
        const o = tf.sigmoid(zo);
        const c = tf.add(tf.mul(f, state[1]), tf.mul(i, g)) as tf.Tensor2D;
        const hNew = tf.mul(o, tf.tanh(c)) as tf.Tensor2D;
        return { h: hNew, state: [hNew, c], gates: recordGates ? { i, f, g, o } : undefined };
      }
      case 'gru': {
        const hb = tf.add(hh, this.bh!);
        const [xr, xz, xn] = tf.split(xp, 3, 1) as tf.Tensor2D[];
        const [hr, hz, hn] = tf.split(hb, 3, 1) as tf.Tensor2D[];
        const r = tf.sigmoid(tf.add(xr, hr)) as tf.Tensor2D;
        const z = tf.sigmoid(tf.add(xz, hz)) as tf.Tensor2D;
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn))) as tf.Tensor2D;
        const hNew = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as tf.Tensor2D;
        return { h: hNew, state: [hNew], gates: recordGates ? { r, z, n } : undefined };
      }
    }
  }
}
