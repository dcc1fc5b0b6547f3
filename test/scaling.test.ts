/** Power-law fits and cost measurement (time, peak tensor memory). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { backendMemoryLimit, fitPowerLaw, measureCost } from '../lib';
import { useCpu } from './helpers';

test('fitPowerLaw recovers exponents and prefactors; skips non-positive points', () => {
  const x = [1, 2, 4, 8, 16, 32];
  const quad = fitPowerLaw(x, x.map((n) => 3 * n * n));
  assert.ok(Math.abs(quad.slope - 2) < 1e-12 && Math.abs(Math.exp(quad.intercept) - 3) < 1e-9 && Math.abs(quad.r2 - 1) < 1e-12);
  const flat = fitPowerLaw(x, x.map(() => 7));
  assert.ok(Math.abs(flat.slope) < 1e-12);
  // Noisy linear: slope near 1, r² below 1
  const noisy = fitPowerLaw(x, x.map((n, i) => n * (i % 2 ? 1.2 : 0.8)));
  assert.ok(Math.abs(noisy.slope - 1) < 0.1 && noisy.r2 < 1 && noisy.r2 > 0.9, JSON.stringify(noisy));
  assert.equal(fitPowerLaw([0, 1, 2, 4], [5, 1, 2, 4]).slope, 1);
  assert.throws(() => fitPowerLaw([1], [1]), /needs two positive points/);
  assert.throws(() => fitPowerLaw([2, 2], [1, 3]), /all x are equal/);
});

test('measureCost: peak memory grows with what the call allocates; time is positive; nothing leaks', async () => {
  await useCpu();
  const before = tf.memory().numTensors;
  const small = await measureCost(() => tf.tidy(() => tf.ones([100, 100]).mul(2).sum()));
  const big = await measureCost(() => tf.tidy(() => tf.ones([400, 400]).mul(2).sum()));
  assert.equal(tf.memory().numTensors, before);
  // ones + mul: two [n,n] float32 tensors alive at the peak
  assert.ok(small.peakBytes >= 2 * 4 * 100 * 100 && small.peakBytes < 4 * 4 * 100 * 100, `small ${small.peakBytes}`);
  assert.ok(big.peakBytes >= 2 * 4 * 400 * 400 && big.peakBytes < 4 * 4 * 400 * 400, `big ${big.peakBytes}`);
  assert.ok(big.ms > 0 && small.ms > 0);
  assert.equal(backendMemoryLimit('wasm'), 4 * 2 ** 30);
  assert.equal(backendMemoryLimit('cpu'), os.totalmem());
});
