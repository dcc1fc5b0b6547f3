/**
 * lib/toolkit/record.ts: the streamed recording equals one direct forward pass over the whole text,
 * keeps only what was asked for, and leaks no tensors. (Memory on a big model: record-memory.test.ts
 * and scripts/record-memory.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel } from '../lib/index';
import { record, recordingBytes, recordingSize, topPredictions, unitSeries } from '../lib/toolkit/record';
import { maxAbsDiff, useCpu } from './helpers';

const TEXT = 'He said "hello (there)" and left.\nShe said "no."\n  /* a comment */ x = f(y[2]);\n';

/** Time-major [t*H+u] from per-step [1,H] tensors. */
function stack(ts: tf.Tensor2D[]): Float32Array {
  return tf.tidy(() => tf.concat(ts, 0).dataSync() as Float32Array);
}

for (const modelType of ['lstm', 'gru', 'rnn'] as const) {
  test(`record (${modelType}, 2 layers, chunks of 7) equals a direct forward over the whole text`, async () => {
    await useCpu();
    const vocab = ByteVocab.fromData(TEXT);
    const model = new CharModel({ modelType, vocabSize: vocab.size, hiddenSize: 6, numLayers: 2, dropout: 0, initScale: 0.5 }, 3);
    const before = tf.memory().numTensors;
    const rec = record(model, vocab, TEXT, { chunkSize: 7, gates: modelType !== 'rnn', probs: true, topK: 3 });
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    const T = TEXT.length;
    assert.equal(rec.length, T);
    assert.equal(Buffer.from(rec.bytes).toString(), TEXT);
    assert.equal(recordingSize(rec), recordingBytes(model.config, T, { gates: modelType !== 'rnn', probs: true, topK: 3 }));

    const ids = vocab.encode(TEXT);
    const r = model.forward(ids, 1, T, model.zeroState(1), { keepStates: true, recordGates: true });
    for (let l = 0; l < 2; l++) {
      assert.equal(rec.layers[l].h!.length, T * 6);
      assert.ok(maxAbsDiff(rec.layers[l].h!, stack(r.states![l].map((s) => s[0]))) < 1e-5, `layer ${l} h`);
      if (modelType === 'lstm') assert.ok(maxAbsDiff(rec.layers[l].c!, stack(r.states![l].map((s) => s[1]))) < 1e-5, `layer ${l} c`);
      else assert.equal(rec.layers[l].c, undefined, 'no c outside the LSTM');
      if (modelType === 'rnn') assert.equal(rec.layers[l].gates, undefined);
      else {
        const names = modelType === 'lstm' ? ['i', 'f', 'g', 'o'] : ['r', 'z', 'n'];
        assert.deepEqual(Object.keys(rec.layers[l].gates!), names);
        for (const g of names) assert.ok(maxAbsDiff(rec.layers[l].gates![g], stack(r.gates![l].map((x) => x[g]))) < 1e-5, `layer ${l} gate ${g}`);
      }
    }
    const probs = tf.softmax(r.logits.reshape([T, vocab.size])).dataSync();
    assert.ok(maxAbsDiff(rec.probs!, probs) < 1e-5, 'probabilities');
    for (const t of [0, 5, T - 1]) {
      const row = Array.from(probs.slice(t * vocab.size, (t + 1) * vocab.size));
      const order = row.map((p, id) => ({ p, id })).sort((a, b) => b.p - a.p).slice(0, 3);
      const top = topPredictions(rec, t);
      assert.deepEqual(top.map((x) => x.byte), order.map((o) => vocab.idToByte[o.id]), `top-3 at ${t}`);
      assert.ok(Math.abs(top[0].prob - order[0].p) < 1e-5);
      assert.ok(top[0].prob >= top[1].prob && top[1].prob >= top[2].prob);
      if (t < T - 1) assert.ok(Math.abs(Math.exp(rec.nextLogProb[t]) - row[ids[t + 1]]) < 1e-5, `p(next) at ${t}`);
    }
    assert.ok(Number.isNaN(rec.nextLogProb[T - 1]), 'no next byte after the last one');
    // unitSeries picks a column of the time-major layout.
    const s = unitSeries(rec, 1, 'h', 4, 10, 20);
    assert.deepEqual(Array.from(s), Array.from({ length: 10 }, (_, i) => rec.layers[1].h![(10 + i) * 6 + 4]));
    model.dispose();
  });
}

test('record keeps only what was asked for; a given start state is continued and not disposed', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 4, numLayers: 3, dropout: 0 }, 5);
  const rec = record(model, vocab, TEXT, { layers: [1], c: false, topK: 0 });
  assert.equal(rec.layers.length, 3);
  assert.equal(rec.layers[0].h, undefined);
  assert.equal(rec.layers[2].h, undefined);
  assert.equal(rec.layers[1].h!.length, TEXT.length * 4);
  assert.equal(rec.layers[1].c, undefined);
  assert.equal(rec.topIds, undefined);
  assert.equal(rec.probs, undefined);
  assert.equal(recordingSize(rec), 4 * TEXT.length * (4 + 1));
  assert.throws(() => record(model, vocab, TEXT, { layers: [3] }), /layer 3 does not exist/);
  assert.throws(() => record(model, vocab, TEXT, { gates: ['z'] }), /no gate "z"/);
  assert.throws(() => record(model, vocab, 'é'), /not in the model's vocabulary/);
  assert.equal(record(model, vocab, 'aéd', { skipUnknown: true, topK: 0 }).length, 2);

  // Recording the second half from the state after the first half = recording the whole.
  const whole = record(model, vocab, TEXT, { chunkSize: 5 });
  const half = 40;
  const first = model.forward(vocab.encode(TEXT.slice(0, half)), 1, half, model.zeroState(1));
  const second = record(model, vocab, TEXT.slice(half), { state: first.state, chunkSize: 9 });
  assert.ok(first.state.every((l) => l.every((t) => !t.isDisposed)), 'caller state kept');
  assert.ok(maxAbsDiff(second.layers[2].c!, whole.layers[2].c!.subarray(half * 4)) < 1e-5);
  model.dispose();
});

test('record reports progress every chunkSize bytes and at the end', async () => {
  await useCpu();
  const vocab = ByteVocab.fromData(TEXT);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 4, numLayers: 1, dropout: 0 }, 1);
  const seen: number[] = [];
  record(model, vocab, TEXT, { chunkSize: 20, onProgress: (done, total) => {
    assert.equal(total, TEXT.length);
    seen.push(done);
  } });
  const want = [];
  for (let d = 20; d < TEXT.length; d += 20) want.push(d);
  want.push(TEXT.length);
  assert.deepEqual(seen, want);
});
