/** The replacement wasm Slice/SplitV kernels give exactly what the cpu backend gives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib';
import { randomArray } from './helpers';

test('wasm slice/split (patched) equal the cpu backend, including gradients', async () => {
  const cases: [string, (x: tf.Tensor) => tf.Tensor | tf.Tensor[]][] = [
    ['row slice', (x) => tf.slice(x, [3, 0], [5, 12])],
    ['column slice (strided)', (x) => tf.slice(x, [2, 3], [7, 4])],
    ['split rows', (x) => tf.split(x, 4, 0)],
    ['split columns', (x) => tf.split(x, [2, 5, 5], 1)],
    ['3-d slice', (x) => tf.slice(x.reshape([4, 4, 12]), [1, 1, 2], [2, 3, 5])],
    ['int32 slice', (x) => tf.slice(x.toInt(), [1, 0], [2, 12])],
    ['gradient of concat', (x) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.concat(tf.split(v, 4, 0), 1), tf.range(0, 48).reshape([1, 48]))))(x)],
  ];
  const x = randomArray(16 * 12, 5);
  const run = async (backend: string) => {
    assert.equal((await initBackend(backend)).name, backend);
    return cases.map(([, f]) => tf.tidy(() => [f(tf.tensor2d(x, [16, 12]))].flat().map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }))));
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  cases.forEach(([name], i) => assert.deepEqual(wasm[i], cpu[i], name));
});
