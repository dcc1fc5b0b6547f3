/**
 * Loss of a model over a whole text: the text as ONE stream, every byte predicted from all bytes
 * before it — the number PyTorch's or char-rnn's evaluation of the same model gives.
 *
 * Run literally, that is a batch-1 loop over the text. To use a batch, the text's predictions are
 * cut into `batchSize` contiguous stretches; each stream (but the first, which starts where the
 * text starts) first runs over the `warmup` bytes before its stretch without scoring them, so that
 * it reaches its stretch with (very nearly) the state the single stream would have there. With the
 * default 1024 bytes of warm-up the result is within 1e-5 of the batch-1 loss on the models and
 * texts tested (test/evaluate.test.ts); `batchSize: 1` computes it exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { timeMajor } from '../nn/loss';
import { CharModel, disposeState, ModelState } from '../nn/model';
import { Ids } from '../data/vocab';

export const DEFAULT_EVAL_WARMUP = 1024;

export interface EvaluateArgs {
  /** Parallel streams (1 = the exact one-stream loop); capped so each stretch has ≥ seqLength predictions. Default 32. */
  batchSize?: number;
  /** Steps per forward call. Default 100. */
  seqLength?: number;
  /** Bytes each stream runs over, unscored, before its stretch. Default 1024. */
  warmup?: number;
}

/** Where stream b starts running (`from`), starts scoring (`start`) and ends (`end`), in prediction positions. */
interface Stream {
  from: number;
  start: number;
  end: number;
}

/**
 * Mean cross-entropy (nats/byte) of predicting ids[i+1] from ids[0..i] for every i: the loss of
 * the text as one stream. Returns NaN for fewer than 2 ids.
 */
export function evaluateLoss(model: CharModel, ids: Ids, args: EvaluateArgs = {}): number {
  const { totalNats, count } = evaluateTotal(model, ids, args);
  return count ? totalNats / count : NaN;
}

/** The stretches of `n` predictions scored by each of (at most) `batchSize` streams. */
export function evalStreams(n: number, args: EvaluateArgs = {}): Stream[] {
  const seqLength = args.seqLength ?? 100;
  const warmup = Math.max(0, Math.floor(args.warmup ?? DEFAULT_EVAL_WARMUP));
  const B = Math.max(1, Math.min(args.batchSize ?? 32, Math.floor(n / seqLength)));
  return Array.from({ length: B }, (_, b) => {
    const start = Math.floor((b * n) / B);
    return { from: Math.max(0, start - warmup), start, end: Math.floor(((b + 1) * n) / B) };
  });
}

/**
 * Like evaluateLoss, but the sum of the per-prediction losses (nats) and how many predictions
 * were scored (ids.length − 1) — what a per-byte rate over non-byte ids (e.g. tokens) needs.
 */
export function evaluateTotal(model: CharModel, ids: Ids, args: EvaluateArgs = {}): { totalNats: number; count: number } {
  const n = ids.length - 1; // predictions: input ids[p] → target ids[p + 1]
  if (n < 1) return { totalNats: 0, count: 0 };
  const seqLength = args.seqLength ?? 100;
  const streams = evalStreams(n, args);
  const B = streams.length;
  const steps = Math.max(...streams.map((s) => s.end - s.from)); // the longest stream's timeline
  let state: ModelState = model.zeroState(B);
  let total = 0;
  let count = 0;
  for (let t0 = 0; t0 < steps; t0 += seqLength) {
    const T = Math.min(seqLength, steps - t0);
    const x = new Int32Array(B * T); // row-major [batch, seq]
    const y = new Int32Array(B * T);
    const mask = new Float32Array(B * T);
    streams.forEach((s, b) => {
      for (let t = 0; t < T; t++) {
        const p = s.from + t0 + t;
        if (p >= s.end) break; // past this stream's end: padding, never scored
        x[b * T + t] = ids[p];
        y[b * T + t] = ids[p + 1];
        if (p >= s.start) {
          mask[b * T + t] = 1;
          count++;
        }
      }
    });
    const prev = state;
    const nats = tf.tidy(() => {
      const r = model.forward(x, B, T, prev, {});
      state = r.state.map((l) => l.map((v) => tf.keep(v)));
      return maskedNats(r.logits, y, mask);
    });
    disposeState(prev);
    total += nats.dataSync()[0];
    nats.dispose();
  }
  disposeState(state);
  return { totalNats: total, count };
}

/**
 * Sum over the positions where mask = 1 of −log p(target).
 * @param logits time-major [seq, batch, vocab]
 * @param y, mask row-major [batch, seq]
 */
function maskedNats(logits: tf.Tensor3D, y: Int32Array, mask: Float32Array): tf.Scalar {
  const [T, B, V] = logits.shape;
  const logp = tf.logSoftmax(logits.reshape([T * B, V]) as tf.Tensor2D); // [T·B, V]
  const targets = tf.oneHot(tf.tensor1d(timeMajor(y, B, T), 'int32'), V).toFloat(); // [T·B, V]
  const picked = tf.sum(tf.mul(targets, logp), 1); // [T·B]
  const m = tf.tensor1d(timeMajor(mask, B, T)); // [T·B]
  return tf.neg(tf.sum(tf.mul(picked, m))) as tf.Scalar;
}
