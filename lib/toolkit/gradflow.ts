/**
 * Gradient size against backprop depth: how much the loss at step T depends on the hidden state
 * k steps earlier, ‖∂loss_T / ∂h_{T−k}‖ for k = 0 … K. A vanilla RNN's gradient shrinks
 * geometrically with k (vanishing gradients); an LSTM's additive cell path c' = f⊙c + i⊙g keeps
 * it alive for as long as the forget gates stay near 1.
 *
 * How: the model is unrolled by hand over a window of K+1 bytes, and at every step and layer a
 * zero perturbation ε is added to the layer's output h (the value passed on both to the next step
 * and to the layer above): h̃_t = h_t + ε_t. Then ∂loss/∂ε_t = ∂loss/∂h_t (total derivative,
 * through every path), and tf.grads gives all of them in one backward pass. loss_T is the
 * cross-entropy of the prediction made after the window's last byte.
 */
import * as tf from '@tensorflow/tfjs';
import { embeddingLookup } from '../nn/embedding';
import { UserError } from '../util/errors';
import { matMul } from '../nn/ops';
import { CharModel, disposeState, ModelState } from '../nn/model';
import { lineFigure, Series, AxesOptions } from '../notebook/charts';
import { Figure } from '../notebook/figure';
import { show } from '../notebook/show';
import { Bytes, ByteVocab } from '../data/vocab';

export interface GradientDepthOptions {
  /** Largest depth K (default 50); each window is K+1 bytes plus the target. */
  depth?: number;
  /** Windows averaged over, spread evenly over the text (default 4). */
  windows?: number;
  /** Bytes run (without gradient) before each window so that it starts from a realistic state (default 100; 0 = zero state). */
  warmup?: number;
}

export interface GradientDepth {
  /** k = 0 … K. */
  depth: number[];
  /** Per layer, per k: mean over windows of ‖∂loss_T/∂h_{T−k}‖ (L2 over units). */
  norms: Float64Array[];
  /** The loss_T values (nats) of the windows. */
  losses: number[];
}

