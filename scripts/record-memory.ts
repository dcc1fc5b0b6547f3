/**
 * The full memory check for lib/toolkit/record.ts (too slow for the unit tests, ~1 min on wasm):
 * record 100 kB of Moby-Dick with a 2×512 LSTM (h and c of both layers + top-5 predictions)
 * and print how much process memory that took, against the size of the output arrays.
 *
 *   node --import tsx scripts/record-memory.ts [bytes=100000] [--gates] [--probs]
 *
 * Exit status 1 if the extra memory (peak RSS − RSS before) reaches 1 GB (1e9 bytes).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, describeBackend } from '../lib/backend/select';
import { loadCorpus } from '../lib/data/corpus';
import { CharModel } from '../lib/nn/model';
import { record, recordingBytes, recordingSize, RecordOptions } from '../lib/toolkit/record';
import { ByteVocab } from '../lib/data/vocab';

const MB = 1e6;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const size = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
  const backend = await initBackend();
  console.log(describeBackend(backend));
  const corpus = await loadCorpus('moby-dick');
  const text = corpus.data.subarray(0, size);
  const vocab = ByteVocab.fromData(corpus.data);
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 512, numLayers: 2, dropout: 0 }, 1);
  const opts: RecordOptions = { topK: 5, gates: args.includes('--gates'), probs: args.includes('--probs') };
  // Warm up the backend (kernels, wasm heap) so that the measurement is the recording's.
  record(model, vocab, text.subarray(0, 256), opts);
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage();
  const tfBefore = tf.memory();
  const t0 = performance.now();
  let peak = before.rss;
  const rec = record(model, vocab, text, {
    ...opts,
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const after = process.memoryUsage();
  const tfAfter = tf.memory();
  peak = Math.max(peak, after.rss, process.resourceUsage().maxRSS * 1024);
  const expected = recordingBytes(model.config, rec.length, opts);
  const extra = peak - before.rss;
  console.log(`recorded ${rec.length} bytes in ${seconds.toFixed(1)} s (${(rec.length / seconds / 1000).toFixed(2)} kB/s)`);
  console.log(`output arrays: ${(recordingSize(rec) / MB).toFixed(1)} MB (recordingBytes predicted ${(expected / MB).toFixed(1)} MB)`);
  console.log(`RSS: before ${(before.rss / MB).toFixed(1)} MB, after ${(after.rss / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB`);
  console.log(`extra memory (peak RSS − before): ${(extra / MB).toFixed(1)} MB; beyond the output arrays: ${((extra - expected) / MB).toFixed(1)} MB`);
  console.log(`JS heap used: ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB; array buffers ${(before.arrayBuffers / MB).toFixed(1)} → ${(after.arrayBuffers / MB).toFixed(1)} MB`);
  console.log(`tf.memory(): tensors ${tfBefore.numTensors} → ${tfAfter.numTensors}, bytes ${tfBefore.numBytes} → ${tfAfter.numBytes}`);
  const ok = extra < 1e9 && tfAfter.numTensors === tfBefore.numTensors;
  console.log(ok ? 'OK: under 1 GB, no tensor leaked' : 'FAIL');
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
