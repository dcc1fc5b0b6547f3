/**
 * A recurrent layer's weight gradients accumulated over blocks of steps (the LSTM's backward
 * works block by block to bound its memory: sequence.ts, lstm-fused.ts):
 *   dWx += Xᵀ·dZ,  dWh += H_prevᵀ·dZ,  db += Σ dZ,  and dX = dZ·Wxᵀ per block.
 *
 * Given dZᵀ as well (the fused LSTM writes it), the products are dWxᵀ += dZᵀ·X and
 * dWhᵀ += dZᵀ·H_prev, transposed once at the end: the wasm matmul repacks its right-hand side
 * on every call when that is a new tensor, single-threaded, and X or H_prev [steps·B, H] is a
 * quarter of dZ [steps·B, 4H] (measured on the bench's M model: a [512, 2000]·[2000, 2048]
 * product with a new right-hand side took 106 ms against 70 ms with a packed one), and the
 * explicit transposes of X and H_prev go too. A caller that adds up db itself (the fused LSTM's
 * backward step does) turns the sums off.
 */
import * as tf from '@tensorflow/tfjs';

/** Rows of steps t0 … t0+n−1 of a time-major [T·B, ·] tensor (the tensor itself when that is all of it). */
export function stepRows(x: tf.Tensor2D, B: number, t0: number, n: number): tf.Tensor2D {
  return t0 === 0 && n * B === x.shape[0] ? x : (x.slice([t0 * B, 0], [n * B, x.shape[1]]) as tf.Tensor2D);
}

/**
 * The states before steps t0 … t0+n−1, [n·B, H]: s0 [B, H] for step 0, then the rows of S
 * (time-major, S's first step is step 0's output) before each step.
 */
export function blockPrevious(s0: tf.Tensor2D, S: tf.Tensor2D, t0: number, n: number): tf.Tensor2D {
  const [B, H] = s0.shape;
  if (t0 > 0) return S.slice([(t0 - 1) * B, 0], [n * B, H]) as tf.Tensor2D;
  return n === 1 ? s0 : (tf.concat([s0, S.slice([0, 0], [(n - 1) * B, H])], 0) as tf.Tensor2D);
}

/**
 * A leading dimension (floats) of at least n for a matrix written a column at a time (the fused
 * LSTM's dZᵀ): rows a power-of-two bytes apart map to a few cache sets, and scattered stores
 * into them thrash (measured on S, B 32, 64 steps, rows 8 KB apart: the backward step took
 * 111 µs, against 35 µs with contiguous stores). An odd number of 64-byte lines apart instead.
 */
export function paddedLd(n: number): number {
  return n + ((16 - (n % 32) + 32) % 32);
}

/** x [n, C] with `pad` rows of zeros below it (x itself when pad is 0). */
export function padRows(x: tf.Tensor2D, pad: number): tf.Tensor2D {
  return pad === 0 ? x : (tf.concat([x, tf.zeros([pad, x.shape[1]])], 0) as tf.Tensor2D);
}

/** How one block's parts of the weight gradients are made from its dZ (or dZᵀ). */
export interface BlockParts {
  /** The block's part of dWx [In, G] from dZ: Xᵀ·dZ, or a lookup's scatter-add (called inside a tidy). */
  x?: (dZ: tf.Tensor2D) => tf.Tensor2D;
  /** Or, where dZᵀ is given, the block's inputs X [n·B, In]: its part of dWxᵀ is dZᵀ·X (called inside a tidy). */
  xRows?: () => tf.Tensor2D;
  /** h_{t−1} for the block's steps, [n·B, H] (called inside a tidy). */
  hPrev: () => tf.Tensor2D;
}

export class BlockGrads {
  private dWx?: tf.Tensor2D;
  private dWh?: tf.Tensor2D;
  private db?: tf.Tensor1D;
  /** Whether dWx / dWh hold the transposed gradients. */
  private xT = false;
  private hT = false;
  private readonly dXs: tf.Tensor2D[] = [];

  /**
   * @param WxT Wxᵀ where dX is needed (the caller disposes it), else undefined.
   * @param sumBias false where the caller adds up db itself (result's db is then undefined).
   */
  constructor(
    private readonly WxT: tf.Tensor2D | undefined,
    private readonly sumBias = true,
  ) {}

  /**
   * Add one block (blocks come last first, and give the same kind of parts). Disposes dZ and dZT.
   * @param dZ the block's gradients at the pre-activations, [n·B, G]
   * @param dZT the same transposed, where the caller has it: [G, n·B + pad], its last pad columns
   *   zeros (a padded leading dimension: paddedLd)
   */
  add(dZ: tf.Tensor2D, parts: BlockParts, dZT?: tf.Tensor2D): void {
    const { dWx, dWh, db, WxT } = this;
    this.xT = parts.xRows !== undefined && dZT !== undefined;
    this.hT = dZT !== undefined;
    const pad = dZT ? dZT.shape[1] - dZ.shape[0] : 0;
    const acc = tf.tidy(() => {
      const x = this.xT ? (tf.matMul(dZT!, padRows(parts.xRows!(), pad)) as tf.Tensor2D) : parts.x!(dZ);
      // explicit transposes: the wasm matmul is slow with transposeA
      const h = (dZT ? tf.matMul(dZT, padRows(parts.hPrev(), pad)) : tf.matMul(tf.transpose(parts.hPrev()), dZ)) as tf.Tensor2D;
      const b = !this.sumBias ? undefined : ((dZT ? tf.sum(dZT, 1) : tf.sum(dZ, 0)) as tf.Tensor1D);
      return {
        dWx: dWx ? (tf.add(dWx, x) as tf.Tensor2D) : x,
        dWh: dWh ? (tf.add(dWh, h) as tf.Tensor2D) : h,
        db: db && b ? (tf.add(db, b) as tf.Tensor1D) : b,
        dX: WxT ? (tf.matMul(dZ, WxT) as tf.Tensor2D) : undefined,
      };
    });
    tf.dispose([dZ, ...([dZT, dWx, dWh, db].filter((x) => x !== undefined) as tf.Tensor[])]);
    ({ dWx: this.dWx, dWh: this.dWh, db: this.db } = acc);
    if (acc.dX) this.dXs.unshift(acc.dX);
  }

  /** dX (zeros like X where not needed), dWx, dWh, db (undefined without sumBias). */
  result(X: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D | undefined] {
    const dX = this.WxT ? (this.dXs.length === 1 ? this.dXs[0] : (tf.concat(this.dXs, 0) as tf.Tensor2D)) : (tf.zerosLike(X) as tf.Tensor2D);
    const upright = (g: tf.Tensor2D, transposed: boolean) => {
      if (!transposed) return g;
      const t = tf.transpose(g) as tf.Tensor2D;
      g.dispose();
      return t;
    };
    return [dX, upright(this.dWx!, this.xT), upright(this.dWh!, this.hT), this.db];
  }
}
