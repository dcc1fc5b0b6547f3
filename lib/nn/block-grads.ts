/**
 * A recurrent layer's weight gradients accumulated over blocks of steps (the LSTM's backward
 * works block by block to bound its memory: sequence.ts, lstm-fused.ts):
 *   dWx += Xᵀ·dZ,  dWh += H_prevᵀ·dZ,  db += Σ dZ,  and dX = dZ·Wxᵀ per block.
 */
import * as tf from '@tensorflow/tfjs';

export class BlockGrads {
  private dWx?: tf.Tensor2D;
  private dWh?: tf.Tensor2D;
  private db?: tf.Tensor1D;
  private readonly dXs: tf.Tensor2D[] = [];

  /** @param WxT Wxᵀ where dX is needed (the caller disposes it), else undefined. */
  constructor(private readonly WxT: tf.Tensor2D | undefined) {}

  /**
   * Add one block (blocks come last first). Disposes dZ.
   * @param dZ the block's gradients at the pre-activations, [n·B, G]
   * @param gx the block's part of dWx from dZ (called inside a tidy): Xᵀ·dZ, or a lookup's scatter-add
   * @param hPrev h_{t−1} for the block's steps, [n·B, H] (called inside a tidy)
   */
  add(dZ: tf.Tensor2D, gx: (dZ: tf.Tensor2D) => tf.Tensor2D, hPrev: () => tf.Tensor2D): void {
    const { dWx, dWh, db, WxT } = this;
    const acc = tf.tidy(() => {
      const x = gx(dZ);
      const h = tf.matMul(tf.transpose(hPrev()), dZ) as tf.Tensor2D; // explicit transposes: the wasm matmul is slow with transposeA
      const b = tf.sum(dZ, 0) as tf.Tensor1D;
      return {
        dWx: dWx ? (tf.add(dWx, x) as tf.Tensor2D) : x,
        dWh: dWh ? (tf.add(dWh, h) as tf.Tensor2D) : h,
        db: db ? (tf.add(db, b) as tf.Tensor1D) : b,
        dX: WxT ? (tf.matMul(dZ, WxT) as tf.Tensor2D) : undefined,
      };
    });
    tf.dispose([dZ, ...([dWx, dWh, db].filter((x) => x !== undefined) as tf.Tensor[])]);
    ({ dWx: this.dWx, dWh: this.dWh, db: this.db } = acc);
    if (acc.dX) this.dXs.unshift(acc.dX);
  }

  /** dX (zeros like X where not needed), dWx, dWh, db. */
  result(X: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
    const dX = this.WxT ? (this.dXs.length === 1 ? this.dXs[0] : (tf.concat(this.dXs, 0) as tf.Tensor2D)) : (tf.zerosLike(X) as tf.Tensor2D);
    return [dX, this.dWx!, this.dWh!, this.db!];
  }
}
