/**
 * A fast one-byte-at-a-time runner of a CharModel for sampling (batch 1, no gradients).
 *
 * At batch 1 the model's work per byte is a few matrix-vector products; through the
 * general forward() each byte costs ~20 small tfjs ops plus tensor bookkeeping, which is
 * what limits sampling speed, not arithmetic. Here the only tfjs ops are the matrix-vector
 * products (one per layer for RNN/LSTM, two for GRU, one for the decoder): their input is
 * uploaded from, and their output read back into, plain Float32Arrays, and the cheap parts —
 * the one-hot input (a row of Wx), biases, gate nonlinearities, cell update — run in JS.
 * The math is the cells' (cells.ts) and is tested equal to forward() (test/stepper.test.ts).
 *
 * Weights are read when the Stepper is made: make a new one after training changes them.
 */
import * as tf from '@tensorflow/tfjs';
import { Activation, activateScalar, CellType } from '../nn/cells';
import { CharModel } from '../nn/model';
import { StepOps, stepOps } from '../nn/stepops';

interface LayerWeights {
  type: CellType;
  /** The RNN's nonlinearity. */
  activation: Activation;
  hidden: number;
  /** Rows of Wx, used as-is when the layer's input is one-hot (layer 0 without embedding). */
  WxRows?: Float32Array; // [vocab, G]
  /** [input + hidden, G]: x and h in one product (RNN/LSTM layers whose input is a vector). */
  Wxh?: tf.Tensor2D;
  /** [input, G] and [hidden, G] separately (GRU needs h·Wh on its own; one-hot layer 0). */
  Wx?: tf.Tensor2D;
  Wh: tf.Tensor2D;
  b: Float32Array; // [G]
  bh?: Float32Array; // [G] (GRU)
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export class Stepper {
  readonly model: CharModel;
  private readonly layers: LayerWeights[];
  private readonly Wy: tf.Tensor2D;
  private readonly by: Float32Array;
  private readonly embedding?: tf.Tensor2D;
  /** Per layer: [h] or [h, c], each [hidden]. */
  state: Float32Array[][];
  /** With `keepGates`: the gate activations of the last step, per layer (lstm i,f,g,o; gru r,z,n). */
  gates: Record<string, Float32Array>[] = [];
  private readonly keepGates: boolean;
  /** The matrix-vector products go straight to the backend's kernels (stepops.ts). */
  private readonly ops: StepOps = stepOps();

  constructor(model: CharModel, opts: { keepGates?: boolean } = {}) {
    this.model = model;
    this.keepGates = opts.keepGates ?? false;
    const owned = !!model.embedding;
    this.layers = model.cells.map((cell, l) => {
      const w: LayerWeights = {
        type: cell.type,
        activation: cell.activation,
        hidden: cell.hiddenSize,
        Wh: tf.clone(cell.Wh) as tf.Tensor2D,
        b: cell.b.dataSync() as Float32Array,
        bh: cell.bh ? (cell.bh.dataSync() as Float32Array) : undefined,
      };
      if (l === 0 && !owned) w.WxRows = cell.Wx.dataSync() as Float32Array;
      else if (cell.type === 'gru') w.Wx = tf.clone(cell.Wx) as tf.Tensor2D;
      else w.Wxh = tf.concat([cell.Wx, cell.Wh], 0) as tf.Tensor2D;
      return w;
    });
    if (model.embedding) this.embedding = tf.clone(model.embedding) as tf.Tensor2D;
    this.Wy = tf.clone(model.Wy) as tf.Tensor2D;
    this.by = model.by.dataSync() as Float32Array;
    this.state = this.zeroState();
  }

  /**
   * x·W for a vector x: [K] · [K, N] → [N]. At batch 1 the engine's bookkeeping would cost as
   * much as the product, so it runs on the raw kernel.
   */
  private matVec(x: Float32Array, W: tf.Tensor2D): Float32Array {
    const a = this.ops.fromArray(x, [1, x.length]);
    const y = this.ops.matMul(a, W);
    const out = this.ops.read(y);
    this.ops.dispose(a, y);
    return out;
  }

  zeroState(): Float32Array[][] {
    return this.model.cells.map((c) => Array.from({ length: c.stateCount }, () => new Float32Array(c.hiddenSize)));
  }

  reset(): void {
    this.state = this.zeroState();
  }

  /** Feed one id; returns the logits [vocab] for the next one and advances the state. */
  step(id: number): Float32Array {
    let x: Float32Array | undefined = this.embedding ? (tf.tidy(() => this.embedding!.slice([id, 0], [1, -1]).dataSync()) as Float32Array) : undefined;
    this.layers.forEach((w, l) => {
      const H = w.hidden;
      const G = w.b.length;
      const [h, c] = this.state[l];
      // Pre-activations z = x·Wx + h·Wh + b  (GRU: xp = x·Wx + b and hp = h·Wh + bh apart)
      let xp: Float32Array;
      let hp: Float32Array | undefined;
      if (w.type === 'gru') {
        xp = w.WxRows ? w.WxRows.slice(id * G, id * G + G) : this.matVec(x!, w.Wx!);
        hp = this.matVec(h, w.Wh);
      } else if (w.WxRows) {
        xp = this.matVec(h, w.Wh);
        for (let j = 0, row = id * G; j < G; j++) xp[j] += w.WxRows[row + j];
      } else {
        const xh = new Float32Array(x!.length + H);
        xh.set(x!);
        xh.set(h, x!.length);
        xp = this.matVec(xh, w.Wxh!);
      }
      for (let j = 0; j < G; j++) xp[j] += w.b[j];
      const hNew = new Float32Array(H);
      switch (w.type) {
        case 'rnn':
          if (w.activation === 'tanh') for (let j = 0; j < H; j++) hNew[j] = Math.tanh(xp[j]);
          else for (let j = 0; j < H; j++) hNew[j] = activateScalar(xp[j], w.activation);
          this.state[l] = [hNew];
          break;
        case 'lstm': {
          const cNew = new Float32Array(H);
          const kept = this.keepGates ? (this.gates[l] = { i: new Float32Array(H), f: new Float32Array(H), g: new Float32Array(H), o: new Float32Array(H) }) : undefined;
          for (let j = 0; j < H; j++) {
            const i = sigmoid(xp[j]);
            const f = sigmoid(xp[H + j]);
            const g = Math.tanh(xp[2 * H + j]);
            const o = sigmoid(xp[3 * H + j]);
            cNew[j] = f * c[j] + i * g;
            hNew[j] = o * Math.tanh(cNew[j]);
            if (kept) [kept.i[j], kept.f[j], kept.g[j], kept.o[j]] = [i, f, g, o];
          }
          this.state[l] = [hNew, cNew];
          break;
        }
        case 'gru': {
          const bh = w.bh!;
          const kept = this.keepGates ? (this.gates[l] = { r: new Float32Array(H), z: new Float32Array(H), n: new Float32Array(H) }) : undefined;
          for (let j = 0; j < H; j++) {
            const r = sigmoid(xp[j] + hp![j] + bh[j]);
            const z = sigmoid(xp[H + j] + hp![H + j] + bh[H + j]);
            const n = Math.tanh(xp[2 * H + j] + r * (hp![2 * H + j] + bh[2 * H + j]));
            hNew[j] = (1 - z) * n + z * h[j];
            if (kept) [kept.r[j], kept.z[j], kept.n[j]] = [r, z, n];
          }
          this.state[l] = [hNew];
          break;
        }
      }
      x = hNew;
    });
    const logits = this.matVec(x!, this.Wy);
    for (let v = 0; v < logits.length; v++) logits[v] += this.by[v];
    return logits;
  }

  /** Feed several ids; returns the logits after the last. */
  feed(ids: ArrayLike<number>): Float32Array {
    let logits = new Float32Array(this.by.length);
    for (let t = 0; t < ids.length; t++) logits = this.step(ids[t]);
    return logits;
  }

  dispose(): void {
    for (const w of this.layers) for (const t of [w.Wxh, w.Wx, w.Wh]) t?.dispose();
    this.Wy.dispose();
    this.embedding?.dispose();
  }
}
