/**
 * One causal self-attention layer (single head) written with tfjs ops: the O(n²) counterpart of
 * a recurrent layer of the same width, for comparing costs against sequence length.
 *
 *   q = x·Wq,  k = x·Wk,  v = x·Wv                         each [batch, T, width]
 *   A = softmax(q·kᵀ / √width + M)  M[t][s] = 0 (s ≤ t) or −1e9 (s > t: the future is masked)
 *   y = (A·v)·Wo                                           [batch, T, width]
 *
 * Generation attends from the newest position to all earlier ones. Without a cache every new
 * byte reruns the layer over the whole prefix (forward on [batch, t, width], O(t²) per byte); with
 * a KV cache the keys and values of earlier positions are kept and each byte costs one row of
 * attention (O(t)), while the cache itself grows by 2·width numbers per byte. (No positional
 * encoding, layer norm, MLP or residual: only the part whose cost grows with the context.)
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';
import { Rng } from '../util/rng';

export interface AttentionArgs {
  /** Model width (the hidden size of the recurrent layer it is compared with). */
  width: number;
  /** Weights start uniform in [-initScale, initScale] (default 1/√width). */
  initScale?: number;
}

/** The keys and values of the positions seen so far, each [batch, t, width]; t = 0 at first. */
export interface KVCache {
  k?: tf.Tensor3D;
  v?: tf.Tensor3D;
  /** Positions cached. */
  length: number;
}

/** Added to the scores of future positions: exp(−1e9 − max) is exactly 0 in float32. */
const MASKED = -1e9;

export class CausalSelfAttention {
  readonly width: number;
  /** [width, width] each */
  readonly Wq: tf.Variable;
  readonly Wk: tf.Variable;
  readonly Wv: tf.Variable;
  readonly Wo: tf.Variable;

  constructor(args: AttentionArgs, seed: number | Rng = 0) {
    const { width } = args;
    if (!Number.isInteger(width) || width < 1) throw new UserError(`width must be a positive integer, got ${width}`);
    this.width = width;
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    const s = args.initScale ?? 1 / Math.sqrt(width);
    const w = () => tf.variable(tf.tensor2d(Float32Array.from({ length: width * width }, () => rng.uniform(-s, s)), [width, width]));
    this.Wq = w();
    this.Wk = w();
    this.Wv = w();
    this.Wo = w();
  }

  params(): [string, tf.Variable][] {
    return [['Wq', this.Wq], ['Wk', this.Wk], ['Wv', this.Wv], ['Wo', this.Wo]];
  }

  numParams(): number {
    return 4 * this.width * this.width;
  }

  /** x·W for x [batch, T, width]. */
  private project(x: tf.Tensor3D, W: tf.Variable): tf.Tensor3D {
    const [B, T, D] = x.shape;
    return tf.matMul(x.reshape([B * T, D]), W as tf.Tensor2D).reshape([B, T, D]) as tf.Tensor3D;
  }

  /** The whole sequence at once (training, or generation without a cache). x: [batch, T, width] → [batch, T, width] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, D] = x.shape;
      if (D !== this.width) throw new Error(`attention: input width ${D}, layer width ${this.width}`);
      const q = this.project(x, this.Wq);
      const k = this.project(x, this.Wk);
      const v = this.project(x, this.Wv);
      const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(D)); // [B, T, T]
      const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // 1 where s ≤ t
      const mask = tf.sub(1, causal).mul(MASKED); // [T, T]
      const a = tf.softmax(tf.add(scores, mask)); // [B, T, T]
      return this.project(tf.matMul(a, v) as tf.Tensor3D, this.Wo);
    });
  }

  emptyCache(): KVCache {
    return { length: 0 };
  }

  /**
   * One new position with a KV cache: x [batch, width] → the layer's output there [batch, width].
   * The cache is replaced by one that also holds this position (the old tensors are disposed).
   */
  step(x: tf.Tensor2D, cache: KVCache): tf.Tensor2D {
    const [B, D] = x.shape;
    if (D !== this.width) throw new Error(`attention: input width ${D}, layer width ${this.width}`);
    const { y, k, v } = tf.tidy(() => {
      const q = tf.matMul(x, this.Wq as tf.Tensor2D).reshape([B, 1, D]);
      const kNew = tf.matMul(x, this.Wk as tf.Tensor2D).reshape([B, 1, D]);
      const vNew = tf.matMul(x, this.Wv as tf.Tensor2D).reshape([B, 1, D]);
      const k = (cache.k ? tf.concat([cache.k, kNew], 1) : kNew) as tf.Tensor3D; // [B, t+1, D]
      const v = (cache.v ? tf.concat([cache.v, vNew], 1) : vNew) as tf.Tensor3D;
      const a = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(D))); // [B, 1, t+1]: all earlier positions are visible
      const y = tf.matMul(tf.matMul(a, v).reshape([B, D]), this.Wo as tf.Tensor2D) as tf.Tensor2D;
      return { y, k, v };
    });
    cache.k?.dispose();
    cache.v?.dispose();
    cache.k = k;
    cache.v = v;
    cache.length++;
    return y;
  }

  /** Bytes a cache of `length` positions holds at batch `batchSize` (float32 keys and values). */
  static cacheBytes(width: number, length: number, batchSize = 1): number {
    return 2 * 4 * batchSize * length * width;
  }

  dispose(): void {
    for (const [, v] of this.params()) v.dispose();
  }
}

export function disposeCache(cache: KVCache): void {
  cache.k?.dispose();
  cache.v?.dispose();
  cache.k = cache.v = undefined;
  cache.length = 0;
}
