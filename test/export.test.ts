/**
 * The TF.js LayersModel export: tf.loadLayersModel opens the written model.json + weights.bin and
 * gives our model's next-byte probabilities (max abs diff < 1e-5), via tf.io.fromMemory and via
 * a load handler that follows model.json's weightsManifest like the browser's http loader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Activation, ByteVocab, CharModel, exportLayersModel, saveCheckpoint, UserError } from '../lib';
import { hashTree, maxAbsDiff, tmpDir, useCpu } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const vocab = ByteVocab.fromData('abcdefgh \n.');
const seqs = ['abc defg.\nhab', 'hhh gg.fa c\nd'];

function ourProbs(model: CharModel, ids: Int32Array, B: number, T: number): Float32Array {
  return tf.tidy(() => {
    const r = model.forward(ids, B, T, model.zeroState(B));
    return tf.softmax(r.logits).transpose([1, 0, 2]).dataSync() as Float32Array; // [B, T, V]
  });
}

async function compare(modelType: 'lstm' | 'rnn', dir: string, embeddingSize?: number, activation?: Activation) {
  const model = new CharModel({ modelType, vocabSize: vocab.size, hiddenSize: 7, numLayers: 2, dropout: 0.3, initScale: 0.6, embeddingSize, activation }, 5);
  const r = await exportLayersModel(model, vocab, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'vocab.json', 'weights.bin']);
  assert.deepEqual(r.files.sort(), ['model.json', 'vocab.json', 'weights.bin']);
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  assert.equal(modelJson.format, 'layers-model');
  assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin']);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8')).id_to_byte, Array.from(vocab.idToByte));

  const B = seqs.length, T = seqs[0].length;
  const ids = Int32Array.from(seqs.flatMap((s) => Array.from(vocab.encode(s))));
  const ours = ourProbs(model, ids, B, T);
  const x = embeddingSize ? tf.tensor2d(ids, [B, T], 'float32') : tf.oneHot(tf.tensor2d(ids, [B, T], 'int32'), vocab.size).toFloat();

  const viaMemory = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
  const viaManifest = await tf.loadLayersModel({
    load: () => tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      assert.deepEqual(manifest[0].paths, ['weights.bin']);
      return [manifest[0].weights, weightData];
    }),
  });
  for (const [how, m] of [['fromMemory', viaMemory], ['manifest', viaManifest]] as const) {
    const p = m.predict(x) as tf.Tensor;
    assert.deepEqual(p.shape, [B, T, vocab.size]);
    const d = maxAbsDiff(ours, p.dataSync());
    console.log(`${modelType}${activation ? ` (${activation})` : ''}${embeddingSize ? ' with an input embedding' : ''} via ${how}: max abs diff of next-byte probabilities vs our model = ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `${modelType} ${how}: max abs diff ${d}`);
    p.dispose();
    m.dispose();
  }
  assert.ok(Math.max(...ours) > 2 / vocab.size, 'probabilities are not trivially uniform');
  x.dispose();
  model.dispose();
}

test('an exported LSTM LayersModel gives our next-byte probabilities (< 1e-5)', async () => {
  await useCpu();
  await compare('lstm', path.join(tmpDir(), 'lstm'));
});

test('an LSTM with an input embedding exports with tf.layers.embedding first (ids in)', async () => {
  await useCpu();
  await compare('lstm', path.join(tmpDir(), 'embed'), 3);
});

test('an exported vanilla RNN too; GRU is refused with a reason', async () => {
  await useCpu();
  await compare('rnn', path.join(tmpDir(), 'rnn'));
  const gru = new CharModel({ modelType: 'gru', vocabSize: vocab.size, hiddenSize: 4, numLayers: 1, dropout: 0 });
  const dir = path.join(tmpDir(), 'gru');
  await assert.rejects(exportLayersModel(gru, vocab, dir), (e: Error) => e instanceof UserError && /GRU models cannot be exported.*reset_after/.test(e.message));
  assert.equal(fs.existsSync(dir), false);
});

test('a vanilla RNN with ReLU exports (simpleRNN relu); with GELU it is refused with a reason', async () => {
  await useCpu();
  await compare('rnn', path.join(tmpDir(), 'relu'), undefined, 'relu');
  const gelu = new CharModel({ modelType: 'rnn', vocabSize: vocab.size, hiddenSize: 4, numLayers: 1, dropout: 0, activation: 'gelu' });
  const dir = path.join(tmpDir(), 'gelu');
  await assert.rejects(exportLayersModel(gelu, vocab, dir), (e: Error) => e instanceof UserError && /GELU activation cannot be exported/.test(e.message));
  assert.equal(fs.existsSync(dir), false);
  gelu.dispose();
});

test('export refuses a directory holding other files, and the CLI exports a checkpoint', async () => {
  await useCpu();
  const root = tmpDir();
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 4, numLayers: 1, dropout: 0 }, 1);
  const other = path.join(root, 'other');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'keep.txt'), 'mine');
  await assert.rejects(exportLayersModel(model, vocab, other), /holds other files \(keep.txt\): choose a new or empty directory/);
  assert.deepEqual(fs.readdirSync(other), ['keep.txt']);

  const ck = path.join(root, 'ck');
  saveCheckpoint(ck, { model, vocab });
  const before = hashTree(ck);
  const out = path.join(root, 'web');
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/unreasonable.js'), ...args], { encoding: 'utf8', env: { ...process.env, UNREASONABLE_BACKEND: 'cpu' } });
  let r = cli(['export', '--checkpoint', ck, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /exported model.json, weights.bin, vocab.json \(\d+ bytes\) to /);
  assert.deepEqual(fs.readdirSync(out).sort(), ['model.json', 'vocab.json', 'weights.bin']);
  r = cli(['export', '--checkpoint', ck, '--out', out]); // re-export over an earlier export is fine
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(hashTree(ck), before);
  model.dispose();
});

test('export runs no orthogonal initializer (no tfjs warning, nothing slow): the layers start from zeros and take our weights', async () => {
  await useCpu();
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 64, numLayers: 1, dropout: 0 }, 3); // Wh [64, 256]: > 2000 elements
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  try {
    const dir = path.join(tmpDir(), 'export');
    await exportLayersModel(model, vocab, dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const lstm = json.modelTopology.config.layers.find((l: { class_name: string }) => l.class_name === 'LSTM');
    assert.equal(lstm.config.recurrent_initializer.class_name, 'Zeros');
  } finally {
    console.warn = warn;
    model.dispose();
  }
  assert.deepEqual(warnings, []);
});
