/**
 * Loss of a model over a whole text, with state carried through it.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './loss';
import { CharModel, disposeState, ModelState } from './model';

export interface EvaluateArgs {
  /** Parallel streams (the text is cut like the training batches); capped so each stream has ≥ seqLength ids. */
  batchSize?: number;
  /** Steps per forward call. */
  seqLength?: number;
}

/**
 * Mean cross-entropy (nats/byte) of predicting ids[i+1] from ids[0..i], over (almost) every
 * position: the text is cut into `batchSize` contiguous streams, each run from a zero state,
 * with at most batchSize−1 trailing ids unused. Returns NaN for fewer than 2 ids.
 */
export function evaluateLoss(model: CharModel, ids: Int32Array, args: EvaluateArgs = {}): number {
  const { totalNats, count } = evaluateTotal(model, ids, args);
  return count ? totalNats / count : NaN;
}

/**
 * Like evaluateLoss, but the sum of the per-prediction losses (nats) and how many predictions
 * were scored — what a per-byte rate over non-byte ids (e.g. tokens) needs.
 */
export function evaluateTotal(model: CharModel, ids: Int32Array, args: EvaluateArgs = {}): { totalNats: number; count: number } {
  if (ids.length < 2) return { totalNats: 0, count: 0 };
  const seqLength = args.seqLength ?? 100;
  const B = Math.max(1, Math.min(args.batchSize ?? 32, Math.floor((ids.length - 1) / seqLength)));
  const n = Math.floor((ids.length - 1) / B); // ids per stream
  let state: ModelState = model.zeroState(B);
  let total = 0;
  let count = 0;
  for (let start = 0; start < n; start += seqLength) {
    const T = Math.min(seqLength, n - start);
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      x.set(ids.subarray(b * n + start, b * n + start + T), b * T);
      y.set(ids.subarray(b * n + start + 1, b * n + start + T + 1), b * T);
    }
    const prev = state;
    const loss = tf.tidy(() => {
      const r = model.forward(x, B, T, prev, {});
      state = r.state.map((l) => l.map((t) => tf.keep(t)));
      return crossEntropy(r.logits, y);
    });
    disposeState(prev);
    total += loss.dataSync()[0] * B * T;
    loss.dispose();
    count += B * T;
  }
  disposeState(state);
  return { totalNats: total, count };
}
