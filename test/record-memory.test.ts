/**
 * Memory of lib/toolkit/record.ts on the default backend (wasm) with the essay's 2×512 LSTM: the process
 * grows by the output arrays plus a bounded working set, and no tensor is left behind. A small
 * text keeps this test fast; scripts/record-memory.ts runs the full 100 kB check (< 1 GB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend/select';
import { CharModel } from '../lib/nn/model';
import { record, recordingBytes, recordingSize } from '../lib/toolkit/record';
import { ByteVocab } from '../lib/data/vocab';

const MB = 1e6;

function text(n: number): Buffer {
  const words = ['the', 'whale', '"Call', 'me', 'Ishmael."', 'sea', '(and)', 'ship', '\n'];
  const out: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length];
    out.push(w);
    len += w.length + 1;
  }
  return Buffer.from(out.join(' ').slice(0, n));
}

test('recording with a 2×512 LSTM: memory = output arrays + a bounded working set, no tensors leaked', { timeout: 120_000 }, async () => {
  await initBackend();
  const data = text(6000);
  const vocab = ByteVocab.fromData(data);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 512, numLayers: 2, dropout: 0 }, 1);
  record(model, vocab, data.subarray(0, 300), { chunkSize: 128 }); // warm up kernels and the wasm heap
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  const before = process.memoryUsage().rss;
  let peak = before;
  const rec = record(model, vocab, data, { chunkSize: 128, onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaked');
  assert.equal(tf.memory().numBytes, bytes);
  const out = recordingBytes(model.config, data.length);
  assert.equal(recordingSize(rec), out);
  assert.equal(out, 4 * 6000 * (2 * 512 * 2 + 2 * 5 + 1), 'h and c of both layers + top-5 + next-byte log-prob');
  const extra = peak - before;
  // The output is 49 MB; chunks of 128 steps need a few tens of MB of tensors on top.
  assert.ok(extra < out + 150 * MB, `RSS grew ${(extra / MB).toFixed(1)} MB for ${(out / MB).toFixed(1)} MB of output`);
  // At this rate 100 kB (819 MB of output) stays under 1 GB.
  assert.ok(recordingBytes(model.config, 100_000) + 150 * MB < 1e9);
  model.dispose();
});
