/** Optimizer updates and clipping against the formulas computed by hand in float64. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { clipGradients, Optimizer, OptimizerName } from '../lib';
import { useCpu } from './helpers';

const p0 = [0.5, -1.0, 2.0];
const gs = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05], [0.2, 0.2, -0.1]];

function reference(name: OptimizerName, lr: number): number[] {
  const p = p0.slice();
  const s1 = [0, 0, 0], s2 = [0, 0, 0];
  gs.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < 3; i++) {
      if (name === 'rmsprop') {
        s1[i] = 0.95 * s1[i] + 0.05 * g[i] * g[i];
        p[i] -= (lr * g[i]) / (Math.sqrt(s1[i]) + 1e-8);
      } else if (name === 'adam') {
        s1[i] = 0.9 * s1[i] + 0.1 * g[i];
        s2[i] = 0.999 * s2[i] + 0.001 * g[i] * g[i];
        p[i] -= (lr * (s1[i] / (1 - 0.9 ** t))) / (Math.sqrt(s2[i] / (1 - 0.999 ** t)) + 1e-8);
      } else {
        s1[i] += g[i] * g[i];
        p[i] -= (lr * g[i]) / (Math.sqrt(s1[i]) + 1e-10);
      }
    }
  });
  return p;
}

for (const name of ['rmsprop', 'adam', 'adagrad'] as OptimizerName[]) {
  test(`${name} follows its update rule`, async () => {
    await useCpu();
    const v = tf.variable(tf.tensor1d(p0));
    const opt = new Optimizer({ name });
    for (const g of gs) opt.apply(new Map([['w', v]]), new Map([['w', tf.tensor1d(g)]]), 0.01);
    const want = reference(name, 0.01);
    const got = Array.from(v.dataSync());
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `${name}[${i}] ${got[i]} vs ${want[i]}`);
    assert.ok(Math.abs(got[0] - p0[0]) > 1e-3, 'the parameter moved');
    // State round trip continues identically.
    const st = opt.getState();
    const opt2 = new Optimizer({ name });
    opt2.setState(st.t, st.slots);
    const v2 = tf.variable(v.clone());
    opt.apply(new Map([['w', v]]), new Map([['w', tf.tensor1d([0.3, 0.3, 0.3])]]), 0.01);
    opt2.apply(new Map([['w', v2]]), new Map([['w', tf.tensor1d([0.3, 0.3, 0.3])]]), 0.01);
    assert.deepEqual(v.dataSync(), v2.dataSync());
  });
}

test('clipping by global norm and by value', async () => {
  await useCpu();
  const grads = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([0, 4])]]);
  const byNorm = clipGradients(grads, 1, 'norm');
  assert.ok(Math.abs(byNorm.norm.dataSync()[0] - 5) < 1e-6);
  assert.ok(Math.abs(byNorm.grads.get('a')!.dataSync()[0] - 0.6) < 1e-6);
  assert.ok(Math.abs(byNorm.grads.get('b')!.dataSync()[1] - 0.8) < 1e-6);
  const loose = clipGradients(grads, 10, 'norm');
  assert.equal(loose.grads.get('b')!.dataSync()[1], 4, 'below the threshold nothing changes');
  const byValue = clipGradients(grads, 3.5, 'value');
  assert.deepEqual(Array.from(byValue.grads.get('b')!.dataSync()), [0, 3.5]);
  assert.deepEqual(Array.from(byValue.grads.get('a')!.dataSync()), [3, 0]);
});

test('unknown optimizer is a clear error', () => {
  assert.throws(() => new Optimizer({ name: 'sgdx' as OptimizerName }), /unknown optimizer "sgdx": use rmsprop, adam, adagrad/);
});