/** ‖∂loss_T/∂h_{T−k}‖ per layer for one window: ids[0..K] are read, ids[K+1] is the target. */
function windowNorms(model: CharModel, ids: Int32Array, start: ModelState): { norms: Float64Array[]; loss: number } {
  const L = model.cells.length;
  const S = ids.length - 1; // steps
  const V = model.config.vocabSize;
  const H = model.config.hiddenSize;
  const target = ids[S];
  let result: { norms: Float64Array[]; loss: number } | undefined;
  tf.tidy(() => {
    const eps = Array.from({ length: L * S }, () => tf.zeros([1, H]));
    const lossFn = (...e: tf.Tensor[]): tf.Scalar => {
      const x = ids.subarray(0, S);
      let input = model.embedding
        ? embeddingLookup(model.embedding as tf.Tensor2D, x)
        : (tf.oneHot(tf.tensor1d(x, 'int32'), V).toFloat() as tf.Tensor2D);
      for (let l = 0; l < L; l++) {
        const cell = model.cells[l];
        const xp = cell.projectInput(input);
        const steps = S === 1 ? [xp] : (tf.split(xp, S, 0) as tf.Tensor2D[]);
        let state = start[l];
        const outs: tf.Tensor2D[] = [];
        for (let t = 0; t < S; t++) {
          const out = cell.step(steps[t], state);
          const h = tf.add(out.h, e[l * S + t]) as tf.Tensor2D;
          state = [h, ...out.state.slice(1)];
          outs.push(h);
        }
        input = S === 1 ? outs[0] : (tf.concat(outs, 0) as tf.Tensor2D);
      }
      const last = input.slice([S - 1, 0], [1, H]) as tf.Tensor2D;
      const logits = tf.add(matMul(last, model.Wy as tf.Tensor2D), model.by);
      const logp = tf.logSoftmax(logits);
      return tf.neg(logp.slice([0, target], [1, 1]).reshape([])) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(lossFn)(eps);
    // Norms in float64 from the raw values: squaring in float32 underflows below ~1e-22.
    const norms = Array.from({ length: L }, (_, l) => {
      const n = new Float64Array(S);
      for (let t = 0; t < S; t++) {
        const g = grads[l * S + t].dataSync();
        let sum = 0;
        for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
        n[S - 1 - t] = Math.sqrt(sum); // k = S−1−t
      }
      return n;
    });
    result = { norms, loss: value.dataSync()[0] };
  });
  return result!;
}

/**
 * ‖∂loss_T/∂h_{T−k}‖ for k = 0 … depth, per layer, averaged over `windows` windows of `text`.
 * Memory: the unrolled graph of depth+1 steps (fine for depth ≤ a few hundred at hidden ≤ 512).
 */
export function gradientVsDepth(model: CharModel, vocab: ByteVocab, text: Bytes, opts: GradientDepthOptions = {}): GradientDepth {
  const K = opts.depth ?? 50;
  const W = opts.windows ?? 4;
  const warmup = opts.warmup ?? 100;
  if (!Number.isInteger(K) || K < 0) throw new UserError(`depth must be a non-negative integer, got ${K}`);
  if (!Number.isInteger(W) || W < 1) throw new UserError(`windows must be a positive integer, got ${W}`);
  const ids = vocab.encode(text, { skipUnknown: true });
  const need = K + 2;
  if (ids.length < need) throw new UserError(`text too short: depth ${K} needs ${need} bytes, got ${ids.length}`);
  const L = model.cells.length;
  const sums = Array.from({ length: L }, () => new Float64Array(K + 1));
  const losses: number[] = [];
  for (let w = 0; w < W; w++) {
    // Window w ends at an evenly spaced position; warm-up bytes precede it where the text has them.
    const end = W === 1 ? ids.length : Math.round(need + ((ids.length - need) * w) / (W - 1)); // exclusive
    const begin = end - need;
    const wBegin = Math.max(0, begin - warmup);
    let start = model.zeroState(1);
    if (begin > wBegin) {
      const prev = start;
      start = tf.tidy(() => model.forward(ids.subarray(wBegin, begin), 1, begin - wBegin, prev).state.map((l) => l.map((t) => tf.keep(t))));
      disposeState(prev);
    }
    const r = windowNorms(model, ids.subarray(begin, end), start);
    disposeState(start);
    for (let l = 0; l < L; l++) for (let k = 0; k <= K; k++) sums[l][k] += r.norms[l][k] / W;
    losses.push(r.loss);
  }
  return { depth: Array.from({ length: K + 1 }, (_, k) => k), norms: sums, losses };
}

/** One curve per (name, layer): gradient norm against depth, log y. */
export function gradientDepthFigure(
  runs: readonly { name: string; result: GradientDepth; layers?: readonly number[] }[],
  opts: AxesOptions = {},
): Figure {
  const series: Series[] = [];
  for (const run of runs) {
    const layers = run.layers ?? run.result.norms.map((_, l) => l);
    for (const l of layers) {
      const y = Array.from(run.result.norms[l], (v) => Math.max(v, 1e-30)); // log axis: no zeros
      series.push({ x: run.result.depth, y, name: run.result.norms.length > 1 ? `${run.name} layer ${l}` : run.name, mode: 'lines+markers', style: { marker: { size: 4 } } });
    }
  }
  return lineFigure(series, {
    title: 'gradient size vs backprop depth',
    xTitle: 'k (steps back from T)',
    yTitle: '‖∂loss_T / ∂h_(T−k)‖',
    logY: true,
    ...opts,
    layout: { yaxis: { title: { text: '‖∂loss_T / ∂h_(T−k)‖' }, type: 'log', exponentformat: 'power' }, ...(opts.layout ?? {}) },
  });
}

/** Display `gradientDepthFigure(runs)` in the notebook. */
export function showGradientDepth(runs: Parameters<typeof gradientDepthFigure>[0], opts: AxesOptions = {}): void {
  show(gradientDepthFigure(runs, opts), { height: opts.height });
}
