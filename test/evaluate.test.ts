/**
 * evaluateLoss is the loss of the text as ONE stream: checked against a float64 reference that
 * runs the whole text through the step-by-step cells in one call.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel, evalStreams, evaluateLoss, evaluateTotal, loadCorpus } from '../lib';
import { useCpu } from './helpers';

/** Mean −log p(ids[t+1] | ids[0..t]) from one batch-1 forward over the whole text (float64 softmax). */
function referenceLoss(model: CharModel, ids: Int32Array): number {
  const n = ids.length - 1;
  const logits = tf.tidy(() => {
    const r = model.forward(ids.subarray(0, n), 1, n, model.zeroState(1), { stepwise: true });
    return r.logits.reshape([n, model.config.vocabSize]);
  });
  const v = logits.arraySync() as number[][];
  logits.dispose();
  let total = 0;
  v.forEach((row, t) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
    total += lse - row[ids[t + 1]];
  });
  return total / n;
}

async function text(bytes: number): Promise<{ vocab: ByteVocab; ids: Int32Array }> {
  const data = (await loadCorpus('moby-dick')).data.subarray(100_000, 100_000 + bytes);
  const vocab = ByteVocab.fromData(data);
  return { vocab, ids: vocab.encode(data) };
}

test('batch 1 is the one-stream loss of the text (float64 reference)', async () => {
  await useCpu();
  const { vocab, ids } = await text(3000);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 24, numLayers: 2, dropout: 0, initScale: 0.3 }, 3);
  const ref = referenceLoss(model, ids);
  const got = evaluateLoss(model, ids, { batchSize: 1, seqLength: 64 });
  assert.ok(Math.abs(got - ref) < 1e-6, `${got} vs ${ref}`);
  assert.equal(evaluateTotal(model, ids, { batchSize: 1 }).count, ids.length - 1, 'every byte after the first is predicted once');
  model.dispose();
});

test('the default (parallel streams with warm-up) equals the one-stream loss; cold streams do not', async () => {
  await useCpu();
  const { vocab, ids } = await text(8000);
  // Large initial weights: a cold start is felt for tens of bytes.
  for (const [modelType, forgetBias] of [['lstm', 1], ['gru', 1]] as const) {
    const model = new CharModel({ modelType, vocabSize: vocab.size, hiddenSize: 24, numLayers: 2, dropout: 0, initScale: 0.25, forgetBias }, 5);
    const exact = evaluateLoss(model, ids, { batchSize: 1 });
    const def = evaluateTotal(model, ids);
    assert.equal(def.count, ids.length - 1, 'no prediction dropped or counted twice');
    const warm = def.totalNats / def.count;
    const cold = evaluateLoss(model, ids, { warmup: 0 });
    console.log(`${modelType}: one stream ${exact.toFixed(6)}, 32 streams with warm-up ${warm.toFixed(6)} (Δ ${(warm - exact).toExponential(1)}), cold ${cold.toFixed(6)} (Δ ${(cold - exact).toExponential(1)})`);
    assert.ok(Math.abs(warm - exact) < 1e-5, `${modelType}: warm-up ${warm} vs exact ${exact}`);
    if (modelType === 'lstm') assert.ok(Math.abs(cold - exact) > 1e-4, `cold streams should differ measurably here: ${cold} vs ${exact}`);
    model.dispose();
  }
});

test('streams cover every prediction once; short texts and tiny inputs', async () => {
  for (const [n, B, T, W] of [[10, 32, 100, 1024], [1000, 32, 100, 50], [100_000, 32, 100, 1024], [12_345, 7, 13, 0]]) {
    const s = evalStreams(n, { batchSize: B, seqLength: T, warmup: W });
    assert.equal(s[0].from, 0);
    assert.equal(s[0].start, 0);
    assert.equal(s.at(-1)!.end, n);
    for (let b = 1; b < s.length; b++) {
      assert.equal(s[b].start, s[b - 1].end, 'contiguous');
      assert.equal(s[b].from, Math.max(0, s[b].start - W), 'warm-up');
      assert.ok(s[b].end - s[b].start >= Math.min(T, n), 'each stretch has at least seqLength predictions');
    }
    assert.ok(s.length <= B);
  }
  await useCpu();
  const model = new CharModel({ modelType: 'lstm', vocabSize: 3, hiddenSize: 4, numLayers: 1, dropout: 0 }, 1);
  assert.ok(Number.isNaN(evaluateLoss(model, new Int32Array([1]))));
  assert.ok(Math.abs(evaluateLoss(model, new Int32Array([0, 1, 2])) - referenceLoss(model, new Int32Array([0, 1, 2]))) < 1e-6);
  model.dispose();
});
