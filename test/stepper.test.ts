/** The sampling Stepper (JS gate math, one matVec per layer) equals CharModel.forward step by step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CharModel, CELL_TYPES, disposeState, initBackend, stateToArrays, Stepper } from '../lib';

import { maxAbsDiff, useCpu } from './helpers';

/** Feed `ids` one at a time through forward() and through a Stepper; max diff of logits and states. */
function compare(model: CharModel, ids: number[]): number {
  const stepper = new Stepper(model);
  let state = model.zeroState(1);
  let worst = 0;
  for (const id of ids) {
    const ref = tf.tidy(() => {
      const r = model.forward(Int32Array.of(id), 1, 1, state);
      disposeState(state);
      state = r.state.map((l) => l.map((t) => tf.keep(t)));
      return r.logits.dataSync().slice();
    });
    const logits = stepper.step(id);
    worst = Math.max(worst, maxAbsDiff(logits, ref));
    const refState = stateToArrays(state);
    stepper.state.forEach((layer, l) => layer.forEach((s, k) => (worst = Math.max(worst, maxAbsDiff(s, refState[l][k])))));
  }
  disposeState(state);
  stepper.dispose();
  return worst;
}

const ids = [3, 0, 7, 7, 1, 9, 2, 2, 5, 4, 8, 6, 0, 1];

for (const modelType of CELL_TYPES) {
  test(`Stepper = forward() for a 2-layer ${modelType} (one-hot and embedding input), no leaks`, async () => {
    await useCpu();
    for (const embeddingSize of [undefined, 6]) {
      const model = new CharModel({ modelType, vocabSize: 10, hiddenSize: 12, numLayers: 2, dropout: 0, initScale: 0.5, embeddingSize }, 4);
      const before = tf.memory().numTensors;
      const dataIds = tf.backend().numDataIds();
      const d = compare(model, ids);
      assert.ok(d < 1e-5, `${modelType} emb=${embeddingSize}: max diff ${d}`);
      assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
      assert.equal(tf.backend().numDataIds(), dataIds, 'no backend buffers left behind (raw matVec)');
      model.dispose();
    }
  });
}

test('Stepper = forward() on the wasm backend (LSTM)', async () => {
  await initBackend('wasm');
  try {
    const model = new CharModel({ modelType: 'lstm', vocabSize: 10, hiddenSize: 16, numLayers: 2, dropout: 0, initScale: 0.5 }, 1);
    const dataIds = tf.backend().numDataIds();
    const d = compare(model, ids);
    assert.ok(d < 1e-5, `max diff ${d}`);
    assert.equal(tf.backend().numDataIds(), dataIds, 'no wasm buffers left behind');
    model.dispose();
  } finally {
    await useCpu();
  }
});

test('Stepper reads weights when made: a later weight change needs a new Stepper', async () => {
  await useCpu();
  const model = new CharModel({ modelType: 'lstm', vocabSize: 10, hiddenSize: 8, numLayers: 1, dropout: 0 }, 1);
  const s1 = new Stepper(model);
  const a = s1.step(2);
  model.Wy.assign(tf.mul(model.Wy, 2) as tf.Tensor2D);
  s1.reset();
  assert.deepEqual(s1.step(2), a, 'old weights kept');
  const s2 = new Stepper(model);
  assert.ok(maxAbsDiff(s2.step(2), a) > 1e-4, 'new Stepper sees the new weights');
  s1.dispose();
  s2.dispose();
  model.dispose();
});
