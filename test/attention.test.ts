/**
 * The causal self-attention layer against a float64 JS implementation; the KV-cache step equals
 * the full forward at every position; the future is masked (zero gradient from later inputs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CausalSelfAttention, disposeCache, UserError } from '../lib';
import { maxAbsDiff, randomArray, useCpu } from './helpers';

/** Float64 reference: y[b][t] = softmax_{s≤t}(q_t·k_s/√D) · v_s, then ·Wo. Returns [B·T·D] row-major. */
function reference(x: Float32Array, B: number, T: number, D: number, W: Record<'q' | 'k' | 'v' | 'o', Float32Array>): number[] {
  const mm = (row: number[], M: Float32Array) => Array.from({ length: D }, (_, j) => row.reduce((s, r, i) => s + r * M[i * D + j], 0));
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const rows = Array.from({ length: T }, (_, t) => Array.from(x.subarray((b * T + t) * D, (b * T + t + 1) * D)));
    const q = rows.map((r) => mm(r, W.q)), k = rows.map((r) => mm(r, W.k)), v = rows.map((r) => mm(r, W.v));
    for (let t = 0; t < T; t++) {
      const sc = Array.from({ length: t + 1 }, (_, s) => q[t].reduce((a, qi, i) => a + qi * k[s][i], 0) / Math.sqrt(D));
      const m = Math.max(...sc);
      const e = sc.map((z) => Math.exp(z - m));
      const Z = e.reduce((a, z) => a + z, 0);
      const ctx = Array.from({ length: D }, (_, j) => e.reduce((a, w, s) => a + (w / Z) * v[s][j], 0));
      out.push(...mm(ctx, W.o));
    }
  }
  return out;
}

test('forward = a float64 reference; the cached step = forward at every position', async () => {
  await useCpu();
  const B = 2, T = 7, D = 6;
  const layer = new CausalSelfAttention({ width: D, initScale: 0.8 }, 3);
  assert.equal(layer.numParams(), 4 * D * D);
  const xs = randomArray(B * T * D, 11);
  const W = { q: layer.Wq.dataSync() as Float32Array, k: layer.Wk.dataSync() as Float32Array, v: layer.Wv.dataSync() as Float32Array, o: layer.Wo.dataSync() as Float32Array };
  const ref = reference(xs, B, T, D, W);
  const x = tf.tensor3d(xs, [B, T, D]);
  const before = tf.memory().numTensors;
  const y = layer.forward(x);
  assert.deepEqual(y.shape, [B, T, D]);
  const d = maxAbsDiff(y.dataSync(), ref);
  assert.ok(d < 1e-5, `forward vs float64: ${d}`);
  assert.ok(Math.max(...ref.map(Math.abs)) > 0.05, 'outputs are not trivially ~0');
  // Step by step with the cache
  const cache = layer.emptyCache();
  const yArr = y.dataSync();
  let worst = 0;
  for (let t = 0; t < T; t++) {
    const xt = tf.tidy(() => x.slice([0, t, 0], [B, 1, D]).reshape([B, D]) as tf.Tensor2D);
    const yt = layer.step(xt, cache);
    assert.equal(cache.length, t + 1);
    assert.deepEqual(cache.k!.shape, [B, t + 1, D]);
    const got = yt.dataSync();
    for (let b = 0; b < B; b++) worst = Math.max(worst, maxAbsDiff(got.subarray(b * D, (b + 1) * D), yArr.subarray((b * T + t) * D, (b * T + t + 1) * D)));
    tf.dispose([xt, yt]);
  }
  assert.ok(worst < 1e-5, `cached step vs forward: ${worst}`);
  disposeCache(cache);
  y.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  assert.equal(CausalSelfAttention.cacheBytes(D, 10, 2), 2 * 4 * 2 * 10 * D);
  x.dispose();
  layer.dispose();
});

test('causal: the output at t has zero gradient from inputs after t, non-zero from those before', async () => {
  await useCpu();
  const T = 5, D = 4, t = 2;
  const layer = new CausalSelfAttention({ width: D }, 1);
  const x = tf.tensor3d(randomArray(T * D, 5), [1, T, D]);
  const g = tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(layer.forward(xx as tf.Tensor3D).slice([0, t, 0], [1, 1, D])))(x).abs().sum(2).dataSync());
  for (let s = 0; s < T; s++) {
    if (s > t) assert.equal(g[s], 0, `future position ${s}`);
    else assert.ok(g[s] > 1e-6, `past position ${s}: ${g[s]}`);
  }
  // Weights get gradients too
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.forward(x))) as tf.Scalar, layer.params().map(([, v]) => v));
  for (const [name, v] of layer.params()) assert.ok(tf.norm(grads[v.name]).dataSync()[0] > 1e-6, name);
  tf.dispose(Object.values(grads));
  x.dispose();
  layer.dispose();
  assert.throws(() => new CausalSelfAttention({ width: 0 }), (e: Error) => e instanceof UserError && /width must be a positive integer/.test(e.message));
});
