import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel, Rng, sample, softmaxWithTemperature, Trainer, UserError } from '../lib';
import { useCpu } from './helpers';

async function trained() {
  const text = Buffer.from('abcde'.repeat(150));
  const vocab = ByteVocab.fromData(text);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 16, numLayers: 1, dropout: 0 }, 2);
  await new Trainer(model, vocab, { train: vocab.encode(text) }, { batchSize: 4, seqLength: 12, steps: 120, optimizer: 'adam', learningRate: 2e-2 }).run();
  return { vocab, model };
}

test('argmax (temperature 0) continues the learned pattern; sampling is seeded and streamed', async () => {
  await useCpu();
  const { vocab, model } = await trained();
  const greedy = sample(model, vocab, { length: 12, temperature: 0, prime: 'abc' }).toString();
  assert.equal(greedy, 'deabcdeabcde');
  const streamed: number[] = [];
  const a = sample(model, vocab, { length: 50, temperature: 1, seed: 3, onByte: (b) => {
    streamed.push(b[0]);
  } });
  const b = sample(model, vocab, { length: 50, temperature: 1, seed: 3 });
  const c = sample(model, vocab, { length: 50, temperature: 1.5, seed: 4 });
  assert.deepEqual(a, b, 'same seed, same text');
  assert.notDeepEqual(a, c);
  assert.deepEqual(Buffer.from(streamed), a, 'onByte saw every byte in order');
  let calls = 0;
  const stopped = sample(model, vocab, { length: 50, seed: 3, onByte: () => ++calls < 7 });
  assert.equal(stopped.length, 7, 'onByte returning false stops sampling');
  assert.deepEqual(stopped, a.subarray(0, 7));
  const before = tf.memory().numTensors;
  sample(model, vocab, { length: 20, temperature: 0.7, prime: 'ab' });
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('prime bytes outside the vocabulary: clear error listing them, or skipped on request', async () => {
  await useCpu();
  const { vocab, model } = await trained();
  assert.throws(() => sample(model, vocab, { length: 5, prime: 'abxyz' }), (e: Error) => e instanceof UserError && /not in the model's vocabulary: 'x', 'y', 'z'/.test(e.message));
  assert.equal(sample(model, vocab, { length: 5, prime: 'abxyz', skipUnknown: true, temperature: 0 }).length, 5);
  assert.throws(() => sample(model, vocab, { length: 5, temperature: -1 }), /temperature must be ≥ 0/);
  assert.throws(() => sample(model, vocab, { length: -2 }), /length must be a non-negative integer/);
});

test('temperature sharpens or flattens the distribution', () => {
  const logits = [2, 1, 0];
  const cold = softmaxWithTemperature(logits, 0.5), warm = softmaxWithTemperature(logits, 2), one = softmaxWithTemperature(logits, 1);
  assert.ok(cold[0] > one[0] && one[0] > warm[0]);
  assert.ok(Math.abs(one.reduce((s, x) => s + x, 0) - 1) < 1e-12);
  assert.ok(Math.abs(one[0] - Math.exp(2) / (Math.exp(2) + Math.exp(1) + 1)) < 1e-12);
  // Empirical frequencies follow the probabilities.
  const rng = new Rng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 20000; i++) counts[rng.categorical(one)]++;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(counts[i] / 20000 - one[i]) < 0.015, `${i}: ${counts[i] / 20000} vs ${one[i]}`);
});
