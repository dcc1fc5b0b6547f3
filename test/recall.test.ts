/** The recall task's data, its masked loss (against a float64 computation) and accuracy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { recallAccuracy, recallBatch, recallLoss, recallSeqLength, Rng, UserError } from '../lib';
import { randomArray, useCpu } from './helpers';

const args = { delay: 3, alphabet: 5, scored: 8 };

test('recallBatch: random symbols; y_t = x_(t−delay), scored from t = delay on', () => {
  const B = 50;
  const batch = recallBatch(args, B, new Rng(1));
  const T = recallSeqLength(args);
  assert.equal(T, 11);
  assert.equal(batch.seqLength, T);
  const counts = new Array(5).fill(0);
  for (let b = 0; b < B; b++) {
    const x: number[] = Array.from(batch.x.subarray(b * T, (b + 1) * T));
    const y: number[] = Array.from(batch.y.subarray(b * T, (b + 1) * T));
    const m: number[] = Array.from(batch.mask.subarray(b * T, (b + 1) * T));
    for (const v of x) { assert.ok(v >= 0 && v < 5); counts[v]++; }
    assert.deepEqual(y.slice(3), x.slice(0, 8));
    assert.deepEqual(m, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  }
  assert.ok(counts.every((c) => c > 80), `every symbol drawn: ${counts}`);
  // Repeatable from the seed, different for another seed
  assert.deepEqual(recallBatch(args, B, new Rng(1)).x, batch.x);
  assert.notDeepEqual(recallBatch(args, B, new Rng(2)).x, batch.x);
  // Delay 0: copy the input
  const d0 = recallBatch({ ...args, delay: 0 }, 2, new Rng(3));
  assert.deepEqual(d0.y, d0.x);
  assert.ok(d0.mask.every((v) => v === 1));
  assert.throws(() => recallBatch({ ...args, delay: -1 }, 2, new Rng(0)), (e: Error) => e instanceof UserError && /delay must be a non-negative integer/.test(e.message));
  assert.throws(() => recallBatch({ ...args, alphabet: 1 }, 2, new Rng(0)), UserError);
  assert.throws(() => recallBatch({ ...args, scored: 0 }, 2, new Rng(0)), /scored positions/);
  assert.throws(() => recallBatch(args, 0, new Rng(0)), /batch size/);
});

test('recallLoss = float64 mean NLL over scored positions; recallAccuracy counts argmax hits there', async () => {
  await useCpu();
  const B = 3;
  const batch = recallBatch(args, B, new Rng(4));
  const T = batch.seqLength, V = args.alphabet;
  const raw = randomArray(T * B * V, 9, 3); // time-major [T, B, V]
  // Make the first scored position of row 0 right and of row 1 wrong, by a wide margin.
  const t0 = 3;
  raw[(t0 * B + 0) * V + batch.y[0 * T + t0]] = 50;
  raw[(t0 * B + 1) * V + ((batch.y[1 * T + t0] + 1) % V)] = 50;
  const logits = tf.tensor3d(raw, [T, B, V]);
  let nll = 0, n = 0, hits = 0;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    if (!batch.mask[b * T + t]) continue;
    const row = Array.from(raw.subarray((t * B + b) * V, (t * B + b + 1) * V));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0));
    nll += lse - row[batch.y[b * T + t]];
    n++;
    if (row.indexOf(m) === batch.y[b * T + t]) hits++;
  }
  assert.equal(n, B * args.scored);
  const loss = recallLoss(logits, batch);
  assert.ok(Math.abs(loss.dataSync()[0] - nll / n) < 1e-4, `${loss.dataSync()[0]} vs ${nll / n}`);
  assert.equal(recallAccuracy(logits, batch), hits / n);
  assert.ok(hits >= 1 && hits < n);
  // A perfect predictor scores 1
  const perfect = new Float32Array(T * B * V);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) perfect[(t * B + b) * V + batch.y[b * T + t]] = 10;
  const p = tf.tensor3d(perfect, [T, B, V]);
  assert.equal(recallAccuracy(p, batch), 1);
  tf.dispose([logits, loss, p]);
});
