import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ByteVocab, CharModel, evaluateLoss, loadCheckpoint, NonFiniteLossError, partFile, readCheckpointMeta, Trainer, TrainArgs } from '../lib';
import { hashTree, tmpDir, useCpu } from './helpers';

const text = Buffer.from('the cat sat on the mat. the dog ate the log. '.repeat(40));
const vocab = ByteVocab.fromData(text);
const ids = vocab.encode(text);
const data = { train: ids.subarray(0, 1500), val: ids.subarray(1500) };

function fresh(modelType: 'rnn' | 'lstm' | 'gru' = 'lstm', dropout = 0.25, weightDrop = 0) {
  return new CharModel({ modelType, vocabSize: vocab.size, hiddenSize: 16, numLayers: 2, dropout, weightDrop }, 5);
}

const base: TrainArgs = { batchSize: 4, seqLength: 10, optimizer: 'adam', learningRate: 5e-3, evalEvery: 5, seed: 11 };

test('resume is exact: N steps + checkpoint + resume + N steps = 2N steps straight', async () => {
  await useCpu();
  const N = 23; // not a multiple of the 37 chunks per epoch: resumes mid-epoch with a carried state
  // The last run also drops recurrent weights: its masks come from the same saved rng.
  for (const [optimizer, weightDrop] of [['adam', 0], ['rmsprop', 0], ['adagrad', 0], ['adam', 0.3]] as const) {
    const straight = new Trainer(fresh('lstm', 0.25, weightDrop), vocab, data, { ...base, optimizer, steps: 2 * N, lrDecayAfter: 0, lrDecay: 0.9 });
    await straight.run();
    const dir = path.join(tmpDir(), 'ck');
    const first = new Trainer(fresh('lstm', 0.25, weightDrop), vocab, data, { ...base, optimizer, steps: N, lrDecayAfter: 0, lrDecay: 0.9 });
    await first.run();
    first.save(dir);
    const resumed = Trainer.resume(dir, data, { steps: 2 * N });
    assert.equal(resumed.model.config.weightDrop, weightDrop);
    await resumed.run();
    const a = straight.history.loss, b = resumed.history.loss;
    assert.equal(b.length, 2 * N);
    for (let i = 0; i < 2 * N; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5, `${optimizer} step ${i + 1}: ${a[i]} vs ${b[i]}`);
    // Validation at the same steps gives the same numbers (the first run also validated at its end, step N).
    const every5 = (h: { step: number; loss: number }[]) => h.filter((v) => v.step % 5 === 0);
    const va = every5(straight.history.val), vb = every5(resumed.history.val);
    assert.deepEqual(vb.map((v) => v.step), va.map((v) => v.step));
    va.forEach((v, i) => assert.ok(Math.abs(v.loss - vb[i].loss) <= 1e-5));
    const w1 = straight.model.Wy.dataSync(), w2 = resumed.model.Wy.dataSync();
    for (let i = 0; i < w1.length; i++) assert.ok(Math.abs(w1[i] - w2[i]) <= 1e-5);
    // Losses change across steps: the comparison is not between constants.
    assert.ok(a[0] - a[a.length - 1] > 0.1, `${optimizer} learned: ${a[0]} → ${a[a.length - 1]}`);
  }
});

