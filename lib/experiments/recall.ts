/**
 * A synthetic memory task for recurrent models, delayed recall: read a stream of random symbols
 * and reproduce it `delay` bytes late.
 *
 *   x:  x_0 x_1 … x_(T−1)                       uniform random ids 0 … alphabet−1
 *   y:  y_t = x_(t−delay)  for t ≥ delay        scored only there (mask 1)
 *
 * At every scored step the model must output the symbol it read `delay` steps ago, so the state
 * has to carry the last `delay` symbols at all times: delay·log2(alphabet) bits in H numbers.
 * Every position from `delay` on is scored (a dense signal, quick to learn); chance accuracy is
 * 1/alphabet. With delay 0 the task is to copy the current input.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';
import { timeMajor } from '../nn/loss';
import { Rng } from '../util/rng';

export interface RecallTaskArgs {
  /** How many bytes late the stream is reproduced. */
  delay: number;
  /** Distinct symbols (ids 0 … alphabet−1; the vocabulary size). */
  alphabet: number;
  /** Scored positions per sequence; the sequence is delay + scored bytes long. */
  scored: number;
}

export interface RecallBatch {
  /** Inputs, row-major [batch, seqLength]. */
  x: Int32Array;
  /** Targets, row-major [batch, seqLength] (0 where not scored). */
  y: Int32Array;
  /** 1 where y is scored, row-major [batch, seqLength]. */
  mask: Float32Array;
  batchSize: number;
  seqLength: number;
}

export function validateRecall(args: RecallTaskArgs): void {
  if (!Number.isInteger(args.delay) || args.delay < 0) throw new UserError(`recall delay must be a non-negative integer, got ${args.delay}`);
  if (!Number.isInteger(args.alphabet) || args.alphabet < 2 || args.alphabet > 256) throw new UserError(`recall alphabet must be an integer in 2 … 256, got ${args.alphabet}`);
  if (!Number.isInteger(args.scored) || args.scored < 1) throw new UserError(`recall scored positions must be a positive integer, got ${args.scored}`);
}

/** delay + scored. */
export function recallSeqLength(args: RecallTaskArgs): number {
  return args.delay + args.scored;
}

/** A batch of independent random streams from `rng`. */
export function recallBatch(args: RecallTaskArgs, batchSize: number, rng: Rng): RecallBatch {
  validateRecall(args);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  const { delay, alphabet } = args;
  const T = recallSeqLength(args);
  const x = new Int32Array(batchSize * T);
  const y = new Int32Array(batchSize * T);
  const mask = new Float32Array(batchSize * T);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(alphabet);
  for (let b = 0; b < batchSize; b++) {
    for (let t = delay; t < T; t++) {
      y[b * T + t] = x[b * T + t - delay];
      mask[b * T + t] = 1;
    }
  }
  return { x, y, mask, batchSize, seqLength: T };
}

/**
 * Mean cross-entropy (nats) over the scored positions.
 * @param logits time-major [seqLength, batch, vocab], as CharModel.forward returns
 */
export function recallLoss(logits: tf.Tensor3D, batch: RecallBatch): tf.Scalar {
  return tf.tidy(() => {
    const [T, B, V] = logits.shape;
    const logp = tf.logSoftmax(logits.reshape([T * B, V]));
    const targets = tf.oneHot(tf.tensor1d(timeMajor(batch.y, B, T), 'int32'), V).toFloat();
    const maskTm = new Float32Array(T * B);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) maskTm[t * B + b] = batch.mask[b * T + t];
    const scored = maskTm.reduce((a, m) => a + m, 0);
    const nll = tf.neg(tf.sum(tf.mul(targets, logp), 1)); // [T·B]
    return tf.sum(tf.mul(nll, tf.tensor1d(maskTm))).div(scored) as tf.Scalar;
  });
}

/** Fraction of scored positions where the most likely id is the target. logits: time-major [T, batch, vocab]. */
export function recallAccuracy(logits: tf.Tensor3D, batch: RecallBatch): number {
  const [T, B] = logits.shape;
  const pred = tf.tidy(() => tf.argMax(logits, 2).dataSync()); // [T·B] time-major
  let right = 0, scored = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (batch.mask[b * T + t] === 0) continue;
      scored++;
      if (pred[t * B + b] === batch.y[b * T + t]) right++;
    }
  }
  return right / scored;
}
