/**
 * Cross-entropy of next-byte predictions, in nats per byte (divide by ln 2 for bits per byte).
 */
import * as tf from '@tensorflow/tfjs';

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
  const [T, B, V] = logits.shape;
  const flat = logits.reshape([T * B, V]) as tf.Tensor2D;
  // One-hot targets instead of gather: gather's gradient is missing on the wasm backend.
  const targets = tf.oneHot(tf.tensor1d(timeMajor(y, B, T), 'int32'), V).toFloat();
  const logp = tf.logSoftmax(flat);
  return tf.neg(tf.sum(tf.mul(targets, logp))).div(T * B) as tf.Scalar;
}
