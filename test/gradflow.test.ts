/**
 * lib/toolkit/gradflow.ts: gradient size against backprop depth. The perturbation trick gives the true
 * ∂loss/∂h (checked against a finite difference), and the honest textbook property: a vanilla RNN
 * with small recurrent weights loses the gradient geometrically with depth, an LSTM whose forget
 * gates sit near 1 keeps it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel } from '../lib/index';
import { gradientDepthFigure, gradientVsDepth } from '../lib/toolkit/gradflow';
import { useCpu } from './helpers';

const TEXT = 'the quick brown fox jumps over the lazy dog. "a quote", she said (twice).\n'.repeat(4);

test('gradient vs depth: vanishes in an RNN with small recurrent weights, survives in an LSTM with a high forget bias', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const K = 30;
  const rnn = new CharModel({ modelType: 'rnn', vocabSize: vocab.size, hiddenSize: 32, numLayers: 1, dropout: 0 }, 1);
  // Forget-gate bias 3 (σ(3) ≈ 0.95) instead of the default 1.
  const lstm = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 32, numLayers: 1, dropout: 0, forgetBias: 3 }, 1);
  assert.equal(lstm.cells[0].b.dataSync()[40], 3);
  const before = tf.memory().numTensors;
  const r = gradientVsDepth(rnn, vocab, TEXT, { depth: K, windows: 2, warmup: 20 });
  const s = gradientVsDepth(lstm, vocab, TEXT, { depth: K, windows: 2, warmup: 20 });
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  assert.equal(r.depth.length, K + 1);
  assert.equal(r.norms.length, 1);
  const rn = r.norms[0];
  const ln = s.norms[0];
  assert.ok(rn.every((v) => Number.isFinite(v)) && ln.every((v) => Number.isFinite(v)));
  assert.ok(rn[0] > 0 && ln[0] > 0, 'the last state matters to the last prediction');
  for (let k = 1; k < K; k++) assert.ok(rn[k + 1] < rn[k], `RNN gradient shrinks at every step back: k=${k} ${rn[k]} → ${rn[k + 1]}`);
  const rnnRatio = rn[20] / rn[1];
  const lstmRatio = ln[20] / ln[1];
  assert.ok(rnnRatio < 1e-6, `RNN ‖g_20‖/‖g_1‖ = ${rnnRatio}`);
  assert.ok(lstmRatio > 0.05, `LSTM ‖g_20‖/‖g_1‖ = ${lstmRatio}`);
  assert.ok(ln[K] > 1e4 * rn[K], `at depth ${K}: LSTM ${ln[K]} vs RNN ${rn[K]}`);

  const fig = gradientDepthFigure([{ name: 'rnn', result: r }, { name: 'lstm', result: s }]);
  assert.equal(fig.data.length, 2);
  assert.equal((fig.layout.yaxis as Record<string, unknown>).type, 'log');
  rnn.dispose();
  lstm.dispose();
});

test('the perturbation gradient equals a finite difference of the loss in h (2-layer GRU)', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = new CharModel({ modelType: 'gru', vocabSize: vocab.size, hiddenSize: 5, numLayers: 2, dropout: 0, initScale: 0.6 }, 2);
  const text = TEXT.slice(0, 8); // 7 steps + target
  const g = gradientVsDepth(model, vocab, text, { depth: 6, windows: 1, warmup: 0 });
  // Finite difference for layer 0 at depth k = 3 (step t = 3): perturb h^0_3 along each unit.
  const ids = vocab.encode(text);
  const lossWith = (unit: number, delta: number): number =>
    tf.tidy(() => {
      let state = model.zeroState(1);
      let input = tf.oneHot(tf.tensor1d(ids.subarray(0, 7), 'int32'), vocab.size).toFloat() as tf.Tensor2D;
      for (let l = 0; l < 2; l++) {
        const cell = model.cells[l];
        const steps = tf.split(cell.projectInput(input), 7, 0) as tf.Tensor2D[];
        let st = state[l];
        const outs: tf.Tensor2D[] = [];
        for (let t = 0; t < 7; t++) {
          let h = cell.step(steps[t], st).h;
          if (l === 0 && t === 3) h = tf.add(h, tf.oneHot([unit], 5).toFloat().mul(delta)) as tf.Tensor2D;
          st = [h];
          outs.push(h);
        }
        input = tf.concat(outs, 0) as tf.Tensor2D;
      }
      const logits = tf.add(tf.matMul(input.slice([6, 0], [1, 5]), model.Wy), model.by);
      return -tf.logSoftmax(logits).dataSync()[ids[7]];
    });
  let sq = 0;
  const d = 1e-2;
  for (let u = 0; u < 5; u++) sq += ((lossWith(u, d) - lossWith(u, -d)) / (2 * d)) ** 2;
  const fd = Math.sqrt(sq);
  assert.ok(fd > 1e-4, `finite difference ${fd}`);
  assert.ok(Math.abs(g.norms[0][3] - fd) < 1e-2 * fd, `grad ${g.norms[0][3]} vs finite difference ${fd}`);
  model.dispose();
});

test('gradient vs depth and recording work for a model with an embedding input', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 8, numLayers: 2, dropout: 0, embeddingSize: 5 }, 3);
  const g = gradientVsDepth(model, vocab, TEXT, { depth: 10, windows: 2, warmup: 5 });
  assert.equal(g.norms.length, 2);
  assert.ok(g.norms.every((n) => n.length === 11 && n.every((v) => Number.isFinite(v) && v > 0)));
  const { record } = await import('../lib/toolkit/record');
  const rec = record(model, vocab, TEXT.slice(0, 50));
  assert.equal(rec.layers[1].c!.length, 50 * 8);
  model.dispose();
});
