/**
 * Cross-entropy of next-byte predictions, in nats per byte (divide by ln 2 for bits per byte).
 */
import * as tf from '@tensorflow/tfjs';
import { hostValues, onHost } from './host-values';

export const LN2 = Math.LN2;

/** nats/byte → bits/byte (the "bpc" char-rnn papers report). */
export function toBits(nats: number): number {
  return nats / LN2;
}

/** Row-major [batch, seq] values (ids, masks) → time-major [seq·batch]. */
export function timeMajor<A extends Int32Array | Float32Array>(ids: A, batchSize: number, seqLength: number): A {
  const out = ids.slice() as A; // same type and length; every entry is overwritten
  for (let b = 0; b < batchSize; b++) for (let t = 0; t < seqLength; t++) out[t * batchSize + b] = ids[b * seqLength + t];
  return out;
}

/**
 * Mean cross-entropy (nats/byte).
 * @param logits time-major [seqLength, batch, vocab], as CharModel.forward returns
 * @param y target ids, row-major [batch, seqLength]
 */
export function crossEntropy(logits: tf.Tensor3D, y: Int32Array): tf.Scalar {
  if (onHost() && process.env.UNREASONABLE_HOST_LOSS !== '0') return hostCrossEntropy(logits, y);
  return kernelCrossEntropy(logits, y);
}

/** crossEntropy through tf ops (any backend). */
export function kernelCrossEntropy(logits: tf.Tensor3D, y: Int32Array): tf.Scalar {
  const [T, B, V] = logits.shape;
  const flat = logits.reshape([T * B, V]) as tf.Tensor2D;
  // One-hot targets instead of gather: gather's gradient is missing on the wasm backend.
  const targets = tf.oneHot(tf.tensor1d(timeMajor(y, B, T), 'int32'), V).toFloat();
  const logp = tf.logSoftmax(flat);
  return tf.neg(tf.sum(tf.mul(targets, logp))).div(T * B) as tf.Scalar;
}

/**
 * crossEntropy as one op whose value and gradient, softmax − one-hot, are computed over the
 * logits in JavaScript (wasm and cpu backends): ~30 small kernels fewer per training step.
 * Log-sum-exp per row in float64.
 */
function hostCrossEntropy(logits: tf.Tensor3D, y: Int32Array): tf.Scalar {
  const [T, B, V] = logits.shape;
  const N = T * B;
  const targets = timeMajor(y, B, T);
  const op = tf.customGrad(((x: tf.Tensor) => {
    const z = hostValues(x); // [T·B, V]
    const probs = new Float32Array(N * V);
    let total = 0;
    for (let r = 0; r < N; r++) {
      const o = r * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (z[o + j] > max) max = z[o + j];
      let sum = 0;
      for (let j = 0; j < V; j++) sum += (probs[o + j] = Math.exp(z[o + j] - max));
      for (let j = 0; j < V; j++) probs[o + j] /= sum;
      total += max + Math.log(sum) - z[o + targets[r]];
    }
    return {
      value: tf.scalar(total / N),
      gradFunc: (dy: tf.Tensor) => {
        const s = dy.dataSync()[0] / N;
        for (let r = 0; r < N; r++) probs[r * V + targets[r]] -= 1;
        for (let i = 0; i < probs.length; i++) probs[i] *= s;
        return tf.tensor3d(probs, [T, B, V]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Scalar;
}
