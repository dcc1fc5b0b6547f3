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

test('wasm transpose and leading-axis sum (patched) match the cpu backend', async () => {
  const x = randomArray(37 * 70, 9);
  const cases: [string, (x: tf.Tensor2D) => tf.Tensor][] = [
    ['transpose 2-d (stock: small)', (v) => tf.transpose(v)],
    ['transpose 2-d (patched: large)', (v) => tf.transpose(tf.tile(v, [40, 1]))],
    ['transpose int32', (v) => tf.transpose(v.toInt())],
    ['transpose 3-d (stock kernel)', (v) => tf.transpose(v.reshape([37, 7, 10]), [2, 0, 1])],
    ['sum axis 0', (v) => tf.sum(v, 0)],
    ['sum axis 0 keepDims', (v) => tf.sum(v, 0, true)],
    ['sum leading axes of 3-d', (v) => tf.sum(v.reshape([37, 7, 10]), [0, 1])],
    ['sum axis 1 (stock kernel)', (v) => tf.sum(v, 1)],
    ['bias gradient (sum through broadcasting)', (v) => tf.grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(v, b))))(tf.ones([70]))],
    ['matMul gradient (transposes)', (v) => tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(v, w as tf.Tensor2D)))(tf.ones([70, 5]))],
  ];
  const run = async (backend: string) => {
    assert.equal((await initBackend(backend)).name, backend);
    return cases.map(([, f]) => tf.tidy(() => { const t = f(tf.tensor2d(x, [37, 70])); return { shape: t.shape, data: Array.from(t.dataSync()) }; }));
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  cases.forEach(([name], i) => {
    assert.deepEqual(wasm[i].shape, cpu[i].shape, name);
    const worst = Math.max(...wasm[i].data.map((v, k) => Math.abs(v - cpu[i].data[k]) / Math.max(1, Math.abs(cpu[i].data[k]))));
    assert.ok(worst < 1e-5, `${name}: relative difference ${worst}`);
  });
  await initBackend('cpu');
});

test('tanh via sigmoid (sequence kernels) is within 2e-7 of tf.tanh', async () => {
  const { tanh } = await import('../lib/nn/sequence');
  for (const backend of ['cpu', 'wasm']) {
    await initBackend(backend);
    const xs = tf.tensor1d(Float32Array.from({ length: 4001 }, (_, k) => (k - 2000) / 200)); // −10 … 10
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tanh(xs), tf.tanh(xs)))).dataSync()[0]);
    assert.ok(d < 2e-7, `${backend}: ${d}`);
    xs.dispose();
  }
  await initBackend('cpu');
});

test('wasm gather (patched for axis 0) equals the cpu backend', async () => {
  const x = randomArray(37 * 70, 4);
  const ids = Int32Array.from({ length: 60 }, (_, i) => (i * 13) % 37);
  const cases: [string, (v: tf.Tensor2D) => tf.Tensor][] = [
    ['rows of a 2-d table', (v) => tf.gather(v, tf.tensor1d(ids, 'int32'))],
    ['2-d indices', (v) => tf.gather(v, tf.tensor2d(ids, [6, 10], 'int32'))],
    ['3-d table', (v) => tf.gather(v.reshape([37, 7, 10]), tf.tensor1d(ids, 'int32'))],
    ['int32 table', (v) => tf.gather(v.mul(100).toInt(), tf.tensor1d(ids, 'int32'))],
    ['axis 1 (stock kernel)', (v) => tf.gather(v, tf.tensor1d(Int32Array.of(3, 0, 69), 'int32'), 1)],
  ];
  const run = async (backend: string) => {
    assert.equal((await initBackend(backend)).name, backend);
    return cases.map(([, f]) => tf.tidy(() => { const t = f(tf.tensor2d(x, [37, 70])); return { shape: t.shape, data: Array.from(t.dataSync()) }; }));
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  cases.forEach(([name], i) => assert.deepEqual(wasm[i], cpu[i], name));
  await initBackend('cpu');
});

test('wasm Identity (patched) shares the buffer: clones keep their values, custom ops save without copying, nothing leaks', async () => {
  await initBackend('wasm');
  const backend = tf.backend() as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } | undefined }; numDataIds(): number };
  const before = backend.numDataIds();
  const x = tf.tensor2d(randomArray(300, 4), [30, 10]);
  const values = Array.from(x.dataSync());
  const y = tf.clone(x);
  assert.equal(backend.dataIdMap.get(y.dataId)!.memoryOffset, backend.dataIdMap.get(x.dataId)!.memoryOffset, 'one buffer');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), values, 'the clone outlives its source');
  tf.tidy(() => { tf.add(y, 1).dataSync(); }); // a new allocation may reuse freed memory: not this buffer
  assert.deepEqual(Array.from(y.dataSync()), values);
  y.dispose();
  // A custom op whose gradient uses saved tensors (the engine clones what it saves).
  const op = tf.customGrad(((a: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = tf.square(a);
    save([a, value]);
    return { value, gradFunc: (dy: tf.Tensor, [sa, sv]: tf.Tensor[]) => tf.mul(dy, tf.add(tf.mul(sa, 2), tf.mul(sv, 0))) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const g = tf.tidy(() => Array.from(tf.grad((a: tf.Tensor) => tf.sum(op(a) as tf.Tensor))(tf.tensor1d([1, -2, 3])).dataSync()));
  assert.deepEqual(g, [2, -4, 6]);
  assert.equal(backend.numDataIds(), before, 'no backend buffer left behind');
});
