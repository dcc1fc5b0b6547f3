/**
 * A synthetic memory task for recurrent models: read a random string, wait, then reproduce it.
 *
 *   x:  s_0 … s_(L−1)  ␣ × delay  ▶  ␣ × (L−1)          length 2L + delay
 *   y:  (ignored)                  s_0 s_1 … s_(L−1)     scored only where the mask is 1
 *
 * Symbols are ids 0 … alphabet−1 drawn uniformly, ␣ (blank) is id `alphabet` and ▶ (the cue to
 * start recalling) id `alphabet + 1`. When it reads ▶ the model must output s_0, then one symbol
 * per blank; every symbol has to be held in the state for L + delay steps. Chance accuracy is
 * 1/alphabet; a state of H floats has to carry L·log2(alphabet) bits through the delay.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors';
import { timeMajor } from './loss';
import { Rng } from './rng';

export interface RecallTaskArgs {
  /** Symbols to remember (L). */
  length: number;
  /** Blank bytes between the string's end and the cue. */
  delay: number;
  /** Distinct symbols (ids 0 … alphabet−1). */
  alphabet: number;
}

export interface RecallBatch {
  /** Inputs, row-major [batch, seqLength]. */
  x: Int32Array;
  /** Targets, row-major [batch, seqLength] (blank where not scored). */
  y: Int32Array;
  /** 1 where y is scored, row-major [batch, seqLength]. */
  mask: Float32Array;
  batchSize: number;
  seqLength: number;
}

export function validateRecall(args: RecallTaskArgs): void {
  if (!Number.isInteger(args.length) || args.length < 1) throw new UserError(`recall length must be a positive integer, got ${args.length}`);
  if (!Number.isInteger(args.delay) || args.delay < 0) throw new UserError(`recall delay must be a non-negative integer, got ${args.delay}`);
  if (!Number.isInteger(args.alphabet) || args.alphabet < 2 || args.alphabet > 254) throw new UserError(`recall alphabet must be an integer in 2 … 254, got ${args.alphabet}`);
}

/** Ids used: the symbols, the blank and the cue. */
export function recallVocabSize(args: RecallTaskArgs): number {
  return args.alphabet + 2;
}

/** 2·length + delay. */
export function recallSeqLength(args: RecallTaskArgs): number {
  return 2 * args.length + args.delay;
}

/** A batch of independent sequences (fresh random strings from `rng`). */
export function recallBatch(args: RecallTaskArgs, batchSize: number, rng: Rng): RecallBatch {
  validateRecall(args);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  const { length: L, delay, alphabet } = args;
  const T = recallSeqLength(args);
  const blank = alphabet, cue = alphabet + 1;
  const x = new Int32Array(batchSize * T).fill(blank);
  const y = new Int32Array(batchSize * T).fill(blank);
  const mask = new Float32Array(batchSize * T);
  for (let b = 0; b < batchSize; b++) {
    const row = b * T;
    x[row + L + delay] = cue;
    for (let i = 0; i < L; i++) {
      const s = rng.int(alphabet);
      x[row + i] = s;
      y[row + L + delay + i] = s;
      mask[row + L + delay + i] = 1;
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
