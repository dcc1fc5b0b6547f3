/**
 * Our LSTM cell against tf.layers.lstm with the same weights (Keras gate order i, f, c, o,
 * sigmoid recurrent activation), and our GRU against tf.layers.gru (resetAfter = PyTorch's form).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Cell, Rng, unroll } from '../lib';
import { maxAbsDiff, randomArray, useCpu } from './helpers';

const B = 3, T = 7, IN = 6, H = 5;

function ours(cell: Cell, x: tf.Tensor3D): { seq: Float32Array; h: Float32Array; c?: Float32Array } {
  // x: [B, T, IN] → time-major rows [T·B, IN]
  const tm = x.transpose([1, 0, 2]).reshape([T * B, IN]) as tf.Tensor2D;
  const r = unroll(cell, cell.projectInput(tm), T, cell.zeroState(B));
  const seq = tf.stack(r.outputs, 1).dataSync() as Float32Array; // [B, T, H]
  return { seq, h: r.state[0].dataSync() as Float32Array, c: r.state[1]?.dataSync() as Float32Array | undefined };
}

test('LSTM cell matches tf.layers.lstm (max abs diff < 1e-5)', async () => {
  await useCpu();
  const cell = new Cell({ type: 'lstm', inputSize: IN, hiddenSize: H, initScale: 0.5 }, new Rng(3));
  const x = tf.tensor3d(randomArray(B * T * IN, 11), [B, T, IN]);
  const layer = tf.layers.lstm({ units: H, returnSequences: true, returnState: true, recurrentActivation: 'sigmoid', inputShape: [T, IN] });
  layer.apply(x); // builds the layer
  layer.setWeights([cell.Wx, cell.Wh, cell.b]);
  const [seq, h, c] = layer.apply(x) as tf.Tensor[];
  const o = ours(cell, x);
  const d = Math.max(maxAbsDiff(o.seq, seq.dataSync()), maxAbsDiff(o.h, h.dataSync()), maxAbsDiff(o.c!, c.dataSync()));
  assert.ok(d < 1e-5, `max abs diff ${d}`);
  assert.ok(maxAbsDiff(o.seq, new Float32Array(o.seq.length)) > 0.05, 'outputs are not trivially zero');
});

/** PyTorch's nn.GRU equations in plain float64 JS, independent of tfjs. */
function gruReference(x: Float32Array, Wx: Float32Array, Wh: Float32Array, bx: Float32Array, bh: Float32Array): Float64Array {
  const out = new Float64Array(B * T * H);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (let b = 0; b < B; b++) {
    let h = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const gx = new Float64Array(3 * H), gh = new Float64Array(3 * H);
      for (let j = 0; j < 3 * H; j++) {
        gx[j] = bx[j];
        gh[j] = bh[j];
        for (let i = 0; i < IN; i++) gx[j] += x[(b * T + t) * IN + i] * Wx[i * 3 * H + j];
        for (let i = 0; i < H; i++) gh[j] += h[i] * Wh[i * 3 * H + j];
      }
      const hNew = new Float64Array(H);
      for (let u = 0; u < H; u++) {
        const r = sig(gx[u] + gh[u]);
        const z = sig(gx[H + u] + gh[H + u]);
        const n = Math.tanh(gx[2 * H + u] + r * gh[2 * H + u]);
        hNew[u] = (1 - z) * n + z * h[u];
        out[(b * T + t) * H + u] = hNew[u];
      }
      h = hNew;
    }
  }
  return out;
}

test('GRU cell matches the nn.GRU equations computed independently (max abs diff < 1e-5)', async () => {
  await useCpu();
  const cell = new Cell({ type: 'gru', inputSize: IN, hiddenSize: H, initScale: 0.5 }, new Rng(4));
  const xs = randomArray(B * T * IN, 12);
  const x = tf.tensor3d(xs, [B, T, IN]);
  const ref = gruReference(xs, cell.Wx.dataSync() as Float32Array, cell.Wh.dataSync() as Float32Array, cell.b.dataSync() as Float32Array, cell.bh!.dataSync() as Float32Array);
  const d = maxAbsDiff(ours(cell, x).seq, ref);
  assert.ok(d < 1e-5, `max abs diff ${d}`);
});

test('vanilla RNN cell is h = tanh(x·Wx + h·Wh + b)', async () => {
  await useCpu();
  const cell = new Cell({ type: 'rnn', inputSize: IN, hiddenSize: H, initScale: 0.5 }, new Rng(5));
  const x = tf.tensor3d(randomArray(B * T * IN, 13), [B, T, IN]);
  const layer = tf.layers.simpleRNN({ units: H, returnSequences: true, activation: 'tanh', inputShape: [T, IN] });
  layer.apply(x);
  layer.setWeights([cell.Wx, cell.Wh, cell.b]);
  const d = maxAbsDiff(ours(cell, x).seq, (layer.apply(x) as tf.Tensor).dataSync());
  assert.ok(d < 1e-5, `max abs diff ${d}`);
});