test("the learning rate: char-rnn's ×lrDecay an epoch after lrDecayAfter, then ×lrAnneal from lrAnnealAfter; a resume keeps it", () => {
  // 37 chunks an epoch (1500 bytes, batch 4 × seq 10).
  const per = 37;
  const lrs = (args: Partial<TrainArgs>) => {
    const model = fresh();
    try {
      const t = new Trainer(model, vocab, data, { ...base, steps: 1, learningRate: 1, ...args });
      const out = [0, 1, 2, 3, 4, 5].map((e) => t.learningRateAt(e * per + 3));
      t.dispose();
      return out;
    } finally {
      model.dispose();
    }
  };
  const close = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-12, `epoch ${i}: ${x} vs ${b[i]} (${a} vs ${b})`));
  // Epoch e ≥ lrDecayAfter runs at lr × lrDecay^(e − lrDecayAfter + 1).
  close(lrs({ lrDecay: 0.5, lrDecayAfter: 2 }), [1, 1, 0.5, 0.25, 0.125, 0.0625]);
  // From epoch 4 on ×0.1 an epoch instead of ×0.5.
  close(lrs({ lrDecay: 0.5, lrDecayAfter: 2, lrAnneal: 0.1, lrAnnealAfter: 4 }), [1, 1, 0.5, 0.25, 0.025, 0.0025]);
  // An anneal before the decay starts begins with the decay.
  close(lrs({ lrDecay: 0.5, lrDecayAfter: 2, lrAnneal: 0.1, lrAnnealAfter: 0 }), [1, 1, 0.1, 0.01, 0.001, 0.0001]);
  assert.throws(() => lrs({ lrAnneal: 0.1 }), /lrAnneal and lrAnnealAfter go together/);
  // Saved with the checkpoint: a resume runs the same schedule.
  const dir = path.join(tmpDir(), 'ck');
  const t = new Trainer(fresh(), vocab, data, { ...base, steps: 1, lrDecay: 0.5, lrDecayAfter: 2, lrAnneal: 0.1, lrAnnealAfter: 4 });
  t.save(dir);
  const r = Trainer.resume(dir, data, { steps: 10 * per });
  assert.ok(Math.abs(r.learningRateAt(5 * per) - base.learningRate! * 0.25 * 0.01) < 1e-12);
  for (const x of [t, r]) {
    x.model.dispose();
    x.dispose();
  }
});

test('a tiny repetitive corpus is memorised to loss < 0.05', async () => {
  await useCpu();
  const tiny = Buffer.from('abcdefgh'.repeat(100));
  const v = ByteVocab.fromData(tiny);
  const m = new CharModel({ modelType: 'lstm', vocabSize: v.size, hiddenSize: 16, numLayers: 1, dropout: 0 }, 1);
  const tr = new Trainer(m, v, { train: v.encode(tiny) }, { batchSize: 4, seqLength: 16, steps: 150, optimizer: 'adam', learningRate: 2e-2 });
  const r = await tr.run();
  assert.ok(r.history.loss[0] > 1.5, `starts near ln(8) = 2.08: ${r.history.loss[0]}`);
  const last = r.history.loss.slice(-5).reduce((s, x) => s + x, 0) / 5;
  assert.ok(last < 0.05, `final loss ${last}`);
});

test('every cell type learns the small corpus (validation loss falls)', async () => {
  await useCpu();
  for (const modelType of ['rnn', 'gru'] as const) {
    const m = fresh(modelType, 0);
    const before = evaluateLoss(m, data.val, { batchSize: 2, seqLength: 10 });
    const tr = new Trainer(m, vocab, data, { ...base, steps: 60, evalEvery: 0 });
    await tr.run();
    const after = evaluateLoss(m, data.val, { batchSize: 2, seqLength: 10 });
    assert.ok(after < before - 0.5, `${modelType}: ${before} → ${after}`);
  }
});

test('the state is reset at every epoch start and carried within an epoch', async () => {
  await useCpu();
  const m = fresh('rnn', 0);
  const tr = new Trainer(m, vocab, data, { ...base, steps: 0 });
  const nChunks = tr.loader.numChunks;
  // Record how much state each forward call starts from.
  const startNorms: number[] = [];
  const forward = m.forward.bind(m);
  m.forward = (x, B, T, state, opts) => {
    startNorms.push(state.flat().reduce((s, t) => s + tf.sum(tf.abs(t)).dataSync()[0], 0));
    return forward(x, B, T, state, opts);
  };
  for (let i = 0; i < nChunks + 2; i++) tr.trainStep();
  assert.equal(startNorms[0], 0, 'first chunk starts from zeros');
  assert.ok(startNorms.slice(1, nChunks).every((v) => v > 0), 'later chunks start from the carried state');
  assert.equal(startNorms[nChunks], 0, 'epoch 2 starts from zeros again');
  assert.ok(startNorms[nChunks + 1] > 0);
  assert.equal(tr.epoch, 1);
  tr.dispose();
});

