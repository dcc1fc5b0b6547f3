/** The cross-entropy's hand-written gradient against autodiff through tf.logSoftmax. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, softmaxCrossEntropy } from '../lib';
import { maxAbsDiff, randomArray, useCpu } from './helpers';

test('softmaxCrossEntropy: value and gradient equal autodiff through tf.logSoftmax', async () => {
  await useCpu();
  const N = 12, V = 9;
  const logits = tf.tensor2d(randomArray(N * V, 7, 3), [N, V]);
  const targets = tf.oneHot(tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 4) % V), 'int32'), V).toFloat() as tf.Tensor2D;
  const reference = (l: tf.Tensor) => tf.div(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(l)))), N) as tf.Scalar;
  const ours = tf.valueAndGrad((l: tf.Tensor) => softmaxCrossEntropy(l as tf.Tensor2D, targets))(logits);
  const ref = tf.valueAndGrad(reference)(logits);
  assert.ok(Math.abs(ours.value.dataSync()[0] - ref.value.dataSync()[0]) < 1e-6);
  const d = maxAbsDiff(ours.grad.dataSync(), ref.grad.dataSync());
  assert.ok(d < 1e-7, `gradient differs by ${d}`);
  // Upstream gradient scaling (e.g. a loss weight) passes through.
  const scaled = tf.grad((l: tf.Tensor) => tf.mul(softmaxCrossEntropy(l as tf.Tensor2D, targets), 3))(logits);
  assert.ok(maxAbsDiff(scaled.dataSync(), ref.grad.mul(3).dataSync()) < 1e-6);
});

test('crossEntropy of uniform logits is ln(vocab)', async () => {
  await useCpu();
  const loss = crossEntropy(tf.zeros([4, 3, 65]) as tf.Tensor3D, Int32Array.from({ length: 12 }, (_, i) => i)).dataSync()[0];
  assert.ok(Math.abs(loss - Math.log(65)) < 1e-6);
});
