import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CharModel, countParams, crossEntropy, detachState, ModelConfig } from '../lib';
import { finiteDifference, useCpu } from './helpers';

test("parameter count: the essay's 2-layer LSTM with 512 hidden nodes is ~3.3-3.5 M", async () => {
  await useCpu();
  const c: ModelConfig = { modelType: 'lstm', vocabSize: 65, hiddenSize: 512, numLayers: 2, dropout: 0.5 };
  const n = countParams(c);
  // 4·512·(65+512+1) + 4·512·(512+512+1) + 512·65 + 65
  assert.equal(n, 4 * 512 * 578 + 4 * 512 * 1025 + 512 * 65 + 65);
  assert.ok(n > 3.2e6 && n < 3.5e6, `${n}`);
  for (const modelType of ['rnn', 'lstm', 'gru'] as const) {
    const small: ModelConfig = { modelType, vocabSize: 7, hiddenSize: 5, numLayers: 3, dropout: 0 };
    const m = new CharModel(small);
    assert.equal(m.numParams(), countParams(small), modelType);
    m.dispose();
  }
});

test('LSTM forget-gate bias starts at 1, same seed gives the same weights', async () => {
  await useCpu();
  const c: ModelConfig = { modelType: 'lstm', vocabSize: 4, hiddenSize: 3, numLayers: 1, dropout: 0 };
  const a = new CharModel(c, 42), b = new CharModel(c, 42), d = new CharModel(c, 43);
  assert.deepEqual(Array.from(a.cells[0].b.dataSync().slice(3, 6)), [1, 1, 1]);
  assert.deepEqual(a.cells[0].Wx.dataSync(), b.cells[0].Wx.dataSync());
  assert.notDeepEqual(a.cells[0].Wx.dataSync(), d.cells[0].Wx.dataSync());
});

test('forward shapes; dropout only when training and repeatable from the rng seed', async () => {
  await useCpu();
  const { Rng } = await import('../lib');
  const m = new CharModel({ modelType: 'gru', vocabSize: 6, hiddenSize: 8, numLayers: 2, dropout: 0.5 }, 1);
  const x = Int32Array.from([0, 1, 2, 3, 4, 5]);
  const r = m.forward(x, 2, 3, m.zeroState(2));
  assert.deepEqual(r.logits.shape, [3, 2, 6]);
  assert.equal(r.state.length, 2);
  assert.deepEqual(r.state[1][0].shape, [2, 8]);
  const again = m.forward(x, 2, 3, m.zeroState(2));
  assert.deepEqual(r.logits.dataSync(), again.logits.dataSync(), 'eval is deterministic');
  const t1 = m.forward(x, 2, 3, m.zeroState(2), { training: true, rng: new Rng(9) }).logits.dataSync();
  const t2 = m.forward(x, 2, 3, m.zeroState(2), { training: true, rng: new Rng(9) }).logits.dataSync();
  const t3 = m.forward(x, 2, 3, m.zeroState(2), { training: true, rng: new Rng(10) }).logits.dataSync();
  assert.deepEqual(t1, t2);
  assert.notDeepEqual(t1, t3);
  assert.notDeepEqual(t1, r.logits.dataSync());
});

test('truncated BPTT: no gradient crosses a detached chunk boundary', async () => {
  await useCpu();
  const m = new CharModel({ modelType: 'lstm', vocabSize: 5, hiddenSize: 4, numLayers: 2, dropout: 0 }, 3);
  const B = 2, T = 3;
  const x1 = Int32Array.from([0, 1, 2, 3, 4, 0]), x2 = Int32Array.from([1, 2, 3, 4, 0, 1]);
  const y2 = Int32Array.from([2, 3, 4, 0, 1, 2]);
  // d(loss of chunk 2)/d(initial state of chunk 1), with and without the detach in between.
  const gradWrtStart = (detach: boolean) => {
    const h0 = tf.fill([B, 4], 0.5) as tf.Tensor2D;
    const g = tf.grad((h: tf.Tensor) => {
      const start = m.cells.map((c) => [h as tf.Tensor2D, tf.zerosLike(h) as tf.Tensor2D]);
      const s1 = m.forward(x1, B, T, start).state;
      const carried = detach ? detachState(s1) : s1;
      return crossEntropy(m.forward(x2, B, T, carried).logits, y2);
    })(h0);
    return tf.sum(tf.abs(g)).dataSync()[0];
  };
  assert.ok(gradWrtStart(false) > 1e-4, 'without detach the gradient reaches chunk 1');
  assert.equal(gradWrtStart(true), 0, 'with detach it is exactly zero');
});

test('embedding input: gradient of the table matches finite differences; trains on wasm (no gather gradient kernel needed)', async () => {
  await useCpu();
  const { Trainer, initBackend } = await import('../lib');
  const m = new CharModel({ modelType: 'lstm', vocabSize: 9, hiddenSize: 4, numLayers: 1, dropout: 0, embeddingSize: 3, initScale: 0.5 }, 4);
  assert.equal(m.numParams(), countParams(m.config));
  assert.equal(m.numParams(), 9 * 3 + 4 * 4 * (3 + 4 + 1) + 4 * 9 + 9);
  const x = Int32Array.from([0, 3, 3, 8, 1, 2]), y = Int32Array.from([3, 3, 8, 1, 2, 0]);
  const E = m.embedding!;
  const loss = () => crossEntropy(m.forward(x, 2, 3, m.zeroState(2)).logits, y);
  const g = tf.variableGrads(loss as () => tf.Scalar, [E]).grads[E.name].dataSync();
  for (let i = 0; i < E.size; i++) {
    const numeric = finiteDifference(E, i, loss);
    assert.ok(Math.abs(numeric - g[i]) < 2e-3, `embed[${i}]: ${g[i]} vs ${numeric}`);
  }
  assert.ok(g.slice(4 * 3, 8 * 3).every((v) => v === 0), 'rows of unused ids get no gradient');
  assert.ok(g.slice(3 * 3, 4 * 3).some((v) => v !== 0), 'rows of used ids do');
  await initBackend('wasm');
  const wm = new CharModel({ modelType: 'lstm', vocabSize: 20, hiddenSize: 16, numLayers: 1, dropout: 0, embeddingSize: 8 }, 1);
  const ids = Int32Array.from({ length: 400 }, (_, i) => (i * 7) % 20);
  const r = await new Trainer(wm, undefined, { train: ids }, { batchSize: 4, seqLength: 10, steps: 60, optimizer: 'adam', learningRate: 3e-2 }).run();
  assert.ok(r.history.loss[59] < r.history.loss[0] - 1, `${r.history.loss[0]} → ${r.history.loss[59]}`);
});