test('early stopping after `patience` validations without improvement', async () => {
  await useCpu();
  // A huge learning rate makes validation worse quickly.
  const tr = new Trainer(fresh('lstm', 0), vocab, data, { ...base, steps: 200, learningRate: 0.5, optimizer: 'adagrad', evalEvery: 2, patience: 2, gradClip: 0 });
  const r = await tr.run();
  assert.equal(r.reason, 'early-stopping');
  assert.ok(r.steps < 200);
  const vals = r.history.val.map((v) => v.loss);
  const best = Math.min(...vals);
  assert.ok(vals.slice(-2).every((v) => v >= best), 'the last validations did not improve');
});

test('NaN guard: a diverging run stops with a clear error and keeps the last good checkpoint', async () => {
  await useCpu();
  const dir = path.join(tmpDir(), 'ck');
  const m = fresh('rnn', 0);
  const tr = new Trainer(m, vocab, data, { ...base, steps: 10, checkpointDir: dir, checkpointEvery: 2, evalEvery: 0 });
  for (let i = 0; i < 4; i++) tr.trainStep();
  tr.save(dir);
  const before = hashTree(dir);
  m.Wy.assign(tf.fill(m.Wy.shape, NaN)); // poison the weights
  await assert.rejects(tr.run(), (e: Error) => e instanceof NonFiniteLossError && /loss became NaN .* at step 5: training stopped, the last good checkpoint is kept/.test(e.message));
  assert.deepEqual(hashTree(dir), before, 'checkpoint untouched');
  const ck = loadCheckpoint(dir);
  assert.ok(ck.model.Wy.dataSync().every(Number.isFinite));
});

test('progress callback reports steps, loss, throughput and ETA', async () => {
  await useCpu();
  const seen: { step: number; event: string; bytesPerSec: number; etaSec: number; valLoss?: number }[] = [];
  const tr = new Trainer(fresh(), vocab, data, { ...base, steps: 12, evalEvery: 6, onProgress: (p) => seen.push(p) });
  await tr.run();
  assert.deepEqual(seen.filter((p) => p.event !== 'done').map((p) => p.step), Array.from({ length: 12 }, (_, i) => i + 1));
  assert.deepEqual(seen.filter((p) => p.event === 'eval').map((p) => p.step), [6, 12]);
  assert.ok(seen.at(-1)!.event === 'done' && seen.at(-1)!.valLoss! > 0);
  assert.ok(seen[5].bytesPerSec > 0 && seen[5].etaSec >= 0);
});

test('interrupting (shouldStop) writes a resumable checkpoint', async () => {
  await useCpu();
  const dir = path.join(tmpDir(), 'ck');
  let n = 0;
  const tr = new Trainer(fresh(), vocab, data, { ...base, steps: 50, checkpointDir: dir, shouldStop: () => ++n > 7 });
  const r = await tr.run();
  assert.equal(r.reason, 'interrupted');
  assert.equal(r.steps, 7);
  const resumed = Trainer.resume(dir, data);
  assert.equal(resumed.step, 7);
  assert.ok(fs.existsSync(path.join(dir, partFile(readCheckpointMeta(dir), 'trainer')!)));
  resumed.dispose();
  resumed.model.dispose();
});

test('resuming on different data is refused', async () => {
  await useCpu();
  const dir = path.join(tmpDir(), 'ck');
  const tr = new Trainer(fresh(), vocab, data, { ...base, steps: 2 });
  await tr.run();
  tr.save(dir);
  const other = { train: ids.subarray(1, 1501), val: data.val };
  assert.throws(() => Trainer.resume(dir, other), /training data differs/);
});

test('without validation data no NaN validation is reported; a time budget stops the run', async () => {
  await useCpu();
  const seen: (number | undefined)[] = [];
  const tr = new Trainer(fresh(), vocab, { train: data.train }, { ...base, steps: 4, onProgress: (p) => seen.push(p.valLoss) });
  const r = await tr.run();
  assert.deepEqual(r.history.val, []);
  assert.ok(seen.every((v) => v === undefined), `valLoss reported: ${seen}`);
  const timed = new Trainer(fresh(), vocab, data, { ...base, steps: 1_000_000, maxSeconds: 0.5 });
  const t0 = Date.now();
  const r2 = await timed.run();
  assert.equal(r2.reason, 'time-budget');
  assert.ok(Date.now() - t0 < 5000 && r2.steps > 0 && r2.steps < 1_000_000);
  assert.equal(r2.history.val.at(-1)?.step, r2.steps, 'validated at the step it stopped');
});
