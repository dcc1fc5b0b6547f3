/**
 * Backprop through the unrolled cells against central finite differences, for every parameter
 * entry of a small 2-layer model (cpu backend, float32).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Activation, CellType, CharModel, crossEntropy } from '../lib';
import { finiteDifference, useCpu } from './helpers';

const B = 2, T = 4, V = 5, H = 3;
const x = Int32Array.from([0, 1, 2, 3, 4, 3, 2, 1]);
const y = Int32Array.from([1, 2, 3, 4, 0, 1, 4, 2]);

function check(type: CellType, activation?: Activation): void {
  const model = new CharModel({ modelType: type, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0, initScale: 0.5, activation }, 7);
  const params = model.namedParams();
  // A non-zero initial state so the gradient through h0 / c0 paths is exercised too.
  const s0 = model.cells.map((c) => Array.from({ length: c.stateCount }, (_, k) => tf.fill([B, H], 0.3 - 0.2 * k) as tf.Tensor2D));
  const lossFn = () => crossEntropy(model.forward(x, B, T, s0).logits, y) as tf.Scalar;
  const { grads } = tf.variableGrads(lossFn, [...params.values()]);
  let worst = 0;
  let checked = 0;
  for (const [name, v] of params) {
    const analytic = grads[v.name].dataSync();
    for (let i = 0; i < v.size; i++) {
      const numeric = finiteDifference(v, i, lossFn);
      const err = Math.abs(numeric - analytic[i]);
      worst = Math.max(worst, err);
      checked++;
      assert.ok(err < 2e-3, `${type} ${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
    }
  }
  assert.ok(checked === model.numParams(), `checked ${checked} of ${model.numParams()} parameters`);
  // The check has teeth: gradients are not all ~0.
  const gnorm = Math.sqrt([...params.values()].reduce((s, v) => s + tf.sum(tf.square(grads[v.name])).dataSync()[0], 0));
  assert.ok(gnorm > 1e-2, `gradient norm ${gnorm}`);
}

for (const type of ['rnn', 'lstm', 'gru'] as CellType[]) {
  test(`${type}: gradients match finite differences`, async () => {
    await useCpu();
    check(type);
  });
}

for (const activation of ['relu', 'gelu'] as Activation[]) {
  test(`rnn with ${activation}: gradients match finite differences`, async () => {
    await useCpu();
    check('rnn', activation);
  });
}
